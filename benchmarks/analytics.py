"""Benchmark: the outcome-analytics pipeline on a national cohort, carta against pandas plus
lifelines.

Run from the repository root:

    uv run python -m benchmarks.analytics                      # 1,000,000 patients (~30 M patient-days)
    uv run python -m benchmarks.analytics --patients 100000    # quicker

The cohort is generated once with ``carta.synth.generate_parquet`` into ``--data`` (default
``/tmp/carta-benchmark/analytics-n<N>-seed<S>``) and reused. Then two child processes run, one
after the other, so that each one's time and peak memory (``resource.getrusage``) are its own:

* **carta**: read the registry tables and join the cohort; for each Parquet part of the
  patient-days (the columns the timeline reads, ``carta.analytics.timeline.INPUT_COLUMNS``),
  batch-grade CRS and ICANS once, as the per-day timeline does it
  (``carta.analytics.timeline.grade_timeline``: the batch rules
  ``carta.analytics.rules.get_rule(...).grade_frame`` with the CRS fever waiver derived from
  each patient's earlier days; ``reasons=False``: the reason lists are not needed here), then
  summarise the episodes and the per-patient toxicity columns from those grades; then Kaplan-Meier + log-rank of overall survival by product, a
  Cox model of overall survival on 10 covariates, and the cumulative incidence of grade >= 3
  CRS with death as a competing risk, by product, with confidence intervals. (Until ADR 0319
  the pipeline graded every day twice: once alone, once more inside the timeline.)
* **baseline** - the same computations the way a user would write them without carta:
  pandas, and lifelines for the statistics (``KaplanMeierFitter`` per product,
  ``multivariate_logrank_test``, ``CoxPHFitter``, ``AalenJohansenFitter`` with its variance).
  There is no batch CRS/ICANS grader outside carta, so the baseline grades row by row with the
  reference rules (``carta.clinical``: what a hand-written per-row implementation does at
  best), timed on a sample of patient-days (``--baseline-sample``) and scaled to all of them
  (marked "extrapolated"); it summarises every patient's grades with a pandas group-by.

Reading Parquet is timed separately (pandas has no Parquet reader here without pyarrow, so the
baseline's frames are converted from Polars, untimed). Each statistics stage is warmed up on a
small slice first (imports, first calls) and, with ``--repeats N``, timed as the best of N runs
for both. Printed: seconds per stage for both, their ratio, the totals, carta's CPU seconds
per stage (user + system, all threads: the figure to trust on a shared machine, where wall
time includes waiting for a core), the load average before and after, and the peak resident
memory of each process. ``--skip-baseline`` runs carta alone (the baseline adds a few
minutes at full scale, R a few more).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

COX_COVARIATES = (
    "age_at_infusion_years",
    "sex",
    "prior_lines",
    "prior_transplant",
    "bridging_therapy",
    "vein_to_vein_days",
    "bsa_m2",
    "ld_cyclophosphamide_mg_m2_day",
    "approved_in_region",
    "weight_kg",
)
STAGES = (
    ("read", "read Parquet, join the cohort"),
    ("grading", "batch grading CRS + ICANS"),
    ("episodes", "episodes, toxicity columns"),
    ("km_logrank", "KM + log-rank by product"),
    ("cox", "Cox, 10 covariates"),
    ("incidence", "cumulative incidence + CIs"),
)
ANALYSIS_STAGES = ("grading", "episodes", "km_logrank", "cox", "incidence")


def cpu_seconds() -> float:
    """CPU time of this process so far, user + system, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Stopwatch:
    """Wall and CPU seconds per named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def best(self, name: str, work: Callable[[], Any], repeats: int) -> Any:
        """Run ``work`` ``repeats`` times; record the fastest; return the last result."""
        fastest, fastest_cpu, result = float("inf"), float("inf"), None
        for _ in range(repeats):
            start, start_cpu = time.perf_counter(), cpu_seconds()
            result = work()
            fastest = min(fastest, time.perf_counter() - start)
            fastest_cpu = min(fastest_cpu, cpu_seconds() - start_cpu)
        self.seconds[name] = fastest
        self.cpu[name] = fastest_cpu
        return result

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start, start_cpu = time.perf_counter(), cpu_seconds()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu_seconds() - start_cpu


def peak_memory_gib() -> float:
    """Peak resident memory of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def default_folder(patients: int, seed: int) -> Path:
    return Path("/tmp/carta-benchmark") / f"analytics-n{patients}-seed{seed}"


