"""Honest validation of the whole forecast procedure: nested grouped cross-validation.

The outer split divides *persons* into folds (stratified by whether they ever had ICANS). For
each outer fold, :func:`~carta.analytics.forecast.models.fit_forecaster` runs on the other
persons exactly as ``carta forecast train`` does - candidate selection and calibration on inner
grouped folds - and predicts the held-out persons' days. Every figure therefore comes from
patients the model (and its selection) never saw.

Reported, for each target:

* row level (each forecast day): AUROC, AUPRC (average precision), Brier score, for all days
  from day 0 and for the days *before onset* (no event of that kind yet - the forecasts that
  matter clinically, without the easy "already has ICANS" days);
* patient level: AUROC of each patient's highest forecast for "develops ICANS" and "develops
  severe ICANS", over all days and (cases) over the days before onset only;
* calibration: observed event rate against mean forecast in quantile bins (plot:
  :func:`plot_calibration`);
* a fixed baseline in the same folds (:func:`baseline_rule`): fever >= 38.0 degC so far and CRP
  >= 10 mg/dL so far, each known / met / not met, its event rate per cell estimated on the
  training persons only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.calibration import calibration_curve
from sklearn.model_selection import StratifiedKFold

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.features import (
    CRS_HISTORY,
    FeatureSet,
    build_features,
    label_frame,
)
from carta.analytics.forecast.models import (
    DEFAULT_CANDIDATES,
    Candidate,
    ForecastError,
    ForecastModel,
    fit_forecaster,
    metrics,
    predict,
)

FEVER_C = 38.0  # ASTCT fever (reference a.1)
CRP_HIGH_MG_DL = 10.0  # [S] a round, commonly used "high CRP" cut-off (100 mg/L); ADR 0410
BASELINE_PREFIX = "baseline_"
MODEL = "model"
BASELINE = "baseline"
CALIBRATION_BINS = 10
FOLD = "fold"
SO_FAR = {
    c.ICANS_ANY: ("icans_so_far", 1),
    c.ICANS_SEVERE: ("icans_so_far", 3),
    c.CRS_2: ("crs_so_far", 2),
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Out-of-fold forecasts and the figures computed from them."""

    predictions: pl.DataFrame
    rows: pl.DataFrame
    patients: pl.DataFrame
    calibration: pl.DataFrame
    selected: pl.DataFrame


def nested_cross_validation(
    frame: pl.DataFrame,
    *,
    folds: int = 5,
    inner_folds: int = 4,
    seed: int = 0,
    candidates: Sequence[Candidate] = DEFAULT_CANDIDATES,
    targets: Sequence[str] = c.TARGETS,
    stratify_grade: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Run the nested grouped cross-validation on a canonical frame.

    Outer folds are stratified by "ICANS grade >= ``stratify_grade`` from day 0" (use 3 on a
    cohort where nearly everyone has ICANS).
    """
    assignment = outer_folds(frame, folds, seed, stratify_grade)
    parts = []
    chosen: list[dict[str, object]] = []
    for fold in range(folds):
        test_persons = assignment.filter(pl.col(FOLD) == fold)[c.PERSON_ID]
        test = frame.filter(pl.col(c.PERSON_ID).is_in(test_persons.implode()))
        train = frame.filter(~pl.col(c.PERSON_ID).is_in(test_persons.implode()))
        if progress is not None:
            progress(
                f"fold {fold + 1}/{folds}: training on {train[c.PERSON_ID].n_unique()} "
                f"persons, testing on {test_persons.len()}"
            )
        model = fit_forecaster(
            train, candidates=candidates, folds=inner_folds, seed=seed, targets=targets
        )
        chosen.extend(
            {FOLD: fold, "target": name, "selected": target.candidate.name}
            for name, target in model.targets.items()
        )
        parts.append(_fold_predictions(model, train, test, fold))
    predictions = pl.concat(parts, how="diagonal_relaxed")
    present = [name for name in targets if c.PROBABILITY_COLUMNS[name] in predictions.columns]
    return Evaluation(
        predictions=predictions,
        rows=row_metrics(predictions, present),
        patients=patient_metrics(predictions, present),
        calibration=calibration_table(predictions, present),
        selected=pl.DataFrame(chosen),
    )


def outer_folds(
    frame: pl.DataFrame, folds: int, seed: int, stratify_grade: int = 1
) -> pl.DataFrame:
    """Each person's outer fold, stratified by "had ICANS >= ``stratify_grade`` from day 0"."""
    persons = (
        frame.filter(pl.col(c.DAY) >= 0)
        .group_by(c.PERSON_ID)
        .agg((pl.col(c.RECORDED_ICANS_GRADE).max().fill_null(0) >= stratify_grade).alias("case"))
        .sort(c.PERSON_ID)
    )
    cases = persons["case"].to_numpy()
    smallest = int(min(cases.sum(), (~cases).sum()))
    if smallest < folds:
        raise ForecastError(
            f"{folds} outer folds need at least {folds} persons with and {folds} without ICANS "
            f">= {stratify_grade} "
            f"(found {int(cases.sum())} and {int((~cases).sum())})"
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    fold_of = np.empty(persons.height, dtype=np.int64)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(persons.height), cases)):
        fold_of[test] = fold
    return persons.with_columns(pl.Series(FOLD, fold_of))


