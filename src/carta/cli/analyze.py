"""``carta analyze survival|incidence|response|compare|toxicity|vein-to-vein DATA ...``: outcome
analytics of a cohort.

DATA is a CSV, JSON Lines or Parquet file with one row per patient, or a registry export
folder (``patients/``, ``infusions/``, ``outcomes/`` ... of Parquet parts). Results go to the
terminal as tables (``--format table``, the default) or as JSON (``--format json``; the
format is documented in docs/analytics.md), or to a file with ``-o`` (written atomically).

Exit codes as for every command: 0 success; 2 bad input (a message naming the column and the
problem on stderr, nothing written). This module imports only the standard library at load
time (``register`` runs on every ``carta`` start); the analyses are imported when a command
runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carta.cli.options import add_debug_option

if TYPE_CHECKING:
    import polars as pl

    from carta.analytics.competing import CumulativeIncidence
    from carta.analytics.regression import CoxModel, LogisticModel
    from carta.analytics.survival import SurvivalCurves

EXIT_OK = 0  # equal to carta.cli.main.EXIT_OK (tested)
EXIT_USAGE = 2  # equal to carta.cli.main.EXIT_USAGE (tested)
FORMATS = ("table", "json")
DAYS_PER_MONTH = 365.25 / 12
TIME_UNITS = {"days": DAYS_PER_MONTH, "weeks": DAYS_PER_MONTH / 7, "months": 1.0, "years": 1 / 12}
DEFAULT_LANDMARK_MONTHS = (6.0, 12.0, 24.0)

ANALYZE_DESCRIPTION = """\
Outcome analytics of a cohort: Kaplan-Meier survival with log-rank and Cox models, cumulative
incidence with competing risks, response rates, CRS and ICANS by maximum grade, vein-to-vein
time and outcome, and protocol comparisons adjusted by inverse-probability weighting. Numbers match R's survival and cmprsk packages; methods and
the JSON output are in docs/analytics.md.

DATA is a CSV, JSON Lines or Parquet file with one row per patient, or a registry export
folder (patients/, infusions/, outcomes/, responses/ with Parquet parts, as carta.synth
writes). Any column can be a group: product_code, target_antigen, disease, center_id,
dose_band, ld_regimen ...
"""

SURVIVAL_DESCRIPTION = """\
Kaplan-Meier curves per group with 95% log-log confidence intervals, the median survival with
its CI, landmark estimates (6, 12 and 24 months by default), numbers at risk and the
restricted mean survival time; the log-rank test when grouped; a Cox model (Efron ties: hazard
ratios, CIs, p values and the proportional-hazards test) when covariates are given.

EVENT holds 1 (event) or 0 (censored); true/false and yes/no are accepted.
"""

SURVIVAL_EXAMPLES = """\
examples:
  carta analyze survival cohort.csv --time os_days --event os_event --group product_code
  carta analyze survival cohort.parquet --time pfs_days --event pfs_event \\
      --covariates age_at_infusion_years,disease,prior_lines --format json -o pfs.json
"""

INCIDENCE_DESCRIPTION = """\
Cumulative incidence (Aalen-Johansen) of the event of interest and of the competing event,
per group, with 95% confidence intervals; Gray's test when grouped.

EVENT holds 0 (censored), 1 (the event of interest, e.g. grade >= 3 CRS) or 2 (a competing
event that prevents it, e.g. death). From a registry export folder, --toxicity grades the
patient-days and adds crs_severe_time/crs_severe_status and icans_severe_time/
icans_severe_status (grade >= 3 by day 30, death competing).
"""

INCIDENCE_EXAMPLES = """\
examples:
  carta analyze incidence toxicity.csv --time days_to_grade3 --event grade3_status
  carta analyze incidence export/ --toxicity --time crs_severe_time \\
      --event crs_severe_status --group product_code
"""

RESPONSE_DESCRIPTION = """\
Best overall response per group, the overall response rate (PR or better) and complete
response rate (sCR, CR, CRi) with exact Clopper-Pearson 95% CIs, and the duration of response
(Kaplan-Meier from the first response to progression or death) when the cohort has the first
response day and PFS. --covariates fits a logistic regression of objective response.
"""

RESPONSE_EXAMPLES = """\
examples:
  carta analyze response cohort.csv --group product_code
  carta analyze response export/ --group disease --covariates age_at_infusion_years,prior_lines
"""

COMPARE_DESCRIPTION = """\
Compare two protocols (two lymphodepletion doses, two products ...) adjusted for baseline
covariates by inverse-probability weighting: propensity scores from a logistic regression,
a balance table (standardized mean differences before and after weighting), weighted
Kaplan-Meier curves and a weighted Cox hazard ratio with a robust CI, beside the unadjusted
ones.
"""

COMPARE_EXAMPLES = """\
examples:
  carta analyze compare cohort.csv --arm ld_regimen --arms "flu 30 / cy 300,flu 30 / cy 500" \\
      --time os_days --event os_event --covariates age_at_infusion_years,disease,prior_lines
"""


TOXICITY_DESCRIPTION = """\
CRS and ICANS per group: patients by maximum grade with the any-grade and grade >= 3 rates
(exact Clopper-Pearson CIs), the onset day and the number of days with grade >= 1 (patients
with the syndrome); with --covariates, a logistic regression of severe (grade >= 3) CRS and
one of severe ICANS. Patients without any determined grade are counted as not graded and left
out of the rates and the models.