def ensure_data(folder: Path, patients: int, seed: int, workers: int) -> None:
    """Generate the synthetic network unless ``folder`` already holds it."""
    manifest = folder / "manifest.json"
    if manifest.exists():
        written = json.loads(manifest.read_text())
        if written.get("n_patients") == patients and written.get("seed") == seed:
            return
    from carta.synth import generate_parquet

    print(f"generating {patients:,} synthetic patients into {folder} ...", flush=True)
    start = time.perf_counter()
    counts = generate_parquet(patients, folder, seed=seed, workers=workers)
    print(
        f"generated in {time.perf_counter() - start:.0f} s: "
        + ", ".join(f"{name} {rows:,}" for name, rows in counts.items()),
        flush=True,
    )


def parts(folder: Path, table: str) -> list[Path]:
    return sorted((folder / table).glob("*.parquet"))


# --- carta ---------------------------------------------------------------------------------


def run_carta(folder: Path, cohort_out: Path, repeats: int) -> dict[str, Any]:
    import polars as pl

    from carta.analytics.cohort import (
        cohort_from_tables,
        toxicity_by_patient,
        with_toxicity_outcomes,
    )
    from carta.analytics.timeline import INPUT_COLUMNS, grade_timeline, summarise_episodes

    clock = Stopwatch()
    load_before = os.getloadavg()[0]
    with clock.stage("read"):
        tables = {
            name: pl.read_parquet(parts(folder, name))
            for name in ("patients", "infusions", "outcomes")
        }
        cohort = cohort_from_tables(tables["patients"], tables["infusions"], tables["outcomes"])
    # Only the columns the graders and the timeline read (not the labs, dates, ...).
    available = pl.read_parquet_schema(parts(folder, "patient_days")[0])
    needed = [name for name in INPUT_COLUMNS if name in available]
    # Warm up (first calls compile Polars plans, build the graders' lookup tables and load
    # lazily imported modules), untimed.
    sample = pl.read_parquet(parts(folder, "patient_days")[0], n_rows=2_000, columns=needed)
    warm_timeline = grade_timeline(sample, reasons=False)
    summarise_episodes(warm_timeline)
    warm = toxicity_by_patient(warm_timeline)
    warm_cohort = with_toxicity_outcomes(cohort.join(warm, on="patient_id", how="inner"))
    statistics(warm_cohort)
    toxicity, patient_days, episodes = [], 0, 0
    for part in parts(folder, "patient_days"):
        with clock.stage("read"):
            days = pl.read_parquet(part, columns=needed)
        patient_days += days.height
        with clock.stage("grading"):
            # CRS (fever waiver from the patient's earlier days) and ICANS, graded once;
            # the grades are what the summaries need, not the reason lists.
            timeline = grade_timeline(days, reasons=False)
        with clock.stage("episodes"):
            episodes += summarise_episodes(timeline).height
            toxicity.append(toxicity_by_patient(timeline))
        del days, timeline
    with clock.stage("episodes"):
        cohort = with_toxicity_outcomes(
            cohort.join(pl.concat(toxicity), on="patient_id", how="left")
        )
    curves, test, model, incidence = statistics(cohort, clock, repeats)
    extra_incidence(cohort, clock, repeats)
    keep = [
        "os_days",
        "os_event",
        "product_code",
        "crs_severe_time",
        "crs_severe_status",
        *COX_COVARIATES,
    ]
    cohort.select(keep).write_parquet(cohort_out)
    return {
        "seconds": clock.seconds,
        "cpu_seconds": clock.cpu,
        "load": [load_before, os.getloadavg()[0]],
        "peak_gib": peak_memory_gib(),
        "patients": cohort.height,
        "patient_days": patient_days,
        "episodes": episodes,
        "km_rows": curves.table.height,
        "log_rank_chi2": test.chi2,
        "cox_hr": dict(zip(model.coefficients["term"], model.coefficients["hr"], strict=True)),
        "incidence_rows": incidence.table.height,
    }


