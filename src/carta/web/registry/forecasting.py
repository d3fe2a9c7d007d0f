"""The toxicity forecast in the web app: the registry's records -> the forecast model's input
frame -> today's probabilities, their trend and the factors behind them (ADR 0431).

This module is the only bridge from the web layer to :mod:`carta.analytics.forecast`; it
forecasts nothing itself. The model is trained elsewhere (``carta forecast train --format
registry ...`` or :func:`train_demo_model`) and read from the file named by the environment
variable ``CARTA_FORECAST_MODEL``, else from ``<data dir>/forecast/model.joblib``; it is loaded
once per process and reloaded when the file changes. A page without a model says so.

The mapping to the canonical frame (``docs/forecast.md``, "The data it reads"):

* one forecast course per infusion (``patient_id`` ``<pk>/<infusion number>``, ``person_id``
  the patient), days after that infusion;
* the day's ICANS and CRS grade: the clinician's recorded grade, else carta's computed grade
  when it was determined - the same grade the registry export gives the model to learn from;
* tocilizumab and corticosteroid given on a day: a toxicity-treatment row on that day (the
  registry records every toxicity treatment, so a day without one is "not given");
* age at infusion, the first diagnosis's disease, the infusion's product, and the baseline
  CAR-HEMATOTOX, EASIX and m-EASIX computed by :func:`adapters.baseline_scores`;
* WBC and procalcitonin are not registry fields: always missing, and listed as such.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from carta.web.registry import adapters

if TYPE_CHECKING:
    import polars as pl

    from carta.analytics.forecast.models import CourseForecast, ForecastModel

LOG = logging.getLogger(__name__)
MODEL_ENV = "CARTA_FORECAST_MODEL"
MODEL_FOLDER = "forecast"
MODEL_NAME = "model.joblib"
TARGETS: tuple[str, ...] = ("icans_5d", "severe_icans_5d", "crs2_5d")
PROBABILITY = {
    "icans_5d": "p_icans_5d",
    "severe_icans_5d": "p_severe_icans_5d",
    "crs2_5d": "p_crs2_5d",
}
TARGET_LABELS = {
    "icans_5d": _("ICANS (any grade) within 5 days"),
    "severe_icans_5d": _("ICANS grade ≥ 3 within 5 days"),
    "crs2_5d": _("CRS grade ≥ 2 within 5 days"),
}
INPUT_LABELS = {
    "temperature_c": _("temperature"),
    "crp_mg_dL": _("CRP"),
    "ferritin_ng_mL": _("ferritin"),
    "il6_pg_mL": _("IL-6"),
    "wbc_per_uL": _("WBC"),
    "procalcitonin_ng_mL": _("procalcitonin"),
    "recorded_icans_grade": _("ICANS grade so far"),
    "crs_so_far": _("CRS grade so far"),
    "tocilizumab_given": _("tocilizumab so far"),
    "corticosteroid_given": _("corticosteroid so far"),
    "day": _("day since infusion"),
    "age_years": _("age"),
    "disease": _("disease"),
    "product_code": _("product"),
    "baseline_car_hematotox_score": _("baseline CAR-HEMATOTOX"),
    "baseline_easix": _("baseline EASIX"),
    "baseline_m_easix": _("baseline m-EASIX"),
}
TOP_FACTORS = 3
# The daily-assessment fields the forecast reads beyond the baseline labs.
OBSERVED_FIELDS: tuple[str, ...] = ("temperature_c", "il6_pg_ml", "crp_mg_dl", "ferritin_ng_ml")
# The demo model: small and quick (a few seconds on two cores), one candidate, 3 folds.
DEMO_PATIENTS = 120
DEMO_SEED = 7
DEMO_FOLDS = 3
# Days after the latest infusion during which a patient counts as "currently after infusion"
# on the center view: the CRS/ICANS window (ICANS after day 28 is rare; ASTCT 2019).
DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365


# --- the model file ----------------------------------------------------------------------------


def model_path(environ: Mapping[str, str] | None = None, data_dir: Path | None = None) -> Path:
    """Where the model is read from: ``CARTA_FORECAST_MODEL``, else the data folder's."""
    environ = os.environ if environ is None else environ
    configured = environ.get(MODEL_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    folder = Path(settings.DATA_DIR) if data_dir is None else data_dir
    return folder / MODEL_FOLDER / MODEL_NAME


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model, or why there is none."""

    model: ForecastModel | None
    path: Path
    problem: str = ""


_cache: dict[tuple[str, int, int], LoadedModel] = {}
_lock = threading.Lock()


def current_model() -> LoadedModel:
    """The model at :func:`model_path`, loaded once per process (and again after a change)."""
    path = model_path()
    try:
        stat = path.stat()
    except OSError:
        return LoadedModel(None, path)
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        if key not in _cache:
            _cache.clear()
            _cache[key] = _load(path)
        return _cache[key]


def model_stamp() -> str:
    """Which model file the forecast comes from right now (path, change time, size; ``none``
    without a file): part of the patient page's cache key, so a new model shows at once."""
    path = model_path()
    try:
        stat = path.stat()
    except OSError:
        return f"none:{path}"
    return f"{path}:{stat.st_mtime_ns}:{stat.st_size}"


def _load(path: Path) -> LoadedModel:
    from carta.analytics.forecast.store import load_model

    try:
        return LoadedModel(load_model(path), path)
    except Exception as error:  # a damaged or foreign file must not break the patient page
        LOG.warning("forecast model %s could not be loaded: %s", path, error)
        return LoadedModel(None, path, str(error))


def clear_cache() -> None:
    """Forget the loaded model (tests, or after training in the same process)."""
    with _lock:
        _cache.clear()


def train_demo_model(network_or_frame: Any, data_dir: Path) -> Path:
    """Train a small model on synthetic data and save it where :func:`current_model` looks.

    ``network_or_frame`` is a :class:`carta.synth.SyntheticNetwork` (or anything with its
    tables) or a canonical forecast frame; ``None`` makes a network of ``DEMO_PATIENTS``.
    Returns the model file (``<data_dir>/forecast/model.joblib``, with its card beside it).
    A demo model learns synthetic patients: its forecasts illustrate the panel, nothing more.
    """
    import polars as pl

    from carta.analytics.forecast.models import DEFAULT_CANDIDATES, fit_forecaster
    from carta.analytics.forecast.store import save_model
    from carta.analytics.forecast.synthetic import forecast_frame

    if network_or_frame is None:
        from carta.synth import generate_network

        network_or_frame = generate_network(DEMO_PATIENTS, seed=DEMO_SEED)
    frame = (
        network_or_frame
        if isinstance(network_or_frame, pl.DataFrame)
        else forecast_frame(network_or_frame)
    )
    model = fit_forecaster(
        frame,
        candidates=DEFAULT_CANDIDATES[:1],
        folds=DEMO_FOLDS,
        seed=DEMO_SEED,
        data_description={"source": "carta.synth synthetic network (demo model)"},
    )
    target = Path(data_dir) / MODEL_FOLDER / MODEL_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, target)
    clear_cache()
    return target


