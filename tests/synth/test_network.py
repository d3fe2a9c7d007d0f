"""carta.synth: determinism, proportions, schema conformance, calibration and plausibility."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from carta.analytics.rules import crs, icans
from carta.analytics.timeline import grade_timeline
from carta.clinical import units
from carta.clinical.body import HEIGHT_CM_RANGE, WEIGHT_KG_RANGE
from carta.clinical.followup import schedule
from carta.clinical.products import PRODUCTS, CellDose, Disease, Region, check_cell_dose
from carta.synth import (
    DISEASE_SHARES,
    DISEASES,
    TABLES,
    SyntheticNetwork,
    generate_network,
    generate_parquet,
    read_parquet,
    target,
    write_parquet,
)
from carta.synth import network as network_module

N = 2000
SEED = 11
CHINESE_ONLY = {p.code for p in PRODUCTS if {a.region for a in p.approvals} == {Region.CN}}


@pytest.fixture(scope="module")
def net() -> SyntheticNetwork:
    return generate_network(N, seed=SEED)


@pytest.fixture(scope="module")
def graded(net: SyntheticNetwork) -> pl.DataFrame:
    days = net.patient_days
    c, i = crs.grade_frame(days), icans.grade_frame(days)
    return days.select(
        "patient_id", "day", "intended_crs_grade", "intended_icans_grade"
    ).with_columns(
        c["status"].alias("crs_status"),
        c["grade"].alias("crs_grade"),
        i["status"].alias("icans_status"),
        i["grade"].alias("icans_grade"),
    )


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_frames() -> None:
    first, second = generate_network(150, seed=3), generate_network(150, seed=3)
    for name in TABLES:
        assert_frame_equal(getattr(first, name), getattr(second, name))


def test_different_seed_gives_different_frames() -> None:
    first, second = generate_network(150, seed=3), generate_network(150, seed=4)
    assert not first.patients.equals(second.patients)
    assert not first.patient_days.equals(second.patient_days)


def test_chunking_does_not_change_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network_module, "BLOCK_SIZE", 64)
    whole = generate_network(200, seed=5)
    counts = generate_parquet(200, tmp_path, seed=5, chunk_patients=64)
    assert sorted(p.name for p in (tmp_path / "patient_days").iterdir()) == [
        f"part-{i:05d}.parquet" for i in range(4)
    ]
    back = read_parquet(tmp_path)
    for name in TABLES:
        assert_frame_equal(getattr(back, name), getattr(whole, name))
        assert counts[name] == getattr(whole, name).height
    assert (tmp_path / "manifest.json").read_text().count('"synthetic": true') == 1


def test_write_parquet_round_trip(tmp_path: Path) -> None:
    small = generate_network(60, seed=2)
    write_parquet(small, tmp_path)
    back = read_parquet(tmp_path)
    for name in TABLES:
        assert_frame_equal(getattr(back, name), getattr(small, name))


def test_needs_a_patient() -> None:
    with pytest.raises(ValueError, match="n_patients"):
        generate_network(0)


# --- the network ------------------------------------------------------------------------------


def test_every_row_of_every_table_is_synthetic(net: SyntheticNetwork) -> None:
    for name, frame in net.tables().items():
        assert frame.height > 0, name
        assert frame["synthetic"].dtype == pl.Boolean, name
        assert frame["synthetic"].all(), name
    assert net.centers["name"].str.contains("(synthetic)", literal=True).all()


def test_centers_three_in_china_and_one_outside(net: SyntheticNetwork) -> None:
    countries = net.centers["country"].to_list()
    assert countries.count("CN") >= 3
    assert any(country != "CN" for country in countries)
    used = set(net.patients["center_id"].cast(pl.String))
    assert used == set(net.centers["center_id"])


def test_disease_proportions(net: SyntheticNetwork) -> None:
    shares = net.patients["disease"].cast(pl.String).value_counts(normalize=True)
    observed = dict(zip(shares["disease"], shares["proportion"], strict=True))
    for disease, share in zip(DISEASES, DISEASE_SHARES, strict=True):
        assert observed[disease.value] == pytest.approx(share, abs=0.03)
    order = sorted(observed, key=lambda d: observed[d], reverse=True)
    assert order[:2] == ["lbcl", "mm"]


def test_products_match_the_disease(net: SyntheticNetwork) -> None:
    targets = {p.code: p.target for p in PRODUCTS}
    rows = net.infusions.select(
        pl.col("product_code").cast(pl.String), pl.col("disease").cast(pl.String)
    )
    for code, disease in rows.iter_rows():
        assert targets[code] == ("BCMA" if disease == "mm" else "CD19"), (code, disease)
    # every product is approved somewhere for the disease it is given for
    approved = {(p.code, a.disease.value) for p in PRODUCTS for a in p.approvals if a.verified}
    assert set(rows.iter_rows()) <= approved


def test_chinese_products_mainly_at_chinese_centers(net: SyntheticNetwork) -> None:
    chinese = net.infusions.filter(pl.col("product_code").cast(pl.String).is_in(CHINESE_ONLY))
    assert chinese.height > N * 0.2
    at_chinese_center = (chinese["region"].cast(pl.String) == "CN").mean()
    assert at_chinese_center is not None
    assert at_chinese_center > 0.95
    # MCL and CLL have no NMPA approval, so Chinese centers treat them off-region (trials,
    # imports): about 10 % of patients, plus a 3 % off-region share everywhere.
    approved = net.infusions["approved_in_region"].mean()
    assert approved is not None
    assert 0.8 < approved < 0.95  # type: ignore[operator]


def test_vein_to_vein_and_dates(net: SyntheticNetwork) -> None:
    inf = net.infusions
    v2v = (inf["infusion_date"] - inf["apheresis_date"]).dt.total_days()
    assert (v2v == inf["vein_to_vein_days"]).all()
    assert v2v.min() >= 12  # type: ignore[operator]
    assert 20 <= v2v.median() <= 35  # type: ignore[operator]
    assert (inf["ld_start_date"] < inf["infusion_date"]).all()
    joined = net.patients.join(inf, on="patient_id")
    assert (joined["consent_date"] <= joined["apheresis_date"]).all()


def test_body_sizes_are_plausible(net: SyntheticNetwork) -> None:
    patients = net.patients
    assert patients["weight_kg"].is_between(WEIGHT_KG_RANGE.low, WEIGHT_KG_RANGE.high).all()
    assert patients["height_cm"].is_between(HEIGHT_CM_RANGE.low, HEIGHT_CM_RANGE.high).all()
    adults = patients.filter(pl.col("age_at_infusion_years") >= 18)
    assert 1.3 < adults["bsa_m2"].median() < 2.1  # type: ignore[operator]
    children = patients.filter(pl.col("age_at_infusion_years") < 12)
    assert children.height > 0
    assert (children["disease"].cast(pl.String) == "b_all").all()


def test_cell_doses_mostly_within_the_label(net: SyntheticNetwork) -> None:
    rows = net.infusions.join(net.patients.select("patient_id", "weight_kg"), on="patient_id")
    outcomes = []
    for row in rows.iter_rows(named=True):
        extra = {}
        if row["infusion_count"] == 2:
            extra = {
                "infusion_days": (1, 1 + row["second_infusion_day"]),
                "infusion_cells": (row["first_infusion_cells"], row["second_infusion_cells"]),
            }
        result = check_cell_dose(
            CellDose(
                product=row["product_code"],
                disease=row["disease"],
                region=row["region"],
                total_cells=row["total_cells"],
                weight_kg=row["weight_kg"],
                **extra,
            )
        )
        assert result.status != "invalid_input", (row, result.problems)
        if result.status == "ok":
            outcomes.append(result.within_label)
    # only US/EU/GB labels are verified for most products (NMPA label doses are not), so most
    # Chinese patients' doses cannot be checked
    assert len(outcomes) > 100
    within = sum(bool(x) for x in outcomes) / len(outcomes)
    assert 0.9 <= within < 1.0


# --- patient-days ------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", [crs.INPUT_SCHEMA, icans.INPUT_SCHEMA], ids=["crs", "icans"])
def test_patient_days_conform_to_the_input_schemas(
    net: SyntheticNetwork, schema: dict[str, pl.DataType]
) -> None:
    for name, dtype in schema.items():
        assert name in net.patient_days.columns, name
        assert net.patient_days[name].dtype == dtype, (name, net.patient_days[name].dtype)


def test_days_minus_5_to_30_unless_dead(net: SyntheticNetwork) -> None:
    days = net.patient_days
    per = days.group_by("patient_id").agg(
        pl.col("day").min().alias("lo"), pl.col("day").max().alias("hi"), pl.len()
    )
    assert per.height == N
    assert (per["lo"] == -5).all()
    assert (per["hi"] <= 30).all()
    assert (per["len"] == per["hi"] + 6).all()  # no gaps
    early = net.outcomes.filter(pl.col("died") & (pl.col("death_day") < 30))
    short = per.filter(pl.col("hi") < 30)
    assert set(short["patient_id"]) == set(early["patient_id"])
    dead = net.outcomes.filter(pl.col("died") & (pl.col("death_day") <= 30)).join(
        per, on="patient_id"
    )
    assert (dead["death_day"] == dead["hi"]).all()


def test_no_invalid_input_and_grades_are_the_intended_ones(graded: pl.DataFrame) -> None:
    assert graded.filter(pl.col("crs_status") == "invalid_input").height == 0
    assert graded.filter(pl.col("icans_status") == "invalid_input").height == 0
    ok_crs = graded.filter(pl.col("crs_status") == "ok")
    assert (ok_crs["crs_grade"] == ok_crs["intended_crs_grade"]).all()
    ok_icans = graded.filter(pl.col("icans_status") == "ok")
    assert (ok_icans["icans_grade"] == ok_icans["intended_icans_grade"]).all()
    # unknowns only on grade-0 days, and only a few
    assert graded.filter(
        (pl.col("crs_status") != "ok") & (pl.col("intended_crs_grade") > 0)
    ).is_empty()
    assert graded.filter(
        (pl.col("icans_status") != "ok") & (pl.col("intended_icans_grade") > 0)
    ).is_empty()
    assert 0 < (graded["crs_status"] == "cannot_grade").sum() < graded.height * 0.02
    assert 0 < (graded["icans_status"] == "cannot_grade").sum() < graded.height * 0.02


def test_every_input_path_is_exercised(net: SyntheticNetwork) -> None:
    days = net.patient_days
    assert days["ice_score"].is_null().sum() > 0
    assert days["ice_items.naming_objects_correct"].is_not_null().sum() > 0
    assert days["capd_items.eye_contact"].is_not_null().sum() > 0
    assert (days["ice_not_performable_reason"] == "unarousable").sum() > 0
    assert days["fever_attributable_to_other_cause"].sum() > 0
    assert days["hypoxia_attributable_to_other_cause"].sum() > 0
    assert days["vasopressors.vasopressin"].sum() > 0
    assert set(days["oxygen_device"].drop_nulls().cast(pl.String)) == set(
        days["oxygen_device"].dtype.categories  # type: ignore[attr-defined]
    )
    waiver_afebrile = days.filter(
        (pl.col("intended_crs_grade") >= 2) & (pl.col("temperature_c") < 38.0)
    )
    assert waiver_afebrile.height > 0
    assert waiver_afebrile["antipyretic_or_anticytokine_given"].all()
    assert waiver_afebrile["crs_previously_diagnosed"].all()


def test_timeline_grades_equal_single_day_grades(
    net: SyntheticNetwork, graded: pl.DataFrame
) -> None:
    timeline = grade_timeline(net.patient_days)
    assert (timeline["crs_status"] == graded["crs_status"]).all()
    assert (timeline["icans_status"] == graded["icans_status"]).all()
    assert timeline["crs_grade"].equals(graded["crs_grade"])
    assert timeline["icans_grade"].equals(graded["icans_grade"])
    agreement = timeline["crs_agreement"].value_counts(normalize=True)
    shares = dict(zip(agreement["crs_agreement"], agreement["proportion"], strict=True))
    assert shares["agree"] > 0.7
    assert 0.0 < shares["disagree"] < 0.05


def test_labs_are_plausible(net: SyntheticNetwork) -> None:
    days = net.patient_days
    ranges = {
        "anc_per_uL": units.CELL_COUNT_RANGE,
        "platelets_per_uL": units.PLATELET_RANGE,
        "hemoglobin_g_dL": units.HEMOGLOBIN_RANGE,
        "crp_mg_dL": units.CRP_RANGE,
        "ferritin_ng_mL": units.FERRITIN_RANGE,
        "ldh_U_L": units.LDH_RANGE,
        "creatinine_mg_dL": units.CREATININE_RANGE,
    }
    for name, plausible in ranges.items():
        assert days[name].drop_nulls().is_between(plausible.low, plausible.high).all(), name
    assert days["il6_pg_mL"].drop_nulls().min() > 0  # type: ignore[operator]
    nadir = days.filter(pl.col("day").is_between(1, 7))["anc_per_uL"].median()
    assert nadir is not None and nadir < 500  # type: ignore[operator]
    crs_days = days.filter(pl.col("intended_crs_grade") >= 2)["crp_mg_dL"].median()
    quiet = days.filter(pl.col("intended_crs_grade") == 0)["crp_mg_dL"].median()
    assert crs_days > 3 * quiet  # type: ignore[operator]


# --- calibration -----------------------------------------------------------------------------


def _patient_maxima(net: SyntheticNetwork, graded: pl.DataFrame) -> pl.DataFrame:
    per = (
        graded.filter(pl.col("day") >= 0)
        .group_by("patient_id")
        .agg(pl.col("crs_grade").max(), pl.col("icans_grade").max())
    )
    return per.join(
        net.infusions.select(
            "patient_id", pl.col("product_code").cast(pl.String), pl.col("disease").cast(pl.String)
        ),
        on="patient_id",
    )


def _expected(per: pl.DataFrame) -> dict[str, float]:
    sums = dict.fromkeys(("crs_any", "crs_g3", "icans_any", "icans_g3"), 0.0)
    for code, disease in per.select("product_code", "disease").iter_rows():
        goal = target(code, Disease(disease))
        sums["crs_any"] += goal.crs.any_grade
        sums["crs_g3"] += goal.crs.grade_3_plus
        sums["icans_any"] += goal.icans.any_grade
        sums["icans_g3"] += goal.icans.grade_3_plus
    return {key: value / per.height for key, value in sums.items()}


def test_computed_rates_match_the_calibration_targets(
    net: SyntheticNetwork, graded: pl.DataFrame
) -> None:
    per = _patient_maxima(net, graded)
    observed = {
        "crs_any": (per["crs_grade"] >= 1).mean(),
        "crs_g3": (per["crs_grade"] >= 3).mean(),
        "icans_any": (per["icans_grade"] >= 1).mean(),
        "icans_g3": (per["icans_grade"] >= 3).mean(),
    }
    expected = _expected(per)
    for key, value in expected.items():
        assert observed[key] == pytest.approx(value, abs=0.03), key


def test_per_product_rates_for_the_largest_groups(
    net: SyntheticNetwork, graded: pl.DataFrame
) -> None:
    per = _patient_maxima(net, graded)
    groups = per.group_by("product_code", "disease").agg(
        pl.len().alias("n"),
        (pl.col("crs_grade") >= 1).mean().alias("crs_any"),
        (pl.col("icans_grade") >= 3).mean().alias("icans_g3"),
    )
    big = groups.filter(pl.col("n") >= 150)
    assert big.height >= 3
    for row in big.iter_rows(named=True):
        goal = target(row["product_code"], Disease(row["disease"]))
        assert row["crs_any"] == pytest.approx(goal.crs.any_grade, abs=0.07), row
        assert row["icans_g3"] == pytest.approx(goal.icans.grade_3_plus, abs=0.07), row


def test_yescarta_targets_come_from_the_catalogue() -> None:
    goal = target("axi-cel", Disease.LBCL)
    assert (goal.crs.any_grade, goal.crs.grade_3_plus) == (0.94, 0.13)
    assert goal.icans.any_grade == 0.87
    assert goal.icans.grade_3_plus_source == "class ratio CD19/CD28"
    assert goal.icans.grade_3_plus == pytest.approx(0.87 * 36.0 / 85.0)


def test_unverified_figures_use_the_class() -> None:
    liso = target("liso-cel", Disease.LBCL)  # CRS 42 % any grade, grade >= 3 unverified
    assert liso.crs.any_grade == 0.42
    assert liso.crs.grade_3_plus_source == "class ratio CD19/4-1BB"
    assert liso.crs.grade_3_plus < 0.42 * 0.3
    cilta = target("cilta-cel", Disease.MM)  # grade >= 3 only
    assert cilta.crs.grade_3_plus == 0.05
    assert cilta.crs.any_grade_source == "class default BCMA/4-1BB"
    zevor = target("zevor-cel", Disease.MM)  # nothing verified
    assert zevor.crs.any_grade_source == zevor.crs.grade_3_plus_source == "class default BCMA/4-1BB"


# --- treatments, responses, outcomes, follow-ups ------------------------------------------------


def test_treatments_follow_the_grades(net: SyntheticNetwork) -> None:
    maxima = net.patient_days.group_by("patient_id").agg(
        pl.col("intended_crs_grade").max().alias("crs"),
        pl.col("intended_icans_grade").max().alias("icans"),
    )
    given = net.treatments.group_by("patient_id").agg(
        pl.col("agent_detail").cast(pl.String).unique().alias("agent")
    )
    both = maxima.join(given, on="patient_id", how="left")
    severe_crs = both.filter(pl.col("crs") >= 2)
    assert severe_crs["agent"].list.contains("tocilizumab").all()
    severe_icans = both.filter(pl.col("icans") >= 2)
    steroid = severe_icans["agent"].list.contains("dexamethasone") | severe_icans[
        "agent"
    ].list.contains("methylprednisolone")
    assert steroid.all()
    toci = net.treatments.filter(pl.col("agent_detail") == "tocilizumab")
    assert (toci["dose"] <= 800.0).all()
    treated_days = net.treatments.select("patient_id", "day").unique()
    flags = net.patient_days.filter(pl.col("antipyretic_or_anticytokine_given")).select(
        "patient_id", "day"
    )
    assert treated_days.sort("patient_id", "day").equals(flags.sort("patient_id", "day"))


def test_responses_and_outcomes_are_consistent(net: SyntheticNetwork) -> None:
    out = net.outcomes
    assert (out["pfs_days"] <= out["os_days"]).all()
    progressed = out.filter(pl.col("progressed"))
    assert (progressed["progression_day"] <= progressed["follow_up_end_day"]).all()
    died = out.filter(pl.col("died"))
    assert (died["death_day"] == died["follow_up_end_day"]).all()
    assert died["death_cause"].null_count() == 0
    assert (
        out.filter(~pl.col("died"))["death_cause"].null_count()
        == out.filter(~pl.col("died")).height
    )
    best = net.responses.filter(pl.col("is_best"))
    assert best["patient_id"].is_unique().all()
    check = best.join(out, on="patient_id")
    assert (check["response"] == check["best_response"]).all()
    criteria = net.responses.join(net.patients.select("patient_id", "disease"), on="patient_id")
    mm = criteria.filter(pl.col("disease") == "mm")
    assert (mm["criteria"] == "imwg_2016").all()
    assert set(mm["response"].cast(pl.String)) <= {"scr", "cr", "vgpr", "pr", "mr", "sd", "pd"}
    assert mm.filter(pl.col("response").is_in(["scr", "cr"]))["mrd_status"].null_count() == 0


def _kaplan_meier(days: list[int], events: list[bool], at: int) -> float:
    """Product-limit estimate of survival beyond ``at`` days."""
    survival, at_risk = 1.0, len(days)
    for day, event in sorted(
        zip(days, events, strict=True), key=lambda pair: (pair[0], not pair[1])
    ):
        if day > at:
            break
        if event:
            survival *= 1.0 - 1.0 / at_risk
        at_risk -= 1
    return survival


def test_lbcl_long_term_remission_near_40_percent(net: SyntheticNetwork) -> None:
    lbcl = net.outcomes.join(net.patients.select("patient_id", "disease"), on="patient_id").filter(
        pl.col("disease") == "lbcl"
    )
    pfs_2y = _kaplan_meier(lbcl["pfs_days"].to_list(), lbcl["pfs_event"].to_list(), 730)
    assert 0.30 <= pfs_2y <= 0.45
    os_2y = _kaplan_meier(lbcl["os_days"].to_list(), lbcl["os_event"].to_list(), 730)
    assert pfs_2y < os_2y < 0.7


def test_follow_up_contacts_fall_in_their_windows(net: SyntheticNetwork) -> None:
    visits = net.follow_ups.join(
        net.infusions.select("patient_id", "infusion_date"), on="patient_id"
    ).head(400)
    for row in visits.iter_rows(named=True):
        window = {v.key: v for v in schedule(row["infusion_date"])}[str(row["visit"])]
        assert window.contains(row["contact_date"]), row
    ends = net.follow_ups.join(net.outcomes, on="patient_id")
    assert (ends["contact_day"] <= ends["follow_up_end_day"]).all()
