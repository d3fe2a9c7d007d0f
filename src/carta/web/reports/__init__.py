"""The Analytics page: the outcome analyses of :mod:`carta.analytics` on the registry's data,
center-scoped, with plots and the data behind each one (issue 4)."""
