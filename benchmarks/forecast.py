"""Evaluation: the toxicity forecast's validated figures on a cohort, from one command.

Run from the repository root:

    uv run python -m benchmarks.forecast ../shared/data/icans_forecasting_bwh/icans_bwh_daily_train.csv
    uv run python -m benchmarks.forecast export.parquet --format registry --out /tmp/fc
    uv run python -m benchmarks.forecast --synthetic 400          # carta.synth, no data needed

Runs the nested grouped cross-validation of ``carta.analytics.forecast.evaluate`` (the whole
training procedure inside each outer fold: nothing is tuned on the patients it is scored on)
and prints markdown tables: row-level AUROC / AUPRC / Brier for each target (all days, and the
days before onset), patient-level AUROC for "develops ICANS" and "develops severe ICANS", the
fixed temperature + CRP baseline in the same folds, and which model each fold chose. It writes
``report.md``, ``metrics.json`` and one calibration plot per target to ``--out``.

For the BWH cohort (``--format bwh``, the default) it adds the checks ``docs/forecast.md``
discusses: how well the *recording source* alone (temperatures written in degF) separates the
patients who develop ICANS, and the same evaluation restricted to that one source.

The data file is read by path and nothing derived from it is written into the repository
(``--out`` defaults to a folder under the system's temporary directory).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.evaluate import (
    Evaluation,
    format_number,
    nested_cross_validation,
    plot_calibration,
)
from carta.analytics.forecast.models import metrics

# A patient-level AUROC with fewer than this many patients in a class is not reported.
MIN_CLASS = 5
PAPER = {
    "develops ICANS": 0.967,
    "develops severe ICANS": 0.932,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out) if args.out else Path(tempfile.gettempdir()) / "carta-forecast-benchmark"
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    frame, notes, label = _load(args)
    sections = [f"# Forecast evaluation: {label}", "", *_cohort(frame, notes)]
    results: dict[str, Any] = {"data": label, "folds": args.folds, "seed": args.seed}
    if args.format == "bwh" and not args.synthetic:
        probe_lines, probe = _source_probe(frame)
        sections += probe_lines
        results["source_probe"] = probe
    evaluation = _evaluate(frame, args, stratify_grade=1)
    bwh = args.format == "bwh" and not args.synthetic
    sections += _tables("All patients", evaluation, paper=bwh)
    results["all"] = _as_json(evaluation)
    plot_calibration(evaluation, out, title="all patients: ")
    if args.format == "bwh" and not args.synthetic:
        fahrenheit = _fahrenheit_courses(frame)
        subset = frame.filter(pl.col(c.PATIENT_ID).is_in(fahrenheit.implode()))
        print(f"same-source check: {fahrenheit.len()} courses", file=sys.stderr)
        within = _evaluate(subset, args, stratify_grade=3)
        sections += _tables("One recording source only (temperatures in degF)", within, paper=True)
        results["fahrenheit_source_only"] = _as_json(within)
        plot_calibration(within, out / "fahrenheit_source", title="degF source: ")
    seconds = time.perf_counter() - started
    sections += ["", f"Run time {seconds:.0f} s; outputs in `{out}`."]
    report = "\n".join(sections) + "\n"
    (out / "report.md").write_text(report, encoding="utf-8")
    (out / "metrics.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(report)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="?", help="the cohort file (BWH CSV or registry export)")
    parser.add_argument("--format", choices=("bwh", "registry"), default="bwh")
    parser.add_argument("--synthetic", type=int, metavar="N", help="use N synthetic patients")
    parser.add_argument("--out", help="folder for report.md, metrics.json and the plots")
    parser.add_argument("--folds", type=int, default=5, help="outer folds (default 5)")
    parser.add_argument("--inner-folds", type=int, default=4, help="inner folds (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--half-grades", choices=("up", "down"), default="up", help="BWH half-step ICANS grades"
    )
    return parser


def _load(args: argparse.Namespace) -> tuple[pl.DataFrame, tuple[str, ...], str]:
    if args.synthetic:
        from carta.analytics.forecast.synthetic import forecast_frame
        from carta.synth import generate_network

        return (
            forecast_frame(generate_network(args.synthetic, seed=args.seed)),
            (),
            f"{args.synthetic} synthetic patients (carta.synth, seed {args.seed})",
        )
    if not args.data:
        raise SystemExit("give the data file, or --synthetic N")
    path = Path(args.data)
    if args.format == "bwh":
        from carta.io.bwh import read_bwh

        imported = read_bwh(path, half_grades=args.half_grades)
        return imported.frame, imported.notes, f"{path.name} (BWH format)"
    from carta.analytics.forecast.canonical import registry_frame
    from carta.io.readers import read_table

    return registry_frame(read_table(path)), (), f"{path.name} (registry export)"


def _evaluate(frame: pl.DataFrame, args: argparse.Namespace, *, stratify_grade: int) -> Evaluation:
    return nested_cross_validation(
        frame,
        folds=args.folds,
        inner_folds=args.inner_folds,
        seed=args.seed,
        stratify_grade=stratify_grade,
        progress=lambda message: print(message, file=sys.stderr),
    )


def _cohort(frame: pl.DataFrame, notes: Sequence[str]) -> list[str]:
    after = frame.filter(pl.col(c.DAY) >= 0)
    per_patient = after.group_by(c.PATIENT_ID).agg(
        pl.col(c.RECORDED_ICANS_GRADE).max().fill_null(0).alias("peak")
    )
    lines = [
        "## Cohort",
        "",
        f"{frame.height} patient-days, {frame[c.PATIENT_ID].n_unique()} courses, "
        f"{frame[c.PERSON_ID].n_unique()} persons; day {frame[c.DAY].min()} to "
        f"{frame[c.DAY].max()}. From day 0: ICANS grade >= 1 in "
        f"{int((per_patient['peak'] >= 1).sum())} courses, >= 3 in "
        f"{int((per_patient['peak'] >= 3).sum())}.",
    ]
    if notes:
        lines += ["", f"Import notes ({len(notes)}):", ""]
        lines += [f"* {note}" for note in notes]
    return lines


def _fahrenheit_courses(frame: pl.DataFrame) -> pl.Series:
    """The courses whose temperatures were written in degF (one recording source)."""
    fahrenheit = frame.filter(pl.col("source_temperature_unit") == "F")
    return fahrenheit.get_column(c.PATIENT_ID).unique().sort()


def _source_probe(frame: pl.DataFrame) -> tuple[list[str], dict[str, Any]]:
    """How well "this course's temperatures were written in degF" predicts ICANS by itself."""
    courses = frame.group_by(c.PATIENT_ID).agg(
        (pl.col("source_temperature_unit") == "F").any().alias("fahrenheit"),
        pl.col("source_temperature_unit").is_not_null().any().alias("any_temperature"),
        pl.col(c.RECORDED_ICANS_GRADE).filter(pl.col(c.DAY) >= 0).max().fill_null(0).alias("peak"),
    )
    lines = [
        "",
        "## Recording source (BWH)",
        "",
        "| temperatures recorded in | courses | ICANS >= 1 | ICANS >= 3 |",
        "|---|---|---|---|",
    ]
    groups = {
        "degF": pl.col("fahrenheit"),
        "degC": ~pl.col("fahrenheit") & pl.col("any_temperature"),
        "none recorded": ~pl.col("any_temperature"),
    }
    probe: dict[str, Any] = {}
    for name, condition in groups.items():
        rows = courses.filter(condition)
        counts = (rows.height, int((rows["peak"] >= 1).sum()), int((rows["peak"] >= 3).sum()))
        probe[name] = dict(zip(("courses", "icans", "severe"), counts, strict=True))
        lines.append(f"| {name} | {counts[0]} | {counts[1]} | {counts[2]} |")
    indicator = courses["fahrenheit"].cast(pl.Float64).to_numpy()
    for outcome, threshold in (("develops ICANS", 1), ("develops severe ICANS", 3)):
        truth = (courses["peak"] >= threshold).cast(pl.Int64).to_numpy()
        auroc = metrics(truth, indicator)["auroc"]
        probe[outcome] = auroc
        lines.append(
            f'\nThe indicator "temperatures in degF" alone: patient-level AUROC '
            f"{format_number(auroc)} for {outcome}."
        )
    return lines, probe


def _tables(title: str, evaluation: Evaluation, *, paper: bool) -> list[str]:
    """Markdown tables of one evaluation; ``paper`` adds the published BWH figures."""
    lines = ["", f"## {title}", "", "### Row level (each forecast day from day 0)", ""]
    lines += [
        "| target | days | method | patients | rows | events | AUROC | AUPRC | Brier |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = evaluation.rows
    everything = rows.filter(pl.col("subset") == "all days").select("target", "method", "rows")
    for row in rows.iter_rows(named=True):
        same = everything.filter(
            (pl.col("target") == row["target"]) & (pl.col("method") == row["method"])
        )["rows"]
        if row["subset"] != "all days" and same.len() and same.item() == row["rows"]:
            continue  # CRS labels from a summary stop at the peak: the same rows again
        lines.append(
            f"| {row['target']} | {row['subset']} | {row['method']} | {row['patients']} | "
            f"{row['rows']} | {row['events']} | {format_number(row['auroc'])} | "
            f"{format_number(row['auprc'])} | {format_number(row['brier'])} |"
        )
    lines += ["", "### Patient level (highest forecast of each course)", ""]
    lines += [
        "| outcome | forecast days | method | patients | cases | AUROC | paper |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in evaluation.patients.iter_rows(named=True):
        published = PAPER.get(row["outcome"]) if paper and row["method"] == "model" else None
        smaller = min(row["cases"], row["patients"] - row["cases"])
        auroc = (
            format_number(row["auroc"])
            if smaller >= MIN_CLASS
            else f"n/a ({smaller} in the smaller class)"
        )
        lines.append(
            f"| {row['outcome']} | {row['days']} | {row['method']} | {row['patients']} | "
            f"{row['cases']} | {auroc} | {format_number(published)} |"
        )
    chosen = evaluation.selected.group_by("target", "selected").len().sort("target", "selected")
    lines += [
        "",
        "Models chosen by the inner validation (outer folds): "
        + "; ".join(
            f"{row['target']}: {row['selected']} x{row['len']}"
            for row in chosen.iter_rows(named=True)
        ),
    ]
    return lines


def _as_json(evaluation: Evaluation) -> dict[str, Any]:
    def clean(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                key: (float(value) if isinstance(value, np.floating) else value)
                for key, value in record.items()
            }
            for record in records
        ]

    return {
        "rows": clean(evaluation.rows.to_dicts()),
        "patients": clean(evaluation.patients.to_dicts()),
        "calibration": clean(evaluation.calibration.to_dicts()),
        "selected": evaluation.selected.to_dicts(),
    }


if __name__ == "__main__":
    sys.exit(main())
