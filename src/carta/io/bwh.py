"""Read the BWH ICANS-forecasting cohort (Amidi et al. 2022) into the canonical forecast frame.

The cohort (``icans_bwh_daily_train.csv`` and files like it: one row per patient-hospital-day,
columns ``SID, Age, Sex, Diagnosis, Subtype, Aggressive, HospitalDay, Temp, CRP, Ferritin,
meanscore, Procalcitonin, IL_6, WBC, CRS Peak Severity, CRS Onset Day, CRS Peak Day, Toci doses,
From DR``) is a de-identified export of two source systems. What this reader does about each of
its quirks (ADRs 0401-0404):

* **Temperatures in degC and degF**, row by row: a value from 30 to 45 is degC, from 86 to 113
  degF (converted, (F - 32) x 5/9); anything else is refused. Temperatures are rounded to
  0.1 degC (the resolution the reference compares at, section 0.4).
* **CRP in two scales.** Courses recorded in degF come from the export in which CRP is written
  in tenths of mg/L (the same sample reads 11.1 in one system and 111 in the other; values reach
  3000 where the assay's range ends at 300 mg/L). ``crp_scale="auto"`` divides those by 100 and
  the others (mg/L) by 10, giving mg/dL; ``"mg_L"`` or ``"tenth_mg_L"`` force one scale.
* **Half-step ICANS grades** (``meanscore``, the mean of two raters): kept as
  ``source_icans_mean_grade``; ``recorded_icans_grade`` rounds a half step up by default (the
  higher rater's grade, ``half_grades="up"``) or down (``"down"``).
* **Subtype spellings** (``DLBCL``/``DL BCL``, ``Mantle cell lymphoma``/``MCL``, ...) are
  normalised case-, space- and punctuation-blind to the registry's disease words; a spelling not
  listed in :data:`SUBTYPES` is refused naming the accepted ones. ``Diagnosis`` (often blank) must
  agree with the subtype when given.
* **CRS fields on one row per course** (peak grade, onset day, peak day): spread over the
  course as ``crs_peak_grade``, ``crs_onset_day``, ``crs_peak_day``. A peak grade of 0 makes the
  two days meaningless; they are dropped. ``Toci doses`` has no day, so it cannot be placed in
  time and is kept only as provenance (``source_tocilizumab_doses``), never as a feature.
* **One SID, several courses.** When a SID's days start again (day 0 after day 14) or its rows
  are not contiguous, the later rows are a new course: ``patient_id`` ``"166/2"``, with
  ``person_id`` ``"166"`` so that validation keeps a person's courses in one fold.
* **A day repeated** on consecutive rows with identical values except the ICANS grade (a second
  rater): merged, keeping the higher grade. A repeated day with other differences is refused.

Every refusal names the data row (1-based, as in ``carta grade``), the column and the value;
nothing is guessed. The notes (:attr:`BwhImport.notes`) list every merge, split and scale
decision so that they can be reviewed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.canonical import SOURCE_ROW, check_canonical, conform
from carta.io.problems import MAX_LISTED_PROBLEMS, BadInputError, InputProblem
from carta.io.readers import Table, read_table
from carta.io.validate import DataType, typed_frame

HalfGrades = Literal["up", "down"]
CrpScale = Literal["auto", "mg_L", "tenth_mg_L"]

SID = "SID"
DAY = "HospitalDay"
TEMP = "Temp"
CRP = "CRP"
GRADE = "meanscore"
SUBTYPE = "Subtype"
DIAGNOSIS = "Diagnosis"
SEX = "Sex"
AGE = "Age"
CRS_PEAK = "CRS Peak Severity"
CRS_ONSET = "CRS Onset Day"
CRS_PEAK_DAY = "CRS Peak Day"
TOCI = "Toci doses"
LABS: Mapping[str, str] = {
    CRP: c.CRP_MG_DL,
    "Ferritin": c.FERRITIN_NG_ML,
    "Procalcitonin": c.PROCALCITONIN_NG_ML,
    "IL_6": c.IL6_PG_ML,
    "WBC": c.WBC_PER_UL,
}
REQUIRED: tuple[str, ...] = (
    SID,
    AGE,
    SUBTYPE,
    DAY,
    TEMP,
    *LABS,
    GRADE,
    CRS_PEAK,
    CRS_ONSET,
    CRS_PEAK_DAY,
)
RAW_SCHEMA: Mapping[str, DataType] = {
    AGE: pl.Float64,
    DAY: pl.Int64,
    TEMP: pl.Float64,
    **dict.fromkeys(LABS, pl.Float64),
    GRADE: pl.Float64,
    CRS_PEAK: pl.Int64,
    CRS_ONSET: pl.Int64,
    CRS_PEAK_DAY: pl.Int64,
    TOCI: pl.Int64,
}
CRS_FIELDS: tuple[str, ...] = (CRS_PEAK, CRS_ONSET, CRS_PEAK_DAY, TOCI)
# Values compared when deciding that a repeated day is a second rater's row (not a new course).
SAME_DAY_FIELDS: tuple[str, ...] = (TEMP, *LABS)

CELSIUS_RANGE = (30.0, 45.0)
FAHRENHEIT_RANGE = (86.0, 113.0)
MAX_GRADE = 5.0
WBC_10E9_L_TO_PER_UL = 1000.0
CRP_MG_L_TO_MG_DL = 0.1
CRP_TENTH_MG_L_TO_MG_DL = 0.01
SEXES: Mapping[str, str] = {"m": "male", "f": "female"}

# Spelling key (lower case, parenthesised text and everything but letters and digits removed)
# -> (disease word, subtype label, diagnosis family). ADR 0402 gives the reasons for PML and
# the unspecified lymphomas.
SUBTYPES: Mapping[str, tuple[str, str, str]] = {
    "dlbcl": ("lbcl", "DLBCL", "lymphoma"),
    "pmbcl": ("lbcl", "PMBCL", "lymphoma"),
    "pml": ("lbcl", "PMBCL", "lymphoma"),  # primary mediastinal lymphoma
    "fl": ("fl", "FL", "lymphoma"),
    "follicularlymphoma": ("fl", "FL", "lymphoma"),
    "mcl": ("mcl", "MCL", "lymphoma"),
    "mantlecelllymphoma": ("mcl", "MCL", "lymphoma"),
    "mzl": ("mzl", "MZL", "lymphoma"),
    "cll": ("cll", "CLL", "leukemia"),
    "ball": ("b_all", "B-ALL", "leukemia"),
    "mm": ("mm", "MM", "myeloma"),
    "aml": ("other", "AML", "leukemia"),
    "burkitt": ("other", "Burkitt", "lymphoma"),
    "nhl": ("other", "NHL", "lymphoma"),
    "aggressivebnhl": ("other", "aggressive B-NHL", "lymphoma"),
}
DIAGNOSES: tuple[str, ...] = ("lymphoma", "myeloma", "leukemia")
# CLL is also written as a lymphoma (small lymphocytic lymphoma).
OTHER_FAMILIES: Mapping[str, tuple[str, ...]] = {"CLL": ("lymphoma",)}


@dataclass(frozen=True, slots=True)
class BwhImport:
    """The canonical frame and the decisions taken on the way (merges, splits, scales)."""

    frame: pl.DataFrame
    notes: tuple[str, ...] = field(default=())


def read_bwh(
    path: Path, *, half_grades: HalfGrades = "up", crp_scale: CrpScale = "auto"
) -> BwhImport:
    """Read a BWH cohort file (CSV, or the same columns as Parquet / JSON Lines)."""
    return bwh_to_canonical(read_table(path), half_grades=half_grades, crp_scale=crp_scale)


def bwh_to_canonical(
    table: Table, *, half_grades: HalfGrades = "up", crp_scale: CrpScale = "auto"
) -> BwhImport:
    """The canonical forecast frame of a BWH table; :class:`BadInputError` on bad input."""
    if half_grades not in ("up", "down"):
        raise ValueError(f"half_grades must be 'up' or 'down', not {half_grades!r}")
    if crp_scale not in ("auto", "mg_L", "tenth_mg_L"):
        raise ValueError(f"crp_scale must be 'auto', 'mg_L' or 'tenth_mg_L', not {crp_scale!r}")
    missing = [name for name in REQUIRED if name not in table.frame.columns]
    if missing:
        raise BadInputError(
            [
                InputProblem(expected=f"the file has no {name!r} column (a BWH cohort file has it)")
                for name in missing
            ]
        )
    typed = typed_frame(table, RAW_SCHEMA)
    rows = _typed_rows(typed)
    problems = _row_problems(rows, table)
    if problems:
        _raise(problems)
    courses, notes = _courses(rows, table)
    builder = _CourseBuilder(half_grades=half_grades, crp_scale=crp_scale, table=table)
    records = [record for course in courses for record in builder.records(course)]
    notes.extend(builder.notes)
    if builder.problems:
        _raise(builder.problems)
    frame = conform(pl.DataFrame(records, schema=_RECORD_SCHEMA, orient="row"))
    check_canonical(frame, table)
    return BwhImport(frame=frame, notes=tuple(notes))


def _raise(problems: Sequence[InputProblem]) -> None:
    ordered = sorted(problems, key=lambda problem: problem.row or 0)
    raise BadInputError(ordered[:MAX_LISTED_PROBLEMS], total=len(ordered))


# --- rows ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    """One typed data row (``index`` is 0-based; ``number`` the 1-based data row)."""

    index: int
    values: dict[str, Any]

    @property
    def number(self) -> int:
        return self.index + 1

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)


def _typed_rows(typed: pl.DataFrame) -> list[_Row]:
    text = {
        name: typed[name].cast(pl.String).str.strip_chars()
        for name in (SID, SUBTYPE, DIAGNOSIS, SEX)
        if name in typed.columns
    }
    frame = typed.with_columns(
        series.replace("", None).alias(name) for name, series in text.items()
    )
    return [_Row(index, values) for index, values in enumerate(frame.iter_rows(named=True))]


def _problem(row: _Row, table: Table, name: str, expected: str) -> InputProblem:
    return InputProblem(
        expected=expected,
        row=row.number,
        line=table.line_of(row.index),
        field=name,
        value=row[name],
    )


def _row_problems(rows: Sequence[_Row], table: Table) -> list[InputProblem]:
    """Every value of every row that cannot be used, in row order."""
    problems: list[InputProblem] = []
    for row in rows:
        problems.extend(_problem(row, table, name, expected) for name, expected in _row_faults(row))
    return problems


def _row_faults(row: _Row) -> list[tuple[str, str]]:
    faults: list[tuple[str, str]] = []
    if row[SID] is None:
        faults.append((SID, "a patient identifier (required on every row)"))
    if row[DAY] is None:
        faults.append((DAY, "a whole number of days after infusion (required on every row)"))
    temperature = row[TEMP]
    if temperature is not None and temperature_unit(temperature) is None:
        faults.append(
            (
                TEMP,
                f"a temperature in degC ({CELSIUS_RANGE[0]:g}-{CELSIUS_RANGE[1]:g}) "
                f"or degF ({FAHRENHEIT_RANGE[0]:g}-{FAHRENHEIT_RANGE[1]:g})",
            )
        )
    grade = row[GRADE]
    if grade is not None and not _is_half_step_grade(grade):
        faults.append((GRADE, "an ICANS grade from 0 to 5 in steps of 0.5"))
    faults.extend(
        (name, "a number >= 0") for name in LABS if row[name] is not None and row[name] < 0
    )
    if row[AGE] is not None and not 0 <= row[AGE] <= c.BOUNDS[c.AGE_YEARS].high:
        faults.append((AGE, c.BOUNDS[c.AGE_YEARS].describe()))
    if row[SEX] is not None and row[SEX].lower() not in SEXES:
        faults.append((SEX, "M or F"))
    faults.extend(_disease_faults(row))
    peak = row[CRS_PEAK]
    if peak is not None and not 0 <= peak <= MAX_GRADE:
        faults.append((CRS_PEAK, "a CRS grade from 0 to 5"))
    if row[TOCI] is not None and row[TOCI] < 0:
        faults.append((TOCI, "a number of doses >= 0"))
    return faults


def _disease_faults(row: _Row) -> list[tuple[str, str]]:
    subtype = subtype_of(row[SUBTYPE])
    if subtype is None:
        accepted = ", ".join(sorted({label for _, label, _ in SUBTYPES.values()}))
        return [(SUBTYPE, f"a subtype: one of {accepted} (any case or spacing)")]
    diagnosis = row[DIAGNOSIS]
    if diagnosis is None:
        return []
    family = diagnosis.lower()
    if family not in DIAGNOSES:
        return [(DIAGNOSIS, "Lymphoma, Myeloma, Leukemia or an empty cell")]
    _, label, expected_family = subtype
    if family != expected_family and family not in OTHER_FAMILIES.get(label, ()):
        return [(DIAGNOSIS, f"{expected_family.title()} (the subtype is {label})")]
    return []


def temperature_unit(value: float) -> Literal["C", "F"] | None:
    """``"C"`` or ``"F"`` from the value's range, ``None`` when it fits neither."""
    if CELSIUS_RANGE[0] <= value <= CELSIUS_RANGE[1]:
        return "C"
    if FAHRENHEIT_RANGE[0] <= value <= FAHRENHEIT_RANGE[1]:
        return "F"
    return None


