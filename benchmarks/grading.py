"""Benchmark: batch CRS + ICANS grading in memory, against a per-row loop over the scalar rules.

Run from the repository root:

    uv run python -m benchmarks.grading                 # 10 million patient-days, 200 000-row loop sample
    uv run python -m benchmarks.grading --rows 1000000  # quicker
    uv run python -m benchmarks.grading --cli-rows 5000000   # also time `carta grade crs` on Parquet

Prints patient-days per second for the vectorised rules and for the scalar loop, and their
ratio (the machines are shared and noisy: quote the ratio). The headline batch figure grades
both rules with ``grade_together(frame, ["crs", "icans"], coded=True)``: outputs in the coded
form (ADR 0450), the two rules side by side on the cores. Each rule's coded time alone, and
both rules one after the other with ``grade_frame``'s ``List(String)`` outputs, are printed
too. The scalar loop is timed on
observations built beforehand, so it measures the rules alone - the ratio is conservative.
Each batch line also gives the CPU seconds of its fastest run (all threads, user + system;
``time.process_time``) and the load average is printed, since wall time on a loaded machine
says more about the other jobs than about the rules.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.patient_days import patient_days
from carta.analytics.rules import get_rule, grade_together
from carta.analytics.rules.coded import decode
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.toxicity.crs_astct_2019 import CRSObservation, grade_crs
from carta.clinical.toxicity.icans_astct_2019 import ICANSObservation, grade_icans
from carta.clinical.vocabulary import VASOPRESSORS

REPEATS = 3


def best_of(repeats: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeats`` timings of ``work()`` and its last result."""
    seconds, _, result = best_of_with_cpu(repeats, work)
    return seconds, result


