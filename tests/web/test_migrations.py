"""Committed migrations match the models; the management entry point works."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from carta.web import manage


@pytest.mark.django_db
def test_no_missing_migrations() -> None:
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_manage_main_runs_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert manage.main(["check"]) == 0
    assert "no issues" in capsys.readouterr().out