def _is_half_step_grade(value: float) -> bool:
    return 0 <= value <= MAX_GRADE and float(value * 2).is_integer()


def subtype_of(text: str | None) -> tuple[str, str, str] | None:
    """``(disease, subtype label, diagnosis family)`` of a spelling, ``None`` if unknown."""
    if text is None:
        return None
    key = re.sub(r"[^a-z0-9]", "", re.sub(r"\(.*?\)", "", text.lower()))
    return SUBTYPES.get(key)


# --- courses ---------------------------------------------------------------------------------


def _courses(rows: Sequence[_Row], table: Table) -> tuple[list[list[_Row]], list[str]]:
    """Rows grouped into courses (file order), with second-rater duplicates merged."""
    courses: list[list[_Row]] = []
    count_by_sid: dict[str, int] = {}
    notes: list[str] = []
    for row in rows:
        previous = courses[-1][-1] if courses else None
        if previous is not None and previous[SID] == row[SID]:
            if row[DAY] > previous[DAY]:
                courses[-1].append(row)
                continue
            if row[DAY] == previous[DAY]:
                courses[-1][-1] = _merged(previous, row, table, notes)
                continue
        sid = str(row[SID])
        count_by_sid[sid] = count_by_sid.get(sid, 0) + 1
        if count_by_sid[sid] > 1:
            notes.append(
                f"SID {sid}: row {row.number} starts course {count_by_sid[sid]} "
                f"(day {row[DAY]}{_after(previous, sid)}); patient_id {sid}/{count_by_sid[sid]}"
            )
        courses.append([row])
    return courses, notes


