"""``carta forecast train|predict``: toxicity forecasts learned from a network's own patients.

``register(commands)`` adds the ``forecast`` command to the ``carta`` parser; the handlers
import Polars and scikit-learn only when they run, so ``carta --help`` stays instant.

Exit codes as everywhere in ``carta``: 0 done; 2 bad input (every problem on stderr, row by row,
and nothing written); 1 an unexpected error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carta.cli.options import add_debug_option

if TYPE_CHECKING:
    import polars as pl

EXIT_OK = 0
EXIT_USAGE = 2
DATA_FORMATS = ("bwh", "registry")

FORECAST_DESCRIPTION = """\
Train a daily toxicity forecast on your patients and apply it: for each patient-day after
infusion, the probability of ICANS (any grade, grade >= 3) and of CRS grade >= 2 within the
next 5 days, from the observations up to that day. Decision support only: it does not replace
clinical judgement.

DATA formats:
  registry  CSV, JSON Lines or Parquet, one row per patient and day, canonical column names
            (patient_id, day, temperature_c, crp_mg_dL, ferritin_ng_mL, il6_pg_mL, wbc_per_uL,
            procalcitonin_ng_mL, recorded_icans_grade, recorded_crs_grade, ... : docs/forecast.md)
  bwh       the BWH ICANS-forecasting cohort layout (SID, HospitalDay, Temp, meanscore, ...)
"""

TRAIN_DESCRIPTION = """\
Train on DATA and write MODEL (a joblib file) with its model card MODEL's name + .card.json
(data, dates, features, validation figures). Candidates (regularised logistic regression,
gradient boosting) are chosen by cross-validation grouped by patient, then calibrated.
"""

PREDICT_DESCRIPTION = """\
Forecast every patient-day of DATA with MODEL. One output row per patient-day: patient_id, day,
forecast_status, p_icans_5d, p_severe_icans_5d, p_crs2_5d (when the model has it), the inputs
that were missing or carried forward, the top contributing factors, and model_version.
"""

EXAMPLES_TRAIN = """\
examples:
  carta forecast train --format registry patient_days.parquet -o icans.joblib
  carta forecast train --format bwh icans_bwh_daily_train.csv -o bwh.joblib
