"""Django's management commands for carta (``migrate``, ``createsuperuser``, ``runserver`` ...).

``carta.cli`` maps ``carta migrate`` and friends onto :func:`main`; ``python -m
carta.web.manage <command>`` works too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

SETTINGS_MODULE = "carta.web.settings"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one Django management command; ``argv`` excludes the program name.

    Returns 0 on success; a command that fails exits through ``SystemExit`` as Django does.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.core.management import execute_from_command_line

    arguments = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["carta", *arguments])
    return 0


if __name__ == "__main__":
    sys.exit(main())
