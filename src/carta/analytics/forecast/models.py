"""Forecast models: regularised logistic regression or gradient boosting, chosen by grouped
cross-validation, with sigmoid (Platt) probability calibration; prediction with the missing
inputs and the top contributing factors of every row.

For each target (ICANS >= 1, ICANS >= 3, CRS >= 2 within 5 days):

1. training rows are the patient-days from day 0 on with a known label;
2. each candidate (:data:`DEFAULT_CANDIDATES`) is scored by out-of-fold AUROC over
   ``StratifiedGroupKFold`` folds grouped by person - never by row, so no patient is on both
   sides of a split (Roberts DR et al., Ecography 2017;40:913, on structured cross-validation);
3. the best candidate is refitted on every training row and calibrated with the sigmoid
   method on the same grouped folds (``CalibratedClassifierCV(ensemble=False)``; Platt 1999,
   Niculescu-Mizil & Caruana, ICML 2005).

The selection scores are written to the model card; they are slightly optimistic because the
same folds chose the model. ``carta.analytics.forecast.evaluate`` runs the whole procedure
inside an outer grouped split for unbiased figures (``benchmarks/forecast.py``).

Contributions (``explain``): for the logistic model, coefficient x standardised value, summed
over the features of each input (exact on the log-odds scale, relative to the training mean);
for gradient boosting, an occlusion approximation - the change in log-odds when the features of
one input are set to their training medians (ADR 0409). Neither is causal.

One course (the patient page, :func:`predict_course`, ADR 0288) skips the frames: its features
come from the rows (:func:`.course_features.features_for_rows`) and each target model is read
through a compact evaluator made once per process from the fitted scikit-learn objects
(:class:`CompactModel`: the same numpy operations scikit-learn runs, without its per-call
validation), used only after it gave scikit-learn's own answers on check rows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import platform
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import polars as pl
from numpy.typing import NDArray
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import ThreadpoolController, threadpool_limits

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.course_features import features_for_courses, features_for_rows
from carta.analytics.forecast.features import (
    CARRIED_FORWARD,
    MISSING_INPUTS,
    FeatureSet,
    build_features,
    input_of,
    label_frame,
)

Kind = Literal["logistic", "boosting"]
FloatArray = NDArray[np.float64]
MODEL_FORMAT = "carta-forecast/1"
DEFAULT_FOLDS = 5
TOP_FACTORS = 3
MIN_EVENT_PATIENTS = 2
# Native threads per fit. Models this small fit fastest on one thread; on a shared machine more
# threads oversubscribe the cores and a 1-second fit takes 10 (measured on 2 busy cores).
THREADS = 1


@functools.cache
def _threadpools() -> ThreadpoolController:
    """The process's native thread pools, found once: scanning the loaded libraries costs
    about a millisecond, more than predicting one patient's days (fits keep
    ``threadpool_limits``, which scans each time)."""
    return ThreadpoolController()


def _one_thread() -> Any:
    """``THREADS`` native threads for a prediction (a context manager)."""
    return _threadpools().limit(limits=THREADS)


DISCLAIMER = (
    "Decision support only: a statistical estimate from past patients that does not replace "
    "clinical judgement, local protocols or the treating team's assessment."
)
STATUS = "forecast_status"
STATUS_OK = "ok"
STATUS_BEFORE_INFUSION = "before_infusion"
VERSION_COLUMN = "model_version"


class ForecastError(Exception):
    """Training is impossible as asked (no labels, too few events for every target ...)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A model family and its settings."""

    name: str
    kind: Kind
    params: tuple[tuple[str, Any], ...] = ()

    def estimator(self, seed: int) -> Pipeline:
        """A fresh, unfitted pipeline."""
        settings = dict(self.params)
        if self.kind == "logistic":
            return Pipeline(
                [
                    ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                    ("scale", StandardScaler()),
                    ("model", LogisticRegression(max_iter=5000, **settings)),
                ]
            )
        return Pipeline(
            [
                (
                    "model",
                    HistGradientBoostingClassifier(
                        early_stopping=False, random_state=seed, **settings
                    ),
                )
            ]
        )


DEFAULT_CANDIDATES: tuple[Candidate, ...] = (
    Candidate("logistic-ridge", "logistic", (("C", 0.1), ("l1_ratio", 0.0))),
    Candidate(
        "logistic-lasso", "logistic", (("C", 0.1), ("l1_ratio", 1.0), ("solver", "liblinear"))
    ),
    Candidate(
        "gradient-boosting",
        "boosting",
        (
            ("max_depth", 3),
            ("learning_rate", 0.05),
            ("max_iter", 150),
            ("min_samples_leaf", 20),
            ("l2_regularization", 1.0),
        ),
    ),
)


def metrics(y: Sequence[int] | NDArray[Any], p: Sequence[float] | FloatArray) -> dict[str, Any]:
    """Rows, events, AUROC, AUPRC (average precision) and Brier score; AUROC needs both classes."""
    truth = np.asarray(y, dtype=np.int64)
    probability = np.asarray(p, dtype=np.float64)
    events = int(truth.sum())
    both = 0 < events < truth.size
    return {
        "rows": int(truth.size),
        "events": events,
        "prevalence": float(truth.mean()) if truth.size else None,
        "auroc": float(roc_auc_score(truth, probability)) if both else None,
        "auprc": float(average_precision_score(truth, probability)) if both else None,
        "brier": float(brier_score_loss(truth, probability)) if truth.size else None,
    }


@dataclass(frozen=True, slots=True)
class TrainingData:
    """One target's training matrix: rows from day 0 with a known label."""

    x: FloatArray
    y: NDArray[np.int64]
    groups: NDArray[Any]
    columns: tuple[str, ...]
    patients: NDArray[Any]