def _after(previous: _Row | None, sid: str) -> str:
    if previous is not None and previous[SID] == sid:
        return f" after day {previous[DAY]}"
    return ", its earlier rows are not adjacent"


def _merged(first: _Row, second: _Row, table: Table, notes: list[str]) -> _Row:
    """A repeated day: the same observations with a second rater's grade keep the higher grade."""
    differing = [name for name in SAME_DAY_FIELDS if first[name] != second[name]]
    if differing:
        raise BadInputError(
            [
                _problem(
                    second,
                    table,
                    DAY,
                    f"a day after {first[DAY]} (row {first.number} has the same SID and day "
                    f"with different {', '.join(differing)})",
                )
            ]
        )
    grades = [grade for grade in (first[GRADE], second[GRADE]) if grade is not None]
    kept = max(grades) if grades else None
    notes.append(
        f"SID {first[SID]} day {first[DAY]}: rows {first.number} and {second.number} repeat the "
        f"day with ICANS grades {first[GRADE]} and {second[GRADE]}; kept {kept}"
    )
    values = {**first.values, GRADE: kept}
    for name in CRS_FIELDS:
        values[name] = first[name] if first[name] is not None else second[name]
    return _Row(first.index, values)


# --- course to canonical records ---------------------------------------------------------------

_RECORD_SCHEMA: dict[str, DataType] = {
    c.PATIENT_ID: pl.String,
    c.PERSON_ID: pl.String,
    c.DAY: pl.Int64,
    c.TEMPERATURE_C: pl.Float64,
    c.CRP_MG_DL: pl.Float64,
    c.FERRITIN_NG_ML: pl.Float64,
    c.PROCALCITONIN_NG_ML: pl.Float64,
    c.IL6_PG_ML: pl.Float64,
    c.WBC_PER_UL: pl.Float64,
    c.RECORDED_ICANS_GRADE: pl.Int64,
    c.AGE_YEARS: pl.Float64,
    c.DISEASE: pl.String,
    c.CRS_PEAK_GRADE: pl.Int64,
    c.CRS_ONSET_DAY: pl.Int64,
    c.CRS_PEAK_DAY: pl.Int64,
    SOURCE_ROW: pl.Int64,
    "source_temperature_unit": pl.String,
    "source_crp_scale": pl.String,
    "source_icans_mean_grade": pl.Float64,
    "source_subtype": pl.String,
    "source_sex": pl.String,
    "source_tocilizumab_doses": pl.Int64,
}
COURSE_CONSTANTS: tuple[str, ...] = (AGE, SEX, SUBTYPE)