def best_of_with_cpu(repeats: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """The fastest wall time and the smallest CPU time of ``repeats`` runs, and the result."""
    best, best_cpu = float("inf"), float("inf")
    result = None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = work()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    return best, best_cpu, result


def record_with_vasopressor_list(row: dict[str, Any]) -> dict[str, Any]:
    """A flattened frame row with its six vasopressor flags folded back into a list."""
    flags = {agent: row.pop(f"vasopressors.{agent}") for agent in VASOPRESSORS}
    row["vasopressors"] = (
        None if any(flag is None for flag in flags.values()) else [a for a, f in flags.items() if f]
    )
    return row


Timing = tuple[float, float]  # (fastest wall, smallest CPU) seconds


def time_batch(frame: pl.DataFrame) -> tuple[dict[str, Timing], dict[str, pl.DataFrame]]:
    """Wall and CPU seconds of each way of grading ``frame``, and the coded outputs.

    Keys: ``crs`` and ``icans`` (coded, one rule), ``together`` (both, coded, side by side),
    ``crs list`` and ``icans list`` (``grade_frame``, List(String) outputs).
    """
    crs, icans = get_rule("crs"), get_rule("icans")
    crs_coded, icans_coded = crs.grade_frame_coded, icans.grade_frame_coded
    if crs_coded is None or icans_coded is None:
        raise SystemExit("the CRS and ICANS rules have lost their coded form")
    work: dict[str, Callable[[], Any]] = {
        "crs": lambda: crs_coded(frame),
        "icans": lambda: icans_coded(frame),
        "together": lambda: grade_together(frame, ["crs", "icans"], coded=True),
        "crs list": lambda: crs.grade_frame(frame),
        "icans list": lambda: icans.grade_frame(frame),
    }
    grade_together(frame.head(1), ["crs", "icans"])  # build the lookup tables outside the timings
    timings: dict[str, Timing] = {}
    outputs: dict[str, pl.DataFrame] = {}
    for name, run in work.items():
        wall, cpu, result = best_of_with_cpu(REPEATS, run)
        timings[name] = (wall, cpu)
        if name == "together":
            outputs = result
    return timings, outputs


def time_loop(
    sample: pl.DataFrame,
) -> tuple[float, list[dict[str, object]], list[dict[str, object]]]:
    records = [record_with_vasopressor_list(row) for row in sample.to_dicts()]
    crs_obs = [observation_from_mapping(CRSObservation, record) for record in records]
    icans_obs = [observation_from_mapping(ICANSObservation, record) for record in records]

    def loop() -> tuple[list[Any], list[Any]]:
        return [grade_crs(o) for o in crs_obs], [grade_icans(o) for o in icans_obs]

    seconds, (crs_results, icans_results) = best_of(1, loop)
    return seconds, [r.as_row() for r in crs_results], [r.as_row() for r in icans_results]


def check_parity(batch: pl.DataFrame, scalar_rows: list[dict[str, object]], rule: str) -> None:
    batch_rows = batch.head(len(scalar_rows)).to_dicts()
    mismatches = sum(1 for b, s in zip(batch_rows, scalar_rows, strict=True) if b != s)
    if mismatches:
        raise SystemExit(
            f"{rule}: {mismatches} of {len(scalar_rows)} sampled rows differ between batch and scalar"
        )


def time_cli(rows: int, seed: int) -> float:
    """Whole-process seconds of `carta grade crs IN.parquet -o OUT.parquet` on ``rows`` rows."""
    frame = patient_days(rows, seed=seed)
    crs_columns = list(get_rule("crs").input_schema)
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "days.parquet", Path(folder) / "crs.parquet"
        frame.select(c for c in crs_columns if c in frame.columns).write_parquet(source)
        start = time.perf_counter()
        subprocess.run(["carta", "grade", "crs", str(source), "-o", str(target)], check=True)
        seconds = time.perf_counter() - start
        written = pl.scan_parquet(target).select(pl.len()).collect().item()
        if written != rows:
            raise SystemExit(f"carta grade crs wrote {written} rows for {rows}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="patient-days graded in memory"
    )
    parser.add_argument(
        "--sample", type=int, default=200_000, help="rows in the scalar per-row loop"
    )
    parser.add_argument(
        "--cli-rows",
        type=int,
        default=0,
        help="also time `carta grade crs` on this many Parquet rows",
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    frame = patient_days(args.rows, seed=args.seed)
    timings, coded = time_batch(frame)
    rows = args.rows
    for name, label in (("crs", "CRS  "), ("icans", "ICANS")):
        wall, cpu = timings[name]
        print(
            f"batch  {label} {rows:>12,} rows  {wall:7.3f} s  {rows / wall / 1e6:8.1f} M rows/s"
            f"  (CPU {cpu:.3f} s; coded outputs)"
        )
    wall, cpu = timings["together"]
    batch_rate = rows / wall
    print(
        f"batch  CRS+ICANS together  {wall:7.3f} s  {batch_rate / 1e6:8.1f} M patient-days/s"
        f"  (CPU {cpu:.3f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    list_wall = timings["crs list"][0] + timings["icans list"][0]
    list_cpu = timings["crs list"][1] + timings["icans list"][1]
    print(
        f"batch  CRS then ICANS, List(String) outputs  {list_wall:7.3f} s"
        f"  {rows / list_wall / 1e6:8.1f} M patient-days/s  (CPU {list_cpu:.3f} s)"
    )

    sample = frame.head(args.sample)
    loop_s, crs_rows, icans_rows = time_loop(sample)
    loop_rate = args.sample / loop_s
    print(
        f"loop   CRS+ICANS {args.sample:>8,} rows  {loop_s:7.3f} s  {loop_rate / 1e6:8.3f} M patient-days/s"
    )
    print(f"ratio  batch / loop = {batch_rate / loop_rate:,.0f}x")
    check_parity(decode(coded["crs"].head(args.sample)), crs_rows, "crs")
    check_parity(decode(coded["icans"].head(args.sample)), icans_rows, "icans")
    print(f"parity batch == scalar on all {args.sample:,} sampled rows (CRS and ICANS)")

    if args.cli_rows:
        cli_s = time_cli(args.cli_rows, args.seed)
        print(
            f"cli    carta grade crs {args.cli_rows:,}-row Parquet: {cli_s:.2f} s, {args.cli_rows / cli_s / 1e6:.2f} M rows/s (whole process)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
