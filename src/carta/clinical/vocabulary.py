"""The enumerated words of the canonical input vocabulary (reference Appendix A).

One source for the single-record rules (which refuse other words as ``invalid_input``) and for
the vectorised rules and file readers (which type these columns as ``polars.Enum`` in this
order).
"""

from __future__ import annotations

# CRS (section a)
HYPOTENSION = ("none", "present")
VASOPRESSORS = (
    "norepinephrine",
    "epinephrine",
    "phenylephrine",
    "dopamine",
    "vasopressin",
    "angiotensin_ii",
)
OXYGEN_DEVICES = (
    "none",
    "nasal_cannula",
    "blow_by",
    "high_flow_nasal_cannula",
    "simple_facemask",
    "non_rebreather",
    "venturi_mask",
    "cpap",
    "bipap",
    "mechanical_ventilation",
)

# ICANS (section b)
ICANS_TOOLS = ("ICE", "CAPD")
NOT_PERFORMABLE_REASONS = ("unarousable", "other_cause")
CONSCIOUSNESS = (
    "alert",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_to_tactile",
    "unarousable_or_vigorous_stimuli_or_coma",
)
SEIZURE = (
    "none",
    "rapidly_resolving_or_nonconvulsive_responding",
    "prolonged_or_repetitive_without_return",
)
MOTOR = ("none", "tremor_or_myoclonus_only", "deep_focal_weakness")
ICP_EDEMA = (
    "none",
    "focal_edema",
    "diffuse_edema_or_posturing_or_cn6_or_papilledema_or_cushing",
    "intracranial_hemorrhage_only",
)
ICE_ITEMS = (
    "orientation_year",
    "orientation_month",
    "orientation_city",
    "orientation_hospital",
    "naming_objects_correct",
    "follows_commands",
    "writes_sentence",
    "counts_back_by_10",
)
CAPD_ITEMS = (
    "eye_contact",
    "purposeful_actions",
    "aware_of_surroundings",
    "communicates_needs",
    "restless",
    "inconsolable",
    "underactive",
    "slow_to_respond",
)
CAPD_FREQUENCIES = ("never", "rarely", "sometimes", "often", "always")

# CTCAE (section h)
CTCAE_LAB_TERMS = (
    "neutrophil_count_decreased",
    "platelet_count_decreased",
    "anemia",
    "white_blood_cell_decreased",
    "lymphocyte_count_decreased",
)

# Kinetics (section j)
AUC_METHODS = ("linear", "linear_up_log_down")