def _fold_predictions(
    model: ForecastModel, train: pl.DataFrame, test: pl.DataFrame, fold: int
) -> pl.DataFrame:
    """The held-out rows: forecasts, labels, ICANS/CRS so far and the baseline's forecasts."""
    written = [c.PROBABILITY_COLUMNS[name] for name in model.targets]
    forecast = predict(model, test).select(c.PATIENT_ID, c.DAY, *written)
    features = build_features(test)
    labels = label_frame(test)
    history = features.frame.select(
        c.PERSON_ID,
        pl.col(f"{c.RECORDED_ICANS_GRADE}__max").alias("icans_so_far"),
        pl.col(f"{CRS_HISTORY}__max").alias("crs_so_far"),
    )
    baseline = baseline_rule(build_features(train), label_frame(train), features)
    return pl.concat([forecast, history, labels, baseline], how="horizontal").with_columns(
        pl.lit(fold).alias(FOLD), pl.lit(model.version).alias("model_version")
    )


# --- the fixed baseline -------------------------------------------------------------------------


def baseline_cells(features: pl.DataFrame) -> pl.Series:
    """The rule's cell of each row: fever so far (unknown/no/yes) x CRP high so far (same)."""
    temperature = pl.col(f"{c.TEMPERATURE_C}__max")
    crp = pl.col(f"{c.CRP_MG_DL}__max").exp() - 1.0  # features hold log1p(CRP)
    fever = pl.when(temperature.is_null()).then(0).when(temperature >= FEVER_C).then(2).otherwise(1)
    high = pl.when(crp.is_null()).then(0).when(crp >= CRP_HIGH_MG_DL).then(2).otherwise(1)
    return features.select((fever * 3 + high).alias("cell")).to_series()


def baseline_rule(
    train_features: FeatureSet, train_labels: pl.DataFrame, test_features: FeatureSet
) -> pl.DataFrame:
    """Each test row's baseline forecast per target: the training event rate of its rule cell.

    Rates use add-one smoothing ((events + 1) / (rows + 2)) so an empty cell gives 0.5, not a
    division by zero. Training rows are those of the models: day >= 0 with a known label.
    """
    train_cells = baseline_cells(train_features.frame)
    test_cells = baseline_cells(test_features.frame)
    after = train_features.frame[c.DAY] >= 0
    columns = []
    for target in c.TARGETS:
        known = after & train_labels[target].is_not_null()
        table = (
            pl.DataFrame(
                {"cell": train_cells.filter(known), "y": train_labels[target].filter(known)}
            )
            .group_by("cell")
            .agg(((pl.col("y").sum() + 1) / (pl.len() + 2)).alias("rate"))
        )
        rates = dict(zip(table["cell"].to_list(), table["rate"].to_list(), strict=True))
        values = [rates.get(cell, 0.5) for cell in test_cells.to_list()]
        columns.append(
            pl.Series(BASELINE_PREFIX + c.PROBABILITY_COLUMNS[target], values, dtype=pl.Float64)
        )
    return pl.DataFrame(columns)


# --- figures ----------------------------------------------------------------------------------


def _subsets(predictions: pl.DataFrame, target: str) -> dict[str, pl.DataFrame]:
    column, threshold = SO_FAR[target]
    scored = predictions.filter((pl.col(c.DAY) >= 0) & pl.col(target).is_not_null())
    return {
        "all days": scored,
        "before onset": scored.filter(pl.col(column).fill_null(0) < threshold),
    }


