"""The product catalogue and the labelled-dose check (reference section k).

The tables below restate the reference's product table; the numbers are written out here, not
read from the catalogue, so a wrong catalogue entry fails.
"""

from __future__ import annotations

from datetime import date

import pytest

from carta.clinical.products import (
    PRODUCTS,
    CellDose,
    Disease,
    DoseBasis,
    Region,
    Status,
    ToxicityEvent,
    check_cell_dose,
    find_label,
    find_product,
    product_by_inn,
)

M = 1_000_000.0


def check(product: str, disease: str, region: str = "US", **kwargs: object):
    return check_cell_dose(CellDose(product=product, disease=disease, region=region, **kwargs))  # type: ignore[arg-type]


# --- the catalogue ----------------------------------------------------------------------------

CATALOGUE = [
    # inn, target, costim, brands (Latin or Chinese)
    ("tisagenlecleucel", "CD19", "4-1BB", {"Kymriah"}),
    ("axicabtagene ciloleucel", "CD19", "CD28", {"Yescarta", "Yikaida", "奕凯达"}),
    ("brexucabtagene autoleucel", "CD19", "CD28", {"Tecartus"}),
    ("lisocabtagene maraleucel", "CD19", "4-1BB", {"Breyanzi"}),
    ("idecabtagene vicleucel", "BCMA", "4-1BB", {"Abecma"}),
    ("ciltacabtagene autoleucel", "BCMA", "4-1BB", {"Carvykti"}),
    ("obecabtagene autoleucel", "CD19", "4-1BB", {"Aucatzyl"}),
    ("relmacabtagene autoleucel", "CD19", "4-1BB", {"Carteyva", "倍诺达"}),
    ("equecabtagene autoleucel", "BCMA", None, {"Fucaso", "福可苏"}),
    ("zevorcabtagene autoleucel", "BCMA", None, {"赛恺泽"}),
    ("inaticabtagene autoleucel", "CD19", "4-1BB", {"CNCT19", "源瑞达"}),
]


@pytest.mark.parametrize(("inn", "target", "costim", "brands"), CATALOGUE)
def test_catalogue_rows(inn: str, target: str, costim: str | None, brands: set[str]) -> None:
    product = product_by_inn(inn)
    assert product.target == target
    assert product.costimulatory_domain == costim
    names = {b.name for b in product.brands} | {b.native_name for b in product.brands}
    assert brands <= names
    for brand in brands:
        assert find_product(brand) is product


def test_twelve_products_and_pcar19b_has_no_inn() -> None:
    assert len(PRODUCTS) == 12
    pcar = find_product("pCAR-19B")
    assert pcar is not None
    assert pcar.inn is None
    assert pcar.brands == ()
    with pytest.raises(KeyError):
        product_by_inn("anitocabtagene autoleucel")  # not approved as of the sources


@pytest.mark.parametrize(
    ("inn", "region", "diseases"),
    [
        ("tisagenlecleucel", Region.US, {Disease.B_ALL, Disease.LBCL, Disease.FL}),
        ("tisagenlecleucel", Region.CN, set()),
        ("axicabtagene ciloleucel", Region.CN, {Disease.LBCL}),
        (
            "lisocabtagene maraleucel",
            Region.US,
            {Disease.LBCL, Disease.CLL, Disease.FL, Disease.MCL, Disease.MZL},
        ),
        ("ciltacabtagene autoleucel", Region.CN, {Disease.MM}),
        ("relmacabtagene autoleucel", Region.CN, {Disease.LBCL, Disease.FL}),  # not MCL
        ("inaticabtagene autoleucel", Region.CN, {Disease.B_ALL}),
        ("obecabtagene autoleucel", Region.GB, {Disease.B_ALL}),
    ],
)
def test_approved_indications_by_region(inn: str, region: Region, diseases: set[Disease]) -> None:
    assert set(product_by_inn(inn).approved_diseases(region)) == diseases