# --- registry records -> the canonical frame ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Course:
    """What the forecast reads about one infusion of one patient."""

    key: str
    person: str
    age: int | None
    disease: str | None
    product: str | None
    baseline: Mapping[str, float | None]
    days: Sequence[Any]  # DailyAssessment rows of this infusion
    treatments: Sequence[Any]  # ToxicityTreatment rows of this infusion


def _grade(row: Any, prefix: str) -> int | None:
    recorded = getattr(row, f"recorded_{prefix}_grade", None)
    if recorded is not None:
        return int(recorded)
    if getattr(row, f"{prefix}_status", None) == "ok":
        grade = getattr(row, f"{prefix}_grade", None)
        return None if grade is None else int(grade)
    return None


def baseline_values(days: Iterable[Any], lymphodepletion_first_day: int | None) -> dict[str, Any]:
    """The three baseline scores as model inputs (``None`` when not computable)."""
    rows = [
        {"day": row.day, **{name: getattr(row, name) for name in adapters.BASELINE_LABS}}
        for row in days
    ]
    scores = adapters.baseline_scores(rows, lymphodepletion_first_day)
    return {
        "baseline_car_hematotox_score": scores.car_hematotox.score
        if scores.car_hematotox.ok
        else None,
        "baseline_easix": scores.easix.value if scores.easix.ok else None,
        "baseline_m_easix": scores.m_easix.value if scores.m_easix.ok else None,
    }


