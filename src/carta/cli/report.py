"""``carta report DATA -o report.html [--pdf report.pdf]``: the outcome report of a cohort.

One self-contained HTML file (and/or a PDF printed from it by headless Chromium) with the
baseline characteristics, baseline risk scores, response, survival, cumulative incidence of
severe CRS and ICANS, toxicity tables, a swimmer plot, a Cox model, a protocol comparison by
inverse-probability weighting, logistic regressions of response and severe toxicity,
vein-to-vein time and the methods - in English or Simplified Chinese. See docs/report.md.

Exit codes as for every command: 0 success; 2 bad input or usage (a message on stderr naming
the column, filter or option at fault; nothing written). Output files are written to a
temporary file and moved into place, so a failed run never leaves a half-written report. This
module imports only the standard library at load time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from carta.cli.options import add_debug_option

if TYPE_CHECKING:
    from carta.analytics.report import ReportData

EXIT_OK = 0
EXIT_USAGE = 2
SQLITE_FILE = "carta.sqlite3"  # equal to carta.web.config.SQLITE_FILE (tested)
LANGUAGES = ("en", "zh-hans")  # equal to carta.analytics.report.text.LANGUAGES (tested)

REPORT_DESCRIPTION = """\
Write the outcome report of a cohort: baseline characteristics by group, baseline risk
(CAR-HEMATOTOX, EASIX, m-EASIX, Korell flag), response rates with exact CIs and duration of
response, Kaplan-Meier curves of OS and PFS with numbers at risk, medians, landmarks, RMST and
the log-rank test, cumulative incidence of grade >= 3 CRS and ICANS with death as competing
risk and Gray's test, toxicity by maximum grade, a swimmer plot, a Cox model of OS with a
forest plot, a comparison of two protocols (--compare, default ld_regimen; --arms, default
its two largest groups) by inverse-probability weighting with weighted Kaplan-Meier curves,
hazard ratios and a balance table, logistic regressions of objective response and of grade
>= 3 CRS and ICANS, vein-to-vein time with its hazard ratio for OS per 7 days, and methods
stating what was computed. A section whose inputs are absent says so.

DATA is a cohort file (.csv, .jsonl, .parquet; one row per patient) or a registry export
folder (patients/, infusions/, outcomes/, responses/, patient_days/ of Parquet parts, as
carta.synth writes). From a folder, the patient-days are graded for the toxicity sections and
give the baseline labs.

--registry reads the infused patients straight from the registry database instead
(pseudonymised: registry IDs and center codes), configured as for `carta serve`
(DATABASE_URL, else the SQLite database of CARTA_DATA_DIR), or the demo's database with
--data-dir DIR; --center CODE limits it to some centers.

The report is one HTML file with everything inline (opens offline). The PDF is the same page
printed by headless Chromium (Debian package chromium).
"""

REPORT_EXAMPLES = """\
examples:
  carta report export/ -o report.html --group product_code
  carta report export/ -o report.html --pdf report.pdf --cohort "disease=lbcl" --lang zh-hans
  carta report cohort.parquet -o report.pdf --group target_antigen \\
      --covariates age_at_infusion_years,sex,prior_lines
  carta report export/ -o report.html --compare product_code --arms axi-cel,tisa-cel
  carta report --registry --center BJ --center SH -o report.html --group center_id
  carta report --registry --data-dir ~/carta-demo -o report.html --lang zh-hans