def statistics(cohort: Any, clock: Stopwatch | None = None, repeats: int = 1) -> tuple[Any, ...]:
    """KM + log-rank of OS by product, Cox on 10 covariates, incidence of grade >= 3 CRS."""
    from carta.analytics.competing import cumulative_incidence
    from carta.analytics.regression import cox_regression
    from carta.analytics.survival import kaplan_meier, log_rank_from_curves

    clock = clock or Stopwatch()

    def km_and_log_rank() -> tuple[Any, Any]:
        curves = kaplan_meier(cohort, "os_days", "os_event", "product_code")
        return curves, log_rank_from_curves(curves)

    curves, test = clock.best("km_logrank", km_and_log_rank, repeats)
    model = clock.best(
        "cox",
        lambda: cox_regression(cohort, "os_days", "os_event", list(COX_COVARIATES), ph_test=False),
        repeats,
    )
    incidence = clock.best(
        "incidence",
        lambda: cumulative_incidence(
            cohort, "crs_severe_time", "crs_severe_status", "product_code"
        ),
        repeats,
    )
    return curves, test, model, incidence


def extra_incidence(cohort: Any, clock: Stopwatch, repeats: int) -> None:
    """Stages to compare with R's cmprsk: one curve for everyone, and Gray's test by product."""
    from carta.analytics.competing import cumulative_incidence, gray_test

    clock.best(
        "incidence_all",
        lambda: cumulative_incidence(cohort, "crs_severe_time", "crs_severe_status"),
        repeats,
    )
    clock.best(
        "gray",
        lambda: gray_test(cohort, "crs_severe_time", "crs_severe_status", "product_code"),
        repeats,
    )


# --- R (optional): survival and cmprsk on the same cohort ----------------------------------------

R_SCRIPT = r"""
suppressPackageStartupMessages({library(survival); library(cmprsk)})
arguments <- commandArgs(trailingOnly = TRUE)
d <- read.csv(arguments[1])
seconds <- function(expression) unname(system.time(expression)["elapsed"])
timings <- c(
  km_logrank = seconds({
    survfit(Surv(os_days, os_event) ~ product_code, data = d, conf.type = "log-log")
    survdiff(Surv(os_days, os_event) ~ product_code, data = d)
  }),
  cox = seconds(coxph(Surv(os_days, os_event) ~ age_at_infusion_years + sex + prior_lines +
    prior_transplant + bridging_therapy + vein_to_vein_days + bsa_m2 +
    ld_cyclophosphamide_mg_m2_day + approved_in_region + weight_kg, data = d, ties = "efron")),
  incidence = seconds(survfit(Surv(crs_severe_time, factor(crs_severe_status)) ~ product_code,
    data = d, conf.type = "log-log")),
  incidence_all = seconds(cuminc(d$crs_severe_time, d$crs_severe_status)),
  gray = seconds(cuminc(d$crs_severe_time, d$crs_severe_status, d$product_code))
)
cat(paste0("{", paste0('"', names(timings), '": ', timings, collapse = ", "), "}
"))
"""


