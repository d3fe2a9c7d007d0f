"""``carta grade`` with the real rules, from CSV, JSON Lines and Parquet.

Each case is written twice by hand, as a CSV (dotted columns, ``;`` lists) and as JSON records
(nested groups, lists); the Parquet input is the JSON records as Polars writes them (structs,
list columns). All three must grade to the same rows, and the expected values come from the
reference tables (consensus examples and hand-computed scores), not from the implementation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from carta.cli.main import main

EARLY_DAYS = range(31)


def _early_csv() -> str:
    header = ",".join(f"anc_by_day.{day}" for day in EARLY_DAYS)
    # 14 days at ANC 400 (<= 500) then recovered: grade 3 (e.1: >= 14 days <= 500).
    values = ",".join("400" if day < 14 else "2000" for day in EARLY_DAYS)
    return f"id,{header}\nfourteen_low_days,{values}\n"


CASES: Mapping[str, tuple[str, list[dict[str, Any]], list[dict[str, object]]]] = {
    "crs": (
        "id,temperature_c,fever_attributable_to_other_cause,crs_previously_diagnosed,"
        "antipyretic_or_anticytokine_given,hypotension,vasopressors,"
        "hypotension_attributable_to_other_cause,oxygen_device,oxygen_flow_l_min,"
        "hypoxia_attributable_to_other_cause,died_due_to_crs\n"
        # a.5: fever + one vasopressor + low-flow cannula (6 L/min is low flow) = grade 3.
        "consensus,38.0,false,false,false,present,norepinephrine,false,nasal_cannula,6,false,false\n"
        # a.1: no fever, no waiver -> 0 whatever the pressors and oxygen.
        "afebrile,37.9,no,no,no,present,norepinephrine;dopamine,no,cpap,,no,no\n"
        # 50 degC is not physiological: the rule's invalid_input row, not a file error.
        "implausible,50,false,false,false,none,none,false,none,,false,false\n",
        [
            {
                "id": "consensus",
                "temperature_c": 38.0,
                "fever_attributable_to_other_cause": False,
                "crs_previously_diagnosed": False,
                "antipyretic_or_anticytokine_given": False,
                "hypotension": "present",
                "vasopressors": ["norepinephrine"],
                "hypotension_attributable_to_other_cause": False,
                "oxygen_device": "nasal_cannula",
                "oxygen_flow_l_min": 6,
                "hypoxia_attributable_to_other_cause": False,
                "died_due_to_crs": False,
            },
            {
                "id": "afebrile",
                "temperature_c": 37.9,
                "fever_attributable_to_other_cause": False,
                "crs_previously_diagnosed": False,
                "antipyretic_or_anticytokine_given": False,
                "hypotension": "present",
                "vasopressors": ["norepinephrine", "dopamine"],
                "hypotension_attributable_to_other_cause": False,
                "oxygen_device": "cpap",
                "oxygen_flow_l_min": None,
                "hypoxia_attributable_to_other_cause": False,
                "died_due_to_crs": False,
            },
            {
                "id": "implausible",
                "temperature_c": 50.0,
                "fever_attributable_to_other_cause": False,
                "crs_previously_diagnosed": False,
                "antipyretic_or_anticytokine_given": False,
                "hypotension": "none",
                "vasopressors": [],
                "hypotension_attributable_to_other_cause": False,
                "oxygen_device": "none",
                "oxygen_flow_l_min": None,
                "hypoxia_attributable_to_other_cause": False,
                "died_due_to_crs": False,
            },
        ],
        [
            {"status": "ok", "grade": 3, "criteria": "ASTCT CRS 2019"},
            {"status": "ok", "grade": 0},
            {"status": "invalid_input", "grade": None, "reasons": ["invalid:temperature_c"]},
        ],
    ),
    "icans": (
        "id,age_years,tool,ice_items.orientation_year,ice_items.orientation_month,"
        "ice_items.orientation_city,ice_items.orientation_hospital,"
        "ice_items.naming_objects_correct,ice_items.follows_commands,"
        "ice_items.writes_sentence,ice_items.counts_back_by_10,consciousness,"
        "consciousness_attributable_to_other_cause,seizure,motor,icp_edema,died_due_to_icans\n"
        # b.3 consensus example: ICE 3 + a quickly resolving seizure = grade 3.
        "consensus,45,ICE,1,1,0,0,1,0,0,0,alert,false,"
        "rapidly_resolving_or_nonconvulsive_responding,none,none,false\n",
        [
            {
                "id": "consensus",
                "age_years": 45,
                "tool": "ICE",
                "ice_items": {
                    "orientation_year": 1,
                    "orientation_month": 1,
                    "orientation_city": 0,
                    "orientation_hospital": 0,
                    "naming_objects_correct": 1,
                    "follows_commands": 0,
                    "writes_sentence": 0,
                    "counts_back_by_10": 0,
                },
                "consciousness": "alert",
                "consciousness_attributable_to_other_cause": False,
                "seizure": "rapidly_resolving_or_nonconvulsive_responding",
                "motor": "none",
                "icp_edema": "none",
                "died_due_to_icans": False,
            }
        ],
        [{"status": "ok", "grade": 3, "ice_score": 3, "criteria": "ASTCT ICANS 2019"}],
    ),
    "icaht-early": (
        _early_csv(),
        [
            {
                "id": "fourteen_low_days",
                "anc_by_day": {str(day): 400.0 if day < 14 else 2000.0 for day in EARLY_DAYS},
            }
        ],
        [{"status": "ok", "grade": 3, "days_le_500": 14, "days_le_100": 0}],
    ),
    "icaht-late": (
        # e.2: ANC <= 500 on two measurements after day 30 = grade 3.
        "id,anc_measurements.day,anc_measurements.anc,attributable_to_other_cause\n"
        "two_low,31;35,400;300,false\n",
        [
            {
                "id": "two_low",
                "anc_measurements": [{"day": 31, "anc": 400.0}, {"day": 35, "anc": 300.0}],
                "attributable_to_other_cause": False,
            }
        ],
        [{"status": "ok", "grade": 3, "criteria": "EHA/EBMT ICAHT 2023"}],
    ),
    "easix": (
        # 250 U/L x 1.0 mg/dL / 50 x10^9/L = 5.0 > 4.67 (Korell 2022).
        "id,ldh_U_L,creatinine_mg_dL,platelets_10e9_L\nfive,250,1.0,50\n",
        [{"id": "five", "ldh_U_L": 250, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 50}],
        [{"status": "ok", "value": 5.0, "log2_value": math.log2(5.0), "above_korell_4_67": True}],
    ),
    "m-easix": (
        # 250 U/L x 2 mg/dL / 100 x10^9/L = 5.0.
        "id,ldh_U_L,crp_mg_dL,platelets_10e9_L\nfive,250,2,100\n",
        [{"id": "five", "ldh_U_L": 250, "crp_mg_dL": 2, "platelets_10e9_L": 100}],
        [{"status": "ok", "value": 5.0, "criteria": "m-EASIX 2021"}],
    ),
    "car-hematotox": (
        # f: platelets < 75 000 (2) + ANC < 1200 (1) + Hb < 9 (1) + CRP > 3 (1) + ferritin
        # > 2000 (2) = 7, high risk.
        "id,platelets_per_uL,anc_per_uL,hemoglobin_g_dL,crp_mg_dL,ferritin_ng_mL\n"
        "seven,50000,1000,8.5,4,2500\n",
        [
            {
                "id": "seven",
                "platelets_per_uL": 50000,
                "anc_per_uL": 1000,
                "hemoglobin_g_dL": 8.5,
                "crp_mg_dL": 4,
                "ferritin_ng_mL": 2500,
            }
        ],
        [{"status": "ok", "score": 7, "risk_group": "high"}],
    ),
    "ctcae": (
        # h: ANC 499 < 500 -> grade 4; ANC 1000 is not < 1000 -> grade 2.
        "id,term,value,unit,lln\n"
        "g4,neutrophil_count_decreased,499,cells/uL,2000\n"
        "g2,neutrophil_count_decreased,1000,cells/uL,2000\n",
        [
            {
                "id": "g4",
                "term": "neutrophil_count_decreased",
                "value": 499,
                "unit": "cells/uL",
                "lln": 2000,
            },
            {
                "id": "g2",
                "term": "neutrophil_count_decreased",
                "value": 1000,
                "unit": "cells/uL",
                "lln": 2000,
            },
        ],
        [{"status": "ok", "grade": 4, "criteria": "CTCAE 5.0"}, {"status": "ok", "grade": 2}],
    ),
    "kinetics": (
        # j: linear trapezoid 0-28: 100/2*7 + 150/2*7 + 60/2*14 = 1295; Cmax 100 on day 7.
        "id,times_days,levels,auc_method\nk,0;7;14;28,0;100;50;10,linear\n",
        [
            {
                "id": "k",
                "times_days": [0, 7, 14, 28],
                "levels": [0, 100, 50, 10],
                "auc_method": "linear",
            }
        ],
        [{"status": "ok", "cmax": 100.0, "tmax_day": 7.0, "auc_0_28": 1295.0, "tlast_day": 28.0}],
    ),
}


def _graded(rule: str, source: Path, out: Path) -> list[dict[str, object]]:
    assert main(["grade", rule, str(source), "-o", str(out)]) == 0
    return pl.read_parquet(out).to_dicts()


@pytest.mark.parametrize("rule", list(CASES))
def test_every_format_grades_the_reference_cases_the_same(rule: str, tmp_path: Path) -> None:
    csv_text, records, expected = CASES[rule]
    (tmp_path / "in.csv").write_text(csv_text)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    pl.DataFrame(records).write_parquet(tmp_path / "in.parquet")

    from_csv = _graded(rule, tmp_path / "in.csv", tmp_path / "csv.parquet")
    assert len(from_csv) == len(expected)
    for row, wanted in zip(from_csv, expected, strict=True):
        assert list(row)[:2] == ["id", "status"] and list(row)[-1] == "criteria"
        for key, value in wanted.items():
            assert row[key] == value, f"{rule} {row['id']}: {key}={row[key]!r}, expected {value!r}"
    assert _graded(rule, tmp_path / "in.jsonl", tmp_path / "jsonl.parquet") == from_csv
    assert _graded(rule, tmp_path / "in.parquet", tmp_path / "pq.parquet") == from_csv


def test_csv_output_of_a_real_rule_round_trips(tmp_path: Path) -> None:
    csv_text, _, _ = CASES["crs"]
    (tmp_path / "in.csv").write_text(csv_text)
    for out_format in ("csv", "jsonl"):
        out = tmp_path / f"out.{out_format}"
        assert main(["grade", "crs", str(tmp_path / "in.csv"), "-o", str(out)]) == 0
    as_csv = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    as_jsonl = pl.read_ndjson(tmp_path / "out.jsonl")
    assert as_csv["reasons"].to_list() == [
        ";".join(reasons) or None for reasons in as_jsonl["reasons"].to_list()
    ]
    assert as_csv["grade"].to_list() == ["3", "0", None]
