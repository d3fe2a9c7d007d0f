"""``carta demo``, ``carta serve``, ``carta migrate`` and ``carta createsuperuser``: the registry
web application from the command line.

``demo`` runs the registry on an embedded SQLite database in a data folder with a synthetic
network (``carta.cli.demo``); ``serve`` runs it on the database of ``DATABASE_URL``;
``migrate`` and ``createsuperuser`` are Django's management commands through
:func:`carta.web.manage.main`. This module imports only the standard library at load time
(``register`` runs on every ``carta`` start); Django is imported when a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from carta.cli.options import add_debug_option

EXIT_OK = 0  # equal to carta.cli.main.EXIT_OK (tested)
EXIT_USAGE = 2  # equal to carta.cli.main.EXIT_USAGE (tested)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DEMO_PATIENTS = 300
DEFAULT_DEMO_SEED = 2026
MAX_DEMO_PATIENTS = 100_000
SETTINGS_MODULE = "carta.web.settings"
PRODUCTION_DOC = "docs/production.md"

DEMO_DESCRIPTION = """\
Run the carta registry locally with a synthetic demo network: creates an embedded SQLite
database in the data folder (WAL mode), prepares it, loads a synthetic network on the first
run (7 centers - 5 in China, 1 in Germany, 1 in the US - and a few hundred made-up patients
with their infusions, day-by-day assessments graded for CRS and ICANS, treatments, responses
and follow-up), then starts the web server and prints the address and the demo accounts.

A later run reuses the data folder as it is (the same patients, your changes, the same
accounts). Everything in the demo is synthetic; no real patient data is included.

--episodes prints the CRS and ICANS episodes of the small bundled example instead (no web
server, no database; to grade your own files see `carta grade timeline --help`).
"""

DEMO_EXAMPLES = """\
examples:
  carta demo                                   start at http://127.0.0.1:8000/
  carta demo --port 8080 --data-dir ~/carta-demo
  carta demo --patients 1000 --no-serve        prepare the data only
  carta demo --episodes                        the episode table of the bundled example
"""

SERVE_DESCRIPTION = f"""\
Run the registry on the database given by DATABASE_URL (PostgreSQL in production, e.g.
postgres://carta:PASSWORD@127.0.0.1:5432/carta). Needs CARTA_SECRET_KEY (a long random
value); other settings come from CARTA_* variables ({PRODUCTION_DOC}). Run `carta migrate`
first and after every upgrade.

This serves with waitress when it is installed, else with a threaded server from the
standard library. For production, run a WSGI server (gunicorn carta.web.wsgi:application)
behind a reverse proxy as {PRODUCTION_DOC} describes.
"""

SERVE_EXAMPLES = """\
examples:
  export CARTA_SECRET_KEY=...  DATABASE_URL=postgres://carta:PASSWORD@127.0.0.1:5432/carta
  carta migrate
  carta serve --port 8000
"""

MIGRATE_DESCRIPTION = """\
Create or update the registry's database tables on the database of DATABASE_URL (default:
SQLite in CARTA_DATA_DIR) - Django's `migrate`. Run it after installing and after every
upgrade; it also seeds the catalogue of CAR-T products. Arguments after the options go to
Django's migrate unchanged.
"""

MIGRATE_EXAMPLES = """\
examples:
  carta migrate
  carta migrate --plan            show what would be applied
  carta migrate --check           exit 1 if a migration is not applied (for deploy scripts)
"""

CREATESUPERUSER_DESCRIPTION = """\
Create a superuser (counts as a network administrator: every center, pseudonymised data) on
the database of DATABASE_URL - Django's `createsuperuser`. Asks for the password unless
--no-input is given with DJANGO_SUPERUSER_PASSWORD set.
"""

CREATESUPERUSER_EXAMPLES = """\
examples:
  carta createsuperuser --username admin --email admin@example.org
  DJANGO_SUPERUSER_PASSWORD=... carta createsuperuser --username admin --email a@b.org --no-input
"""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo``, ``serve``, ``migrate`` and ``createsuperuser`` to ``carta``."""
    _demo_parser(commands)
    _serve_parser(commands)
    _migrate_parser(commands)
    _createsuperuser_parser(commands)


def _address_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )


def _demo_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the registry web app locally with a synthetic demo network",
        description=DEMO_DESCRIPTION,
        epilog=DEMO_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the demo database (default: carta's folder in your user data directory)",
    )
    _address_options(parser)
    parser.add_argument(
        "--patients",
        type=int,
        default=DEFAULT_DEMO_PATIENTS,
        metavar="N",
        help=f"synthetic patients to load on the first run (default {DEFAULT_DEMO_PATIENTS})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_DEMO_SEED,
        help=f"seed of the synthetic network (default {DEFAULT_DEMO_SEED})",
    )
    parser.add_argument(
        "--no-serve",
        action="store_true",
        help="prepare the database and the demo data, print the accounts, and stop",
    )
    parser.add_argument(
        "--episodes",
        action="store_true",
        help="print the CRS/ICANS episode table of the bundled example instead (no server)",
    )
    add_debug_option(parser)
    parser.set_defaults(handler=demo)