def training_data(features: FeatureSet, labels: pl.DataFrame, target: str) -> TrainingData:
    """The target's rows and the feature columns that vary on them (constants say nothing)."""
    keep = (features.frame[c.DAY] >= 0) & labels[target].is_not_null()
    rows = features.frame.filter(keep)
    matrix = features.matrix().filter(keep)
    varying = tuple(name for name in features.columns if matrix[name].drop_nulls().n_unique() > 1)
    return TrainingData(
        x=matrix.select(varying).to_numpy().astype(np.float64),
        y=labels[target].filter(keep).cast(pl.Int64).to_numpy(),
        groups=rows[c.PERSON_ID].to_numpy(),
        columns=varying,
        patients=rows[c.PATIENT_ID].to_numpy(),
    )


def grouped_splits(
    y: NDArray[np.int64], groups: NDArray[Any], folds: int, seed: int
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """Folds that never split a person's rows, balanced for events where possible."""
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(np.zeros(y.size), y, groups))
    for train, _ in splits:
        if np.unique(y[train]).size < 2:
            raise ForecastError("a training fold has only one class; use fewer folds")
    return splits


def usable_folds(y: NDArray[np.int64], groups: NDArray[Any], folds: int) -> int:
    """``folds`` capped by the persons with an event and by the persons (a fold needs both)."""
    with_event = np.unique(groups[y == 1]).size
    return int(min(folds, with_event, np.unique(groups).size))


@dataclass
class TargetModel:
    """One target's calibrated model and what is needed to explain and audit it."""

    target: str
    candidate: Candidate
    calibrated: CalibratedClassifierCV
    columns: tuple[str, ...]
    reference: FloatArray
    selection: list[dict[str, Any]]
    summary: dict[str, Any]

    @property
    def inputs(self) -> tuple[str, ...]:
        """The inputs this model reads, in first-use order."""
        return tuple(dict.fromkeys(input_of(name) for name in self.columns))

    def base(self) -> Pipeline:
        """The uncalibrated pipeline fitted on every training row."""
        fitted: Pipeline = self.calibrated.calibrated_classifiers_[0].estimator
        return fitted

    def probability(self, x: FloatArray) -> FloatArray:
        """Calibrated probability of the event for each row of ``x``."""
        return np.asarray(self.calibrated.predict_proba(x)[:, 1], dtype=np.float64)

    def contributions(self, x: FloatArray) -> tuple[tuple[str, ...], FloatArray]:
        """Per input, each row's contribution to the log-odds (see the module docstring)."""
        with _one_thread():
            return self._contributions(x)

    def _contributions(self, x: FloatArray) -> tuple[tuple[str, ...], FloatArray]:
        inputs = self.inputs
        index = {
            name: [i for i, column in enumerate(self.columns) if input_of(column) == name]
            for name in inputs
        }
        base = self.base()
        if self.candidate.kind == "logistic":
            scaled = base[:-1].transform(x)
            per_feature = scaled * base[-1].coef_[0]
            values = np.column_stack([per_feature[:, index[name]].sum(axis=1) for name in inputs])
            return inputs, values
        full = base.decision_function(x)
        values = np.empty((x.shape[0], len(inputs)), dtype=np.float64)
        for position, name in enumerate(inputs):
            occluded = x.copy()
            occluded[:, index[name]] = self.reference[index[name]]
            values[:, position] = full - base.decision_function(occluded)
        return inputs, values