DATA is a registry export folder with patient_days/ (graded into the toxicity columns), or a
file with the per-patient columns crs_max_grade, crs_onset_day, crs_days and the same for
icans (as a registry export gives them).
"""

TOXICITY_EXAMPLES = """\
examples:
  carta analyze toxicity export/ --group product_code
  carta analyze toxicity export/ --covariates age_at_infusion_years,disease --format json
"""

VEIN_TO_VEIN_DESCRIPTION = """\
Vein-to-vein time (apheresis to infusion) and outcome: its distribution per group (n,
missing, mean, median, quartiles, range) and the Cox hazard ratio (Efron ties) of the outcome
per --per-days days longer (a week by default), with its CI and p, adjusted for --covariates
when given.
"""

VEIN_TO_VEIN_EXAMPLES = """\
examples:
  carta analyze vein-to-vein export/ --time os_days --event os_event --group product_code
  carta analyze vein-to-vein cohort.csv --time pfs_days --event pfs_event \\
      --covariates age_at_infusion_years,disease --per-days 14 --format json
"""

SYNDROMES = ("crs", "icans")
TOXICITY_PARTS = ("max_grade", "onset_day", "days")
SEVERE_GRADE = 3


class _UsageError(Exception):
    """A bad option value found after parsing (reported like a bad input)."""


# --- the parsers ----------------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``carta analyze`` and its six subcommands to the ``carta`` subparsers."""
    analyze = commands.add_parser(
        "analyze",
        help="survival, cumulative incidence, response, toxicity, vein-to-vein time and protocol comparisons",
        description=ANALYZE_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_debug_option(analyze)
    analyses = analyze.add_subparsers(title="analyses", metavar="ANALYSIS")
    analyze.set_defaults(handler=_missing_analysis(analyze))

    survival = _analysis_parser(
        analyses,
        "survival",
        "Kaplan-Meier, log-rank, RMST and Cox",
        SURVIVAL_DESCRIPTION,
        SURVIVAL_EXAMPLES,
    )
    _time_event_options(survival)
    survival.add_argument(
        "--group", metavar="COL", help="one curve per value of COL; log-rank test"
    )
    survival.add_argument("--covariates", metavar="A,B,...", help="Cox model on these columns")
    survival.add_argument(
        "--landmarks",
        metavar="T1,T2,...",
        help="landmark times in the time column's unit (default: 6, 12, 24 months, see --time-unit)",
    )
    survival.add_argument(
        "--time-unit",
        choices=tuple(TIME_UNITS),
        default="days",
        help="unit of the time column, for the default landmarks (default: days)",
    )
    survival.add_argument(
        "--rmst-tau",
        type=float,
        metavar="TAU",
        help="RMST horizon (default: the shortest follow-up of the groups)",
    )
    survival.set_defaults(handler=survival_command)

    incidence = _analysis_parser(
        analyses,
        "incidence",
        "cumulative incidence with competing risks",
        INCIDENCE_DESCRIPTION,
        INCIDENCE_EXAMPLES,
    )
    _time_event_options(incidence)
    incidence.add_argument("--group", metavar="COL", help="one curve per value of COL; Gray's test")
    incidence.add_argument(
        "--landmarks", metavar="T1,T2,...", help="times at which to report the incidence"
    )
    incidence.add_argument(
        "--toxicity",
        action="store_true",
        help="with an export folder: grade its patient-days into the toxicity columns",
    )
    incidence.set_defaults(handler=incidence_command)

    response = _analysis_parser(
        analyses,
        "response",
        "response rates and duration of response",
        RESPONSE_DESCRIPTION,
        RESPONSE_EXAMPLES,
    )
    response.add_argument(
        "--response",
        metavar="COL",
        default="best_response",
        help="best response column (default: best_response)",
    )
    response.add_argument("--group", metavar="COL", help="one row per value of COL")
    response.add_argument(
        "--denominator",
        choices=("all", "evaluable"),
        default="all",
        help="patients counted in the rates: all (default; not evaluable count as non-responders) or evaluable",
    )
    response.add_argument(
        "--response-day",
        metavar="COL",
        default="first_response_day",
        help="day of first response (default: first_response_day)",
    )
    response.add_argument(
        "--time",
        metavar="COL",
        default="pfs_days",
        help="PFS time for the duration of response (default: pfs_days)",
    )
    response.add_argument(
        "--event", metavar="COL", default="pfs_event", help="PFS event (default: pfs_event)"
    )
    response.add_argument(
        "--covariates",
        metavar="A,B,...",
        help="logistic regression of objective response on these columns",
    )
    response.set_defaults(handler=response_command)

    compare = _analysis_parser(
        analyses,
        "compare",
        "two protocols adjusted by inverse-probability weighting",
        COMPARE_DESCRIPTION,
        COMPARE_EXAMPLES,
    )
    compare.add_argument(
        "--arm", metavar="COL", required=True, help="the column that tells the protocols apart"
    )
    compare.add_argument(
        "--arms",
        metavar="REF,OTHER",
        help="the two values of --arm to compare, reference first (default: its two values)",
    )
    _time_event_options(compare)
    compare.add_argument(
        "--covariates",
        metavar="A,B,...",
        required=True,
        help="baseline covariates of the propensity model",
    )
    compare.add_argument(
        "--estimand",
        choices=("ATE", "ATT"),
        default="ATE",
        help="average effect in everyone (ATE, default) or in the compared arm (ATT)",
    )
    compare.add_argument("--stabilized", action="store_true", help="stabilized weights")
    compare.set_defaults(handler=compare_command)

    toxicity = _analysis_parser(
        analyses,
        "toxicity",
        "CRS and ICANS by maximum grade; logistic regression of severe toxicity",
        TOXICITY_DESCRIPTION,
        TOXICITY_EXAMPLES,
    )
    toxicity.add_argument("--group", metavar="COL", help="one row per value of COL")
    toxicity.add_argument(
        "--covariates",
        metavar="A,B,...",
        help="logistic regressions of severe (grade >= 3) CRS and ICANS on these columns",
    )
    toxicity.set_defaults(handler=toxicity_command)

    vein = _analysis_parser(
        analyses,
        "vein-to-vein",
        "vein-to-vein time: distribution and hazard ratio per week",
        VEIN_TO_VEIN_DESCRIPTION,
        VEIN_TO_VEIN_EXAMPLES,
    )
    _time_event_options(vein)
    vein.add_argument("--group", metavar="COL", help="the distribution per value of COL")
    vein.add_argument(
        "--covariates", metavar="A,B,...", help="adjust the hazard ratio for these columns"
    )
    vein.add_argument(
        "--per-days",
        type=float,
        default=7.0,
        metavar="N",
        help="hazard ratio per N days longer (default: 7)",
    )
    vein.add_argument(
        "--column",
        metavar="COL",
        default="vein_to_vein_days",
        help="vein-to-vein time in days (default: vein_to_vein_days)",
    )
    vein.set_defaults(handler=vein_to_vein_command)


def _analysis_parser(
    analyses: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
    examples: str,
) -> argparse.ArgumentParser:
    parser = analyses.add_parser(
        name,
        help=summary,
        description=description,
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "data", metavar="DATA", help="cohort file (.csv, .jsonl, .parquet) or export folder"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="table (default) or json"
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", help="write to this file instead of the terminal"
    )
    parser.add_argument(
        "--conf-level",
        type=float,
        default=0.95,
        metavar="P",
        help="confidence level (default 0.95)",
    )
    add_debug_option(parser)
    return parser


def _time_event_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--time", metavar="COL", required=True, help="follow-up time column")
    parser.add_argument("--event", metavar="COL", required=True, help="event column")


def _missing_analysis(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def handler(_: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return handler


# --- running an analysis --------------------------------------------------------------------------


def _run(
    args: argparse.Namespace,
    analysis: Callable[[pl.DataFrame], tuple[dict[str, Any], str]],
    *,
    toxicity: bool = False,
) -> int:
    """Read DATA, run ``analysis`` (JSON document, table text), write the chosen format."""
    from carta.analytics.cohort import CohortError, read_cohort
    from carta.io.problems import BadInputError
    from carta.io.writers import OutputError, check_output

    source = Path(args.data)
    target = Path(args.output) if args.output else None
    try:
        check_output(target, "json")
    except OutputError as error:
        return _usage(str(error))
    try:
        if not 0 < args.conf_level < 1:
            raise _UsageError(f"--conf-level must be between 0 and 1, not {args.conf_level}")
        cohort = read_cohort(source, toxicity=toxicity)
        document, table = analysis(cohort)
    except BadInputError as error:
        from carta.cli.grade import report_problems

        report_problems(source, error)
        return EXIT_USAGE
    except (CohortError, _UsageError) as error:
        return _usage(f"{source}: {error}")
    text = (
        json.dumps(_clean(document), separators=(",", ":")) + "\n"
        if args.format == "json"
        else table
    )
    if target is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return EXIT_OK
    from carta.io.writers import write_atomically

    try:
        write_atomically(target, lambda temporary: temporary.write_text(text, encoding="utf-8"))
    except OSError as error:
        return _usage(f"cannot write {target}: {error.strerror or error}; nothing was written")
    return EXIT_OK


def _usage(message: str) -> int:
    print(f"carta: {message}", file=sys.stderr)
    return EXIT_USAGE


def _warn(message: str) -> None:
    print(f"carta: warning: {message}", file=sys.stderr)


def _columns(text: str | None, option: str) -> list[str]:
    if text is None:
        return []
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise _UsageError(f"{option}: empty column name in {text!r}")
    return names


def _numbers(text: str, option: str) -> list[float]:
    try:
        values = [float(value) for value in text.split(",")]
    except ValueError:
        raise _UsageError(f"{option} must be numbers separated by commas, not {text!r}") from None
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise _UsageError(f"{option} must be non-negative numbers, not {text!r}")
    return sorted(values)


# --- survival ---------------------------------------------------------------------------------------


def survival_command(args: argparse.Namespace) -> int:
    """``carta analyze survival``."""
    return _run(args, lambda cohort: survival_analysis(cohort, args))


def survival_analysis(cohort: pl.DataFrame, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The JSON document and the table text of ``carta analyze survival``."""
    from carta.analytics.cohort import survival_data
    from carta.analytics.regression import cox_regression
    from carta.analytics.survival import kaplan_meier_data, log_rank_from_curves

    covariates = _columns(args.covariates, "--covariates")
    if args.landmarks is not None:
        landmarks = _numbers(args.landmarks, "--landmarks")
    else:
        per_month = TIME_UNITS[args.time_unit]
        landmarks = [months * per_month for months in DEFAULT_LANDMARK_MONTHS]
    data, levels = survival_data(cohort, args.time, args.event, args.group)
    curves = kaplan_meier_data(data, levels, conf_level=args.conf_level)
    _warn_no_events(curves.summary, args.group)
    test = log_rank_from_curves(curves, group_name=args.group) if args.group else None
    rmst = curves.rmst(args.rmst_tau)
    cox = (
        cox_regression(cohort, args.time, args.event, covariates, conf_level=args.conf_level)
        if covariates
        else None
    )
    if cox is not None and cox.dropped:
        _warn(f"{cox.dropped} patients with a missing covariate were left out of the Cox model")
    document = {
        "analysis": "survival",
        "data": str(args.data),
        "time": args.time,
        "event": args.event,
        "group": args.group,
        "conf_level": args.conf_level,
        "conf_type": "log-log",
        "variance": curves.variance,
        "n": int(curves.summary["n"].sum()),
        "events": int(curves.summary["events"].sum()),
        "groups": _curve_groups(curves, landmarks, rmst),
        "log_rank": _log_rank_json(test),
        "cox": _cox_json(cox),
    }
    lines = [
        f"Kaplan-Meier: {args.time} / {args.event}" + (f" by {args.group}" if args.group else ""),
        f"({int(args.conf_level * 100)}% CIs, log-log; median by R's rule)",
        "",
        _table(
            curves.summary.to_dicts(),
            ("group", "n", "events", "median", "median_lower", "median_upper"),
        ),
        "",
        "Landmarks (survival, CI, number at risk):",
        _table(
            curves.at(landmarks).to_dicts(),
            ("group", "time", "survival", "lower", "upper", "n_risk"),
        ),
        "",
        f"Restricted mean survival time to {rmst['tau'][0]:g}:",
        _table(rmst.to_dicts(), ("group", "rmst", "std_err", "lower", "upper")),
    ]
    if test is not None:
        lines += [
            "",
            f"Log-rank test: chi2 = {test.chi2:.4f}, df = {test.df}, p = {test.p:.4g}",
            _table(test.table.to_dicts(), ("group", "n", "observed", "expected")),
        ]
    if cox is not None:
        lines += ["", *_cox_lines(cox)]
    return document, "\n".join(lines) + "\n"


def _warn_no_events(summary: pl.DataFrame, group: str | None) -> None:
    for row in summary.iter_rows(named=True):
        if row["events"] == 0:
            where = f"group {row['group']!r} of {group!r}" if group else "the cohort"
            _warn(f"{where} has no events: its curve stays at 1 and its median is not reached")


def _curve_groups(
    curves: SurvivalCurves, landmarks: Sequence[float], rmst: pl.DataFrame | None
) -> list[dict[str, Any]]:
    at = curves.at(landmarks)
    groups = []
    for row in curves.summary.iter_rows(named=True):
        group = row["group"]
        curve = curves.curve(group).drop("group")
        entry = {
            **row,
            "curve": curve.to_dict(as_series=False),
            "landmarks": at.filter(at["group"] == group).drop("group").to_dicts(),
        }
        if rmst is not None:
            entry["rmst"] = rmst.filter(rmst["group"] == group).drop("group").to_dicts()[0]
        groups.append(entry)
    return groups


def _log_rank_json(test: Any) -> dict[str, Any] | None:
    if test is None:
        return None
    return {"chi2": test.chi2, "df": test.df, "p": test.p, "groups": test.table.to_dicts()}


def _cox_json(model: CoxModel | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return {
        "n": model.n,
        "events": model.events,
        "dropped": model.dropped,
        "ties": "efron",
        "robust": model.robust,
        "log_likelihood": model.log_likelihood,
        "reference_levels": dict(model.reference),
        "coefficients": model.coefficients.to_dicts(),
        "proportional_hazards": None
        if model.proportional_hazards is None
        else model.proportional_hazards.to_dicts(),
    }


def _cox_lines(model: CoxModel) -> list[str]:
    references = ", ".join(f"{column}: {level}" for column, level in model.reference.items())
    lines = [
        f"Cox model (Efron ties{', robust SE' if model.robust else ''}): n = {model.n}, "
        f"events = {model.events}"
        + (f", {model.dropped} left out (missing covariate)" if model.dropped else ""),
    ]
    if references:
        lines.append(f"reference levels: {references}")
    lines.append(
        _table(
            model.coefficients.to_dicts(), ("term", "coef", "se", "hr", "hr_lower", "hr_upper", "p")
        )
    )
    if model.proportional_hazards is not None:
        lines += [
            "",
            "Proportional hazards (cox.zph, KM transform):",
            _table(model.proportional_hazards.to_dicts(), ("term", "chi2", "df", "p")),
        ]
    return lines


# --- incidence --------------------------------------------------------------------------------------


def incidence_command(args: argparse.Namespace) -> int:
    """``carta analyze incidence``."""
    return _run(args, lambda cohort: incidence_analysis(cohort, args), toxicity=args.toxicity)


def incidence_analysis(
    cohort: pl.DataFrame, args: argparse.Namespace
) -> tuple[dict[str, Any], str]:
    """The JSON document and the table text of ``carta analyze incidence``."""
    from carta.analytics.cohort import survival_data
    from carta.analytics.competing import (
        CAUSE,
        COMPETING,
        EVENT_CODES,
        cumulative_incidence_data,
        gray_test_data,
    )

    data, levels = survival_data(
        cohort, args.time, args.event, args.group, allowed_events=EVENT_CODES
    )
    incidence = cumulative_incidence_data(data, levels, conf_level=args.conf_level)
    if args.landmarks is not None:
        landmarks = _numbers(args.landmarks, "--landmarks")
    else:
        landmarks = _default_times(data)
    gray = None
    if args.group:
        gray = [
            gray_test_data(data, levels, cause=cause, group_name=args.group)
            for cause in (CAUSE, COMPETING)
            if (data["event"] == cause).any()
        ]
    document = {
        "analysis": "incidence",
        "data": str(args.data),
        "time": args.time,
        "event": args.event,
        "event_codes": {str(code): word for code, word in EVENT_CODES.items()},
        "group": args.group,
        "conf_level": args.conf_level,
        "conf_type": "log-log",
        "variance": "aalen-johansen infinitesimal jackknife (R survfit)",
        "groups": _incidence_groups(incidence, landmarks),
        "gray_test": None
        if gray is None
        else [{"cause": t.cause, "chi2": t.chi2, "df": t.df, "p": t.p, "rho": t.rho} for t in gray],
    }
    lines = [
        f"Cumulative incidence: {args.time} / {args.event} (1 event of interest, 2 competing)"
        + (f" by {args.group}" if args.group else ""),
        "",
        _table(
            incidence.summary.to_dicts(), ("group", "n", "events", "competing_events", "censored")
        ),
    ]
    for cause, label in ((CAUSE, "event of interest (1)"), (COMPETING, "competing event (2)")):
        lines += [
            "",
            f"Incidence of the {label}:",
            _table(
                incidence.at(landmarks, cause).to_dicts(),
                ("group", "time", "incidence", "lower", "upper"),
            ),
        ]
    for test in gray or []:
        lines.append(
            f"Gray's test, cause {test.cause}: chi2 = {test.chi2:.4f}, df = {test.df}, p = {test.p:.4g}"
        )
    toxicity = _toxicity_tables(cohort, args)
    document["toxicity"] = toxicity
    if toxicity is not None:
        lines += _toxicity_lines(toxicity)
    return document, "\n".join(lines) + "\n"


def _toxicity_tables(
    cohort: pl.DataFrame, args: argparse.Namespace
) -> dict[str, dict[str, list[dict[str, Any]]]] | None:
    """With the toxicity columns (``--toxicity``): CRS and ICANS by maximum grade, onset day
    and days with grade >= 1, per group."""
    import polars as pl

    from carta.analytics.cohort import describe
    from carta.analytics.competing import incidence_by_grade

    if not all(f"{s}_max_grade" in cohort.columns for s in ("crs", "icans")):
        return None
    tables = {}
    for syndrome in ("crs", "icans"):
        with_syndrome = cohort.filter(pl.col(f"{syndrome}_max_grade") >= 1)
        tables[syndrome] = {
            "by_grade": incidence_by_grade(
                cohort, f"{syndrome}_max_grade", args.group, conf_level=args.conf_level
            ).to_dicts(),
            "onset_day": describe(with_syndrome, f"{syndrome}_onset_day", args.group).to_dicts(),
            "days": describe(with_syndrome, f"{syndrome}_days", args.group).to_dicts(),
        }
    return tables


def _default_times(data: pl.DataFrame) -> list[float]:
    """Four round times within the shortest follow-up of the groups."""
    import polars as pl

    from carta.analytics.survival import round_ticks

    last = data.group_by("group").agg(pl.col("time").max().alias("last"))["last"]
    shortest = float(last.min())  # type: ignore[arg-type]
    return [time for time in round_ticks(shortest, 5)[1:] if time <= shortest] or [shortest]


def _incidence_groups(
    incidence: CumulativeIncidence, landmarks: Sequence[float]
) -> list[dict[str, Any]]:
    groups = []
    for row in incidence.summary.iter_rows(named=True):
        group = row["group"]
        causes = []
        for cause in (1, 2):
            curve = incidence.curve(group, cause).drop("group", "cause")
            at = incidence.at(landmarks, cause)
            causes.append(
                {
                    "cause": cause,
                    "curve": curve.to_dict(as_series=False),
                    "landmarks": at.filter(at["group"] == group).drop("group", "cause").to_dicts(),
                }
            )
        groups.append({**row, "incidence": causes})
    return groups


# --- response ---------------------------------------------------------------------------------------


def response_command(args: argparse.Namespace) -> int:
    """``carta analyze response``."""
    return _run(args, lambda cohort: response_analysis(cohort, args))


def response_analysis(cohort: pl.DataFrame, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The JSON document and the table text of ``carta analyze response``."""
    import polars as pl

    from carta.analytics.cohort import OBJECTIVE_RESPONSES, require_column
    from carta.analytics.regression import logistic_regression
    from carta.analytics.response import response_rates

    rates = response_rates(
        cohort, args.response, args.group, conf_level=args.conf_level, denominator=args.denominator
    )
    duration = _duration(cohort, args)
    covariates = _columns(args.covariates, "--covariates")
    logistic = None
    if covariates:
        words = require_column(cohort, args.response).cast(pl.String).str.to_lowercase()
        # Not evaluable: a non-responder in the "all" denominator, left out with "evaluable".
        responded = cohort.with_columns(
            words.is_in(OBJECTIVE_RESPONSES).cast(pl.Int8).alias("_carta_objective_response")
        )
        if args.denominator == "all":
            responded = responded.with_columns(pl.col("_carta_objective_response").fill_null(0))
        else:
            responded = responded.filter(words.is_not_null())
        logistic = logistic_regression(
            responded, "_carta_objective_response", covariates, conf_level=args.conf_level
        )
        if logistic.dropped:
            _warn(
                f"{logistic.dropped} patients with a missing covariate were left out of the logistic model"
            )
    groups = []
    for row in rates.table.iter_rows(named=True):
        counts = rates.counts.filter(rates.counts["group"] == row["group"])
        groups.append(
            {
                "group": row["group"],
                "n": row["n"],
                "evaluable": row["evaluable"],
                "denominator": row["denominator"],
                "orr": {key: row[f"orr_{key}"] for key in ("n", "rate", "lower", "upper")},
                "cr": {key: row[f"cr_{key}"] for key in ("n", "rate", "lower", "upper")},
                "best_response": dict(zip(counts["response"], counts["n"], strict=True)),
            }
        )
    document = {
        "analysis": "response",
        "data": str(args.data),
        "response": args.response,
        "group": args.group,
        "conf_level": args.conf_level,
        "denominator": args.denominator,
        "objective_responses": ["scr", "cr", "cri", "vgpr", "pr"],
        "complete_responses": ["scr", "cr", "cri"],
        "groups": groups,
        "duration_of_response": None
        if duration is None
        else {"time": "from first response", "groups": _curve_groups(duration, [], None)},
        "logistic": None if logistic is None else _logistic_json(logistic),
    }
    lines = [
        f"Response ({args.response})"
        + (f" by {args.group}" if args.group else "")
        + f"; denominator: {args.denominator} patients",
        "",
        _table(
            rates.table.to_dicts(),
            (
                "group",
                "n",
                "evaluable",
                "orr_n",
                "orr_rate",
                "orr_lower",
                "orr_upper",
                "cr_n",
                "cr_rate",
                "cr_lower",
                "cr_upper",
            ),
        ),
        "",
        "Best overall response (patients):",
        _table(
            _pivot_counts(rates.counts),
            ("group", "scr", "cr", "cri", "vgpr", "pr", "mr", "sd", "nr", "pd", "not_evaluable"),
        ),
    ]
    if duration is not None:
        lines += [
            "",
            "Duration of response (Kaplan-Meier, from first response):",
            _table(
                duration.summary.to_dicts(),
                ("group", "n", "events", "median", "median_lower", "median_upper"),
            ),
        ]
    if logistic is not None:
        lines += [
            "",
            f"Logistic regression of objective response: n = {logistic.n}, responders = {logistic.outcomes}",
            _table(
                logistic.coefficients.to_dicts(),
                ("term", "coef", "se", "odds_ratio", "odds_ratio_lower", "odds_ratio_upper", "p"),
            ),
        ]
    return document, "\n".join(lines) + "\n"


def _duration(cohort: pl.DataFrame, args: argparse.Namespace) -> SurvivalCurves | None:
    from carta.analytics.response import duration_of_response

    needed = (args.response_day, args.time, args.event)
    absent = [name for name in needed if name not in cohort.columns]
    if absent:
        _warn(
            f"no duration of response: the data have no column {', '.join(repr(a) for a in absent)}"
        )
        return None
    return duration_of_response(
        cohort,
        response_day=args.response_day,
        time=args.time,
        event=args.event,
        group=args.group,
        conf_level=args.conf_level,
    )


def _pivot_counts(counts: pl.DataFrame) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for row in counts.iter_rows(named=True):
        rows.setdefault(row["group"], {"group": row["group"]})[row["response"]] = row["n"]
    return list(rows.values())


def _logistic_json(model: LogisticModel) -> dict[str, Any]:
    return {
        "outcome": "objective response (PR or better)",
        "n": model.n,
        "outcomes": model.outcomes,
        "dropped": model.dropped,
        "log_likelihood": model.log_likelihood,
        "reference_levels": dict(model.reference),
        "coefficients": model.coefficients.to_dicts(),
    }


# --- compare ----------------------------------------------------------------------------------------


def compare_command(args: argparse.Namespace) -> int:
    """``carta analyze compare``."""
    return _run(args, lambda cohort: compare_analysis(cohort, args))


def compare_analysis(cohort: pl.DataFrame, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The JSON document and the table text of ``carta analyze compare``."""
    from carta.analytics.compare import compare_protocols

    arms = _columns(args.arms, "--arms") if args.arms else None
    covariates = _columns(args.covariates, "--covariates")
    result = compare_protocols(
        cohort,
        args.arm,
        args.time,
        args.event,
        covariates,
        arms=arms,
        estimand=args.estimand,
        stabilized=args.stabilized,
        conf_level=args.conf_level,
    )
    if result.dropped:
        _warn(f"{result.dropped} patients with a missing covariate were left out")
    landmarks = [months * DAYS_PER_MONTH for months in DEFAULT_LANDMARK_MONTHS]
    document = {
        "analysis": "compare",
        "data": str(args.data),
        "arm": args.arm,
        "arms": {"reference": result.arms[0], "compared": result.arms[1]},
        "time": args.time,
        "event": args.event,
        "covariates": list(result.covariates),
        "estimand": result.estimand,
        "stabilized": result.stabilized,
        "conf_level": args.conf_level,
        "n": result.weights.height,
        "dropped": result.dropped,
        "effective_sample_size": result.effective_sample_size,
        "propensity": _logistic_json(result.propensity)
        | {"outcome": f"{args.arm} = {result.arms[1]}"},
        "weights": {
            "min": float(result.weights["weight"].to_numpy().min()),
            "max": float(result.weights["weight"].to_numpy().max()),
        },
        "balance": result.balance.to_dicts(),
        "weighted": {
            "groups": _curve_groups(result.curves, landmarks, result.curves.rmst()),
            "cox": _cox_json(result.cox),
        },
        "unadjusted": {
            "groups": _curve_groups(
                result.unadjusted_curves, landmarks, result.unadjusted_curves.rmst()
            ),
            "cox": _cox_json(result.unadjusted_cox),
        },
    }
    weighted_hr = result.cox.coefficients.row(0, named=True)
    crude_hr = result.unadjusted_cox.coefficients.row(0, named=True)
    lines = [
        f"Protocol comparison: {args.arm} = {result.arms[1]!r} against {result.arms[0]!r} ({result.estimand}, inverse-probability weights{', stabilized' if result.stabilized else ''})",
        "effective sample size: "
        + ", ".join(f"{arm} {size:.1f}" for arm, size in result.effective_sample_size.items()),
        "",
        "Balance (standardized mean differences; |SMD| < 0.1 is balanced):",
        _table(
            result.balance.to_dicts(),
            (
                "term",
                "mean_treated_before",
                "mean_reference_before",
                "smd_before",
                "mean_treated_after",
                "mean_reference_after",
                "smd_after",
            ),
        ),
        "",
        "Weighted Kaplan-Meier (robust variance):",
        _table(
            result.curves.summary.to_dicts(),
            ("group", "n", "events", "median", "median_lower", "median_upper"),
        ),
        "",
        f"Hazard ratio {result.arms[1]} vs {result.arms[0]}:",
        f"  weighted (robust CI): {weighted_hr['hr']:.4f} ({weighted_hr['hr_lower']:.4f}-{weighted_hr['hr_upper']:.4f}), p = {weighted_hr['p']:.4g}",
        f"  unadjusted:           {crude_hr['hr']:.4f} ({crude_hr['hr_lower']:.4f}-{crude_hr['hr_upper']:.4f}), p = {crude_hr['p']:.4g}",
    ]
    return document, "\n".join(lines) + "\n"


# --- toxicity ---------------------------------------------------------------------------------------


def toxicity_command(args: argparse.Namespace) -> int:
    """``carta analyze toxicity``: an export folder's patient-days are graded first."""
    return _run(
        args, lambda cohort: toxicity_analysis(cohort, args), toxicity=Path(args.data).is_dir()
    )


def toxicity_analysis(cohort: pl.DataFrame, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The JSON document and the table text of ``carta analyze toxicity``."""
    from carta.analytics.cohort import CohortError

    needed = [f"{s}_{part}" for s in SYNDROMES for part in TOXICITY_PARTS]
    absent = [name for name in needed if name not in cohort.columns]
    if absent:
        raise CohortError(
            f"no toxicity columns: the data have no column {', '.join(repr(a) for a in absent)}; "
            "give a registry export folder with patient_days/ (graded into these columns) or a "
            "file with one row per patient holding them"
        )
    cohort = _numeric_toxicity(cohort, needed)
    covariates = _columns(args.covariates, "--covariates")
    tables = _toxicity_tables(cohort, args)
    assert tables is not None  # the columns were checked above
    models = {
        syndrome: _severe_logistic(cohort, syndrome, covariates, args.conf_level)
        if covariates
        else None
        for syndrome in SYNDROMES
    }
    document = {
        "analysis": "toxicity",
        "data": str(args.data),
        "group": args.group,
        "conf_level": args.conf_level,
        "severe_grade": SEVERE_GRADE,
        "covariates": covariates,
        **{
            syndrome: {**tables[syndrome], "logistic": _severe_json(syndrome, model)}
            for syndrome, model in models.items()
        },
    }
    lines = [
        "CRS and ICANS by maximum grade" + (f" by {args.group}" if args.group else ""),
        *_toxicity_lines(tables),
    ]
    for syndrome, model in models.items():
        if model is not None:
            lines += [
                "",
                f"Logistic regression of severe (grade >= {SEVERE_GRADE}) {syndrome.upper()}: "
                f"n = {model.n}, with severe {syndrome.upper()} = {model.outcomes}",
                *_reference_lines(model.reference),
                _table(
                    model.coefficients.to_dicts(),
                    (
                        "term",
                        "coef",
                        "se",
                        "odds_ratio",
                        "odds_ratio_lower",
                        "odds_ratio_upper",
                        "p",
                    ),
                ),
            ]
    return document, "\n".join(lines) + "\n"


def _severe_json(syndrome: str, model: LogisticModel | None) -> dict[str, Any] | None:
    if model is None:
        return None
    return _logistic_json(model) | {"outcome": f"{syndrome} grade >= {SEVERE_GRADE}"}


def _numeric_toxicity(cohort: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """The toxicity columns as numbers (a CSV file's cells are text); a non-numeric or negative
    value is refused, naming the column."""
    from carta.analytics.cohort import CohortError, numeric_values, require_column

    converted = []
    for name in columns:
        values = numeric_values(require_column(cohort, name), name, "toxicity")
        if (values < 0).fill_null(False).any():
            raise CohortError(f"column {name!r} (toxicity) has negative values")
        converted.append(values.alias(name))
    return cohort.with_columns(converted)


def _severe_logistic(
    cohort: pl.DataFrame, syndrome: str, covariates: Sequence[str], conf_level: float
) -> LogisticModel:
    """Logistic regression of grade >= 3 ``syndrome`` on ``covariates``; patients without a
    determined grade are left out (severe or not would be a guess)."""
    import polars as pl

    from carta.analytics.cohort import CohortError, numeric_values, require_column
    from carta.analytics.regression import logistic_regression

    column = f"{syndrome}_max_grade"
    grade = numeric_values(require_column(cohort, column), column, "grade")
    outcome = f"_carta_severe_{syndrome}"
    graded = cohort.with_columns((grade >= SEVERE_GRADE).cast(pl.Int8).alias(outcome)).filter(
        grade.is_not_null()
    )
    if graded.height < cohort.height:
        _warn(
            f"{cohort.height - graded.height} patients without a determined {syndrome.upper()} "
            f"grade were left out of the severe {syndrome.upper()} model"
        )
    try:
        # Quasi-complete separation is refused by logistic_regression itself.
        model = logistic_regression(graded, outcome, covariates, conf_level=conf_level)
    except CohortError as error:
        message = str(error).replace(repr(outcome), f"severe {syndrome.upper()}")
        raise CohortError(f"logistic regression of severe {syndrome.upper()}: {message}") from None
    if model.dropped:
        _warn(
            f"{model.dropped} patients with a missing covariate were left out of the severe "
            f"{syndrome.upper()} model"
        )
    return model


def _toxicity_lines(tables: Mapping[str, Mapping[str, list[dict[str, Any]]]]) -> list[str]:
    lines: list[str] = []
    for syndrome, parts in tables.items():
        lines += [
            "",
            f"{syndrome.upper()} by maximum grade (patients; rates with exact CIs):",
            _table(
                parts["by_grade"],
                (
                    "group",
                    "n",
                    "not_graded",
                    *(f"grade_{g}" for g in range(6)),
                    "any_grade_rate",
                    "grade_3_plus_rate",
                    "grade_3_plus_lower",
                    "grade_3_plus_upper",
                ),
            ),
            f"{syndrome.upper()} onset day (patients with {syndrome.upper()}):",
            _table(parts["onset_day"], ("group", "n", "median", "q1", "q3", "min", "max")),
            f"{syndrome.upper()} days with grade >= 1:",
            _table(parts["days"], ("group", "n", "median", "q1", "q3", "min", "max")),
        ]
    return lines


def _reference_lines(reference: Mapping[str, str]) -> list[str]:
    references = ", ".join(f"{column}: {level}" for column, level in reference.items())
    return [f"reference levels: {references}"] if references else []


# --- vein-to-vein -----------------------------------------------------------------------------------


def vein_to_vein_command(args: argparse.Namespace) -> int:
    """``carta analyze vein-to-vein``."""
    return _run(args, lambda cohort: vein_to_vein_analysis(cohort, args))


def vein_to_vein_analysis(
    cohort: pl.DataFrame, args: argparse.Namespace
) -> tuple[dict[str, Any], str]:
    """The JSON document and the table text of ``carta analyze vein-to-vein``."""
    from carta.analytics.regression import vein_to_vein_association

    if not (math.isfinite(args.per_days) and args.per_days > 0):
        raise _UsageError(f"--per-days must be a positive number of days, not {args.per_days:g}")
    covariates = _columns(args.covariates, "--covariates")
    result = vein_to_vein_association(
        cohort,
        args.time,
        args.event,
        column=args.column,
        group=args.group,
        adjusted_for=covariates,
        per_days=args.per_days,
        conf_level=args.conf_level,
    )
    model = result.model
    if model.dropped:
        _warn(
            f"{model.dropped} patients with a missing vein-to-vein time or covariate were left "
            "out of the Cox model"
        )
    hr = model.coefficients.filter(model.coefficients["term"] == result.term).row(0, named=True)
    document = {
        "analysis": "vein-to-vein",
        "data": str(args.data),
        "column": args.column,
        "time": args.time,
        "event": args.event,
        "group": args.group,
        "covariates": covariates,
        "per_days": args.per_days,
        "conf_level": args.conf_level,
        "distribution": result.distribution.to_dicts(),
        "hazard_ratio": {
            key: hr[key] for key in ("term", "coef", "se", "hr", "hr_lower", "hr_upper", "p")
        },
        "cox": _cox_json(model),
    }
    lines = [
        f"Vein-to-vein time ({args.column}, days)" + (f" by {args.group}" if args.group else ""),
        _table(
            result.distribution.to_dicts(),
            ("group", "n", "missing", "mean", "median", "q1", "q3", "min", "max"),
        ),
        "",
        f"Hazard ratio of {args.time} / {args.event} per {args.per_days:g} days longer"
        + (f", adjusted for {', '.join(covariates)}" if covariates else "")
        + f": {hr['hr']:.4f} ({hr['hr_lower']:.4f}-{hr['hr_upper']:.4f}), p = {hr['p']:.4g}",
        "",
        *_cox_lines(model),
    ]
    return document, "\n".join(lines) + "\n"


# --- formatting -------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, tuples lists, mappings dicts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-"
        if value == int(value) and abs(value) < 1e12:
            return f"{int(value)}"
        return f"{value:.4g}"
    return str(value)


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as aligned text columns (numbers right-aligned)."""
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max([len(column)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)
    ]
    numeric = [all(_is_number(row.get(column)) for row in rows) for column in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(list(columns)), *(line(values) for values in cells)])


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))