def run_r(cohort_file: Path) -> dict[str, float] | None:
    """Seconds R takes for the statistics stages (survfit + survdiff, coxph, multi-state
    survfit, cmprsk cuminc without and with groups), or None without Rscript."""
    import shutil

    import polars as pl

    if shutil.which("Rscript") is None:
        print("Rscript not found: no R timings", flush=True)
        return None
    csv = cohort_file.with_suffix(".csv")
    booleans = pl.selectors.boolean()
    pl.read_parquet(cohort_file).with_columns(booleans.cast(pl.Int8)).write_csv(csv)
    script = cohort_file.with_suffix(".R")
    script.write_text(R_SCRIPT)
    done = subprocess.run(
        ["Rscript", str(script), str(csv)], check=True, capture_output=True, text=True
    )
    timings: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return timings


# --- baseline: pandas + lifelines ----------------------------------------------------------------


def to_pandas(frame: Any) -> Any:
    """A Polars frame as pandas without pyarrow (column by column through NumPy)."""
    import pandas as pd

    return pd.DataFrame({name: frame[name].to_numpy() for name in frame.columns})


def run_baseline(folder: Path, cohort_in: Path, sample: int, repeats: int) -> dict[str, Any]:
    import warnings

    import polars as pl

    warnings.simplefilter("ignore")  # lifelines warns about ties it jitters
    clock = Stopwatch()
    total_days = sum(
        pl.scan_parquet(part).select(pl.len()).collect().item()
        for part in parts(folder, "patient_days")
    )
    days = pl.read_parquet(parts(folder, "patient_days")[0]).head(sample)
    scale = total_days / days.height
    time_scalar_grading(days, clock)
    clock.seconds["grading"] *= scale
    # Episode summaries on every patient-day; the generator's intended grades stand in for
    # the grades (they are equal by construction, docs/synth.md).
    columns = ["patient_id", "day", "intended_crs_grade", "intended_icans_grade"]
    graded = to_pandas(
        pl.read_parquet(parts(folder, "patient_days"), columns=columns).rename(
            {"intended_crs_grade": "crs_grade", "intended_icans_grade": "icans_grade"}
        )
    )
    time_pandas_episodes(graded, clock)
    del graded
    cohort = to_pandas(
        pl.read_parquet(cohort_in).with_columns(pl.col("product_code").cast(pl.String))
    )
    # Warm up lifelines (imports, first calls) on a small slice, untimed, as carta is.
    small = cohort.head(2_000)
    km_logrank_lifelines(small)
    cox_lifelines(small)
    incidence_lifelines(small)
    clock.best("km_logrank", lambda: km_logrank_lifelines(cohort), repeats)
    clock.best("cox", lambda: cox_lifelines(cohort), repeats)
    clock.best("incidence", lambda: incidence_lifelines(cohort), repeats)
    return {
        "seconds": clock.seconds,
        "peak_gib": peak_memory_gib(),
        "extrapolated_from_rows": days.height,
        "scale": scale,
    }


def time_scalar_grading(days: Any, clock: Stopwatch) -> Any:
    """Per-row CRS and ICANS grading with the reference rules, as a hand-written loop would.

    The observations are built beforehand, untimed (as in benchmarks/grading.py), so only the
    rules are timed: the baseline's figure is a lower bound.
    """
    import pandas as pd

    from benchmarks.grading import record_with_vasopressor_list
    from carta.clinical.inputs import observation_from_mapping
    from carta.clinical.toxicity.crs_astct_2019 import CRSObservation, grade_crs
    from carta.clinical.toxicity.icans_astct_2019 import ICANSObservation, grade_icans

    records = [record_with_vasopressor_list(row) for row in days.to_dicts()]
    observations = [
        (
            record["patient_id"],
            record["day"],
            observation_from_mapping(CRSObservation, record),
            observation_from_mapping(ICANSObservation, record),
        )
        for record in records
    ]
    with clock.stage("grading"):
        rows = [
            (patient, day, grade_crs(crs).grade, grade_icans(icans).grade)
            for patient, day, crs, icans in observations
        ]
        graded = pd.DataFrame(rows, columns=["patient_id", "day", "crs_grade", "icans_grade"])
    return graded


