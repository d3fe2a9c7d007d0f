"""Seeded synthetic patient-days with the CRS and ICANS inputs, for the grading benchmarks.

A realistic mix: most days afebrile and without support; a few febrile days, fluids,
vasopressors, oxygen by each device; ICE from a score on most adult days and from items on
some; CAPD items for children; a sprinkling of unknown (null) values.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from carta.clinical import vocabulary as v


def _enum(rng: np.random.Generator, words: tuple[str, ...], p: list[float], n: int) -> pl.Series:
    """A polars Enum series drawn with probabilities ``p`` (built from codes, not strings)."""
    codes = rng.choice(len(words), size=n, p=np.asarray(p) / np.sum(p)).astype(np.uint32)
    return _codes_to_enum(codes, words)


def _codes_to_enum(codes: np.ndarray, words: tuple[str, ...]) -> pl.Series:
    return pl.Series(codes).replace_strict(
        list(range(len(words))), list(words), return_dtype=pl.Enum(list(words))
    )


def _with_nulls(series: pl.Series, rng: np.random.Generator, fraction: float) -> pl.Series:
    mask = pl.Series(rng.random(len(series)) < fraction)
    return pl.select(pl.when(mask).then(None).otherwise(series)).to_series().alias(series.name)


def _masked(values: np.ndarray, keep: np.ndarray) -> pl.Series:
    """Integer series, null where ``keep`` is false."""
    return pl.select(pl.when(pl.Series(keep)).then(pl.Series(values.astype(np.int64)))).to_series()


def _bool(rng: np.random.Generator, p_true: float, n: int, p_null: float = 0.0) -> pl.Series:
    return _with_nulls(pl.Series(rng.random(n) < p_true), rng, p_null)


def crs_columns(rng: np.random.Generator, n: int) -> dict[str, pl.Series]:
    """The CRS inputs (Appendix A), vasopressors as one flag column per agent."""
    temperature = np.round(rng.normal(37.3, 0.75, n), 1)
    hypotension = _enum(rng, v.HYPOTENSION, [0.93, 0.07], n)
    pressor_draw = rng.random(n)
    on_pressors = (hypotension.to_physical().to_numpy() == 1) & (pressor_draw < 0.5)
    agents = {agent: pl.Series(np.zeros(n, dtype=bool)) for agent in v.VASOPRESSORS}
    agents["norepinephrine"] = pl.Series(on_pressors)
    agents["vasopressin"] = pl.Series(on_pressors & (rng.random(n) < 0.15))
    agents["epinephrine"] = pl.Series(on_pressors & (rng.random(n) < 0.1))
    columns = {
        "temperature_c": _with_nulls(pl.Series(temperature), rng, 0.03),
        "fever_attributable_to_other_cause": _bool(rng, 0.02, n, 0.01),
        "crs_previously_diagnosed": _bool(rng, 0.2, n, 0.01),
        "antipyretic_or_anticytokine_given": _bool(rng, 0.1, n, 0.01),
        "hypotension": _with_nulls(hypotension, rng, 0.02),
        "hypotension_attributable_to_other_cause": _bool(rng, 0.01, n, 0.01),
        "oxygen_device": _with_nulls(
            _enum(rng, v.OXYGEN_DEVICES, [93, 4, 0.3, 1, 0.5, 0.3, 0.2, 0.3, 0.2, 0.2], n),
            rng,
            0.02,
        ),
        "oxygen_flow_l_min": _with_nulls(
            pl.Series(np.round(rng.uniform(0.5, 10, n), 1)), rng, 0.05
        ),
        "hypoxia_attributable_to_other_cause": _bool(rng, 0.01, n, 0.01),
        "died_due_to_crs": _bool(rng, 0.0005, n),
    }
    columns.update({f"vasopressors.{agent}": series for agent, series in agents.items()})
    return columns


def icans_columns(rng: np.random.Generator, n: int) -> dict[str, pl.Series]:
    """The ICANS inputs (Appendix A): ICE score or items for adults, CAPD items for children."""
    age = rng.integers(2, 85, n)
    child = age < 12
    from_items = rng.random(n) < 0.2
    ice_score = np.clip(10 - rng.poisson(0.4, n), 0, 10)
    columns: dict[str, pl.Series] = {
        "age_years": pl.Series(age.astype(float)),
        "developmental_delay": _bool(rng, 0.01, n),
        "tool": _codes_to_enum(child.astype(np.uint32), v.ICANS_TOOLS),
        "ice_score": _masked(ice_score, ~(child | from_items)),
        "consciousness": _with_nulls(
            _enum(rng, v.CONSCIOUSNESS, [96, 2, 1, 0.6, 0.4], n), rng, 0.02
        ),
        "consciousness_attributable_to_other_cause": _bool(rng, 0.01, n, 0.01),
        "seizure": _with_nulls(_enum(rng, v.SEIZURE, [99.5, 0.4, 0.1], n), rng, 0.02),
        "motor": _with_nulls(_enum(rng, v.MOTOR, [98, 1.8, 0.2], n), rng, 0.02),
        "icp_edema": _with_nulls(_enum(rng, v.ICP_EDEMA, [99.6, 0.2, 0.1, 0.1], n), rng, 0.02),
        "died_due_to_icans": _bool(rng, 0.0002, n),
    }
    adult_items = (~child) & from_items
    for item in v.ICE_ITEMS:
        top = 3 if item == "naming_objects_correct" else 1
        values = np.where(rng.random(n) < 0.95, top, rng.integers(0, top + 1, n))
        columns[f"ice_items.{item}"] = _masked(values, adult_items)
    for item in v.CAPD_ITEMS:
        codes = rng.choice(5, size=n, p=[0.5, 0.25, 0.15, 0.07, 0.03]).astype(np.uint32)
        series = _codes_to_enum(codes, v.CAPD_FREQUENCIES)
        columns[f"capd_items.{item}"] = pl.select(
            pl.when(pl.Series(child)).then(series)
        ).to_series()
    return columns


def patient_days(n: int, seed: int = 2026) -> pl.DataFrame:
    """``n`` synthetic patient-days with every CRS and ICANS input column."""
    rng = np.random.default_rng(seed)
    columns = crs_columns(rng, n) | icans_columns(rng, n)
    return pl.DataFrame({name: series.alias(name) for name, series in columns.items()})