@pytest.mark.parametrize(
    ("inn", "region", "disease", "year", "date_text"),
    [
        ("tisagenlecleucel", Region.US, Disease.B_ALL, 2017, "2017-08-30"),
        ("axicabtagene ciloleucel", Region.CN, Disease.LBCL, 2021, "2021-06-22"),
        ("brexucabtagene autoleucel", Region.US, Disease.MCL, 2020, "2020-07-24"),
        ("equecabtagene autoleucel", Region.CN, Disease.MM, 2023, "2023-06-30"),
        ("zevorcabtagene autoleucel", Region.CN, Disease.MM, 2024, "2024-02-23"),
        ("obecabtagene autoleucel", Region.US, Disease.B_ALL, 2024, "2024-11-08"),
    ],
)
def test_first_approval_dates(
    inn: str, region: Region, disease: Disease, year: int, date_text: str
) -> None:
    approval = next(
        a for a in product_by_inn(inn).approvals if a.region is region and a.disease is disease
    )
    assert (approval.year, approval.date) == (year, date_text)


TOXICITY = [
    # inn, event, disease, any %, >= G3 %, scale
    ("tisagenlecleucel", ToxicityEvent.CRS, Disease.B_ALL, 79.0, 49.0, "Penn"),
    ("tisagenlecleucel", ToxicityEvent.CRS, Disease.LBCL, 74.0, 23.0, "Penn"),
    ("axicabtagene ciloleucel", ToxicityEvent.CRS, Disease.LBCL, 94.0, 13.0, "Lee 2014"),
    ("axicabtagene ciloleucel", ToxicityEvent.NEUROTOXICITY, Disease.LBCL, 87.0, None, None),
    ("brexucabtagene autoleucel", ToxicityEvent.CRS, Disease.MCL, 91.0, 18.0, None),
    ("brexucabtagene autoleucel", ToxicityEvent.NEUROTOXICITY, Disease.B_ALL, 87.0, 35.0, None),
    ("lisocabtagene maraleucel", ToxicityEvent.CRS, Disease.CLL, 83.0, 9.0, None),
    ("idecabtagene vicleucel", ToxicityEvent.CRS, Disease.MM, 85.0, 9.0, None),
    ("ciltacabtagene autoleucel", ToxicityEvent.CRS, Disease.MM, None, 5.0, None),
    ("ciltacabtagene autoleucel", ToxicityEvent.NEUROTOXICITY, Disease.MM, None, 11.0, None),
    ("obecabtagene autoleucel", ToxicityEvent.ICANS, Disease.B_ALL, None, 7.1, None),
    ("relmacabtagene autoleucel", ToxicityEvent.CRS, Disease.LBCL, None, 5.1, None),
    ("equecabtagene autoleucel", ToxicityEvent.CRS, Disease.MM, 93.2, 1.0, "ASTCT 2019"),
    ("equecabtagene autoleucel", ToxicityEvent.ICANS, Disease.MM, 1.9, 0.0, "ASTCT 2019"),
]


@pytest.mark.parametrize(("inn", "event", "disease", "any_grade", "g3", "scale"), TOXICITY)
def test_first_listed_toxicity_rate(
    inn: str,
    event: ToxicityEvent,
    disease: Disease,
    any_grade: float | None,
    g3: float | None,
    scale: str | None,
) -> None:
    rate = product_by_inn(inn).rates(event, disease)[0]
    assert (rate.any_grade_percent, rate.grade_3_plus_percent, rate.grading_scale) == (
        any_grade,
        g3,
        scale,
    )
    assert rate.source


@pytest.mark.parametrize("inn", ["zevorcabtagene autoleucel", "inaticabtagene autoleucel"])
def test_unverified_rates_are_absent_not_invented(inn: str) -> None:
    assert product_by_inn(inn).toxicity == ()


# --- secondary-source errors are not reproduced -------------------------------------------------


def test_abecma_target_is_bcma_not_cd38() -> None:
    assert product_by_inn("idecabtagene vicleucel").target == "BCMA"


def test_breyanzi_costim_is_4_1bb_not_cd28() -> None:
    assert product_by_inn("lisocabtagene maraleucel").costimulatory_domain == "4-1BB"


def test_kymriah_ball_over_50_kg_is_flat_not_per_kg() -> None:
    # 1 x 10^8 cells in a 70 kg patient: inside 0.1-2.5 x 10^8 flat. Read per kg, the range
    # would be 7 x 10^8 - 1.75 x 10^10 and this dose would be far below it.
    result = check("Kymriah", "b_all", total_cells=1e8, weight_kg=70.0)
    assert result.within_label is True
    assert result.basis == DoseBasis.FLAT
    assert (result.range_min_cells, result.range_max_cells) == (1e7, 2.5e8)


