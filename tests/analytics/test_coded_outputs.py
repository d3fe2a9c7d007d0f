"""The coded output form of the CRS and ICANS batch rules (ADR 0450): decoding it gives back
exactly ``grade_frame``, on random records (both ICANS paths), synthetic patient-days and
empty frames; and the Parquet-ready decoding equals the writer's dictionary coding."""

from __future__ import annotations

import math

import polars as pl
import pytest

from carta.analytics.rules import crs, get_rule, grade_together, icans
from carta.analytics.rules.coded import STATUS, decode
from carta.io.records import frame_from_records
from carta.io.writers import dictionary_coded
from carta.synth import generate_network
from tests.analytics.test_icans_batch import _records as icans_records

CODED_ICANS: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": STATUS,
    "grade": pl.Int8,
    "ice_score": pl.Int8,
    "capd_score": pl.Int8,
    "reasons": pl.Categorical(),
    "missing": pl.Categorical(),
}


@pytest.fixture(scope="module")
def days() -> pl.DataFrame:
    """Synthetic patient-days with every CRS and ICANS input."""
    return generate_network(60, seed=5).patient_days


def test_both_rules_are_registered_with_a_coded_form() -> None:
    assert get_rule("crs").grade_frame_coded is crs.grade_frame_coded
    assert get_rule("icans").grade_frame_coded is icans.grade_frame_coded
    assert get_rule("easix").grade_frame_coded is None


def test_coded_dtypes() -> None:
    out = icans.grade_frame_coded(frame_from_records(icans_records(200, seed=3)))
    assert out.schema == pl.Schema(CODED_ICANS)
    assert crs.grade_frame_coded(pl.DataFrame({"temperature_c": [38.2]})).schema == pl.Schema(
        {name: CODED_ICANS[name] for name in ("status", "grade", "reasons", "missing")}
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_icans_decoded_equals_grade_frame_with_general_rows(seed: int) -> None:
    """Random records: invalid and partly known rows go through the general path."""
    frame = frame_from_records(icans_records(2000, seed=seed))
    expected = icans.grade_frame(frame)
    assert set(expected["status"]) == {"ok", "cannot_grade", "invalid_input"}
    decoded = decode(icans.grade_frame_coded(frame))
    assert decoded.schema == expected.schema
    assert decoded.equals(expected)


def test_decoded_equals_grade_frame_on_synthetic_days(days: pl.DataFrame) -> None:
    for rule in (crs, icans):
        expected = rule.grade_frame(days)
        decoded = decode(rule.grade_frame_coded(days))
        assert decoded.schema == expected.schema
        assert decoded.equals(expected)
        assert expected["grade"].drop_nulls().n_unique() > 2  # the data exercise the rule


def test_nan_age_is_not_taken_for_a_plausible_age() -> None:
    """The fast path's range check must see NaN (Polars' min/max skip it)."""
    records = [{"age_years": 30.0, "ice_score": 10}, {"age_years": math.nan, "ice_score": 10}]
    out = icans.grade_frame(frame_from_records(records))
    assert out["status"].to_list() == ["cannot_grade", "invalid_input"]
    assert out["reasons"][1].to_list() == ["invalid:age_years"]


def test_empty_lists_and_nulls_survive_the_round_trip() -> None:
    frame = pl.DataFrame({"temperature_c": [None, 38.5, 36.0]})
    coded = crs.grade_frame_coded(frame)
    decoded = decode(coded)
    assert decoded.equals(crs.grade_frame(frame))
    assert decoded["reasons"][0].to_list() == []
    assert decoded["grade"][0] is None


def test_empty_frame() -> None:
    empty = pl.DataFrame(schema=icans.INPUT_SCHEMA)
    assert decode(icans.grade_frame_coded(empty)).equals(icans.grade_frame(empty))
    for_parquet = decode(icans.grade_frame_coded(empty), words_as_enum=True)
    assert for_parquet.schema == dictionary_coded(icans.grade_frame(empty)).schema


def test_parquet_form_equals_the_writers_dictionary_coding(days: pl.DataFrame) -> None:
    for rule in (crs, icans):
        expected = dictionary_coded(rule.grade_frame(days))
        got = decode(rule.grade_frame_coded(days), words_as_enum=True)
        assert got.schema == expected.schema
        assert got.equals(expected)


def test_grade_together_equals_one_rule_at_a_time(days: pl.DataFrame) -> None:
    together = grade_together(days, ["crs", "icans", "easix"], coded=True)
    assert list(together) == ["crs", "icans", "easix"]
    assert together["crs"].equals(crs.grade_frame_coded(days))
    assert together["icans"].equals(icans.grade_frame_coded(days))
    assert together["easix"].equals(get_rule("easix").grade_frame(days))
    plain = grade_together(days, ["icans"])
    assert plain["icans"].equals(icans.grade_frame(days))


def test_grade_together_raises_the_rules_error() -> None:
    with pytest.raises(KeyError, match="unknown rule"):
        grade_together(pl.DataFrame({"temperature_c": [38.0]}), ["crs", "no-such-rule"])
