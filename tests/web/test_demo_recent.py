"""The demo's patients "currently after infusion" (carta.web.loader.bring_forward, ADR 0247)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from carta.synth import SyntheticNetwork, generate_network
from carta.web import loader
from carta.web.registry import forecasting, selectors
from carta.web.registry.models import DailyAssessment, Infusion, Patient
from tests.web.conftest import Network

TODAY = date(2026, 3, 15)


@cache
def _network() -> SyntheticNetwork:
    return generate_network(120, seed=3)


@cache
def _recent() -> SyntheticNetwork:
    return loader.bring_forward(_network(), TODAY)


def _moved_ids() -> set[int]:
    infusions = _recent().infusions
    return set(infusions.filter(pl.col("infusion_date") > TODAY - timedelta(days=30))["patient_id"])


def test_a_few_patients_per_center_are_infused_in_the_last_two_weeks() -> None:
    recent = _recent().infusions.filter(pl.col("infusion_date") > TODAY - timedelta(days=30))
    per_center = recent.group_by("center_id").len()
    assert per_center.height == _network().centers.height  # every center has some
    assert max(per_center["len"].to_list()) <= len(loader.RECENT_ELAPSED_DAYS)
    elapsed = {(TODAY - day).days for day in recent["infusion_date"]}
    assert elapsed <= set(loader.RECENT_ELAPSED_DAYS)
    sizes = dict(_network().patients.group_by("center_id").len().iter_rows())
    for center, count in per_center.iter_rows():
        assert count <= sizes[center] // loader.RECENT_MAX_SHARE


def test_nothing_after_today_is_kept_and_everything_else_is_unchanged() -> None:
    before, after = _network(), _recent()
    moved = _moved_ids()
    for name in ("patient_days", "treatments", "responses"):
        table = getattr(after, name)
        assert table.filter(pl.col("date") > TODAY).height == 0, name
        assert table.schema == getattr(before, name).schema
    assert after.follow_ups.filter(pl.col("contact_date") > TODAY).height == 0
    # the moved patients keep their generated values up to today; only the dates move
    kept = after.patient_days.filter(pl.col("patient_id").is_in(moved)).sort("patient_id", "day")
    generated = before.patient_days.join(
        kept.select("patient_id", "day"), on=["patient_id", "day"], how="semi"
    ).sort("patient_id", "day")
    assert kept.drop("date").equals(generated.drop("date"))
    assert (kept["date"] - generated["date"]).n_unique() > 1  # each patient by its own shift
    # the other patients are exactly as generated
    for name, table in after.tables().items():
        if "patient_id" in table.columns:
            untouched = table.filter(~pl.col("patient_id").is_in(moved))
            assert untouched.equals(
                getattr(before, name).filter(~pl.col("patient_id").is_in(moved))
            ), name
    assert after.outcomes.filter(pl.col("patient_id").is_in(moved))["died"].sum() == 0
    assert after.patients["synthetic"].all() and after.patient_days["synthetic"].all()


def test_the_choice_is_deterministic_apart_from_the_date() -> None:
    later = loader.bring_forward(_network(), TODAY + timedelta(days=40))
    assert (
        set(later.infusions.filter(pl.col("infusion_date") > TODAY)["patient_id"]) == _moved_ids()
    )


@pytest.fixture
def model(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = forecasting.train_demo_model(generate_network(40, seed=1), tmp_path_factory.mktemp("m"))
    monkeypatch.setenv(forecasting.MODEL_ENV, str(path))
    forecasting.clear_cache()
    return path


def test_the_loaded_demo_has_patients_on_the_forecast_risk_view(
    network: Network, model: Path
) -> None:
    from django.utils import timezone

    today = timezone.localdate()
    loader.load_network(loader.bring_forward(_network(), today), seed=3)
    recent = Infusion.objects.filter(infused_on__gt=today - timedelta(days=30))
    assert recent.exists()
    last_day = max(loader.RECENT_ELAPSED_DAYS)
    assert not DailyAssessment.objects.filter(infusion__in=recent, day__gt=last_day).exists()
    everyone = loader_admin()
    rows = forecasting.patients_at_risk(selectors.list_patients(everyone), today, 30)
    assert {row.patient.pk for row in rows} == set(
        Patient.objects.filter(infusions__in=recent).values_list("pk", flat=True)
    )
    assert max(row.forecast.highest for row in rows) >= 0.3  # someone at high risk
    forecasting.clear_cache()


def loader_admin() -> object:
    """A network administrator (sees every center)."""
    from django.contrib.auth import get_user_model

    from carta.web.accounts.models import Membership
    from carta.web.accounts.roles import Role

    user = get_user_model().objects.create_user("everyone", password="x-Password-1")
    Membership.objects.create(user=user, center=None, role=Role.NETWORK_ADMIN)
    return user