def test_ide_cel_is_300_to_510_million_not_150_to_450() -> None:
    assert check("ide-cel", "mm", total_cells=200 * M).within_label is False
    assert check("ide-cel", "mm", total_cells=500 * M).within_label is True


def test_cilta_cel_is_per_kg_not_flat_half_to_one_hundred_million() -> None:
    # 9 x 10^7 in 70 kg = 1.29 x 10^6/kg: above 1.0 x 10^6/kg, though inside a flat 0.5-1 x 10^8.
    result = check("Carvykti", "mm", total_cells=9e7, weight_kg=70.0)
    assert result.within_label is False
    assert "dose.above_label_max" in result.reasons
    # 4 x 10^7 in 70 kg = 0.57 x 10^6/kg: within the label, though below a flat 0.5 x 10^8.
    assert check("Carvykti", "mm", total_cells=4e7, weight_kg=70.0).within_label is True


# --- the dose check ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "total", "within", "cap_applied", "max_cells"),
    [
        (70.0, 1.4e8, True, False, 1.4e8),
        (70.0, 1.5e8, False, False, 1.4e8),
        (100.0, 2.0e8, True, False, 2.0e8),  # the cap is reached at 100 kg exactly
        (120.0, 2.0e8, True, True, 2.0e8),
        (120.0, 2.4e8, False, True, 2.0e8),  # 2 x 10^6/kg but above the cap
    ],
)
def test_yescarta_per_kg_with_cap(
    weight: float, total: float, within: bool, cap_applied: bool, max_cells: float
) -> None:
    result = check("axicabtagene ciloleucel", "lbcl", total_cells=total, weight_kg=weight)
    assert result.status == Status.OK
    assert result.within_label is within
    assert ("dose.per_kg_cap_applied" in result.reasons) is cap_applied
    assert result.range_max_cells == pytest.approx(max_cells)
    assert result.range_min_cells is None
    assert "dose.label_minimum_not_stated" in result.reasons


def test_yescarta_below_target_is_flagged_but_not_outside() -> None:
    result = check("Yescarta", "lbcl", cells_per_kg=1.5 * M, weight_kg=80.0)
    assert result.within_label is True
    assert result.total_cells == pytest.approx(1.2e8)
    assert "dose.below_target" in result.reasons


@pytest.mark.parametrize(
    ("weight", "total", "within", "basis"),
    [
        (20.0, 0.2 * M * 20, True, "per_kg"),  # lower bound inclusive
        (20.0, 5.0 * M * 20, True, "per_kg"),  # upper bound inclusive
        (20.0, 5.1 * M * 20, False, "per_kg"),
        (50.0, 2.5e8, True, "per_kg"),  # 50 kg is still per kg: 5 x 10^6/kg x 50
        (50.0, 2.6e8, False, "per_kg"),
        (50.0, 5e6, False, "per_kg"),  # 0.1 x 10^6/kg is below 0.2 x 10^6/kg at 50 kg
        (50.5, 5e6, False, "flat"),  # above 50 kg: flat 0.1-2.5 x 10^8
        (50.5, 1e7, True, "flat"),
        (90.0, 2.5e8, True, "flat"),
        (90.0, 2.6e8, False, "flat"),
    ],
)
def test_kymriah_ball_weight_split(weight: float, total: float, within: bool, basis: str) -> None:
    result = check("tisagenlecleucel", "b_all", total_cells=total, weight_kg=weight)
    assert result.within_label is within
    assert result.basis == basis
    assert f"dose.weight_band.{basis}" in result.reasons


def test_kymriah_ball_needs_the_weight() -> None:
    result = check("tisagenlecleucel", "b_all", total_cells=1e8)
    assert result.status == Status.CANNOT_COMPUTE
    assert result.missing == ("weight_kg",)


def test_kymriah_lbcl_flat_needs_no_weight() -> None:
    assert check("tisagenlecleucel", "lbcl", total_cells=6e8).within_label is True
    assert check("tisagenlecleucel", "lbcl", total_cells=5e7).within_label is False


