"""Options shared by every ``carta`` command."""

from __future__ import annotations

import argparse


def add_debug_option(parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS) -> None:
    """``--debug``: show the traceback of an unexpected error.

    Sub-commands use ``SUPPRESS`` so that ``carta --debug grade ...`` is not reset by the
    sub-command's own default.
    """
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show the full traceback of an unexpected error",
    )
