"""A server process loads what its first requests would and freezes it (ADR 0290)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from django.template import Template, TemplateDoesNotExist, engines
from django.template.loader import get_template

from carta.web import warmup


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give the test process's objects back to the collector afterwards."""
    yield
    gc.unfreeze()


def _cached_template_names() -> set[str]:
    loader = engines["django"].engine.template_loaders[0]  # the cached loader
    cached = loader.get_template_cache.values()  # also names looked up and not found
    return {entry.origin.template_name for entry in cached if isinstance(entry, Template)}


def test_every_app_template_is_found() -> None:
    names = warmup.template_names()
    for expected in (
        "base.html",
        "registration/login.html",
        "registry/_patient_body.html",
        "registry/_journey.svg",
        "registry/patient_list.html",
    ):
        assert expected in names
    assert any(name.startswith("reports/") for name in names)
    assert any(name.startswith("imports/") for name in names)


def test_prepare_process_loads_templates_and_freezes_what_exists(unfrozen: None) -> None:
    with pytest.raises(TemplateDoesNotExist):  # the loader keeps misses too
        get_template("registry/no-such-template.html")
    gc.unfreeze()
    frozen = warmup.prepare_process()
    assert frozen == gc.get_freeze_count() > 10_000
    assert set(warmup.template_names()) <= _cached_template_names()

    class Node:
        partner: object = None

    cycle = Node()
    cycle.partner = cycle  # garbage made after the freeze is still collected
    gone = weakref.ref(cycle)
    del cycle
    gc.collect()
    assert gone() is None