def fit_target(
    data: TrainingData,
    target: str,
    *,
    candidates: Sequence[Candidate] = DEFAULT_CANDIDATES,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
) -> TargetModel:
    """Select a candidate by grouped cross-validation, refit it and calibrate it."""
    with threadpool_limits(THREADS):
        return _fit_target(data, target, candidates, folds, seed)


def _fit_target(
    data: TrainingData, target: str, candidates: Sequence[Candidate], folds: int, seed: int
) -> TargetModel:
    usable = usable_folds(data.y, data.groups, folds)
    if usable < MIN_EVENT_PATIENTS:
        raise ForecastError(
            f"{target}: {np.unique(data.groups[data.y == 1]).size} person(s) with an event; "
            f"at least {MIN_EVENT_PATIENTS} are needed for grouped validation"
        )
    splits = grouped_splits(data.y, data.groups, usable, seed)
    selection = []
    best: tuple[float, Candidate, FloatArray] | None = None
    for candidate in candidates:
        oof = _out_of_fold(candidate, data, splits, seed)
        scores = {"candidate": candidate.name, **metrics(data.y, oof)}
        selection.append(scores)
        auroc = scores["auroc"] if scores["auroc"] is not None else 0.0
        if best is None or auroc > best[0]:
            best = (auroc, candidate, oof)
    assert best is not None
    _, chosen, oof = best
    calibrated = CalibratedClassifierCV(
        chosen.estimator(seed), method="sigmoid", cv=splits, ensemble=False
    )
    calibrated.fit(data.x, data.y)
    reference = np.nan_to_num(np.nanmedian(data.x, axis=0))
    summary = {
        "rows": int(data.y.size),
        "events": int(data.y.sum()),
        "patients": int(np.unique(data.patients).size),
        "persons": int(np.unique(data.groups).size),
        "persons_with_event": int(np.unique(data.groups[data.y == 1]).size),
        "folds": usable,
        "selected": chosen.name,
        "selected_cv": metrics(data.y, oof),
        "patient_level_cv_auroc": _patient_auroc(data.patients, data.y, oof),
    }
    return TargetModel(
        target=target,
        candidate=chosen,
        calibrated=calibrated,
        columns=data.columns,
        reference=reference,
        selection=selection,
        summary=summary,
    )


def _out_of_fold(
    candidate: Candidate,
    data: TrainingData,
    splits: Sequence[tuple[NDArray[np.intp], NDArray[np.intp]]],
    seed: int,
) -> FloatArray:
    oof = np.empty(data.y.size, dtype=np.float64)
    for train, test in splits:
        estimator = candidate.estimator(seed).fit(data.x[train], data.y[train])
        oof[test] = estimator.predict_proba(data.x[test])[:, 1]
    return oof


def _patient_auroc(patients: NDArray[Any], y: NDArray[np.int64], p: FloatArray) -> float | None:
    """AUROC of each patient's highest forecast against "had an event in some window"."""
    frame = (
        pl.DataFrame({"patient": patients, "y": y, "p": p})
        .group_by("patient")
        .agg(pl.col("y").max(), pl.col("p").max())
    )
    auroc: float | None = metrics(frame["y"].to_numpy(), frame["p"].to_numpy())["auroc"]
    return auroc


# --- the model over all targets ----------------------------------------------------------------


