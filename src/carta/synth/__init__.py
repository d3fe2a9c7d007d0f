"""Seeded synthetic CAR-T networks: centers, patients, infusions, day-by-day observations,
treatments, responses, outcomes and follow-up visits - every row marked ``synthetic``.

The day-by-day observations carry every CRS and ICANS input of Appendix A, with the column
names and dtypes of :data:`carta.analytics.rules.crs.INPUT_SCHEMA` and
:data:`carta.analytics.rules.icans.INPUT_SCHEMA`, and are built so that carta's own graders
give each product's published CRS and ICANS rates (the product table of the reference).
Column names and meanings: ``docs/synth.md``.

>>> network = generate_network(200, seed=1)
>>> network.patients.height
200
"""

from __future__ import annotations

from carta.synth.calibration import DISEASE_SHARES, DISEASES, Target, all_targets, target
from carta.synth.centers import CENTERS, CenterSpec
from carta.synth.network import (
    BLOCK_SIZE,
    DEFAULT_CUTOFF,
    TABLES,
    SyntheticNetwork,
    generate_network,
    generate_parquet,
    iter_network,
    read_parquet,
    write_parquet,
)

__all__ = [
    "BLOCK_SIZE",
    "CENTERS",
    "DEFAULT_CUTOFF",
    "DISEASES",
    "DISEASE_SHARES",
    "TABLES",
    "CenterSpec",
    "SyntheticNetwork",
    "Target",
    "all_targets",
    "generate_network",
    "generate_parquet",
    "iter_network",
    "read_parquet",
    "target",
    "write_parquet",
]