"""


class _UsageError(Exception):
    """A bad option found after parsing."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``carta report`` to the ``carta`` subparsers."""
    parser = commands.add_parser(
        "report",
        help="outcome report of a cohort as self-contained HTML and PDF (English or Chinese)",
        description=REPORT_DESCRIPTION,
        epilog=REPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "data",
        metavar="DATA",
        nargs="?",
        help="cohort file (.csv, .jsonl, .parquet) or export folder (or give --registry)",
    )
    registry = parser.add_argument_group("the registry database instead of DATA")
    registry.add_argument(
        "--registry",
        action="store_true",
        help="read the cohort from the registry database (DATABASE_URL, as `carta serve`)",
    )
    registry.add_argument(
        "--center",
        metavar="CODE",
        action="append",
        default=[],
        help="only this center's patients (repeat for more; default: every center)",
    )
    registry.add_argument(
        "--data-dir",
        metavar="DIR",
        help="the demo's data folder (`carta demo --data-dir DIR`): its SQLite database",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        required=True,
        help="report file: .html, or .pdf for the PDF only",
    )
    parser.add_argument("--pdf", metavar="PDF", help="also write the PDF to this file")
    parser.add_argument(
        "--group", metavar="COL", help="compare the values of COL (e.g. product_code)"
    )
    parser.add_argument(
        "--cohort",
        metavar="FILTERS",
        help='keep some patients: "col=value,col2=v1|v2" (values as in the data, any case)',
    )
    parser.add_argument(
        "--covariates",
        metavar="A,B,...",
        help="Cox model covariates (default: the group, age, sex, disease, prior lines, bridging)",
    )
    parser.add_argument(
        "--compare",
        metavar="COL",
        help="protocol column of the IPW comparison (default: ld_regimen)",
    )
    parser.add_argument(
        "--arms",
        metavar="REF,OTHER",
        help="the two values of --compare to compare, reference first (default: its two largest groups)",
    )
    parser.add_argument(
        "--lang", choices=LANGUAGES, default="en", help="report language (default: en)"
    )
    parser.add_argument("--title", help="report title (default: CAR-T outcome report)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    add_debug_option(parser)
    parser.set_defaults(handler=report_command)


def _targets(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """(HTML file or None, PDF file or None) from ``-o`` and ``--pdf``."""
    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise _UsageError(f"-o {output}: name the report .html or .pdf")
    pdf = Path(args.pdf) if args.pdf else None
    if pdf is not None and pdf.suffix.lower() != ".pdf":
        raise _UsageError(f"--pdf {pdf}: name the file .pdf")
    if suffix == ".pdf":
        if pdf is not None and pdf != output:
            raise _UsageError("-o names a PDF already; give --pdf only with an HTML -o")
        return None, output
    return output, pdf


def _check_input(args: argparse.Namespace) -> None:
    """DATA or --registry, not both; the registry options only with --registry."""
    if args.data is not None and args.registry:
        raise _UsageError("give DATA or --registry, not both")
    if args.data is None and not args.registry:
        raise _UsageError(
            "give the cohort: a DATA file or export folder, or --registry for the registry database"
        )
    if not args.registry and (args.center or args.data_dir):
        raise _UsageError("--center and --data-dir read the registry: add --registry")


def _columns(text: str | None, option: str = "--covariates") -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise _UsageError(f"{option}: empty column name in {text!r}")
    return names


def _arms(args: argparse.Namespace) -> list[str] | None:
    """``--arms`` as two different values (of --compare, or of ld_regimen by default)."""
    arms = _columns(args.arms, "--arms")
    if arms is not None and (len(arms) != 2 or arms[0] == arms[1]):
        raise _UsageError(f"--arms: give two different values, reference first, not {args.arms!r}")
    return arms


def report_command(args: argparse.Namespace) -> int:
    """``carta report``."""
    from carta.analytics.cohort import CohortError
    from carta.io.problems import BadInputError
    from carta.io.writers import OutputError, check_output

    started = time.monotonic()

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"carta report: {message} ({time.monotonic() - started:.1f} s)", file=sys.stderr)

    try:
        _check_input(args)
        html_target, pdf_target = _targets(args)
        for target in (html_target, pdf_target):
            check_output(target, "html")
        if html_target is None:
            _require_pdf_route()  # -o x.pdf: refuse before any work
        covariates = _columns(args.covariates)
        _arms(args)  # refused before any work
        html = _build(args, covariates, progress)
    except OutputError as error:
        return _usage(str(error))
    except _UsageError as error:
        return _usage(str(error))
    except BadInputError as error:
        from carta.cli.grade import report_problems

        report_problems(Path(args.data), error)
        return EXIT_USAGE
    except CohortError as error:
        where = args.data if args.data is not None else "registry"
        return _usage(f"{where}: {error}; nothing was written")
    return _write(html, html_target, pdf_target, progress)


def _require_pdf_route() -> None:
    from carta.analytics.report.pdf import PdfUnavailableError, require_chromium

    try:
        require_chromium()
    except PdfUnavailableError as error:
        raise _UsageError(
            f"{error}; nothing was written (-o report.html writes the HTML)"
        ) from None


def _build(
    args: argparse.Namespace, covariates: list[str] | None, progress: Callable[[str], None]
) -> str:
    from carta.analytics.cohort import require_column
    from carta.analytics.report import build_report, parse_filters, read_report_data, render_html

    filters = parse_filters(args.cohort)  # a malformed filter is refused before reading
    if args.registry:
        data, source = _registry_data(args, progress)
    else:
        progress(f"reading {args.data}")
        data, source = read_report_data(args.data), str(args.data)
    for name in [args.group] if args.group else []:
        require_column(data.cohort, name)
    for name in [*(covariates or []), *([args.compare] if args.compare else [])]:
        require_column(data.cohort, name)
    report = build_report(
        data.cohort,
        group=args.group,
        lang=args.lang,
        title=args.title,
        filters=filters,
        covariates=covariates,
        compare=args.compare,
        arms=_arms(args),
        source=source,
        synthetic=data.synthetic,
        baseline_first_day=data.baseline_first_day,
        baseline_from_registry=data.baseline_from_registry,
        progress=progress,
    )
    return render_html(report)


def _registry_data(
    args: argparse.Namespace, progress: Callable[[str], None]
) -> tuple[ReportData, str]:
    """The registry cohort of ``--center`` (every center by default) and its description."""
    _configure_registry(args.data_dir)
    from carta.web.reports.outcome_report import (
        UnknownCenterError,
        centers_by_code,
        registry_report_data,
        registry_source,
    )

    try:
        centers = centers_by_code(args.center)
    except UnknownCenterError as error:
        raise _UsageError(f"--center: {error}") from None
    progress(f"reading the registry ({', '.join(center.code for center in centers)})")
    data = registry_report_data(centers)
    return data, registry_source(centers)


def _configure_registry(data_dir: str | None) -> None:
    """Django as `carta serve` configures it, or on the demo's database with ``--data-dir``
    (as `carta demo --data-dir`); a :class:`_UsageError` saying what to do when the
    database cannot be read."""
    import os

    from carta.cli.web import setup_django, unapplied_migrations

    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        database = folder / SQLITE_FILE
        if not database.is_file():
            raise _UsageError(
                f"--data-dir {folder}: no carta database ({SQLITE_FILE}) there; create it "
                f"with `carta demo --no-serve --data-dir {folder}`"
            )
        os.environ.pop("DATABASE_URL", None)  # the demo's own database, as `carta demo` does
        os.environ["CARTA_DEMO"] = "1"
        os.environ["CARTA_DATA_DIR"] = str(folder.resolve())
    problem = setup_django()
    if problem:
        raise _UsageError(problem)
    from django.db import DatabaseError

    try:
        unapplied = unapplied_migrations()
    except DatabaseError as error:
        raise _UsageError(f"cannot read the registry database: {error}") from None
    if unapplied:
        raise _UsageError(
            f"the registry database has {unapplied} unapplied migrations: run `carta migrate`"
        )


def _write(
    html: str, html_target: Path | None, pdf_target: Path | None, say: Callable[[str], None]
) -> int:
    from carta.io.writers import write_atomically

    if html_target is not None:
        try:
            write_atomically(html_target, lambda temporary: temporary.write_text(html, "utf-8"))
        except OSError as error:
            return _usage(f"cannot write {html_target}: {error.strerror or error}")
        say(f"wrote {html_target}")
    if pdf_target is None:
        return EXIT_OK
    from carta.analytics.report.pdf import PdfUnavailableError, html_to_pdf

    say("printing the PDF with Chromium")
    try:
        write_atomically(pdf_target, lambda temporary: html_to_pdf(html, temporary))
    except PdfUnavailableError as error:
        written = f"; the HTML report was written to {html_target}" if html_target else ""
        return _usage(f"{error}{written}")
    except OSError as error:
        return _usage(f"cannot write {pdf_target}: {error.strerror or error}")
    say(f"wrote {pdf_target}")
    return EXIT_OK


def _usage(message: str) -> int:
    print(f"carta: {message}", file=sys.stderr)
    return EXIT_USAGE
