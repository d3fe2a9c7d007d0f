"""Mosteller body surface area."""

from __future__ import annotations

import math

import pytest

from carta.clinical.body import BodyMeasurements, Status, body_surface_area, mosteller_bsa_m2


@pytest.mark.parametrize(
    ("weight", "height", "bsa"),
    [
        (70.0, 170.0, math.sqrt(170 * 70 / 3600)),  # 1.818...
        (64.0, 225.0, 2.0),  # 225 x 64 / 3600 = 4 exactly
        (3.5, 50.0, math.sqrt(50 * 3.5 / 3600)),  # newborn, 0.22 m^2
        (150.0, 190.0, math.sqrt(190 * 150 / 3600)),
    ],
)
def test_mosteller(weight: float, height: float, bsa: float) -> None:
    result = body_surface_area(BodyMeasurements(weight_kg=weight, height_cm=height))
    assert result.status == Status.OK
    assert result.bsa_m2 == pytest.approx(bsa, rel=1e-12)
    assert result.reasons == ("bsa.mosteller",)
    assert mosteller_bsa_m2(weight, height) == pytest.approx(bsa, rel=1e-12)


def test_known_value_rounds_to_1_82() -> None:
    assert round(mosteller_bsa_m2(70.0, 170.0), 2) == 1.82


@pytest.mark.parametrize(
    ("weight", "height", "missing"),
    [
        (None, 170.0, ("weight_kg",)),
        (70.0, None, ("height_cm",)),
        (None, None, ("weight_kg", "height_cm")),
    ],
)
def test_missing_cannot_compute(
    weight: float | None, height: float | None, missing: tuple[str, ...]
) -> None:
    result = body_surface_area(BodyMeasurements(weight_kg=weight, height_cm=height))
    assert result.status == Status.CANNOT_COMPUTE
    assert result.bsa_m2 is None
    assert result.missing == missing


@pytest.mark.parametrize(
    ("weight", "height", "fields"),
    [
        (70_000.0, 170.0, ["weight_kg"]),  # grams typed as kg
        (70.0, 1.70, ["height_cm"]),  # metres typed as cm
        (-5.0, 170.0, ["weight_kg"]),
        (float("inf"), 170.0, ["weight_kg"]),
        (0.0, 0.0, ["weight_kg", "height_cm"]),
        (400.0, 260.0, []),  # inclusive upper bounds
        (0.3, 25.0, []),  # inclusive lower bounds
    ],
)
def test_plausible_ranges(weight: float, height: float, fields: list[str]) -> None:
    result = body_surface_area(BodyMeasurements(weight_kg=weight, height_cm=height))
    if fields:
        assert result.status == Status.INVALID_INPUT
        assert [p.field for p in result.problems] == fields
        assert result.bsa_m2 is None
    else:
        assert result.status == Status.OK


def test_invalid_beats_missing() -> None:
    result = body_surface_area(BodyMeasurements(weight_kg=-1.0))
    assert result.status == Status.INVALID_INPUT
