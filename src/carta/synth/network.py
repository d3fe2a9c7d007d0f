"""Assemble a synthetic network, block by block, and write it to Parquet.

Patients are generated in blocks of :data:`BLOCK_SIZE`; block ``b`` draws every number from
``numpy.random.default_rng([seed, b])``, so the output depends only on ``seed``,
``n_patients`` and the options, never on how the blocks are grouped into chunks for writing.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from carta.clinical.products import PRODUCTS
from carta.synth.calibration import DISEASES
from carta.synth.centers import CENTERS, REGIONS, CenterSpec, centers_frame
from carta.synth.cohort import (
    LD_DAYS,
    LD_START_DAY,
    PRODUCT_CODES,
    SEXES,
    SUBTYPE_WORDS,
    Cohort,
    draw_cohort,
)
from carta.synth.columns import enum_series, series
from carta.synth.days import generate_days
from carta.synth.outcomes import generate_outcomes

BLOCK_SIZE = 16_384
DEFAULT_CUTOFF = date(2025, 11, 30)
GENERATOR_VERSION = "carta.synth 1"
PARQUET_ZSTD_LEVEL = 1  # fast; level 3 saves ~5 % space for ~30 % more time
TABLES = (
    "centers",
    "patients",
    "infusions",
    "patient_days",
    "treatments",
    "responses",
    "outcomes",
    "follow_ups",
)


@dataclass(frozen=True, slots=True)
class SyntheticNetwork:
    """The tables of a synthetic CAR-T network (every row has ``synthetic = true``)."""

    centers: pl.DataFrame
    patients: pl.DataFrame
    infusions: pl.DataFrame
    patient_days: pl.DataFrame
    treatments: pl.DataFrame
    responses: pl.DataFrame
    outcomes: pl.DataFrame
    follow_ups: pl.DataFrame

    def tables(self) -> dict[str, pl.DataFrame]:
        """Table name -> frame, in :data:`TABLES` order."""
        return {item.name: getattr(self, item.name) for item in fields(self)}


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype(np.int32)).cast(pl.Date)


def _patients(cohort: Cohort, centers: tuple[CenterSpec, ...]) -> pl.DataFrame:
    center_ids = [c.center_id for c in centers]
    codes = np.array([c.code for c in centers])
    year = (
        cohort.infusion_day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    )
    consent = cohort.infusion_day - cohort.vein_to_vein - cohort.consent_lead
    frame = pl.DataFrame(
        [
            pl.Series("patient_id", cohort.patient_id),
            enum_series("center_id", cohort.center, center_ids),
            pl.Series("_code", codes[cohort.center]),
            enum_series("sex", cohort.male.astype(np.int64), SEXES),
            pl.Series("birth_year", (year - np.floor(cohort.age)).astype(np.int16)),
            pl.Series("age_at_infusion_years", cohort.age),
            pl.Series("weight_kg", cohort.weight_kg),
            pl.Series("height_cm", cohort.height_cm),
            pl.Series("bsa_m2", np.round(cohort.bsa_m2, 3)),
            enum_series("disease", cohort.disease, [d.value for d in DISEASES]),
            enum_series("disease_subtype", cohort.subtype, SUBTYPE_WORDS),
            pl.Series("prior_lines", cohort.prior_lines.astype(np.int8)),
            pl.Series("prior_transplant", cohort.prior_transplant),
            _dates(consent).alias("consent_date"),
        ]
    )
    registry_id = pl.format(
        "{}-{}", pl.col("_code"), pl.col("patient_id").cast(pl.String).str.zfill(7)
    )
    return (
        frame.with_columns(registry_id.alias("registry_id"))
        .select(
            "patient_id",
            "center_id",
            "registry_id",
            pl.exclude("patient_id", "center_id", "registry_id", "_code"),
        )
        .with_columns(pl.lit(True).alias("synthetic"))
    )


def _infusions(cohort: Cohort, centers: tuple[CenterSpec, ...]) -> pl.DataFrame:
    center_ids = [c.center_id for c in centers]
    single = cohort.second_day < 0
    ld_total = cohort.bsa_m2 * LD_DAYS
    frame = pl.DataFrame(
        [
            pl.Series("patient_id", cohort.patient_id),
            enum_series("center_id", cohort.center, center_ids),
            enum_series("product_code", cohort.product, PRODUCT_CODES),
            enum_series("product_name", cohort.product, [p.name for p in PRODUCTS]),
            enum_series("disease", cohort.disease, [d.value for d in DISEASES]),
            enum_series("region", cohort.region, [r.value for r in REGIONS]),
            pl.Series("approved_in_region", cohort.approved_in_region),
            _dates(cohort.infusion_day - cohort.vein_to_vein).alias("apheresis_date"),
            pl.Series("bridging_therapy", cohort.bridging),
            _dates(cohort.infusion_day + LD_START_DAY).alias("ld_start_date"),
            pl.Series("ld_fludarabine_mg_m2_day", cohort.ld_flu),
            pl.Series("ld_fludarabine_days", np.full(cohort.size, LD_DAYS, dtype=np.int8)),
            pl.Series("ld_fludarabine_total_mg", np.round(cohort.ld_flu * ld_total, 0)),
            pl.Series("ld_cyclophosphamide_mg_m2_day", cohort.ld_cy),
            pl.Series("ld_cyclophosphamide_days", np.full(cohort.size, LD_DAYS, dtype=np.int8)),
            pl.Series("ld_cyclophosphamide_total_mg", np.round(cohort.ld_cy * ld_total, 0)),
            _dates(cohort.infusion_day).alias("infusion_date"),
            pl.Series("vein_to_vein_days", cohort.vein_to_vein.astype(np.int16)),
            pl.Series("weight_kg", cohort.weight_kg),
            pl.Series("total_cells", cohort.total_cells),
            pl.Series("cells_per_kg", np.round(cohort.total_cells / cohort.weight_kg, 0)),
            pl.Series("infusion_count", np.where(single, 1, 2).astype(np.int8)),
            pl.Series("first_infusion_cells", cohort.first_cells),
            series("second_infusion_day", cohort.second_day, pl.Int16, single),
            series("second_infusion_cells", np.nan_to_num(cohort.second_cells), pl.Float64, single),
            series("marrow_blasts_over_20_percent", cohort.blasts_high, pl.Boolean, single),
        ]
    )
    coi = pl.format(
        "COI-{}-{}",
        pl.col("product_code").cast(pl.String).str.to_uppercase(),
        pl.col("patient_id").cast(pl.String).str.zfill(7),
    )
    return frame.with_columns(coi.alias("chain_of_identity"), pl.lit(True).alias("synthetic"))


def _block(
    seed: int, block: int, size: int, centers: tuple[CenterSpec, ...], cutoff: date
) -> SyntheticNetwork:
    rng = np.random.default_rng([seed, block])
    cohort = draw_cohort(rng, block * BLOCK_SIZE + 1, size, centers, cutoff)
    days = generate_days(rng, cohort)
    outcomes = generate_outcomes(rng, cohort, days, cutoff)
    return SyntheticNetwork(
        centers=centers_frame(centers),
        patients=_patients(cohort, centers),
        infusions=_infusions(cohort, centers),
        patient_days=days.patient_days,
        treatments=days.treatments,
        responses=outcomes.responses,
        outcomes=outcomes.outcomes,
        follow_ups=outcomes.follow_ups,
    )


def _concat(parts: list[SyntheticNetwork]) -> SyntheticNetwork:
    first = parts[0]
    return SyntheticNetwork(
        centers=first.centers,
        **{
            name: pl.concat([getattr(part, name) for part in parts], rechunk=True)
            for name in TABLES
            if name != "centers"
        },
    )


def _check(n_patients: int, centers: tuple[CenterSpec, ...]) -> None:
    if n_patients < 1:
        raise ValueError(f"n_patients must be at least 1, got {n_patients}")
    if not centers or sum(c.share for c in centers) <= 0:
        raise ValueError("centers: at least one center with a positive share is needed")


def _chunks(n_patients: int, chunk_patients: int) -> list[list[tuple[int, int]]]:
    """Chunks of whole blocks: each a list of (block index, block size)."""
    blocks_per_chunk = max(1, chunk_patients // BLOCK_SIZE)
    n_blocks = -(-n_patients // BLOCK_SIZE)
    return [
        [
            (block, min(BLOCK_SIZE, n_patients - block * BLOCK_SIZE))
            for block in range(start, min(start + blocks_per_chunk, n_blocks))
        ]
        for start in range(0, n_blocks, blocks_per_chunk)
    ]


def _chunk(
    seed: int, blocks: list[tuple[int, int]], centers: tuple[CenterSpec, ...], cutoff: date
) -> SyntheticNetwork:
    return _concat([_block(seed, block, size, centers, cutoff) for block, size in blocks])


def iter_network(
    n_patients: int,
    seed: int = 0,
    *,
    chunk_patients: int = 8 * BLOCK_SIZE,
    data_cutoff: date = DEFAULT_CUTOFF,
    centers: tuple[CenterSpec, ...] = CENTERS,
) -> Iterator[SyntheticNetwork]:
    """The network in chunks of about ``chunk_patients`` patients (whole blocks), in order."""
    _check(n_patients, centers)
    for blocks in _chunks(n_patients, chunk_patients):
        yield _chunk(seed, blocks, centers, data_cutoff)


def generate_network(
    n_patients: int,
    seed: int = 0,
    *,
    data_cutoff: date = DEFAULT_CUTOFF,
    centers: tuple[CenterSpec, ...] = CENTERS,
) -> SyntheticNetwork:
    """A whole synthetic network in memory (for up to a few hundred thousand patients)."""
    return _concat(
        list(
            iter_network(
                n_patients,
                seed,
                chunk_patients=n_patients,
                data_cutoff=data_cutoff,
                centers=centers,
            )
        )
    )


def _write_chunk(
    network: SyntheticNetwork, folder: Path, part: int, counts: dict[str, int]
) -> None:
    for name, frame in network.tables().items():
        if name == "centers" and part > 0:
            continue
        table = folder / name
        table.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(
            table / f"part-{part:05d}.parquet",
            compression="zstd",
            compression_level=PARQUET_ZSTD_LEVEL,
            statistics=True,
        )
        counts[name] = counts.get(name, 0) + frame.height


def _manifest(folder: Path, counts: dict[str, int], extra: dict[str, object]) -> None:
    manifest = {
        "generator": GENERATOR_VERSION,
        "synthetic": True,
        "tables": {
            name: {"rows": counts.get(name, 0), "files": f"{name}/part-*.parquet"}
            for name in TABLES
        },
        **extra,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")


def write_parquet(network: SyntheticNetwork, folder: str | Path) -> dict[str, int]:
    """Write every table to ``folder/<table>/part-00000.parquet``; returns row counts."""
    target = Path(folder)
    counts: dict[str, int] = {}
    _write_chunk(network, target, 0, counts)
    _manifest(target, counts, {"n_patients": network.patients.height})
    return counts


def _generate_and_write(
    seed: int,
    part: int,
    blocks: list[tuple[int, int]],
    centers: tuple[CenterSpec, ...],
    cutoff: date,
    folder: Path,
) -> dict[str, int]:
    counts: dict[str, int] = {}
    _write_chunk(_chunk(seed, blocks, centers, cutoff), folder, part, counts)
    return counts


def generate_parquet(
    n_patients: int,
    folder: str | Path,
    seed: int = 0,
    *,
    chunk_patients: int = 4 * BLOCK_SIZE,
    workers: int = 1,
    data_cutoff: date = DEFAULT_CUTOFF,
    centers: tuple[CenterSpec, ...] = CENTERS,
) -> dict[str, int]:
    """Generate and write a network chunk by chunk (bounded memory); returns row counts.

    With ``workers`` > 1, chunks are generated and written by that many processes (started
    with ``spawn``, so a calling script needs the usual ``if __name__ == "__main__":`` guard);
    the files are identical to a single-process run.
    """
    _check(n_patients, centers)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    jobs = list(enumerate(_chunks(n_patients, chunk_patients)))
    counts: dict[str, int] = {}
    if workers <= 1:
        results = [
            _generate_and_write(seed, part, blocks, centers, data_cutoff, target)
            for part, blocks in jobs
        ]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(_generate_and_write, seed, part, blocks, centers, data_cutoff, target)
                for part, blocks in jobs
            ]
            results = [future.result() for future in futures]
    for result in results:
        for name, rows in result.items():
            counts[name] = counts.get(name, 0) + rows
    _manifest(
        target,
        counts,
        {"n_patients": n_patients, "seed": seed, "data_cutoff": data_cutoff.isoformat()},
    )
    return counts


def read_parquet(folder: str | Path) -> SyntheticNetwork:
    """Read a network written by :func:`write_parquet` or :func:`generate_parquet`."""
    source = Path(folder)
    return SyntheticNetwork(
        **{name: pl.read_parquet(source / name / "*.parquet") for name in TABLES}
    )