def time_pandas_episodes(graded: Any, clock: Stopwatch) -> None:
    """Per patient: maximum grade, onset, first grade >= 3 day and days with a grade."""
    with clock.stage("episodes"):
        for syndrome in ("crs", "icans"):
            grade = graded[f"{syndrome}_grade"]
            positive = graded[grade >= 1]
            severe = graded[grade >= 3]
            graded.groupby("patient_id")[f"{syndrome}_grade"].max()
            positive.groupby("patient_id")["day"].agg(["min", "count"])
            severe.groupby("patient_id")["day"].min()


def km_logrank_lifelines(cohort: Any) -> None:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import multivariate_logrank_test

    for _, rows in cohort.groupby("product_code"):
        KaplanMeierFitter().fit(rows["os_days"], rows["os_event"])
    multivariate_logrank_test(cohort["os_days"], cohort["product_code"], cohort["os_event"])


def cox_lifelines(cohort: Any) -> None:
    from lifelines import CoxPHFitter

    data = cohort[["os_days", "os_event", *COX_COVARIATES]].copy()
    data["sex"] = (data["sex"] == "male").astype(float)
    for name in ("prior_transplant", "bridging_therapy", "approved_in_region", "os_event"):
        data[name] = data[name].astype(float)
    CoxPHFitter().fit(data, "os_days", "os_event")


def incidence_lifelines(cohort: Any) -> None:
    from lifelines import AalenJohansenFitter

    for _, rows in cohort.groupby("product_code"):
        if (rows["crs_severe_status"] == 1).any():
            AalenJohansenFitter(calculate_variance=True).fit(
                rows["crs_severe_time"], rows["crs_severe_status"], event_of_interest=1
            )


# --- the parent -----------------------------------------------------------------------------------