@pytest.mark.parametrize(
    ("per_kg", "within", "reason"),
    [
        (0.49 * M, False, "dose.below_label_min"),
        (0.5 * M, True, "dose.within_label"),
        (1.0 * M, True, "dose.within_label"),
        (1.01 * M, False, "dose.above_label_max"),
    ],
)
def test_carvykti_per_kg_range(per_kg: float, within: bool, reason: str) -> None:
    result = check("ciltacabtagene autoleucel", "mm", cells_per_kg=per_kg, weight_kg=70.0)
    assert result.within_label is within
    assert reason in result.reasons


def test_carvykti_cap_of_one_hundred_million() -> None:
    result = check("Carvykti", "mm", total_cells=1.0e8, weight_kg=130.0)
    assert result.range_max_cells == 1.0e8
    assert "dose.per_kg_cap_applied" in result.reasons
    assert result.within_label is True
    assert check("Carvykti", "mm", total_cells=1.1e8, weight_kg=130.0).within_label is False


@pytest.mark.parametrize(
    ("total", "within"),
    [(299 * M, False), (300 * M, True), (460 * M, True), (510 * M, True), (511 * M, False)],
)
def test_abecma_flat_range(total: float, within: bool) -> None:
    result = check("idecabtagene vicleucel", "mm", total_cells=total)
    assert result.within_label is within
    assert result.basis == "flat"


def test_abecma_superseded_label_applies_to_older_infusions() -> None:
    old = check("Abecma", "mm", total_cells=500 * M, infusion_date=date(2023, 6, 1))
    assert old.within_label is False
    assert "dose.superseded_label" in old.reasons
    new = check("Abecma", "mm", total_cells=500 * M, infusion_date=date(2024, 5, 1))
    assert new.within_label is True


@pytest.mark.parametrize(
    ("disease", "weight", "total", "max_cells", "within"),
    [
        ("mcl", 80.0, 1.6e8, 1.6e8, True),
        ("mcl", 120.0, 2.0e8, 2.0e8, True),  # MCL cap 2 x 10^8
        ("mcl", 120.0, 2.2e8, 2.0e8, False),
        ("b_all", 80.0, 0.8e8, 0.8e8, True),
        ("b_all", 120.0, 1.0e8, 1.0e8, True),  # B-ALL cap 1 x 10^8
        ("b_all", 120.0, 1.2e8, 1.0e8, False),
    ],
)
def test_tecartus_caps_differ_by_indication(
    disease: str, weight: float, total: float, max_cells: float, within: bool
) -> None:
    result = check("Tecartus", disease, total_cells=total, weight_kg=weight)
    assert result.range_max_cells == pytest.approx(max_cells)
    assert result.within_label is within


def test_tecartus_gb_range_has_a_minimum_the_us_label_lacks() -> None:
    gb = check("Tecartus", "mcl", "GB", cells_per_kg=0.9 * M, weight_kg=70.0)
    assert gb.within_label is False
    assert "dose.below_label_min" in gb.reasons
    us = check("Tecartus", "mcl", "US", cells_per_kg=0.9 * M, weight_kg=70.0)
    assert us.within_label is True
    # no EU label in the reference for Tecartus MCL
    assert check("Tecartus", "mcl", "EU", total_cells=1e8).reasons == ("dose.no_label",)


def test_breyanzi_regions() -> None:
    assert check("Breyanzi", "cll", total_cells=100 * M).within_label is True
    assert check("Breyanzi", "cll", total_cells=120 * M).within_label is False
    us_lbcl = check("Breyanzi", "lbcl", total_cells=100 * M)
    assert us_lbcl.status == Status.CANNOT_COMPUTE
    assert us_lbcl.reasons == ("dose.label_unverified",)
    assert check("Breyanzi", "lbcl", "GB", total_cells=120 * M).within_label is True
    assert check("Breyanzi", "lbcl", "GB", total_cells=43 * M).within_label is False


