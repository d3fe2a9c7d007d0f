"""The source documents the rules implement, cited by each rule's :class:`Criteria`."""

from __future__ import annotations

from carta.clinical.results import Criteria

ASTCT_CRS = Criteria(
    name="ASTCT CRS",
    version="2019",
    citation="Lee DW et al. Biol Blood Marrow Transplant 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758",
)
ASTCT_ICANS = Criteria(
    name="ASTCT ICANS",
    version="2019",
    citation="Lee DW et al. Biol Blood Marrow Transplant 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758",
)
ICE = Criteria(name="ICE", version="2019", citation=ASTCT_ICANS.citation)
CAPD = Criteria(
    name="CAPD",
    version="2014",
    citation="Traube C et al. Crit Care Med 2014;42(3):656-663. doi:10.1097/CCM.0b013e3182a66b76",
)
ICAHT = Criteria(
    name="EHA/EBMT ICAHT",
    version="2023",
    citation="Rejeski K et al. Blood 2023;142(10):865-877. doi:10.1182/blood.2023020578",
)
CAR_HEMATOTOX = Criteria(
    name="CAR-HEMATOTOX",
    version="2021",
    citation="Rejeski K et al. Blood 2021;138(24):2499-2513. doi:10.1182/blood.2020010543",
)
EASIX = Criteria(
    name="EASIX",
    version="2017",
    citation=(
        "Luft T et al. Lancet Haematol 2017;4(9):e414-e423. doi:10.1016/S2352-3026(17)30108-4; "
        "Korell F et al. Front Immunol 2022;13:877477. doi:10.3389/fimmu.2022.877477"
    ),
)
M_EASIX = Criteria(
    name="m-EASIX",
    version="2021",
    citation="Pennisi M et al. Blood Adv 2021;5(17):3397-3406. doi:10.1182/bloodadvances.2020003885",
)
CTCAE = Criteria(
    name="CTCAE",
    version="5.0",
    citation="U.S. DHHS/NCI. Common Terminology Criteria for Adverse Events v5.0, 27 Nov 2017",
)
KINETICS = Criteria(
    name="CAR-T cellular kinetics",
    version="carta-1",
    citation=(
        "Awasthi R et al. Blood Adv 2020;4(3):560-572; "
        "carta reference section j (computation rules are a software convention)"
    ),
)