def course_rows(course: Course) -> list[dict[str, Any]]:
    """One canonical row per assessed day of the course."""
    given: dict[int, set[str]] = {}
    for treatment in course.treatments:
        given.setdefault(treatment.day, set()).add(treatment.agent)
    return [
        {
            "patient_id": course.key,
            "person_id": course.person,
            "day": row.day,
            "temperature_c": row.temperature_c,
            "crp_mg_dL": row.crp_mg_dl,
            "ferritin_ng_mL": row.ferritin_ng_ml,
            "il6_pg_mL": row.il6_pg_ml,
            "recorded_icans_grade": _grade(row, "icans"),
            "recorded_crs_grade": _grade(row, "crs"),
            "tocilizumab_given": "tocilizumab" in given.get(row.day, ()),
            "corticosteroid_given": "corticosteroid" in given.get(row.day, ()),
            "age_years": course.age,
            "disease": course.disease,
            "product_code": course.product,
            **course.baseline,
        }
        for row in sorted(course.days, key=lambda day: day.day)
    ]


def canonical_frame(courses: Iterable[Course]) -> pl.DataFrame:
    """The forecast's canonical frame of the courses (checked like any registry file)."""
    import polars as pl

    from carta.analytics.forecast.canonical import conform

    rows = [row for course in courses for row in course_rows(course)]
    schema = {
        "patient_id": pl.String,
        "person_id": pl.String,
        "day": pl.Int64,
        "disease": pl.String,
        "product_code": pl.String,
    }
    frame = pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
    if frame.height == 0:
        frame = pl.DataFrame(schema={"patient_id": pl.String, "day": pl.Int64})
    return conform(frame)


# --- predictions, ready to show ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Factor:
    """One input that moved a forecast: its label and the change in log-odds it made."""

    input: str
    label: str
    contribution: float

    @property
    def raises(self) -> bool:
        return self.contribution > 0


@dataclass(frozen=True, slots=True)
class TargetForecast:
    """One target on the latest day: probability, trend, factors."""

    target: str
    label: str
    probability: float | None
    trend: list[tuple[int, float]]
    factors: list[Factor] = field(default_factory=list)

    @property
    def percent(self) -> float | None:
        return None if self.probability is None else 100.0 * self.probability


@dataclass(frozen=True, slots=True)
class PatientForecast:
    """A course's forecast on its latest assessed day after infusion."""

    key: str
    day: int
    targets: list[TargetForecast]
    missing: list[str]
    version: str

    @property
    def highest(self) -> float:
        return max((t.probability or 0.0 for t in self.targets), default=0.0)


def _labels(names: Iterable[str]) -> list[str]:
    return [str(INPUT_LABELS.get(name, name)) for name in names]


def forecast_courses(model: ForecastModel, courses: Sequence[Course]) -> list[PatientForecast]:
    """The latest-day forecast of each course that has a day from day 0 (others: none).

    One ``predict`` call: its ``factors_<target>`` columns already hold each day's top
    inputs by absolute contribution (log-odds to two decimals, as the panel shows them), so no
    second pass through the features with ``explain`` is needed (ADR 0286).
    """
    import polars as pl

    from carta.analytics.forecast.models import predict

    frame = canonical_frame(courses)
    if frame.height == 0:
        return []
    predictions = predict(model, frame, top=TOP_FACTORS).filter(pl.col("forecast_status") == "ok")
    if predictions.height == 0:
        return []
    result = []
    for key, days in predictions.sort("day").group_by("patient_id", maintain_order=True):
        today = days.row(-1, named=True)
        targets = [
            TargetForecast(
                target=target,
                label=str(TARGET_LABELS[target]),
                probability=today[PROBABILITY[target]],
                trend=[
                    (day, probability)
                    for day, probability in days.select("day", PROBABILITY[target]).iter_rows()
                    if probability is not None
                ],
                factors=_factors(today.get(f"factors_{target}")),
            )
            for target in TARGETS
            if PROBABILITY[target] in days.columns
        ]
        result.append(
            PatientForecast(
                key=str(key[0]),
                day=int(today["day"]),
                targets=targets,
                missing=_labels(today["missing_inputs"] or []),
                version=str(today["model_version"]),
            )
        )
    return result


