"""The registry as an analytics cohort: one row per infused patient of the given centers.

:func:`cohort_for_centers` reads the registry with a fixed handful of ``values_list`` queries
(never one per patient), shapes the rows like the registry export tables that
:func:`carta.analytics.cohort.cohort_from_tables` joins (the column names of
``carta.synth.write_parquet``), and lets that function derive the stratification columns
(``target_antigen``, ``ld_regimen``, ``dose_band``, ``first_response_day``) and the toxicity
columns from the CRS and ICANS grades stored on each daily assessment (computed by the
services when the day was recorded; nothing is graded again here).

Outcomes are derived from the records (ADR 0251): day 0 is the first infusion; overall
survival ends at death or is censored at the last contact (the latest infusion, daily
assessment, response assessment or follow-up visit); progression-free survival ends at the
first progression (``pd``/``pmd`` response) or death. Rows are pseudonymised: the registry ID
and the center code, never an identifying field. Nothing here knows about requests, so a
command (``carta report --registry``) can call it for a set of centers too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl

from carta.analytics.cohort import cohort_from_tables, toxicity_by_patient
from carta.analytics.response import best_overall_response
from carta.web.accounts.models import Center
from carta.web.registry.models import (
    Apheresis,
    DailyAssessment,
    Death,
    Diagnosis,
    FollowUpVisit,
    Infusion,
    Lymphodepletion,
    Patient,
    ResponseAssessment,
)

# Registry response words that the analytics' order does not list, as their equivalents
# (ADR 0251): Lugano's metabolic categories and B-ALL's CRh, which counts as a complete
# response as the patient page shows it.
RESPONSE_EQUIVALENTS = {"cmr": "cr", "pmr": "pr", "nmr": "sd", "pmd": "pd", "crh": "cri"}
PROGRESSION = ("pd", "pmd")
# The toxicity analyses look at days 0-30 after the first infusion (the synthetic data and
# the analytics' competing-risks horizon).
TOXICITY_LAST_DAY = 30
# Infusions within this many days of the first are one split-dose treatment: their cells add up.
SPLIT_DOSE_DAYS = 14

PATIENT_SCHEMA = {
    "patient_id": pl.Int64,
    "center_id": pl.String,
    "registry_id": pl.String,
    "sex": pl.String,
    "year_of_birth": pl.Int64,
    "age_at_infusion": pl.Float64,
    "weight_kg": pl.Float64,
    "height_cm": pl.Float64,
    "synthetic": pl.Boolean,
}


def _frame(rows: Iterable[tuple[Any, ...]], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def _days(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_days()


def cohort_for_centers(centers: Iterable[Center] | Iterable[int]) -> pl.DataFrame:
    """The analytics cohort of the infused patients of ``centers`` (centers or their keys).

    Columns: the patient (``registry_id``, ``center_id`` = center code, ``sex``,
    ``age_at_infusion_years``, ``disease`` ...), the first infusion (``product_code``,
    ``infusion_date``, ``total_cells``, lymphodepletion doses, ``vein_to_vein_days``), the
    outcomes (``best_response``, ``os_days``/``os_event``, ``pfs_days``/``pfs_event``), the
    derived columns of :func:`~carta.analytics.cohort.cohort_from_tables` and the toxicity
    columns (``crs_max_grade``, ``crs_severe_time``/``crs_severe_status`` ...), plus
    ``synthetic``. Patients without an infusion are left out: every analysis counts from it.
    """
    keys = [center if isinstance(center, int) else center.pk for center in centers]
    scope = {"patient__center__in": keys}
    patients = _patients(keys)
    infusions = _infusions(scope)
    if infusions.is_empty():
        return _empty_cohort(patients)
    # Rows are ordered by patient and number: the first row of a patient is day 0.
    first = infusions.unique("patient_id", keep="first", maintain_order=True)
    day_zero = first.select("patient_id", pl.col("infused_on").alias("day_zero"))
    patients = patients.join(day_zero, on="patient_id", how="inner")
    patient_table = _patient_table(patients, _diagnoses(scope))
    infusion_table = _infusion_table(infusions, day_zero, patients, scope)
    responses = _responses(scope, day_zero)
    outcomes = _outcomes(scope, day_zero, responses)
    cohort = cohort_from_tables(
        patient_table.drop("synthetic"),
        infusion_table,
        outcomes,
        responses=responses,
        toxicity=_toxicity(scope, patients),
    )
    synthetic = patient_table.select("patient_id", "synthetic")
    return cohort.join(synthetic, on="patient_id", how="left").sort("center_id", "registry_id")


def _empty_cohort(patients: pl.DataFrame) -> pl.DataFrame:
    """No infused patient: an empty frame (the page says there is nothing to analyse)."""
    return patients.clear().select("patient_id", "center_id", "registry_id", "synthetic")


def _patients(keys: list[int]) -> pl.DataFrame:
    rows = Patient.objects.filter(center__in=keys).values_list(
        "pk",
        "center__code",
        "registry_id",
        "sex",
        "year_of_birth",
        "age_at_infusion",
        "weight_kg",
        "height_cm",
        "is_synthetic",
    )
    return _frame(rows, PATIENT_SCHEMA)


def _diagnoses(scope: dict[str, Any]) -> pl.DataFrame:
    """The first recorded diagnosis of each patient."""
    rows = (
        Diagnosis.objects.filter(**scope)
        .order_by("patient_id", "pk")
        .values_list(
            "patient_id",
            "disease",
            "subtype",
            "prior_lines",
            "prior_autologous_hct",
            "prior_allogeneic_hct",
        )
    )
    schema = {
        "patient_id": pl.Int64,
        "disease": pl.String,
        "disease_subtype": pl.String,
        "prior_lines": pl.Int64,
        "prior_auto": pl.Boolean,
        "prior_allo": pl.Boolean,
    }
    return _frame(rows, schema).unique("patient_id", keep="first", maintain_order=True)


def _patient_table(patients: pl.DataFrame, diagnoses: pl.DataFrame) -> pl.DataFrame:
    """``patients`` as the export names them; the age at infusion from the recorded age or
    else the year of birth."""
    from_year = pl.col("day_zero").dt.year().cast(pl.Float64) - pl.col("year_of_birth")
    any_transplant = pl.when(pl.col("prior_auto") | pl.col("prior_allo")).then(True)
    neither = pl.when(pl.col("prior_auto").eq(False) & pl.col("prior_allo").eq(False)).then(False)
    return (
        patients.join(diagnoses, on="patient_id", how="left")
        .with_columns(
            pl.coalesce(pl.col("age_at_infusion"), from_year).alias("age_at_infusion_years"),
            pl.col("disease_subtype").replace("", None),
            pl.coalesce(any_transplant, neither).alias("prior_transplant"),
        )
        .select(
            "patient_id",
            "center_id",
            "registry_id",
            "sex",
            "age_at_infusion_years",
            "weight_kg",
            "height_cm",
            "disease",
            "disease_subtype",
            "prior_lines",
            "prior_transplant",
            "synthetic",
        )
    )


def _infusions(scope: dict[str, Any]) -> pl.DataFrame:
    rows = (
        Infusion.objects.filter(**scope)
        .order_by("patient_id", "number")
        .values_list(
            "patient_id", "number", "product__code", "infused_on", "cell_dose_total",
            "cell_dose_per_kg",
        )
    )  # fmt: skip
    schema = {
        "patient_id": pl.Int64,
        "number": pl.Int64,
        "product_code": pl.String,
        "infused_on": pl.Date,
        "cell_dose_total": pl.Float64,
        "cell_dose_per_kg": pl.Float64,
    }
    return _frame(rows, schema)


def _infusion_table(
    infusions: pl.DataFrame, day_zero: pl.DataFrame, patients: pl.DataFrame, scope: dict[str, Any]
) -> pl.DataFrame:
    """The first infusion of each patient, with the cells of a split dose added up, the
    lymphodepletion and the time from apheresis."""
    weights = patients.select("patient_id", "weight_kg")
    cells = (
        infusions.join(day_zero, on="patient_id")
        .join(weights, on="patient_id", how="left")
        .filter(_days(pl.col("infused_on"), pl.col("day_zero")) <= SPLIT_DOSE_DAYS)
        .with_columns(
            pl.coalesce(
                pl.col("cell_dose_total"), pl.col("cell_dose_per_kg") * pl.col("weight_kg")
            ).alias("cells")
        )
        .group_by("patient_id")
        .agg(
            pl.col("product_code").first(),
            pl.col("infused_on").first().alias("infusion_date"),
            # null when any part of the dose is unknown: a partial sum would be a wrong dose
            pl.when(pl.col("cells").null_count() == 0)
            .then(pl.col("cells").sum())
            .alias("total_cells"),
            pl.len().cast(pl.Int64).alias("infusion_count"),
            pl.col("weight_kg").first(),
        )
        .with_columns((pl.col("total_cells") / pl.col("weight_kg")).alias("cells_per_kg"))
        .drop("weight_kg")
    )
    return (
        cells.join(_lymphodepletion(scope), on="patient_id", how="left")
        .join(_apheresis(scope, day_zero), on="patient_id", how="left")
        .with_columns(
            _days(pl.col("infusion_date"), pl.col("apheresis_date")).alias("vein_to_vein_days")
        )
        .sort("patient_id")
    )


def _lymphodepletion(scope: dict[str, Any]) -> pl.DataFrame:
    rows = (
        Lymphodepletion.objects.filter(**scope)
        .order_by("patient_id", "pk")
        .values_list("patient_id", "fludarabine_mg_m2_per_day", "cyclophosphamide_mg_m2_per_day")
    )
    schema = {
        "patient_id": pl.Int64,
        "ld_fludarabine_mg_m2_day": pl.Float64,
        "ld_cyclophosphamide_mg_m2_day": pl.Float64,
    }
    return _frame(rows, schema).unique("patient_id", keep="first", maintain_order=True)


def _apheresis(scope: dict[str, Any], day_zero: pl.DataFrame) -> pl.DataFrame:
    """The latest apheresis on or before the first infusion."""
    rows = Apheresis.objects.filter(**scope).values_list("patient_id", "collected_on")
    frame = _frame(rows, {"patient_id": pl.Int64, "apheresis_date": pl.Date})
    return (
        frame.join(day_zero, on="patient_id")
        .filter(pl.col("apheresis_date") <= pl.col("day_zero"))
        .group_by("patient_id")
        .agg(pl.col("apheresis_date").max())
    )


def _responses(scope: dict[str, Any], day_zero: pl.DataFrame) -> pl.DataFrame:
    """Response assessments from day 0 on: ``patient_id``, ``day``, ``response`` (the
    analytics' words)."""
    rows = ResponseAssessment.objects.filter(**scope).values_list(
        "patient_id", "assessed_on", "category"
    )
    frame = _frame(rows, {"patient_id": pl.Int64, "assessed_on": pl.Date, "category": pl.String})
    return (
        frame.join(day_zero, on="patient_id")
        .with_columns(
            _days(pl.col("assessed_on"), pl.col("day_zero")).alias("day"),
            pl.col("category").replace(RESPONSE_EQUIVALENTS).alias("response"),
        )
        .filter(pl.col("day") >= 0)
        .select("patient_id", "day", "response", "assessed_on")
        .sort("patient_id", "day")
    )


def _outcomes(
    scope: dict[str, Any], day_zero: pl.DataFrame, responses: pl.DataFrame
) -> pl.DataFrame:
    """Best response, overall and progression-free survival per patient."""
    deaths = _frame(
        Death.objects.filter(**scope).values_list("patient_id", "died_on", "cause"),
        {"patient_id": pl.Int64, "died_on": pl.Date, "death_cause": pl.String},
    )
    contacts = pl.concat(
        [
            day_zero.select("patient_id", pl.col("day_zero").alias("contact")),
            _assessment_contacts(scope),
            responses.select("patient_id", pl.col("assessed_on").alias("contact")),
            _frame(
                FollowUpVisit.objects.filter(**scope).values_list("patient_id", "done_on"),
                {"patient_id": pl.Int64, "contact": pl.Date},
            ),
        ]
    )
    last_contact = contacts.group_by("patient_id").agg(pl.col("contact").max())
    progression = (
        responses.filter(pl.col("response").is_in(PROGRESSION))
        .group_by("patient_id")
        .agg(pl.col("day").min().alias("progression_day"))
    )
    best = best_overall_response(responses).select("patient_id", "best_response")
    death_day = _days(pl.col("died_on"), pl.col("day_zero"))
    contact_day = _days(pl.max_horizontal("contact", "died_on"), pl.col("day_zero"))
    return (
        day_zero.join(last_contact, on="patient_id", how="left")
        .join(deaths, on="patient_id", how="left")
        .join(progression, on="patient_id", how="left")
        .join(best, on="patient_id", how="left")
        .with_columns(
            pl.col("died_on").is_not_null().alias("os_event"),
            pl.coalesce(death_day, contact_day).cast(pl.Int64).alias("os_days"),
            (pl.col("progression_day").is_not_null() | pl.col("died_on").is_not_null()).alias(
                "pfs_event"
            ),
            pl.coalesce(pl.min_horizontal("progression_day", death_day), contact_day)
            .cast(pl.Int64)
            .alias("pfs_days"),
            contact_day.cast(pl.Int64).alias("last_contact_day"),
        )
        .select(
            "patient_id",
            "best_response",
            "progression_day",
            "death_cause",
            "last_contact_day",
            "os_days",
            "os_event",
            "pfs_days",
            "pfs_event",
        )
    )


def _assessment_contacts(scope: dict[str, Any]) -> pl.DataFrame:
    """The date of each patient's latest daily assessment (day counted from its infusion)."""
    from django.db.models import Max

    rows = (
        DailyAssessment.objects.filter(**scope)
        .values("patient_id", "infusion__infused_on")
        .annotate(last_day=Max("day"))
        .order_by()
        .values_list("patient_id", "infusion__infused_on", "last_day")
    )
    frame = _frame(rows, {"patient_id": pl.Int64, "infused_on": pl.Date, "last_day": pl.Int64})
    return frame.select(
        "patient_id",
        (pl.col("infused_on") + pl.duration(days=pl.col("last_day"))).alias("contact"),
    )


def _toxicity(scope: dict[str, Any], patients: pl.DataFrame) -> pl.DataFrame:
    """Per patient, the CRS and ICANS columns of
    :func:`~carta.analytics.cohort.toxicity_by_patient` from the grades stored on the first
    infusion's days 0-30 (a grade counts only when its status is ``ok``)."""
    rows = (
        DailyAssessment.objects.filter(
            **scope, infusion__number=1, day__gte=0, day__lte=TOXICITY_LAST_DAY
        )
        .values_list("patient_id", "day", "crs_status", "crs_grade", "icans_status", "icans_grade")
    )  # fmt: skip
    schema = {
        "patient_id": pl.Int64,
        "day": pl.Int64,
        "crs_status": pl.String,
        "crs_grade": pl.Int64,
        "icans_status": pl.String,
        "icans_grade": pl.Int64,
    }
    days = _frame(rows, schema).select(
        "patient_id",
        "day",
        *(
            pl.when(pl.col(f"{syndrome}_status") == "ok")
            .then(pl.col(f"{syndrome}_grade"))
            .alias(f"{syndrome}_grade")
            for syndrome in ("crs", "icans")
        ),
    )
    toxicity = toxicity_by_patient(days)
    # Every infused patient gets a row, with nulls when no day is graded.
    return patients.select("patient_id").join(toxicity, on="patient_id", how="left")


def data_revision(centers: Iterable[int]) -> int:
    """The newest audit event of ``centers``: every write to their records adds one, so a
    cache keyed by it never serves numbers older than the data."""
    from django.db.models import Max

    from carta.web.audit.models import AuditEvent

    newest = AuditEvent.objects.filter(center__in=list(centers)).aggregate(newest=Max("pk"))
    return int(newest["newest"] or 0)
