"""The synthetic hospitals of the demo network: five in China, one in Germany, one in the US.

Every name is invented and says "Demo ... (synthetic)"; any likeness to a real hospital is
unintended.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from carta.clinical.products import Region


@dataclass(frozen=True, slots=True)
class CenterSpec:
    """A synthetic center: identifiers, names in English and Chinese, location, patient share."""

    center_id: str
    code: str
    name: str
    name_zh: str
    city: str
    country: str
    region: Region
    share: float


CENTERS: tuple[CenterSpec, ...] = (
    CenterSpec(
        "C01",
        "BJ",
        "Beijing Demo Hematology Hospital (synthetic)",
        "北京示范血液病医院（合成数据）",
        "Beijing",
        "CN",
        Region.CN,
        0.22,
    ),
    CenterSpec(
        "C02",
        "SH",
        "Shanghai Demo Cancer Center (synthetic)",
        "上海示范肿瘤中心（合成数据）",
        "Shanghai",
        "CN",
        Region.CN,
        0.20,
    ),
    CenterSpec(
        "C03",
        "GZ",
        "Guangzhou Demo University Hospital (synthetic)",
        "广州示范大学附属医院（合成数据）",
        "Guangzhou",
        "CN",
        Region.CN,
        0.14,
    ),
    CenterSpec(
        "C04",
        "WH",
        "Wuhan Demo Cell Therapy Center (synthetic)",
        "武汉示范细胞治疗中心（合成数据）",
        "Wuhan",
        "CN",
        Region.CN,
        0.12,
    ),
    CenterSpec(
        "C05",
        "CD",
        "Chengdu Demo Hospital (synthetic)",
        "成都示范医院（合成数据）",
        "Chengdu",
        "CN",
        Region.CN,
        0.10,
    ),
    CenterSpec(
        "C06",
        "HH",
        "Hamburg Demo University Medical Center (synthetic)",
        "汉堡示范大学医学中心（合成数据）",
        "Hamburg",
        "DE",
        Region.EU,
        0.12,
    ),
    CenterSpec(
        "C07",
        "BO",
        "Boston Demo Cancer Institute (synthetic)",
        "波士顿示范癌症研究所（合成数据）",
        "Boston",
        "US",
        Region.US,
        0.10,
    ),
)

REGIONS: tuple[Region, ...] = tuple(Region)


def centers_frame(centers: tuple[CenterSpec, ...]) -> pl.DataFrame:
    """The ``centers`` table."""
    return pl.DataFrame(
        {
            "center_id": [c.center_id for c in centers],
            "code": [c.code for c in centers],
            "name": [c.name for c in centers],
            "name_zh": [c.name_zh for c in centers],
            "city": [c.city for c in centers],
            "country": [c.country for c in centers],
            "region": pl.Series(
                [c.region.value for c in centers], dtype=pl.Enum([r.value for r in Region])
            ),
            "synthetic": [True] * len(centers),
        }
    )
