"""The canonical forecast frame of a synthetic network (:mod:`carta.synth`), for tests and demos.

``forecast_frame(generate_network(300, seed=1))`` joins the network's patient-days with each
patient's disease and product and with the day's tocilizumab and corticosteroid rows. In the
synthetic network every treatment given has a row, so a day without one is "not given"
(``False``), not unknown. The network has no WBC or procalcitonin: those columns are null and
the forecast lists them as missing inputs.
"""

from __future__ import annotations

from typing import Protocol

import polars as pl

from carta.analytics.forecast import columns as c
from carta.analytics.forecast.canonical import conform

TOCILIZUMAB_AGENT = "tocilizumab"
CORTICOSTEROID_AGENT = "corticosteroid"


class NetworkTables(Protocol):
    """The tables of :class:`carta.synth.SyntheticNetwork` that the forecast reads."""

    @property
    def patients(self) -> pl.DataFrame: ...

    @property
    def infusions(self) -> pl.DataFrame: ...

    @property
    def patient_days(self) -> pl.DataFrame: ...

    @property
    def treatments(self) -> pl.DataFrame: ...


def forecast_frame(network: NetworkTables) -> pl.DataFrame:
    """One canonical row per synthetic patient-day."""
    days = network.patient_days.select(
        c.PATIENT_ID,
        pl.col(c.DAY).cast(pl.Int64),
        c.TEMPERATURE_C,
        c.CRP_MG_DL,
        c.FERRITIN_NG_ML,
        c.IL6_PG_ML,
        c.RECORDED_ICANS_GRADE,
        c.RECORDED_CRS_GRADE,
        c.AGE_YEARS,
    )
    patients = network.patients.select(c.PATIENT_ID, pl.col(c.DISEASE).cast(pl.String))
    products = network.infusions.select(c.PATIENT_ID, pl.col(c.PRODUCT_CODE).cast(pl.String))
    given = (
        network.treatments.select(
            c.PATIENT_ID,
            pl.col(c.DAY).cast(pl.Int64),
            (pl.col("agent").cast(pl.String) == TOCILIZUMAB_AGENT).alias(c.TOCILIZUMAB_GIVEN),
            (pl.col("agent").cast(pl.String) == CORTICOSTEROID_AGENT).alias(c.CORTICOSTEROID_GIVEN),
        )
        .group_by(c.PATIENT_ID, c.DAY)
        .agg(pl.col(c.TOCILIZUMAB_GIVEN).any(), pl.col(c.CORTICOSTEROID_GIVEN).any())
    )
    frame = (
        days.join(patients, on=c.PATIENT_ID, how="left")
        .join(products, on=c.PATIENT_ID, how="left")
        .join(given, on=[c.PATIENT_ID, c.DAY], how="left")
        .with_columns(pl.col(name).fill_null(False) for name in c.THERAPIES)
        .with_columns(pl.col(c.PATIENT_ID).cast(pl.String))
        .sort(c.PATIENT_ID, c.DAY)
    )
    return conform(frame)