def row_metrics(predictions: pl.DataFrame, targets: Sequence[str]) -> pl.DataFrame:
    """AUROC, AUPRC and Brier of the model and the baseline, per target and subset."""
    records = []
    for target in targets:
        for subset, rows in _subsets(predictions, target).items():
            for method, column in _methods(target).items():
                scores = metrics(rows[target].to_numpy(), rows[column].to_numpy())
                records.append(
                    {
                        "target": target,
                        "subset": subset,
                        "method": method,
                        "patients": rows[c.PATIENT_ID].n_unique(),
                        **scores,
                    }
                )
    return pl.DataFrame(records)


def _methods(target: str) -> dict[str, str]:
    column = c.PROBABILITY_COLUMNS[target]
    return {MODEL: column, BASELINE: BASELINE_PREFIX + column}


def patient_metrics(predictions: pl.DataFrame, targets: Sequence[str]) -> pl.DataFrame:
    """Patient-level AUROC of the highest forecast for "develops ICANS" / "severe ICANS"."""
    records = []
    outcomes = {c.ICANS_ANY: 1, c.ICANS_SEVERE: 3}
    after = predictions.filter(pl.col(c.DAY) >= 0)
    grades = after.group_by(c.PATIENT_ID).agg(
        pl.col("icans_so_far").max().alias("peak"),
    )
    for target, threshold in outcomes.items():
        if target not in targets:
            continue
        onset = (
            after.filter(pl.col("icans_so_far") >= threshold)
            .group_by(c.PATIENT_ID)
            .agg(pl.col(c.DAY).min().alias("onset"))
        )
        joined = after.join(grades, on=c.PATIENT_ID).join(onset, on=c.PATIENT_ID, how="left")
        for variant, rows in {
            "all days": joined,
            "before onset": joined.filter(
                pl.col("onset").is_null() | (pl.col(c.DAY) < pl.col("onset"))
            ),
        }.items():
            for method, column in _methods(target).items():
                per_patient = rows.group_by(c.PATIENT_ID).agg(
                    (pl.col("peak").first().fill_null(0) >= threshold).cast(pl.Int64).alias("y"),
                    pl.col(column).max().alias("score"),
                )
                scores = metrics(per_patient["y"].to_numpy(), per_patient["score"].to_numpy())
                records.append(
                    {
                        "outcome": "develops ICANS" if threshold == 1 else "develops severe ICANS",
                        "target": target,
                        "days": variant,
                        "method": method,
                        "patients": scores["rows"],
                        "cases": scores["events"],
                        "auroc": scores["auroc"],
                    }
                )
    return pl.DataFrame(records)


def calibration_table(predictions: pl.DataFrame, targets: Sequence[str]) -> pl.DataFrame:
    """Quantile-binned mean forecast vs observed rate, all days from day 0."""
    records: list[dict[str, object]] = []
    for target in targets:
        rows = _subsets(predictions, target)["all days"]
        for method, column in _methods(target).items():
            y = rows[target].to_numpy()
            p = rows[column].to_numpy()
            if y.size == 0 or y.min() == y.max():
                continue
            observed, predicted = calibration_curve(
                y, p, n_bins=CALIBRATION_BINS, strategy="quantile"
            )
            records.extend(
                {
                    "target": target,
                    "method": method,
                    "bin": i,
                    "mean_forecast": float(f),
                    "observed_rate": float(o),
                }
                for i, (f, o) in enumerate(zip(predicted, observed, strict=True))
            )
    return pl.DataFrame(records)


def plot_calibration(evaluation: Evaluation, folder: Path, *, title: str = "") -> list[Path]:
    """One PNG per target: calibration of the model and the baseline, with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    table = evaluation.calibration
    for target in table["target"].unique(maintain_order=True).to_list():
        figure, axes = plt.subplots(figsize=(4.5, 4.5))
        axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfect")
        for method, style in ((MODEL, "o-"), (BASELINE, "s--")):
            rows = table.filter((pl.col("target") == target) & (pl.col("method") == method))
            if rows.height:
                axes.plot(rows["mean_forecast"], rows["observed_rate"], style, label=method)
        axes.set_xlabel("mean forecast probability")
        axes.set_ylabel("observed event rate")
        axes.set_title(f"{title}{target}".strip())
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.legend(loc="upper left")
        figure.tight_layout()
        path = folder / f"calibration_{target}.png"
        figure.savefig(path, dpi=120)
        plt.close(figure)
        written.append(path)
    return written


def format_number(value: float | None, digits: int = 3) -> str:
    """``0.912`` or ``-`` for a missing figure."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"