def forecast_course(model: ForecastModel, course: Course) -> PatientForecast | None:
    """:func:`forecast_courses` of one course (the patient page's): the same forecast, from the
    course's rows straight to the model without frames (``predict_course``, ADR 0288); rows
    that need the frame path take it."""
    from carta.analytics.forecast.models import predict_course

    rows = course_rows(course)
    if not rows:
        return None
    predicted = predict_course(model, rows, top=TOP_FACTORS)
    if predicted is None:
        forecasts = forecast_courses(model, [course])
        return forecasts[0] if forecasts else None
    return _latest(predicted)


def _latest(predicted: CourseForecast) -> PatientForecast | None:
    """The latest day from day 0 of one course's forecast, as :func:`forecast_courses` shows
    it."""
    shown = sorted(
        (day, row)
        for row, (day, ok) in enumerate(zip(predicted.days, predicted.after, strict=True))
        if ok
    )
    if not shown:
        return None
    today = shown[-1][1]
    targets = []
    for target in TARGETS:
        probabilities = predicted.probabilities.get(target)
        if probabilities is None:
            continue
        trend = [(day, probabilities[row]) for day, row in shown]
        targets.append(
            TargetForecast(
                target=target,
                label=str(TARGET_LABELS[target]),
                probability=probabilities[today],
                trend=[(day, p) for day, p in trend if p is not None],
                factors=_factors(predicted.factors(target, today)),
            )
        )
    return PatientForecast(
        key=predicted.patient_id,
        day=predicted.days[today],
        targets=targets,
        missing=_labels(predicted.missing[today]),
        version=predicted.version,
    )


def _factors(listed: Sequence[str] | None) -> list[Factor]:
    """``predict``'s ``"crp_mg_dL +0.84"`` entries (largest first) as labelled factors."""
    factors = []
    for entry in listed or []:
        name, _, value = entry.rpartition(" ")
        factors.append(Factor(name, str(INPUT_LABELS.get(name, name)), float(value)))
    return factors


def _age(patient: Any, infusion: Any) -> int | None:
    """Age at infusion as recorded, else from the year of birth (within a year: the registry
    keeps no full date of birth outside the identity table)."""
    if patient.age_at_infusion is not None:
        return int(patient.age_at_infusion)
    if patient.year_of_birth and infusion.infused_on:
        return int(infusion.infused_on.year - patient.year_of_birth)
    return None


def course_of(
    patient: Any,
    infusion: Any,
    assessments: Iterable[Any],
    treatments: Iterable[Any],
    disease: str | None,
    lymphodepletion_first_day: int | None,
) -> Course:
    """The course of one infusion from the patient's records (read through the selectors)."""
    days = [row for row in assessments if row.infusion_id == infusion.pk]
    return Course(
        key=f"{patient.pk}/{infusion.number}",
        person=str(patient.pk),
        age=_age(patient, infusion),
        disease=disease,
        product=infusion.product.code if infusion.product_id else None,
        baseline=baseline_values(days, lymphodepletion_first_day),
        days=days,
        treatments=[t for t in treatments if t.infusion_id == infusion.pk],
    )


@dataclass(frozen=True, slots=True)
class Panel:
    """What the patient page's forecast panel shows."""

    available: bool
    forecast: PatientForecast | None = None
    model_path: str = ""
    problem: str = ""
    trend_svg: str = ""


def patient_panel(
    patient: Any,
    infusions: Sequence[Any],
    assessments: Sequence[Any],
    treatments: Sequence[Any],
    disease: str | None,
    lymphodepletion_first_day: int | None,
) -> Panel:
    """The latest infusion's forecast, or why there is none."""
    loaded = current_model()
    if loaded.model is None:
        return Panel(False, model_path=str(loaded.path), problem=loaded.problem)
    if not infusions:
        return Panel(True)
    course = course_of(
        patient, infusions[-1], assessments, treatments, disease, lymphodepletion_first_day
    )
    forecast = forecast_course(loaded.model, course)
    if forecast is None:
        return Panel(True)
    from carta.web.registry.forecast_plot import trend_svg

    return Panel(True, forecast, trend_svg=trend_svg(forecast.targets))


