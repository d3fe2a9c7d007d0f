"""Values written into HTML by Python as Django's template engine writes them (the rows and
widgets built without templates for speed: ADRs 0289 and 0292)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape

SENTINEL = 987_654_321  # a key no row has, replaced by each row's key
KIND_SENTINEL = "carta-kind-sentinel"  # a slug no record kind has, replaced by the kind


def shown(value: Any) -> str:
    """``{{ value }}``: localized, then escaped unless marked safe."""
    return str(conditional_escape(localize(value)))


def url_maker(name: str, *args: Any) -> Callable[..., str]:
    """``reverse(name, args=[*args, key])``, escaped as ``{% url %}`` writes it, for many keys
    with one ``reverse`` call; an argument given as ``KIND_SENTINEL`` (a slug) is filled in by
    the maker's first argument."""
    url = reverse(name, args=[*args, SENTINEL])
    head, tail = (conditional_escape(part) for part in url.rsplit(str(SENTINEL), 1))
    if KIND_SENTINEL not in head:
        return lambda key: f"{head}{int(key)}{tail}"
    before, after = head.split(KIND_SENTINEL)
    return lambda kind, key: f"{before}{kind}{after}{int(key)}{tail}"