@dataclass
class ForecastModel:
    """Fitted models for each target that had enough events, with the model card."""

    version: str
    categories: dict[str, tuple[str, ...]]
    targets: dict[str, TargetModel]
    skipped: dict[str, str]
    card: dict[str, Any] = field(default_factory=dict)
    horizon: int = c.HORIZON_DAYS

    @property
    def inputs(self) -> tuple[str, ...]:
        """Every input any target model reads."""
        names: dict[str, None] = {}
        for model in self.targets.values():
            names.update(dict.fromkeys(model.inputs))
        return tuple(names)


def fit_forecaster(
    frame: pl.DataFrame,
    *,
    candidates: Sequence[Candidate] = DEFAULT_CANDIDATES,
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    targets: Sequence[str] = c.TARGETS,
    data_description: Mapping[str, Any] | None = None,
) -> ForecastModel:
    """Train every target that the data allow on a canonical frame; the card records why not.

    Raises :class:`ForecastError` when no target can be trained.
    """
    features = build_features(frame)
    labels = label_frame(frame)
    fitted: dict[str, TargetModel] = {}
    skipped: dict[str, str] = {}
    for target in targets:
        data = training_data(features, labels, target)
        if data.y.size == 0:
            skipped[target] = "no patient-day from day 0 with a known label"
            continue
        try:
            fitted[target] = fit_target(data, target, candidates=candidates, folds=folds, seed=seed)
        except ForecastError as error:
            skipped[target] = str(error)
    if not fitted:
        reasons = "; ".join(f"{name}: {why}" for name, why in skipped.items())
        raise ForecastError(f"no forecast could be trained ({reasons})")
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    digest = data_digest(frame)
    version = f"{created:%Y%m%dT%H%M%SZ}-{digest[:8]}"
    model = ForecastModel(
        version=version,
        categories={name: tuple(values) for name, values in features.categories.items()},
        targets=fitted,
        skipped=skipped,
    )
    model.card = model_card(
        model, frame, features, created, digest, folds, seed, candidates, data_description
    )
    return model


def data_digest(frame: pl.DataFrame) -> str:
    """SHA-256 of the canonical training rows (sorted), so a card names its data exactly."""
    ordered = frame.sort(c.PATIENT_ID, c.DAY)
    return hashlib.sha256(ordered.write_csv().encode("utf-8")).hexdigest()