"""
EXAMPLES_PREDICT = """\
examples:
  carta forecast predict --format registry -m icans.joblib today.csv -o forecast.csv
  carta forecast predict --format bwh -m bwh.joblib cohort.csv -o forecast.parquet
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``carta forecast`` (with ``train`` and ``predict``) to the command parser."""
    forecast = commands.add_parser(
        "forecast",
        help="train and apply ICANS / CRS forecasts",
        description=FORECAST_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_debug_option(forecast)
    forecast.set_defaults(handler=_usage_handler(forecast))
    actions = forecast.add_subparsers(title="actions", metavar="ACTION")
    train = actions.add_parser(
        "train",
        help="train a forecast model on DATA",
        description=TRAIN_DESCRIPTION,
        epilog=EXAMPLES_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _data_arguments(train)
    train.add_argument("-o", "--output", metavar="MODEL", required=True, help="model file")
    train.add_argument(
        "--folds", type=int, default=5, help="grouped cross-validation folds (default 5)"
    )
    train.add_argument("--seed", type=int, default=0, help="random seed of the folds")
    train.add_argument(
        "--models",
        metavar="NAMES",
        help="comma-separated candidates to choose from (default: all of "
        "logistic-ridge, logistic-lasso, gradient-boosting)",
    )
    train.set_defaults(handler=train_command)
    predict = actions.add_parser(
        "predict",
        help="forecast every patient-day of DATA with MODEL",
        description=PREDICT_DESCRIPTION,
        epilog=EXAMPLES_PREDICT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _data_arguments(predict)
    predict.add_argument("-m", "--model", metavar="MODEL", required=True, help="model file")
    predict.add_argument(
        "-o", "--output", metavar="OUT", help="output .csv, .jsonl or .parquet (default: CSV)"
    )
    predict.set_defaults(handler=predict_command)


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", required=True, choices=DATA_FORMATS, help="layout of DATA (see above)"
    )
    parser.add_argument("data", metavar="DATA", help="patient-days (.csv, .jsonl, .parquet)")
    parser.add_argument(
        "--half-grades",
        choices=("up", "down"),
        default="up",
        help="bwh: a half-step ICANS grade (mean of two raters) rounds up (default) or down",
    )
    add_debug_option(parser)


def _usage_handler(parser: argparse.ArgumentParser) -> Any:
    def handler(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return handler


# --- train -------------------------------------------------------------------------------------


def train_command(args: argparse.Namespace) -> int:
    """Read DATA, train, write the model and its card; a summary on stderr."""
    from carta.analytics.forecast.models import DEFAULT_CANDIDATES, ForecastError, fit_forecaster
    from carta.analytics.forecast.store import save_model
    from carta.io.writers import OutputError, check_output

    target = Path(args.output)
    if args.folds < 2:
        return _usage("--folds must be at least 2")
    known = {candidate.name: candidate for candidate in DEFAULT_CANDIDATES}
    names = [name.strip() for name in (args.models or ",".join(known)).split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        return _usage(f"--models: expected names from {', '.join(known)}, got {args.models!r}")
    try:
        check_output(target, "csv")
    except OutputError as error:
        return _usage(str(error))
    frame = _read(args)
    if frame is None:
        return EXIT_USAGE
    description = {"source": str(Path(args.data).name), "format": args.format}
    try:
        model = fit_forecaster(
            frame,
            candidates=[known[name] for name in names],
            folds=args.folds,
            seed=args.seed,
            data_description=description,
        )
    except ForecastError as error:
        return _usage(f"{args.data}: {error}; nothing was written")
    try:
        card = save_model(model, target)
    except OSError as error:
        return _usage(f"cannot write {target}: {error.strerror or error}; nothing was written")
    _print_summary(model.card, target, card)
    return EXIT_OK


def _print_summary(card: dict[str, Any], target: Path, card_file: Path) -> None:
    print(f"carta: model {card['model_version']} written to {target}", file=sys.stderr)
    print(f"carta: model card (data, features, validation) in {card_file}", file=sys.stderr)
    for name, summary in card["targets"].items():
        cv = summary["selected_cv"]
        auroc = "-" if cv["auroc"] is None else f"{cv['auroc']:.3f}"
        print(
            f"carta:   {name}: {summary['selected']}, grouped {summary['folds']}-fold CV "
            f"AUROC {auroc} ({summary['events']} event days of {summary['rows']}, "
            f"{summary['patients']} patients)",
            file=sys.stderr,
        )
    for name, reason in card["skipped_targets"].items():
        print(f"carta:   {name}: not trained ({reason})", file=sys.stderr)
    print(
        "carta: these are selection figures; benchmarks/forecast.py gives nested ones",
        file=sys.stderr,
    )


# --- predict -----------------------------------------------------------------------------------


def predict_command(args: argparse.Namespace) -> int:
    """Forecast every patient-day of DATA; write to OUT or CSV on stdout."""
    from carta.analytics.forecast.models import predict
    from carta.analytics.forecast.store import ModelFileError, load_model
    from carta.io.writers import OutputError, check_output, output_format, write_frame

    target = Path(args.output) if args.output else None
    try:
        file_format = output_format(target, None)
        check_output(target, file_format)
    except OutputError as error:
        return _usage(str(error))
    try:
        model = load_model(Path(args.model))
    except ModelFileError as error:
        return _usage(f"{error}; nothing was written")
    frame = _read(args)
    if frame is None:
        return EXIT_USAGE
    result = predict(model, frame)
    try:
        write_frame(result, target, file_format, sys.stdout)
    except OSError as error:
        if target is None:
            raise
        return _usage(f"cannot write {target}: {error.strerror or error}; nothing was written")
    return EXIT_OK


# --- shared ------------------------------------------------------------------------------------


def _read(args: argparse.Namespace) -> pl.DataFrame | None:
    """The canonical frame of DATA, or ``None`` after reporting its problems on stderr."""
    from carta.io.problems import BadInputError

    source = Path(args.data)
    try:
        if args.format == "bwh":
            from carta.io.bwh import read_bwh

            imported = read_bwh(source, half_grades=args.half_grades)
            for note in imported.notes:
                print(f"carta: {source.name}: note: {note}", file=sys.stderr)
            return imported.frame
        from carta.analytics.forecast.canonical import registry_frame
        from carta.io.readers import read_table

        return registry_frame(read_table(source))
    except BadInputError as error:
        _report_problems(source, error)
        return None


def _report_problems(source: Path, error: Any) -> None:
    """One line per problem, then how many more and that nothing was written."""
    for problem in error.problems:
        print(f"carta: {source}: {problem}", file=sys.stderr)
    hidden = error.total - len(error.problems)
    if hidden > 0:
        print(f"carta: {source}: ... and {hidden} more problems", file=sys.stderr)
    count = "1 problem" if error.total == 1 else f"{error.total} problems"
    print(
        f"carta: {source}: {count}; nothing was written. An empty cell means unknown; the "
        "columns, units and plausible ranges are in docs/forecast.md",
        file=sys.stderr,
    )


def _usage(message: str) -> int:
    print(f"carta: {message}", file=sys.stderr)
    return EXIT_USAGE
