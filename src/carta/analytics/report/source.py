"""Reading the report's cohort: a one-row-per-patient file, or a registry export folder.

From a folder the report wants more than :func:`carta.analytics.cohort.read_cohort` gives by
default: the toxicity columns (its ``patient_days/`` graded, when present), the baseline
laboratory values for the risk scores (per marker, the latest value before lymphodepletion,
as the patient page chooses it: ADR 0237) and whether the data are synthetic (``manifest.json`` of :mod:`carta.synth`, or the tables'
``synthetic`` column, which the joined cohort drops).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from carta.analytics.cohort import SYNDROMES, numeric_values, read_cohort

BASELINE_PREFIX = "baseline_"
# The laboratory columns the baseline risk scores read (canonical names and their alternates,
# the input schemas of carta.analytics.rules.car_hematotox, easix and m_easix).
BASELINE_LABS = (
    "platelets_per_uL",
    "platelets_10e9_L",
    "anc_per_uL",
    "anc_10e9_L",
    "hemoglobin_g_dL",
    "hemoglobin_g_L",
    "crp_mg_dL",
    "crp_mg_L",
    "ferritin_ng_mL",
    "ferritin_ug_L",
    "ldh_U_L",
    "creatinine_mg_dL",
    "creatinine_umol_L",
)


@dataclass(frozen=True, slots=True)
class ReportData:
    """The cohort, whether it is synthetic, and where its baseline labs came from.

    ``baseline_first_day`` is the first day of the patient-days the baseline labs were taken
    from (None when they are the cohort's own columns, or absent); ``baseline_from_registry``
    says they are the registry's values before lymphodepletion (``carta report --registry``).
    """

    cohort: pl.DataFrame
    synthetic: bool
    baseline_first_day: int | None
    baseline_from_registry: bool = False


def read_report_data(path: str | Path) -> ReportData:
    """The cohort in ``path`` with everything the report can use."""
    source = Path(path)
    if not source.is_dir():
        cohort = read_cohort(source)
        return ReportData(cohort, _synthetic_column(cohort), None)
    days_folder = source / "patient_days"
    has_days = any(days_folder.glob("*.parquet"))
    cohort = read_cohort(source, toxicity=has_days)
    first_day = None
    if has_days:
        labs, first_day = baseline_labs(days_folder)
        if labs is not None:
            cohort = cohort.join(labs, on="patient_id", how="left")
    return ReportData(cohort, _export_synthetic(source), first_day)


# ADR 0237: a baseline lab is the latest value before the infusion and, when lymphodepletion
# is recorded, on or before its first day (as the patient page's baseline scores choose it).
LATEST_BASELINE_DAY = -1
LD_FIRST_DAY = "ld_first_day"


def latest_baseline_labs(days: pl.DataFrame, markers: Mapping[str, str]) -> pl.DataFrame:
    """Per patient, each lab's latest value in the baseline window (ADR 0237) as
    ``baseline_<marker>`` columns. ``days`` has ``patient_id``, ``day``, ``ld_first_day``
    (null when no lymphodepletion is recorded) and the lab columns, ``markers`` maps each lab
    column to the marker name the analytics use."""
    cutoff = pl.min_horizontal(pl.col(LD_FIRST_DAY), pl.lit(LATEST_BASELINE_DAY))
    return (
        days.filter(pl.col("day") <= cutoff.fill_null(LATEST_BASELINE_DAY))
        .sort("patient_id", "day")
        .group_by("patient_id", maintain_order=True)
        .agg(
            pl.col(field).drop_nulls().last().alias(BASELINE_PREFIX + marker)
            for field, marker in markers.items()
        )
    )


def baseline_labs(folder: Path) -> tuple[pl.DataFrame | None, int | None]:
    """Per patient and marker, the baseline value of :func:`latest_baseline_labs` from an
    export's ``patient_days/`` (lymphodepletion's first day from ``infusions/``, when it
    holds ``ld_start_date``), as ``baseline_<marker>`` columns; and the first day of the
    records. ``(None, None)`` when the patient-days hold none of the markers."""
    parts = sorted(folder.glob("*.parquet"))
    available = [name for name in BASELINE_LABS if name in pl.read_parquet_schema(parts[0])]
    if not available:
        return None, None
    days = (
        pl.scan_parquet(parts)
        .select("patient_id", "day", *available)
        .filter(pl.col("day") <= LATEST_BASELINE_DAY)
        .collect()
    )
    ld_first_days = _ld_first_days(folder.parent / "infusions")
    days = days.join(
        ld_first_days.with_columns(pl.col("patient_id").cast(days.schema["patient_id"])),
        on="patient_id",
        how="left",
    )
    if days.height == 0:
        return None, None
    labs = latest_baseline_labs(days, {name: name for name in available})
    return labs, int(days["day"].min())  # type: ignore[arg-type]


def _ld_first_days(folder: Path) -> pl.DataFrame:
    """Each patient's lymphodepletion start, in days from the first infusion (null when the
    export does not record it)."""
    empty = pl.DataFrame(schema={"patient_id": pl.Int64, LD_FIRST_DAY: pl.Int64})
    parts = sorted(folder.glob("*.parquet"))
    needed = {"patient_id", "infusion_date", "ld_start_date"}
    if not parts or not needed <= set(pl.read_parquet_schema(parts[0])):
        return empty
    return (
        pl.scan_parquet(parts)
        .select(*sorted(needed))
        .sort("patient_id", "infusion_date")
        .unique("patient_id", keep="first", maintain_order=True)
        .select(
            "patient_id",
            (pl.col("ld_start_date") - pl.col("infusion_date"))
            .dt.total_days()
            .cast(pl.Int64)
            .alias(LD_FIRST_DAY),
        )
        .collect()
    )


def _export_synthetic(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            if json.loads(manifest.read_text(encoding="utf-8")).get("synthetic") is True:
                return True
        except (OSError, ValueError, AttributeError):
            pass  # an unreadable manifest says nothing; the tables may still be marked
    parts = sorted((folder / "patients").glob("*.parquet"))
    if parts and "synthetic" in pl.read_parquet_schema(parts[0]):
        marked = pl.scan_parquet(parts).select(pl.col("synthetic").any()).collect().item()
        return bool(marked)
    return False


def _synthetic_column(cohort: pl.DataFrame) -> bool:
    if "synthetic" not in cohort.columns:
        return False
    text = cohort["synthetic"].cast(pl.String).str.to_lowercase()
    return bool(text.is_in(["true", "1", "yes"]).any())


# Columns the report computes with: numbers, even when a CSV file gives them as text.
NUMBER_COLUMNS = (
    "age_at_infusion_years",
    "prior_lines",
    "vein_to_vein_days",
    "bsa_m2",
    "os_days",
    "pfs_days",
    "first_response_day",
    "progression_day",
    *(
        f"{syndrome}_{part}"
        for syndrome in SYNDROMES
        for part in ("max_grade", "onset_day", "days", "severe_time", "severe_status")
    ),
    *BASELINE_LABS,
    *(BASELINE_PREFIX + name for name in BASELINE_LABS),
)


def with_numbers(cohort: pl.DataFrame) -> pl.DataFrame:
    """The cohort with its text number columns (a CSV file's) typed as numbers;
    :class:`CohortError` naming the column and rows where a cell is not a number."""
    typed = [
        numeric_values(cohort[name], name, "number")
        for name in NUMBER_COLUMNS
        if name in cohort.columns and cohort[name].dtype == pl.String
    ]
    return cohort.with_columns(typed) if typed else cohort