@pytest.mark.parametrize(
    ("product", "disease"),
    [
        ("relma-cel", "lbcl"),
        ("eque-cel", "mm"),
        ("zevor-cel", "mm"),
        ("inati-cel", "b_all"),
        ("pCAR-19B", "b_all"),
        ("Yikaida", "lbcl"),
        ("Carvykti", "mm"),
    ],
)
def test_unverified_china_labels_cannot_compute(product: str, disease: str) -> None:
    result = check(product, disease, "CN", total_cells=1e8, weight_kg=70.0)
    assert result.status == Status.CANNOT_COMPUTE
    assert result.within_label is None
    assert result.reasons == ("dose.label_unverified",)


def test_kymriah_not_approved_in_china_has_no_label() -> None:
    result = check("Kymriah", "lbcl", "CN", total_cells=3e8)
    assert result.reasons == ("dose.no_label",)


def test_kymriah_eu_overall_range_only_decides_outside_it() -> None:
    outside = check("Kymriah", "lbcl", "EU", total_cells=7e8)
    assert outside.within_label is False
    assert "dose.label_overall_range_only" in outside.reasons
    inside = check("Kymriah", "lbcl", "EU", total_cells=3e8)
    assert inside.status == Status.CANNOT_COMPUTE
    assert inside.within_label is None


def test_aucatzyl_two_infusions() -> None:
    good = check("Aucatzyl", "b_all", infusion_days=(1, 10), infusion_cells=(10 * M, 400 * M))
    assert good.within_label is True
    assert good.total_cells == 410 * M
    assert "dose.split_unverified" in good.reasons
    assert "dose.infusion_day_outside_label" not in good.reasons
    late = check("Aucatzyl", "b_all", infusion_days=(1, 13), infusion_cells=(100 * M, 310 * M))
    assert "dose.infusion_day_outside_label" in late.reasons
    assert (
        check(
            "Aucatzyl", "b_all", infusion_days=(1, 12), infusion_cells=(1e8, 3.1e8)
        ).reasons.count("dose.infusion_day_outside_label")
        == 0
    )
    one = check("Aucatzyl", "b_all", infusion_days=(1,), infusion_cells=(410 * M,))
    assert "dose.infusion_count_outside_label" in one.reasons
    above = check("Aucatzyl", "b_all", infusion_days=(1, 10), infusion_cells=(100 * M, 400 * M))
    assert above.within_label is False


def test_aucatzyl_infusions_must_sum_to_the_total() -> None:
    result = check(
        "Aucatzyl",
        "b_all",
        total_cells=410 * M,
        infusion_days=(1, 10),
        infusion_cells=(10 * M, 300 * M),
    )
    assert result.status == Status.INVALID_INPUT
    assert result.problems[0].field == "infusion_cells"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"product": "nonexistent-cel"}, "product"),
        ({"disease": "aml"}, "disease"),
        ({"region": "JP"}, "region"),
        ({"total_cells": -1.0}, "total_cells"),
        ({"total_cells": float("nan")}, "total_cells"),
        ({"weight_kg": 0.0}, "weight_kg"),
        ({"cells_per_kg": 3.0 * M}, "cells_per_kg"),  # 3 x 10^6/kg x 70 kg != 1.4 x 10^8
    ],
)
def test_invalid_inputs_name_the_field(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {
        "product": "Yescarta",
        "disease": "lbcl",
        "region": "US",
        "total_cells": 1.4e8,
        "weight_kg": 70.0,
    }
    result = check_cell_dose(CellDose(**(base | kwargs)))  # type: ignore[arg-type]
    assert result.status == Status.INVALID_INPUT
    assert result.within_label is None
    assert [p.field for p in result.problems] == [field]
    assert result.reasons == (f"invalid:{field}",)


def test_missing_dose_cannot_compute() -> None:
    result = check("Abecma", "mm")
    assert result.status == Status.CANNOT_COMPUTE
    assert result.missing == ("total_cells",)


def test_every_label_is_reachable() -> None:
    for product in PRODUCTS:
        for label in product.dose_labels:
            for disease in label.diseases:
                found = find_label(product, disease, label.region)
                assert found is not None
                assert found.current or not label.current


def test_result_row_has_the_value_columns() -> None:
    row = check("Abecma", "mm", total_cells=400 * M).as_row()
    assert row["status"] == "ok"
    assert row["within_label"] is True
    assert row["range_min_cells"] == 300 * M
