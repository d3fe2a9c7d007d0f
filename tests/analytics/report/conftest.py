"""A small synthetic registry export (carta.synth), written once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from carta.analytics.report import ReportData, read_report_data
from carta.synth import generate_network, write_parquet

PATIENTS = 400
SEED = 11


@pytest.fixture(scope="session")
def export_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report-export")
    write_parquet(generate_network(PATIENTS, seed=SEED), folder)
    return folder


@pytest.fixture(scope="session")
def report_data(export_folder: Path) -> ReportData:
    return read_report_data(export_folder)