def _serve_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the registry web app on the database of DATABASE_URL",
        description=SERVE_DESCRIPTION,
        epilog=SERVE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _address_options(parser)
    parser.add_argument(
        "--threads", type=int, default=8, help="worker threads (default 8)", metavar="N"
    )
    add_debug_option(parser)
    parser.set_defaults(handler=serve)


def _migrate_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "migrate",
        help="create or update the registry database tables",
        description=MIGRATE_DESCRIPTION,
        epilog=MIGRATE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--plan", action="store_true", help="show the plan, change nothing")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when migrations are not applied"
    )
    add_debug_option(parser)
    parser.set_defaults(handler=migrate)


def _createsuperuser_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "createsuperuser",
        help="create a superuser account (network-wide administrator)",
        description=CREATESUPERUSER_DESCRIPTION,
        epilog=CREATESUPERUSER_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--username", help="the login name")
    parser.add_argument("--email", help="the e-mail address")
    parser.add_argument(
        "--no-input",
        action="store_true",
        help="do not ask; the password comes from DJANGO_SUPERUSER_PASSWORD",
    )
    add_debug_option(parser)
    parser.set_defaults(handler=createsuperuser)


# --- handlers -----------------------------------------------------------------------------


def demo(args: argparse.Namespace) -> int:
    """``carta demo``."""
    from carta.cli.demo import demo_command

    return demo_command(args)


def error(message: str) -> int:
    """Print ``carta: message`` on stderr and return the usage exit code."""
    print(f"carta: {message}", file=sys.stderr)
    return EXIT_USAGE


def setup_django() -> str | None:
    """Load carta's Django settings; the configuration problem (with its fix) on failure."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as problem:
        return str(problem)
    return None


def secret_key_problem(environ: os._Environ[str] | dict[str, str]) -> str | None:
    """Why ``serve`` must not start: no secret key outside demo mode (ADR 0207)."""
    demo_mode = environ.get("CARTA_DEMO", "").strip().lower() in {"1", "true", "yes", "on"}
    if environ.get("CARTA_SECRET_KEY") or demo_mode:
        return None
    return (
        "CARTA_SECRET_KEY is not set; `carta serve` will not start without it. Set it to a "
        "long random value kept secret, e.g.\n"
        "  export CARTA_SECRET_KEY=\"$(python -c 'import secrets; "
        "print(secrets.token_urlsafe(50))')\"\n"
        f"(to try carta without a server setup, run `carta demo`; production: {PRODUCTION_DOC})"
    )


def serve(args: argparse.Namespace) -> int:
    """``carta serve``: the registry on DATABASE_URL."""
    problem = secret_key_problem(os.environ)
    if problem:
        return error(problem)
    if args.threads < 1:
        return error("--threads must be at least 1")
    problem = setup_django()
    if problem:
        return error(problem)
    unapplied = unapplied_migrations()
    if unapplied:
        return error(
            f"the database has {unapplied} unapplied migrations: run `carta migrate` first"
        )
    from carta.web.wsgi import application

    url = f"http://{_url_host(args.host)}:{args.port}/"
    print(f"carta registry on {url} (stop with Ctrl+C)", flush=True)
    return run_wsgi(application, args.host, args.port, threads=args.threads)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def unapplied_migrations() -> int:
    """How many migrations are not applied on the default database."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return len(executor.migration_plan(targets))


def run_wsgi(application: object, host: str, port: int, *, threads: int) -> int:
    """Serve ``application``: waitress when installed, else Django's threaded server."""
    try:
        import waitress  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        waitress = None
    try:
        if waitress is not None:
            waitress.serve(application, host=host, port=port, threads=threads)
        else:
            from django.core.servers.basehttp import run

            print(
                "carta: serving with the standard-library threaded server; for production "
                f"use a WSGI server behind a reverse proxy ({PRODUCTION_DOC})",
                file=sys.stderr,
                flush=True,
            )
            run(host, port, application, ipv6=":" in host, threading=True)
    except OSError as problem:
        return error(f"cannot listen on {host}:{port} ({problem.strerror}): choose another --port")
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


def management(arguments: Sequence[str]) -> int:
    """Run one Django management command through :func:`carta.web.manage.main`."""
    problem = setup_django()
    if problem:
        return error(problem)
    from carta.web.manage import main as manage

    try:
        return manage(arguments)
    except SystemExit as stop:  # Django's commands exit with their own code
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE


def migrate(args: argparse.Namespace) -> int:
    """``carta migrate``."""
    arguments = ["migrate"]
    if args.plan:
        arguments.append("--plan")
    if args.check:
        arguments.append("--check")
    return management(arguments)


def createsuperuser(args: argparse.Namespace) -> int:
    """``carta createsuperuser``."""
    arguments = ["createsuperuser"]
    if args.username:
        arguments += ["--username", args.username]
    if args.email:
        arguments += ["--email", args.email]
    if args.no_input:
        if not os.environ.get("DJANGO_SUPERUSER_PASSWORD"):
            return error("--no-input needs the password in DJANGO_SUPERUSER_PASSWORD")
        if not (args.username and args.email):
            return error("--no-input needs --username and --email")
        arguments.append("--no-input")
    return management(arguments)
