"""The registry of CAR-T patients' journeys: models, services (writes), selectors (reads),
adapters (rows <-> :mod:`carta.clinical` dataclasses) and the admin."""
