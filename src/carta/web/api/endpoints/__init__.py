"""The API's operations, one module per resource; each reads through
:mod:`carta.web.registry.selectors` and writes through :mod:`carta.web.registry.services` with
the token's user as the actor."""