@dataclass
class _CourseBuilder:
    """Turns a course's rows into canonical records, collecting notes and problems."""

    half_grades: HalfGrades
    crp_scale: CrpScale
    table: Table
    notes: list[str] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    _seen: dict[str, int] = field(default_factory=dict)

    def records(self, course: list[_Row]) -> list[tuple[Any, ...]]:
        first = course[0]
        sid = str(first[SID])
        self._seen[sid] = self._seen.get(sid, 0) + 1
        patient_id = sid if self._seen[sid] == 1 else f"{sid}/{self._seen[sid]}"
        self._check_constants(course)
        crs = self._crs_summary(course, patient_id)
        scale = self._crp_scale(course)
        disease, label, _ = subtype_of(first[SUBTYPE]) or ("other", "", "")
        age = _first_given(course, AGE)
        sex_word = _first_given(course, SEX)
        sex = SEXES.get(str(sex_word).lower()) if sex_word is not None else None
        return [
            (
                patient_id,
                sid,
                row[DAY],
                _celsius(row[TEMP]),
                _crp_mg_dl(row[CRP], scale),
                row["Ferritin"],
                row["Procalcitonin"],
                row["IL_6"],
                None if row["WBC"] is None else row["WBC"] * WBC_10E9_L_TO_PER_UL,
                _whole_grade(row[GRADE], self.half_grades),
                age,
                disease,
                *crs,
                row.number,
                None if row[TEMP] is None else temperature_unit(row[TEMP]),
                scale,
                row[GRADE],
                label,
                sex,
                self._doses(course),
            )
            for row in course
        ]

    def _check_constants(self, course: list[_Row]) -> None:
        for name in COURSE_CONSTANTS:
            values = {row[name] for row in course if row[name] is not None}
            if len(values) > 1:
                changed = next(row for row in course if row[name] != course[0][name])
                self.problems.append(
                    _problem(
                        changed,
                        self.table,
                        name,
                        f"the same {name} on every row of the course (row {course[0].number} "
                        f"has {course[0][name]!r})",
                    )
                )

    def _crs_rows(self, course: list[_Row]) -> list[_Row]:
        return [row for row in course if any(row[name] is not None for name in CRS_FIELDS)]

    def _crs_summary(self, course: list[_Row], patient_id: str) -> tuple[Any, Any, Any]:
        rows = self._crs_rows(course)
        if not rows:
            return (None, None, None)
        first = rows[0]
        for other in rows[1:]:
            if any(other[name] != first[name] for name in CRS_FIELDS):
                self.problems.append(
                    _problem(
                        other,
                        self.table,
                        CRS_PEAK,
                        f"the CRS fields once per course (row {first.number} has different ones)",
                    )
                )
        peak = first[CRS_PEAK]
        if peak == 0 and (first[CRS_ONSET] is not None or first[CRS_PEAK_DAY] is not None):
            self.notes.append(
                f"{patient_id}: CRS peak grade 0 with onset/peak days "
                f"{first[CRS_ONSET]}/{first[CRS_PEAK_DAY]} (row {first.number}); days ignored"
            )
            return (0, None, None)
        return (peak, first[CRS_ONSET], first[CRS_PEAK_DAY])

    def _doses(self, course: list[_Row]) -> int | None:
        rows = self._crs_rows(course)
        return rows[0][TOCI] if rows else None

    def _crp_scale(self, course: list[_Row]) -> str:
        if self.crp_scale != "auto":
            return self.crp_scale
        fahrenheit = any(
            row[TEMP] is not None and temperature_unit(row[TEMP]) == "F" for row in course
        )
        return "tenth_mg_L" if fahrenheit else "mg_L"


def _first_given(course: list[_Row], name: str) -> Any:
    """The course's first non-empty value of a per-patient column (checked constant)."""
    return next((row[name] for row in course if row[name] is not None), None)


def _celsius(value: float | None) -> float | None:
    if value is None:
        return None
    celsius = value if temperature_unit(value) == "C" else (value - 32.0) * 5.0 / 9.0
    # Half-up to 0.1 degC, as the reference compares temperatures (section 0.4).
    return math.floor(celsius * 10 + 0.5 + 1e-9) / 10


def _crp_mg_dl(value: float | None, scale: str) -> float | None:
    if value is None:
        return None
    factor = CRP_TENTH_MG_L_TO_MG_DL if scale == "tenth_mg_L" else CRP_MG_L_TO_MG_DL
    return value * factor


def _whole_grade(value: float | None, half_grades: HalfGrades) -> int | None:
    if value is None:
        return None
    return math.ceil(value) if half_grades == "up" else math.floor(value)
