"""Get a server process ready before its first request (ADR 0290).

A process serving the registry holds a few hundred thousand long-lived Python objects:
Django, the app's modules and compiled templates, the translation catalogues, NumPy, Polars,
scikit-learn and the forecast model. Python's cyclic garbage collector walks all of them in
every full collection: about 130 ms on this project's benchmark machine, run every few seconds
under load, and every thread of the process waits meanwhile (the benchmark saw 22 such pauses
of 45-635 ms in about a minute: the tail of its latencies). :func:`prepare_process` loads what the
first requests would load, then moves every object that exists by then out of the
collector's reach with :func:`gc.freeze` (the standard library's tool for long-lived objects
and forking servers): a full collection then walks only what requests made since.

Frozen objects are never collected. Everything frozen here lives as long as the process
anyway, and no request's garbage is among them: the freeze happens before the first request.
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

LOG = logging.getLogger(__name__)
WEB = Path(__file__).resolve().parent
TEMPLATE_SUFFIXES = (".html", ".svg", ".txt")


def prepare_process() -> int:
    """Load the lazily loaded parts, then freeze every object made so far; returns how many
    objects the collector no longer walks."""
    _load_templates()
    _load_catalogues()
    reverse("registry:patient_list")  # builds the URL resolver's tables
    _load_forecast_model()
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    return gc.get_freeze_count()


def template_names() -> list[str]:
    """Every template of the carta apps, as the loaders name them."""
    names = []
    for folder in sorted(WEB.glob("**/templates")):
        for path in sorted(folder.rglob("*")):
            if path.suffix in TEMPLATE_SUFFIXES:
                names.append(path.relative_to(folder).as_posix())
    return names


def _load_templates() -> None:
    for name in template_names():
        try:
            get_template(name)  # compiled once and kept by the cached loader
        except TemplateDoesNotExist:  # a fragment not meant to be loaded alone
            LOG.debug("warm-up: template %s not loaded", name)


def _load_catalogues() -> None:
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Patients")


def _load_forecast_model() -> None:
    from carta.web.registry import forecasting

    forecasting.current_model()  # None without a model file; a damaged one is logged
