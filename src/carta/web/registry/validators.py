"""Field validators shared by the registry models (bounds come from :mod:`carta.clinical`)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from carta.clinical.units import PlausibleRange
from carta.clinical.vocabulary import VASOPRESSORS


def within(bounds: PlausibleRange) -> list[Any]:
    """Min/max validators for a clinical plausible range."""
    return [MinValueValidator(bounds.low), MaxValueValidator(bounds.high)]


def between(low: float, high: float) -> list[Any]:
    """Min/max validators for inclusive bounds."""
    return [MinValueValidator(low), MaxValueValidator(high)]


def validate_vasopressors(value: Any) -> None:
    """A list of distinct Appendix A vasopressor words (``[]`` = none); ``None`` is unknown."""
    if value is None:
        return
    if not isinstance(value, list) or any(item not in VASOPRESSORS for item in value):
        raise ValidationError(
            _("Give a list of: %(words)s."),
            code="invalid_vasopressors",
            params={"words": ", ".join(VASOPRESSORS)},
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("Each vasopressor is listed once."), code="repeated_vasopressor")
