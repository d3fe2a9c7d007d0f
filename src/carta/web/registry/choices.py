"""Model choices: the Appendix A words from :mod:`carta.clinical.vocabulary`, with labels.

The stored value is always the vocabulary word; the label is translatable. Building a choice
list from a vocabulary tuple fails at import if a word has no label, so a new word in the
vocabulary cannot silently become an unlabelled choice.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from carta.clinical import vocabulary

Choices = list[tuple[str, Promise]]


def from_vocabulary(words: tuple[str, ...], labels: Mapping[str, Promise]) -> Choices:
    """``(word, label)`` pairs in vocabulary order; every word must have a label."""
    unlabelled = [word for word in words if word not in labels]
    if unlabelled:
        raise LookupError(f"no label for vocabulary words {unlabelled}")
    return [(word, labels[word]) for word in words]


HYPOTENSION = from_vocabulary(vocabulary.HYPOTENSION, {"none": _("none"), "present": _("present")})
VASOPRESSORS = from_vocabulary(
    vocabulary.VASOPRESSORS,
    {
        "norepinephrine": _("norepinephrine"),
        "epinephrine": _("epinephrine"),
        "phenylephrine": _("phenylephrine"),
        "dopamine": _("dopamine"),
        "vasopressin": _("vasopressin"),
        "angiotensin_ii": _("angiotensin II"),
    },
)
OXYGEN_DEVICES = from_vocabulary(
    vocabulary.OXYGEN_DEVICES,
    {
        "none": _("none"),
        "nasal_cannula": _("nasal cannula"),
        "blow_by": _("blow-by"),
        "high_flow_nasal_cannula": _("high-flow nasal cannula"),
        "simple_facemask": _("simple face mask"),
        "non_rebreather": _("non-rebreather mask"),
        "venturi_mask": _("Venturi mask"),
        "cpap": _("CPAP"),
        "bipap": _("BiPAP"),
        "mechanical_ventilation": _("mechanical ventilation"),
    },
)
ICANS_TOOLS = from_vocabulary(
    vocabulary.ICANS_TOOLS, {"ICE": _("ICE (age 12 and over)"), "CAPD": _("CAPD (children)")}
)
NOT_PERFORMABLE_REASONS = from_vocabulary(
    vocabulary.NOT_PERFORMABLE_REASONS,
    {"unarousable": _("patient unarousable"), "other_cause": _("other cause")},
)
CONSCIOUSNESS = from_vocabulary(
    vocabulary.CONSCIOUSNESS,
    {
        "alert": _("alert"),
        "awakens_spontaneously": _("awakens spontaneously"),
        "awakens_to_voice": _("awakens to voice"),
        "awakens_to_tactile": _("awakens only to touch"),
        "unarousable_or_vigorous_stimuli_or_coma": _(
            "unarousable, needs vigorous stimuli, stupor or coma"
        ),
    },
)
SEIZURE = from_vocabulary(
    vocabulary.SEIZURE,
    {
        "none": _("none"),
        "rapidly_resolving_or_nonconvulsive_responding": _(
            "resolving rapidly, or non-convulsive on EEG and resolving with intervention"
        ),
        "prolonged_or_repetitive_without_return": _(
            "prolonged (> 5 min) or repetitive without return to baseline"
        ),
    },
)
MOTOR = from_vocabulary(
    vocabulary.MOTOR,
    {
        "none": _("none"),
        "tremor_or_myoclonus_only": _("tremor or myoclonus only"),
        "deep_focal_weakness": _("deep focal motor weakness"),
    },
)
ICP_EDEMA = from_vocabulary(
    vocabulary.ICP_EDEMA,
    {
        "none": _("none"),
        "focal_edema": _("focal or local edema on neuroimaging"),
        "diffuse_edema_or_posturing_or_cn6_or_papilledema_or_cushing": _(
            "diffuse edema, posturing, cranial nerve VI palsy, papilledema or Cushing's triad"
        ),
        "intracranial_hemorrhage_only": _("intracranial hemorrhage only (not ICANS)"),
    },
)
CAPD_FREQUENCIES = from_vocabulary(
    vocabulary.CAPD_FREQUENCIES,
    {
        "never": _("never"),
        "rarely": _("rarely"),
        "sometimes": _("sometimes"),
        "often": _("often"),
        "always": _("always"),
    },
)


class Sex(models.TextChoices):
    """Sex as recorded on CIBMTR form 4000."""

    FEMALE = "female", _("female")
    MALE = "male", _("male")
    OTHER = "other", _("other")
    UNKNOWN = "unknown", _("unknown")


class GradeStatus(models.TextChoices):
    """The status words of a computed grade (reference section 0.2)."""

    OK = "ok", _("graded")
    CANNOT_GRADE = "cannot_grade", _("cannot be graded from the data")
    CANNOT_COMPUTE = "cannot_compute", _("cannot be computed")
    INVALID_INPUT = "invalid_input", _("invalid input")