def model_card(
    model: ForecastModel,
    frame: pl.DataFrame,
    features: FeatureSet,
    created: dt.datetime,
    digest: str,
    folds: int,
    seed: int,
    candidates: Sequence[Candidate],
    data_description: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The JSON model card: data, dates, features, validation figures, versions, intended use."""
    from importlib.metadata import PackageNotFoundError, version

    import sklearn

    try:
        carta_version = version("carta")
    except PackageNotFoundError:
        carta_version = "unknown"
    used = set(model.inputs)
    offered = {input_of(name) for name in features.columns}
    days = frame[c.DAY]
    return {
        "format": MODEL_FORMAT,
        "model_version": model.version,
        "created_utc": created.isoformat(),
        "carta_version": carta_version,
        "scikit_learn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "intended_use": (
            "Daily forecast, for a patient after CAR-T infusion, of ICANS (any grade and grade "
            ">= 3) and CRS grade >= 2 within the next "
            f"{model.horizon} days, from the observations up to that day. {DISCLAIMER}"
        ),
        "data": {
            **(dict(data_description) if data_description else {}),
            "rows": frame.height,
            "patients": frame[c.PATIENT_ID].n_unique(),
            "persons": frame[c.PERSON_ID].n_unique(),
            "first_day": int(days.min()) if frame.height else None,  # type: ignore[arg-type]
            "last_day": int(days.max()) if frame.height else None,  # type: ignore[arg-type]
            "sha256": digest,
        },
        "horizon_days": model.horizon,
        "labels": {
            c.ICANS_ANY: "recorded ICANS grade >= 1 on one of the next days",
            c.ICANS_SEVERE: "recorded ICANS grade >= 3 on one of the next days",
            c.CRS_2: "CRS grade >= 2 on one of the next days (daily grades, else CRS summary)",
            "unknown": "a window with a day without a grade and no event is left out",
        },
        "validation": {
            "method": "grouped (by person) stratified k-fold; selection by out-of-fold AUROC",
            "folds": folds,
            "seed": seed,
            "candidates": [candidate.name for candidate in candidates],
            "note": (
                "selection figures are slightly optimistic (the same folds chose the model); "
                "benchmarks/forecast.py reports nested figures"
            ),
        },
        "targets": {
            name: {
                "probability_column": c.PROBABILITY_COLUMNS[name],
                **target.summary,
                "candidates": target.selection,
                "features": list(target.columns),
                "inputs": list(target.inputs),
            }
            for name, target in model.targets.items()
        },
        "skipped_targets": model.skipped,
        "inputs_used": sorted(used),
        "inputs_not_available_in_training": sorted(offered - used),
        "categories": {name: list(values) for name, values in model.categories.items()},
        "missing_data": (
            "last value carried forward within a patient with indicators (no value yet, not "
            "measured today, trend unknown); logistic models impute the training median beside "
            "the indicator, gradient boosting routes missing values natively; every prediction "
            "lists the inputs it lacked"
        ),
        "contributions": (
            "logistic: coefficient x standardised value per input; gradient boosting: change "
            "in log-odds when an input's features are set to the training median (approximation)"
        ),
        "disclaimer": DISCLAIMER,
    }


# --- prediction ----------------------------------------------------------------------------------


def predict(model: ForecastModel, frame: pl.DataFrame, *, top: int = TOP_FACTORS) -> pl.DataFrame:
    """One row per input row: probabilities, status, missing inputs, top factors, version.

    Columns: ``patient_id``, ``day``, ``forecast_status`` (``ok``, or ``before_infusion`` for
    negative days, which get no probability), ``p_icans_5d``, ``p_severe_icans_5d``,
    ``p_crs2_5d`` (those the model has), ``missing_inputs`` and ``carried_forward`` (inputs the
    model reads that had no value yet / were carried from an earlier day), ``factors_<target>``
    (the ``top`` inputs by absolute contribution, ``"crp_mg_dL +0.84"``, log-odds) and
    ``model_version``.
    """
    with _one_thread():
        return _predict(model, frame, top)


def _predict(model: ForecastModel, frame: pl.DataFrame, top: int) -> pl.DataFrame:
    if frame.height == 0:
        return _empty_forecast(model, frame)
    # A few courses (the patient page): the same features without a dozen windowed queries.
    features = features_for_courses(frame, model.categories)
    after = (features.frame[c.DAY] >= 0).to_numpy()
    used = list(model.inputs)
    columns: list[pl.Series] = [
        features.frame[c.PATIENT_ID],
        features.frame[c.DAY],
        pl.Series(
            STATUS, np.where(after, STATUS_OK, STATUS_BEFORE_INFUSION).tolist(), dtype=pl.String
        ),
    ]
    factor_columns = []
    for target, fitted in model.targets.items():
        x = features.matrix(fitted.columns).to_numpy().astype(np.float64)
        probability = np.where(after, fitted.probability(x), np.nan)
        columns.append(pl.Series(c.PROBABILITY_COLUMNS[target], probability).fill_nan(None))
        factor_columns.append(pl.Series(f"factors_{target}", _top_factors(fitted, x, after, top)))
    listed = features.frame.select(
        pl.col(MISSING_INPUTS).list.set_intersection(used),
        pl.col(CARRIED_FORWARD).list.set_intersection(used),
    )
    result = pl.concat([pl.DataFrame(columns), listed], how="horizontal")
    return result.with_columns(*factor_columns, pl.lit(model.version).alias(VERSION_COLUMN))


def _empty_forecast(model: ForecastModel, frame: pl.DataFrame) -> pl.DataFrame:
    """The forecast columns with no rows (an input with a header and no data)."""
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        c.PATIENT_ID: pl.String,
        c.DAY: frame.schema.get(c.DAY, pl.Int64),
        STATUS: pl.String,
        **{c.PROBABILITY_COLUMNS[target]: pl.Float64 for target in model.targets},
        MISSING_INPUTS: pl.List(pl.String),
        CARRIED_FORWARD: pl.List(pl.String),
        **{f"factors_{target}": pl.List(pl.String) for target in model.targets},
        VERSION_COLUMN: pl.String,
    }
    return pl.DataFrame(schema=schema)


def _top_factors(
    fitted: TargetModel, x: FloatArray, after: NDArray[np.bool_], top: int
) -> list[list[str] | None]:
    inputs, values = fitted._contributions(x)  # already within predict's thread limit
    return _factor_lists(inputs, values, after, top)


def _factor_lists(
    inputs: Sequence[str], values: FloatArray, after: NDArray[np.bool_], top: int
) -> list[list[str] | None]:
    """Each row's ``top`` inputs by absolute contribution, ``"crp_mg_dL +0.84"`` (none before
    infusion)."""
    order = np.argsort(-np.abs(values), axis=1)[:, :top]
    return [
        [f"{inputs[j]} {values[i, j]:+.2f}" for j in order[i]] if after[i] else None
        for i in range(values.shape[0])
    ]


def explain(model: ForecastModel, frame: pl.DataFrame, *, top: int | None = None) -> pl.DataFrame:
    """Long format: ``patient_id``, ``day``, ``target``, ``input``, ``contribution``, ``rank``.

    Every input each target model reads (or its ``top`` by absolute value), for days from 0.
    """
    with _one_thread():
        return _explain(model, frame, top)


def _explain(model: ForecastModel, frame: pl.DataFrame, top: int | None) -> pl.DataFrame:
    features = build_features(frame, model.categories)
    keys = features.frame.select(c.PATIENT_ID, c.DAY).with_row_index("_row")
    parts = []
    for target, fitted in model.targets.items():
        x = features.matrix(fitted.columns).to_numpy().astype(np.float64)
        inputs, values = fitted.contributions(x)
        long = pl.DataFrame(
            {
                "_row": np.repeat(np.arange(x.shape[0], dtype=np.uint32), len(inputs)),
                "target": target,
                "input": np.tile(np.asarray(inputs), x.shape[0]),
                "contribution": values.reshape(-1),
            }
        ).with_columns(
            pl.col("contribution")
            .abs()
            .rank("ordinal", descending=True)
            .over("_row")
            .cast(pl.Int64)
            .alias("rank")
        )
        parts.append(long if top is None else long.filter(pl.col("rank") <= top))
    result = keys.join(pl.concat(parts), on="_row").filter(pl.col(c.DAY) >= 0)
    return result.sort("_row", "target", "rank").drop("_row")


# --- one course without frames (the patient page, ADR 0288) -------------------------------------


@dataclass(frozen=True, slots=True)
class CourseForecast:
    """:func:`predict`'s rows for one course as plain lists, in the order of the rows given:
    ``after[i]`` is ``forecast_status == "ok"``, ``probabilities[target][i]`` is ``None``
    before infusion, ``missing`` and ``carried`` are ``predict``'s lists; the factors of a row
    are formatted when asked for (:meth:`factors`: the page shows one day's)."""

    patient_id: str
    days: list[int]
    after: list[bool]
    probabilities: dict[str, list[float | None]]
    missing: list[list[str]]
    carried: list[list[str]]
    contributions: dict[str, tuple[tuple[str, ...], FloatArray]]
    top: int
    version: str

    def factors(self, target: str, row: int) -> list[str] | None:
        """``predict``'s ``factors_<target>`` of one row."""
        if not self.after[row]:
            return None
        inputs, values = self.contributions[target]
        # The same per-row argsort as predict's over every row (each row is sorted alone).
        return _factor_lists(inputs, values[row : row + 1], np.ones(1, dtype=np.bool_), self.top)[0]


def predict_course(
    model: ForecastModel, rows: Sequence[Mapping[str, Any]], *, top: int = TOP_FACTORS
) -> CourseForecast | None:
    """:func:`predict` of one course given as canonical rows (one dict per day, see
    :func:`.course_features.features_for_rows`), without building a frame.

    ``None`` when the rows need the frame path (an unusual value): call :func:`predict` on
    their canonical frame then. Equal to ``predict`` of that frame, row for row
    (``tests/analytics/forecast/test_course_forecast.py``).
    """
    features = features_for_rows(rows, model.categories)
    if features is None:
        return None
    after = np.asarray(features.days) >= 0
    probabilities: dict[str, list[float | None]] = {}
    contributions: dict[str, tuple[tuple[str, ...], FloatArray]] = {}
    with _one_thread():
        for target, fitted in model.targets.items():
            probability, inputs, values = _evaluate(fitted, features.matrix(fitted.columns))
            probabilities[target] = [
                None if not ok or math.isnan(p) else p
                for p, ok in zip(probability.tolist(), after.tolist(), strict=True)
            ]
            contributions[target] = (inputs, values)
    used = set(model.inputs)
    return CourseForecast(
        patient_id=str(rows[0][c.PATIENT_ID]),
        days=list(features.days),
        after=after.tolist(),
        probabilities=probabilities,
        missing=[[name for name in names if name in used] for names in features.missing],
        carried=[[name for name in names if name in used] for names in features.carried],
        contributions=contributions,
        top=top,
        version=model.version,
    )


def _evaluate(fitted: TargetModel, x: FloatArray) -> tuple[FloatArray, tuple[str, ...], FloatArray]:
    """Probabilities and contributions of ``x``'s rows, by the compact model when there is one
    (within the caller's thread limit)."""
    compact = compact_model(fitted)
    if compact is not None:
        return compact.evaluate(x)
    return (fitted.probability(x), *fitted._contributions(x))


class Unsupported(Exception):
    """The fitted objects are not the ones :class:`CompactModel` knows how to read."""


class CompactModel:
    """A target model's calibrated probability and contributions, computed with the numpy
    operations scikit-learn runs for the pipelines :class:`Candidate` builds, on the fitted
    attributes read once - without scikit-learn's checks on every call (most of the cost for a
    few rows).

    Only the calibration :func:`fit_target` makes is read: one calibrated classifier
    (``ensemble=False``) with a sigmoid calibrator, ``CalibratedClassifierCV.predict_proba``
    then being ``expit(-(a * decision + b))`` exactly. The logistic pipeline: the imputer's
    medians where a value is missing, ``(x - mean) / scale``, ``x @ coef.T + intercept`` on the
    same column-major layout (a matrix product's rounding follows it), the contributions as
    ``TargetModel._contributions`` computes them. Gradient boosting keeps scikit-learn's tree
    traversal, but scores the rows and every occluded copy in one call instead of one per
    input (each row's score depends on that row alone).
    """

    def __init__(self, fitted: TargetModel) -> None:
        self.inputs = fitted.inputs
        self.index = {
            name: [i for i, column in enumerate(fitted.columns) if input_of(column) == name]
            for name in self.inputs
        }
        self.a, self.b = _sigmoid(fitted)
        self.reference = fitted.reference
        self.base = fitted.base()
        self.logistic = fitted.candidate.kind == "logistic"
        if self.logistic:
            self._read_logistic(self.base)
        elif fitted.candidate.kind != "boosting" or not _is_boosting(self.base):
            raise Unsupported(f"a {fitted.candidate.kind} pipeline of another shape")

    def _read_logistic(self, base: Pipeline) -> None:
        steps = [step for _, step in base.steps]
        if [type(step) for step in steps] != [SimpleImputer, StandardScaler, LogisticRegression]:
            raise Unsupported("not an imputer, scaler and logistic regression")
        imputer, scaler, logistic = steps
        missing = imputer.missing_values
        if not (isinstance(missing, float) and math.isnan(missing)):
            raise Unsupported("the imputer does not read NaN as missing")
        if imputer.add_indicator or not imputer.keep_empty_features:
            raise Unsupported("the imputer adds or drops columns")
        if not (scaler.with_mean and scaler.with_std) or scaler.scale_ is None:
            raise Unsupported("the scaler does not centre and scale")
        if logistic.coef_.shape[0] != 1 or len(logistic.classes_) != 2:
            raise Unsupported("not a binary logistic regression")
        self.statistics = np.asarray(imputer.statistics_, dtype=np.float64)
        self.mean = scaler.mean_
        self.scale = scaler.scale_
        self.coef = logistic.coef_
        self.intercept = logistic.intercept_

    def evaluate(self, x: FloatArray) -> tuple[FloatArray, tuple[str, ...], FloatArray]:
        """The calibrated probability of each row, the inputs and their contributions."""
        if self.logistic:
            decision, values = self._logistic(x)
        else:
            decision, values = self._boosting(x)
        probability = expit(-(self.a * decision + self.b))
        return np.asarray(probability, dtype=np.float64), self.inputs, values

    def _logistic(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        scaled = np.array(x, dtype=np.float64, copy=True)  # keeps x's layout, as check_array
        missing = np.isnan(scaled)
        scaled[missing] = np.broadcast_to(self.statistics, scaled.shape)[missing]
        scaled -= self.mean
        scaled /= self.scale
        decision = (scaled @ self.coef.T + self.intercept).reshape(-1)
        per_feature = scaled * self.coef[0]
        values = np.column_stack(
            [per_feature[:, self.index[name]].sum(axis=1) for name in self.inputs]
        )
        return decision, values

    def _boosting(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        rows = x.shape[0]
        copies = [x]
        for name in self.inputs:
            occluded = x.copy()
            occluded[:, self.index[name]] = self.reference[self.index[name]]
            copies.append(occluded)
        scores = np.asarray(self.base.decision_function(np.concatenate(copies)))
        full = scores[:rows]
        values = np.empty((rows, len(self.inputs)), dtype=np.float64)
        for position in range(len(self.inputs)):
            start = (position + 1) * rows
            values[:, position] = full - scores[start : start + rows]
        return full, values


def _sigmoid(fitted: TargetModel) -> tuple[Any, Any]:
    """The one sigmoid calibrator's ``a`` and ``b`` (as fitted: their type is part of the
    arithmetic)."""
    calibrated = fitted.calibrated
    folds = calibrated.calibrated_classifiers_
    if len(folds) != 1 or len(calibrated.classes_) != 2:
        raise Unsupported("not one binary calibrated classifier")
    fold = folds[0]
    if fold.method != "sigmoid" or len(fold.calibrators) != 1:
        raise Unsupported("not a sigmoid calibration")
    calibrator = fold.calibrators[0]
    if type(calibrator).__name__ != "_SigmoidCalibration":
        raise Unsupported("not scikit-learn's sigmoid calibrator")
    if fold.estimator is not fitted.base():
        raise Unsupported("the calibrated estimator is not the explained one")
    return calibrator.a_, calibrator.b_


def _is_boosting(base: Pipeline) -> bool:
    model = base.steps[-1][1]
    return (
        len(base.steps) == 1
        and type(model) is HistGradientBoostingClassifier
        and model.n_trees_per_iteration_ == 1
    )


_compact: weakref.WeakKeyDictionary[CalibratedClassifierCV, CompactModel | None] = (
    weakref.WeakKeyDictionary()
)
_compact_lock = threading.Lock()


def compact_model(fitted: TargetModel) -> CompactModel | None:
    """The target model's :class:`CompactModel`, made once per process, or ``None`` (use
    scikit-learn) when the fitted objects are of another kind or it did not give
    scikit-learn's own results on the check rows (:func:`_agrees`)."""
    with _compact_lock:
        if fitted.calibrated in _compact:
            return _compact[fitted.calibrated]
    try:
        compact: CompactModel | None = CompactModel(fitted)
    except (Unsupported, AttributeError, TypeError, ValueError):
        compact = None
    if compact is not None and not _agrees(compact, fitted):
        compact = None
    with _compact_lock:
        _compact[fitted.calibrated] = compact
    return compact


def check_rows(fitted: TargetModel) -> FloatArray:
    """Rows to compare the compact model with scikit-learn on: the training medians, nothing
    known, every value 0, shifted and scaled medians and every other value missing."""
    reference = np.asarray(fitted.reference, dtype=np.float64)
    alternate = np.where(np.arange(reference.size) % 2 == 0, np.nan, reference + 0.5)
    rows = [
        reference,
        np.full_like(reference, np.nan),
        np.zeros_like(reference),
        reference + 1.0,
        reference * 2.0 - 3.0,
        alternate,
    ]
    return np.asfortranarray(np.vstack(rows))


def _agrees(compact: CompactModel, fitted: TargetModel) -> bool:
    """Probabilities equal to 1e-12 (relative) and contributions equal exactly (the factors'
    rounding to two decimals must not move) on :func:`check_rows`."""
    x = check_rows(fitted)
    try:
        probability, inputs, values = compact.evaluate(x)
    except (ValueError, TypeError, IndexError):
        return False
    with _one_thread():
        expected = fitted.probability(x)
        expected_inputs, expected_values = fitted._contributions(x)
    return (
        inputs == expected_inputs
        and np.allclose(probability, expected, rtol=1e-12, atol=0.0)
        and np.array_equal(values, expected_values)
    )