# --- the center view ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RiskRow:
    """One patient on the center view."""

    patient: Any
    infusion: Any
    forecast: PatientForecast


def patients_at_risk(patients: Any, today: date, window_days: int) -> list[RiskRow]:
    """Patients whose latest infusion is within ``window_days`` before ``today``, by their
    highest forecast on the latest assessed day, highest first.

    ``patients`` is a queryset already scoped by the selectors (center access).
    """
    from django.db.models import Prefetch

    from carta.web.registry.models import DailyAssessment, Infusion, ToxicityTreatment

    loaded = current_model()
    if loaded.model is None:
        return []
    since = today - timedelta(days=window_days)
    recent = patients.filter(infusions__infused_on__gte=since, infusions__infused_on__lte=today)
    chosen = recent.distinct().prefetch_related(
        Prefetch(
            "infusions",
            queryset=Infusion.objects.select_related("product").order_by("number"),
        ),
        Prefetch("assessments", queryset=DailyAssessment.objects.order_by("day")),
        Prefetch("treatments", queryset=ToxicityTreatment.objects.all()),
        "diagnoses",
        "lymphodepletions",
    )
    courses, latest_infusion = [], {}
    for patient in chosen:
        infusions = list(patient.infusions.all())
        if not infusions:
            continue
        infusion = infusions[-1]
        diagnoses = list(patient.diagnoses.all())
        lymphodepletions = list(patient.lymphodepletions.all())
        course = course_of(
            patient,
            infusion,
            list(patient.assessments.all()),
            list(patient.treatments.all()),
            diagnoses[0].disease if diagnoses else None,
            lymphodepletions[0].first_day if lymphodepletions else None,
        )
        courses.append(course)
        latest_infusion[course.key] = (patient, infusion)
    rows = [
        RiskRow(*latest_infusion[forecast.key], forecast)
        for forecast in forecast_courses(loaded.model, courses)
    ]
    return sorted(rows, key=lambda row: -row.forecast.highest)


# --- every day of one course (the REST API) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayForecast:
    """One assessed day of a course from day 0: the probabilities the model gives, the inputs
    it had no value for, and the top factors of each target."""

    day: int
    probabilities: Mapping[str, float | None]
    missing: list[str]
    factors: Mapping[str, list[Factor]]
    version: str


def forecast_days(model: ForecastModel, course: Course) -> list[DayForecast]:
    """Every day of ``course`` from day 0, in day order (the API's day-by-day forecast).

    The same ``predict`` and ``explain`` calls as :func:`forecast_courses`, kept per day;
    ``missing`` holds input names (see ``INPUT_LABELS`` for their labels).
    """
    import polars as pl

    from carta.analytics.forecast.models import explain, predict

    frame = canonical_frame([course])
    if frame.height == 0:
        return []
    predictions = predict(model, frame).filter(pl.col("forecast_status") == "ok").sort("day")
    if predictions.height == 0:
        return []
    explained = explain(model, frame, top=TOP_FACTORS).sort("day", "target", "rank")
    factors: dict[int, dict[str, list[Factor]]] = {}
    for day, target, name, value in explained.select(
        "day", "target", "input", "contribution"
    ).iter_rows():
        factors.setdefault(day, {}).setdefault(target, []).append(
            Factor(name, str(INPUT_LABELS.get(name, name)), value)
        )
    targets = [target for target in TARGETS if PROBABILITY[target] in predictions.columns]
    return [
        DayForecast(
            day=int(row["day"]),
            probabilities={target: row[PROBABILITY[target]] for target in targets},
            missing=list(row["missing_inputs"] or []),
            factors={target: factors.get(row["day"], {}).get(target, []) for target in targets},
            version=str(row["model_version"]),
        )
        for row in predictions.iter_rows(named=True)
    ]
