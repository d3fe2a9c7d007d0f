"""The patient page's body, rendered once per patient revision and kept in Django's cache
(ADR 0286).

Everything on the patient page except the identifying details depends only on the patient's
records, the language, what the viewer may do (change buttons shown or not, identity shown or
pseudonymised), today's date (follow-up visits due or overdue) and the forecast model. The key
holds all of them, and the patient's revision is ``Patient.updated_at``, which every service
moves on in the same transaction as the write (:func:`carta.web.registry.services.core.
touch_patient`). The key is read from the database with the patient row itself, so a cached
body can never be served after a write has committed, whichever process cached it and whatever
the cache backend (per-process memory, Redis, files): a changed patient simply has a new key,
and the old entry ages out.

The identifying details are never part of a cached body: the view renders them for each
request and puts them in at :data:`IDENTITY_MARKER`. The viewer variant is in the key anyway,
so an analyst and a coordinator never share an entry even for the pseudonymised parts.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.core.cache import caches
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe

from carta.web.registry.models import Patient

LOG = logging.getLogger(__name__)
CACHE_ALIAS = "default"
# Bump when what the body shows changes in a way the code fingerprint below cannot see.
BODY_VERSION = "1"
REGISTRY = Path(__file__).resolve().parents[1]
# The code that renders the body: a new deployment that changes any of it never reads the
# bodies rendered by the previous one from a shared cache.
BODY_SOURCES = (
    "views/patient_page.py",
    "views/page_cache.py",
    "views/compiled_reads.py",
    "plots.py",
    "html.py",
    "forecasting.py",
    "forecast_plot.py",
    "guidance.py",
    "adapters.py",
    "templatetags/carta_days.py",
    "templatetags/carta_ui.py",
    "../templates/registry/_patient_body.html",
    "../templates/registry/_journey.svg",
    "../templates/registry/_forecast_panel.html",
    "../templates/registry/_guidance.html",
    "../templates/registry/_synthetic.html",
    "../reasons.py",
    "../locale/zh_Hans/LC_MESSAGES/django.mo",
)
TIMEOUT_SECONDS = 6 * 60 * 60  # bounds catalogue or center renames, which carry no revision
IDENTITY_MARKER = "<!-- carta:identity -->"


@dataclass(frozen=True, slots=True)
class Variant:
    """What the viewer may see and do on the page (the parts of the body that differ)."""

    can_change: bool
    can_identify: bool

    @property
    def code(self) -> str:
        return f"change={int(self.can_change)},identify={int(self.can_identify)}"


@dataclass(frozen=True, slots=True)
class Body:
    """The page body around the identity block, ready to put in the page as it is."""

    before: SafeString
    after: SafeString


def body_key(patient: Patient, variant: Variant, today: date, model_stamp: str) -> str:
    """The cache key of one rendering of ``patient``'s body.

    ``created_at`` is in it too so that a primary key reused after a rolled-back insert
    (SQLite) never meets another patient's entry.
    """
    parts = (
        BODY_VERSION,
        code_fingerprint(),
        str(patient.pk),
        patient.created_at.isoformat(),
        patient.updated_at.isoformat(),
        translation.get_language() or "",
        variant.code,
        today.isoformat(),
        model_stamp,
    )
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"carta:patient-body:{patient.pk}:{digest}"


@functools.cache
def code_fingerprint() -> str:
    """A digest of the body's templates, rendering code and compiled translations (read once
    per process; a missing file counts as empty)."""
    digest = hashlib.sha256()
    for name in BODY_SOURCES:
        path = REGISTRY / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"")
    return digest.hexdigest()[:16]


def split(html: str) -> Body:
    """The rendered body cut at the identity marker (which the body template must hold once)."""
    before, marker, after = html.partition(IDENTITY_MARKER)
    if not marker or IDENTITY_MARKER in after:
        raise ValueError("the patient body must hold the identity marker exactly once")
    # Both halves come from Django's autoescaping template engine: safe as rendered.
    return Body(mark_safe(before), mark_safe(after))


def cached_body(key: str, render: Callable[[], str]) -> tuple[Body, bool]:
    """The body under ``key``, rendering and storing it on a miss; also whether it was a hit.

    A cache that fails (Redis down, a damaged file) costs a rendering, never the page.
    """
    cache = caches[CACHE_ALIAS]
    try:
        stored = cache.get(key)
    except Exception as error:  # any backend's failure: render instead
        LOG.warning("patient page cache unreadable, rendering: %s", error)
        stored = None
    if isinstance(stored, tuple) and len(stored) == 2:
        return Body(mark_safe(stored[0]), mark_safe(stored[1])), True
    body = split(render())
    try:
        cache.set(key, (str(body.before), str(body.after)), TIMEOUT_SECONDS)
    except Exception as error:
        LOG.warning("patient page cache unwritable, not kept: %s", error)
    return body, False
