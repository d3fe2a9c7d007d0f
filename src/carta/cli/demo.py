"""``carta demo``: the registry web application on an embedded database with synthetic data.

The first run creates the SQLite database (WAL) in the data folder, migrates it, compiles the
Chinese message catalogue when it is missing, loads a synthetic network
(:mod:`carta.web.loader`) with a progress bar and creates the demo accounts, whose random
passwords are kept in ``demo-accounts.json`` in the data folder (readable by the user only).
Later runs reuse all of it. Then Django's development server is started without the
autoreloader (which would run the whole command again in a child process).

``carta demo --episodes`` prints the CRS and ICANS episodes of the small bundled example, the
command's output before the registry existed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from carta.cli.web import (
    EXIT_OK,
    MAX_DEMO_PATIENTS,
    SETTINGS_MODULE,
    error,
    setup_django,
)

if TYPE_CHECKING:
    import polars as pl

MISSING_CELL = "-"
DEMO_NOTE = (
    "These patients are synthetic (made up for the demo); no real patient data is included.\n"
    "Grade your own patient-days: carta grade timeline my_patient_days.csv --episodes\n"
    "(columns and words: docs/input-vocabulary.md; every rule: carta grade --help)"
)
ACCOUNTS_FILE = "demo-accounts.json"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def demo_command(args: argparse.Namespace) -> int:
    """Prepare the demo data folder and serve the registry (or print the episode table)."""
    if args.episodes:
        return episodes_command()
    if not 1 <= args.patients <= MAX_DEMO_PATIENTS:
        return error(f"--patients must be between 1 and {MAX_DEMO_PATIENTS}")
    if not 0 < args.port < 65536:
        return error("--port must be between 1 and 65535")
    folder = data_folder(args.data_dir)
    if isinstance(folder, str):
        return error(folder)
    configure_environment(folder, args.host)
    problem = setup_django()
    if problem:
        return error(problem)
    if not args.no_serve:
        busy = port_problem(args.host, args.port)
        if busy:
            return error(busy)
    prepare_database(folder)
    compile_catalogues()
    if not _network_loaded():
        load_demo_network(args.patients, args.seed)
    ensure_forecast_model(folder)
    accounts = ensure_accounts(folder)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}/"
    print_welcome(url, folder, accounts, serving=not args.no_serve)
    if args.no_serve:
        return EXIT_OK
    return run_development_server(args.host, args.port)


def data_folder(raw: str | None) -> Path | str:
    """The demo's folder (created), or why it cannot be used."""
    import platformdirs

    folder = Path(raw).expanduser() if raw else Path(platformdirs.user_data_dir("carta"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        return f"cannot create the data folder {folder} ({problem.strerror}): choose --data-dir"
    if not os.access(folder, os.W_OK):
        return f"the data folder {folder} is not writable: choose --data-dir"
    return folder.resolve()


def configure_environment(folder: Path, host: str) -> None:
    """Demo mode on the embedded database of ``folder`` (``DATABASE_URL`` is ignored)."""
    if os.environ.pop("DATABASE_URL", None):
        print("carta: the demo uses its own SQLite database; DATABASE_URL is ignored")
    os.environ["CARTA_DEMO"] = "1"
    os.environ["CARTA_DATA_DIR"] = str(folder)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    if host not in LOOPBACK_HOSTS and "CARTA_ALLOWED_HOSTS" not in os.environ:
        # Listening on another address: let requests for it in (Django refuses unknown hosts).
        names = ["localhost", "127.0.0.1", "[::1]", host if host != "0.0.0.0" else "*"]
        os.environ["CARTA_ALLOWED_HOSTS"] = ",".join(names)


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host:port`` (checked before any work)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as problem:
            return f"cannot listen on {host}:{port} ({problem.strerror}): choose another --port"
    return None


def prepare_database(folder: Path) -> None:
    """Create or update the tables (quietly; a fresh database takes a few seconds)."""
    from django.core.management import call_command

    print(f"Preparing the demo database in {folder} ...", flush=True)
    call_command("migrate", verbosity=0, interactive=False)


def compile_catalogues(locale_paths: Sequence[str | Path] | None = None) -> None:
    """Compile each ``django.po`` whose ``.mo`` is missing, with GNU msgfmt.

    Without msgfmt (or a writable package folder) the interface is served in English, with a
    warning: the catalogue is a translation, never needed for the registry to work.
    """
    if locale_paths is None:
        from django.conf import settings

        locale_paths = settings.LOCALE_PATHS
    sources = [
        po
        for folder in locale_paths
        for po in Path(folder).glob("*/LC_MESSAGES/django.po")
        if _stale(po)
    ]
    if not sources:
        return
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        print(
            "carta: warning: the Chinese interface is not compiled and GNU gettext's msgfmt is "
            "not installed (e.g. apt install gettext); serving in English",
            file=sys.stderr,
        )
        return
    for po in sources:
        _compile(msgfmt, po)


def _stale(po: Path) -> bool:
    """Only a missing catalogue is compiled: a release ships it compiled (ADR 0239), and
    the demo must not rewrite a checkout's files behind a translator's back."""
    return not po.with_suffix(".mo").exists()


def _compile(msgfmt: str, po: Path) -> None:
    temporary = po.with_name(f".{po.stem}.{os.getpid()}.mo.tmp")
    try:
        subprocess.run(
            [msgfmt, "--check-format", "-o", str(temporary), str(po)],
            check=True,
            capture_output=True,
        )
        os.replace(temporary, po.with_suffix(".mo"))
    except (OSError, subprocess.CalledProcessError) as problem:
        stderr = getattr(problem, "stderr", None)
        detail = stderr.decode(errors="replace").strip() if stderr else str(problem)
        print(
            f"carta: warning: could not compile {po} ({detail}); that language falls back to "
            "English",
            file=sys.stderr,
        )
        temporary.unlink(missing_ok=True)


def _network_loaded() -> bool:
    from carta.web.loader import has_synthetic_network

    return has_synthetic_network()


def load_demo_network(patients: int, seed: int) -> None:
    """Generate and load the synthetic network, with a progress bar on stderr."""
    from django.utils import timezone
    from tqdm import tqdm

    from carta.synth import generate_network
    from carta.web.loader import RECENT_ELAPSED_DAYS, bring_forward, load_network

    print(f"Generating a synthetic network of {patients} patients (seed {seed}) ...", flush=True)
    today = timezone.localdate()
    # A few patients per center are in their first two weeks after infusion today, so the
    # center view of patients at high forecast risk has someone to show (ADR 0247).
    network = bring_forward(generate_network(patients, seed=seed), today)
    print(
        f"Up to {len(RECENT_ELAPSED_DAYS)} patients per center were infused "
        f"{', '.join(map(str, RECENT_ELAPSED_DAYS))} days before {today.isoformat()}.",
        flush=True,
    )
    with tqdm(total=patients, desc="Loading", unit="patient", file=sys.stderr) as bar:
        summary = load_network(network, seed=seed, progress=bar.update)
    loaded = ", ".join(f"{count} {label}" for label, count in summary.counts.items())
    print(f"Loaded: {loaded}.", flush=True)


def ensure_forecast_model(folder: Path) -> None:
    """Train the demo's forecast model on synthetic patients once, so the panel has a model."""
    from carta.web.registry.forecasting import model_path, train_demo_model

    if model_path(data_dir=folder).exists():
        return
    print("Training the demo forecast model on synthetic patients ...", flush=True)
    train_demo_model(None, folder)


def ensure_accounts(folder: Path) -> dict[str, str]:
    """The demo accounts and their passwords; missing ones are created (new random password).

    The passwords are kept in ``demo-accounts.json`` (mode 0600) so that every run can print
    them; an account whose password was lost gets a new one.
    """
    from carta.web.loader import DEMO_ACCOUNTS, create_demo_accounts, new_password

    path = folder / ACCOUNTS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        try:
            stored = {str(k): str(v) for k, v in json.loads(path.read_text("utf-8")).items()}
        except (ValueError, AttributeError):
            stored = {}
    missing = [account for account in DEMO_ACCOUNTS if account.username not in stored]
    if missing:
        passwords = {account.username: new_password() for account in missing}
        create_demo_accounts(passwords, missing)
        stored.update(passwords)
        _write_private(path, json.dumps(stored, indent=2, sort_keys=True))
    return {account.username: stored[account.username] for account in DEMO_ACCOUNTS}


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the user only, atomically."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def print_welcome(url: str, folder: Path, accounts: dict[str, str], *, serving: bool) -> None:
    """The address, the demo accounts with passwords and what the data is."""
    from carta.web.loader import DEMO_ACCOUNTS

    width = max(len(name) for name in accounts)
    lines = [
        "",
        "carta registry demo" + (f" - open {url}" if serving else f" (ready; serve at {url})"),
        f"data folder: {folder}",
        "",
        "demo accounts (username / password / role):",
        *(
            f"  {account.username.ljust(width)}  {accounts[account.username]}  "
            f"{account.description}"
            for account in DEMO_ACCOUNTS
        ),
        "",
        "Every center, patient and record in the demo is synthetic; no real patient data.",
    ]
    if serving:
        lines.append("Stop the server with Ctrl+C; `carta demo` again reuses this data.")
    print("\n".join(lines), flush=True)


def run_development_server(host: str, port: int) -> int:
    """Django's threaded development server, without the autoreloader."""
    from django.core.management import call_command

    try:
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        call_command("runserver", address, use_reloader=False, use_ipv6=":" in host)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


# --- carta demo --episodes ---------------------------------------------------------------------


def episodes_command() -> int:
    """Grade the bundled example with the timeline and print its episode table."""
    from carta.analytics.timeline import demo_patient_days, grade_timeline, summarise_episodes

    days = demo_patient_days()
    episodes = summarise_episodes(grade_timeline(days))
    patients = days["patient_id"].n_unique()
    print(f"CRS and ICANS episodes of {patients} synthetic patients ({days.height} patient-days)")
    print()
    print(text_table(episodes))
    print()
    print(DEMO_NOTE)
    sys.stdout.flush()
    return EXIT_OK


def text_table(frame: pl.DataFrame) -> str:
    """A plain fixed-width table (right-aligned numbers, ``-`` for null), one line per row."""
    cells = [
        [MISSING_CELL if value is None else str(value) for value in row] for row in frame.rows()
    ]
    widths = [
        max([len(name), *(len(row[index]) for row in cells)])
        for index, name in enumerate(frame.columns)
    ]
    numeric = [dtype.is_numeric() for dtype in frame.schema.values()]

    def line(values: list[str]) -> str:
        return "  ".join(
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(list(frame.columns)), rule, *(line(row) for row in cells)])