def child(kind: str, args: argparse.Namespace, cohort_file: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.analytics",
        "--child",
        kind,
        "--data",
        str(args.data),
        "--cohort-file",
        str(cohort_file),
        "--baseline-sample",
        str(args.baseline_sample),
        "--repeats",
        str(args.repeats),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(carta: dict[str, Any], baseline: dict[str, Any] | None, patients: int) -> None:
    ours, cpu = carta["seconds"], carta["cpu_seconds"]
    theirs = baseline["seconds"] if baseline is not None else {}
    load_before, load_after = carta["load"]
    sample = (
        f"baseline grading extrapolated from {baseline['extrapolated_from_rows']:,} patient-days "
        f"(x{baseline['scale']:,.0f})"
        if baseline is not None
        else "baseline skipped"
    )
    print(
        f"\n{patients:,} patients, {carta['patient_days']:,} patient-days, "
        f"{carta['episodes']:,} episode rows; {sample}; load average {load_before:.1f} before "
        f"carta, {load_after:.1f} after, on {os.cpu_count()} CPUs\n"
    )
    print(f"{'stage':<34}{'carta s':>10}{'carta CPU s':>13}{'pandas+lifelines s':>21}{'ratio':>9}")
    for name, label in STAGES:
        mine = ours.get(name, 0.0)
        other = theirs.get(name)
        other_text = "-" if other is None else f"{other:,.2f}"
        ratio = "-" if not other or not mine else f"{other / mine:,.1f}x"
        suffix = " *" if name == "grading" else ""
        print(
            f"{label:<34}{mine:>10,.2f}{cpu.get(name, 0.0):>13,.2f}{other_text:>21}{ratio:>9}"
            f"{suffix}"
        )

    def total(seconds: dict[str, float], names: tuple[str, ...]) -> float:
        return sum(seconds.get(name, 0.0) for name in names)

    statistics = ("km_logrank", "cox", "incidence")
    rows = (
        ("statistics (KM, log-rank, Cox, CIF)", statistics),
        ("whole pipeline without reading", ANALYSIS_STAGES),
    )
    for label, names in rows:
        mine, other = total(ours, names), total(theirs, names)
        ratio = f"{other / mine:,.1f}x" if baseline is not None else "-"
        other_text = f"{other:,.2f}" if baseline is not None else "-"
        print(f"{label:<34}{mine:>10,.2f}{total(cpu, names):>13,.2f}{other_text:>21}{ratio:>9}")
    with_reading = ("read", *ANALYSIS_STAGES)
    print(
        f"{'whole carta pipeline with reading':<34}{total(ours, with_reading):>10,.2f}"
        f"{total(cpu, with_reading):>13,.2f}"
    )
    baseline_peak = f"{baseline['peak_gib']:.2f} GiB" if baseline is not None else "-"
    print(f"\npeak memory: carta {carta['peak_gib']:.2f} GiB, pandas+lifelines {baseline_peak}")
    print(
        "* grading: carta grades CRS and ICANS once per day inside the timeline (the fever"
        " waiver\n  from each patient's earlier days); the baseline is extrapolated from a"
        " sample (per-row\n  reference rules, rules alone timed, no waiver derivation)"
    )
    print("  episodes: carta splits episodes and builds the per-patient toxicity columns;")
    print("  the pandas baseline only takes per-patient maxima and first days of given grades")


R_STAGES = (
    ("km_logrank", "KM + log-rank (survfit, survdiff)"),
    ("cox", "Cox, 10 covariates (coxph)"),
    ("incidence", "incidence + CIs by product (survfit)"),
    ("incidence_all", "incidence, one curve (cmprsk cuminc)"),
    ("gray", "incidence + Gray's test (cuminc)"),
)


def report_r(ours: dict[str, float], theirs: dict[str, float]) -> None:
    print(f"\n{'against R':<40}{'carta s':>10}{'R s':>10}{'ratio':>9}")
    for name, label in R_STAGES:
        # cuminc with groups estimates every group's curves as well as the test.
        mine = ours[name] + (ours["incidence"] if name == "gray" else 0.0)
        other = theirs[name]
        print(f"{label:<40}{mine:>10,.2f}{other:>10,.2f}{other / mine:>8,.1f}x")
    print("(R reads a CSV first, untimed; carta's Gray row is its incidence by product + the test)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, help="where the synthetic network is (or goes)")
    parser.add_argument("--workers", type=int, default=2, help="processes generating the network")
    parser.add_argument(
        "--baseline-sample", type=int, default=50_000, help="patient-days graded row by row"
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="best of this many runs of each statistics stage"
    )
    parser.add_argument(
        "--with-r", action="store_true", help="also time R's survival and cmprsk (needs Rscript)"
    )
    parser.add_argument(
        "--skip-baseline", action="store_true", help="time carta only (no pandas + lifelines)"
    )
    parser.add_argument("--child", choices=("carta", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--cohort-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run: Callable[[], dict[str, Any]] = (
            (lambda: run_carta(args.data, args.cohort_file, args.repeats))
            if args.child == "carta"
            else (
                lambda: run_baseline(
                    args.data, args.cohort_file, args.baseline_sample, args.repeats
                )
            )
        )
        print(json.dumps(run()))
        return 0
    args.data = args.data or default_folder(args.patients, args.seed)
    ensure_data(args.data, args.patients, args.seed, args.workers)
    cohort_file = args.data / "benchmark-cohort.parquet"
    print("running the carta pipeline ...", flush=True)
    carta = child("carta", args, cohort_file)
    baseline = None
    if not args.skip_baseline:
        print("running pandas + lifelines ...", flush=True)
        baseline = child("baseline", args, cohort_file)
    r_seconds = None
    if args.with_r:
        print("running R (survival, cmprsk) ...", flush=True)
        r_seconds = run_r(cohort_file)
    report(carta, baseline, args.patients)
    if r_seconds is not None:
        report_r(carta["seconds"], r_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
