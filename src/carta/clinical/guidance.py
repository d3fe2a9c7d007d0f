"""Management that consensus guidelines tie to each CRS and ICANS grade - reference text only.

Beside a computed grade the registry can show what the published consensus recommends for it:
the tocilizumab and corticosteroid steps for CRS and ICANS (ASTCT 2019 grades), in English and
Simplified Chinese, each step with its sources. This module is pure data (standard library
only): it decides nothing, and :data:`NOTICE` must be shown with it.

The text restates, in our own words, recommendations on which the cited guidelines agree
(ASCO 2021 and EBMT/JACIE/EHA 2022; the tocilizumab dose limits are those of the tocilizumab
label for CAR T-cell CRS). Where the guidelines differ - how early to give tocilizumab for
grade 1 CRS, the corticosteroid threshold for grade 2 ICANS, the grade 4 methylprednisolone
schedule - the step says so rather than choosing. The NCCN guideline (Management of
Immunotherapy-Related Toxicities) follows the same grade-based approach; its current text is
behind registration and was not quoted, so no step rests on it alone. Adult doses unless stated;
product labels and institutional protocols take precedence (ADR 0420).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

CATALOGUE_VERSION = "carta-guidance-1 (2026-11-27)"
ENGLISH = "en"
SIMPLIFIED_CHINESE = "zh-Hans"
LANGUAGES: tuple[str, ...] = (ENGLISH, SIMPLIFIED_CHINESE)
MIN_GRADE = 1
MAX_GRADE = 4


class Syndrome(StrEnum):
    """The graded syndromes that have management guidance."""

    CRS = "crs"
    ICANS = "icans"


@dataclass(frozen=True, slots=True)
class Text:
    """One text in every supported language."""

    en: str
    zh_hans: str

    def in_language(self, language: str) -> str:
        """The text in ``language`` (``en`` or ``zh-Hans``); ``ValueError`` for others."""
        if language == ENGLISH:
            return self.en
        if language == SIMPLIFIED_CHINESE:
            return self.zh_hans
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")


@dataclass(frozen=True, slots=True)
class Source:
    """A cited guideline."""

    key: str
    citation: str
    link: str


@dataclass(frozen=True, slots=True)
class Step:
    """One management step and the sources it restates."""

    text: Text
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GradeGuidance:
    """What the consensus ties to one grade of one syndrome."""

    syndrome: Syndrome
    grade: int
    definition: Text
    steps: tuple[Step, ...]

    @property
    def sources(self) -> tuple[Source, ...]:
        """Every source cited by a step, in first-citation order."""
        keys = dict.fromkeys(key for step in self.steps for key in step.sources)
        return tuple(SOURCES[key] for key in keys)

    def lines(self, language: str) -> list[str]:
        """Heading, definition, numbered steps with source keys, notice - for plain display."""
        heading = Text(
            f"{self.syndrome.value.upper()} grade {self.grade}",
            f"{self.syndrome.value.upper()} {self.grade} 级",
        )
        lines = [
            f"{heading.in_language(language)} - {LABEL.in_language(language)}",
            self.definition.in_language(language),
        ]
        lines.extend(
            f"{number}. {step.text.in_language(language)} [{', '.join(step.sources)}]"
            for number, step in enumerate(self.steps, start=1)
        )
        lines.append(NOTICE.in_language(language))
        return lines


LABEL = Text("reference information", "参考信息")
NOTICE = Text(
    "Reference information summarising published consensus guidelines; not a prescription or "
    "an order. Doses are for adults unless stated. Product labels, institutional protocols and "
    "the treating team's judgement take precedence.",
    "参考信息：摘要自已发表的共识指南，不构成处方或医嘱。除另有说明外均为成人剂量。"
    "应以产品说明书、本机构诊疗规范及主治团队的临床判断为准。",
)

ASTCT = "ASTCT 2019"
ASCO = "ASCO 2021"
EBMT = "EBMT/JACIE/EHA 2022"
TOCILIZUMAB_LABEL = "tocilizumab label"
NCCN = "NCCN"

SOURCES: Mapping[str, Source] = {
    ASTCT: Source(
        ASTCT,
        "Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release "
        "syndrome and neurologic toxicity associated with immune effector cells. Biol Blood "
        "Marrow Transplant 2019;25(4):625-638.",
        "https://doi.org/10.1016/j.bbmt.2018.12.758",
    ),
    ASCO: Source(
        ASCO,
        "Santomasso BD, Nastoupil LJ, Adkins S, et al. Management of immune-related adverse "
        "events in patients treated with chimeric antigen receptor T-cell therapy: ASCO "
        "guideline. J Clin Oncol 2021;39(35):3978-3992.",
        "https://doi.org/10.1200/JCO.21.01992",
    ),
    EBMT: Source(
        EBMT,
        "Hayden PJ, Roddie C, Bader P, et al. Management of adults and children receiving CAR "
        "T-cell therapy: 2021 best practice recommendations of the EBMT, JACIE and EHA. Ann "
        "Oncol 2022;33(3):259-275.",
        "https://doi.org/10.1016/j.annonc.2021.12.003",
    ),
    TOCILIZUMAB_LABEL: Source(
        TOCILIZUMAB_LABEL,
        "Tocilizumab (Actemra/RoActemra) prescribing information: CAR T cell-induced cytokine "
        "release syndrome (8 mg/kg, 12 mg/kg below 30 kg, at most 800 mg per infusion; up to 3 "
        "further doses at least 8 hours apart).",
        "https://www.gene.com/download/pdf/actemra_prescribing.pdf",
    ),
    NCCN: Source(
        NCCN,
        "NCCN Clinical Practice Guidelines in Oncology: Management of Immunotherapy-Related "
        "Toxicities (CAR T-cell-related toxicities) - consult the current version.",
        "https://www.nccn.org/guidelines",
    ),
}

# --- shared steps --------------------------------------------------------------------------------

_TOCILIZUMAB_DOSE = Step(
    Text(
        "Tocilizumab 8 mg/kg IV over 1 hour (12 mg/kg if under 30 kg), at most 800 mg per dose; "
        "repeat after 8 hours if there is no improvement - no more than 3 doses in 24 hours and "
        "4 in total.",
        "托珠单抗 8 mg/kg 静脉滴注 1 小时（体重 < 30 kg 者 12 mg/kg），单次不超过 800 mg；"
        "若无改善，8 小时后可重复给药，24 小时内不超过 3 次，总量不超过 4 次。",
    ),
    (ASCO, EBMT, TOCILIZUMAB_LABEL),
)
_INFECTION = Step(
    Text(
        "Look for and treat infection (cultures; empirical broad-spectrum antibiotics if "
        "neutropenic); give antipyretics (paracetamol/acetaminophen) and IV fluids as needed.",
        "排查并治疗感染（送检培养；中性粒细胞减少者经验性使用广谱抗生素）；"
        "按需给予退热药（对乙酰氨基酚）和静脉补液。",
    ),
    (ASCO, EBMT),
)
_ICU = Step(
    Text(
        "Manage in intensive care, with vasopressors and oxygen as needed and cardiac "
        "assessment (echocardiography).",
        "转入重症监护病房管理，按需使用血管活性药物和氧疗，并评估心功能（超声心动图）。",
    ),
    (ASCO, EBMT),
)
_REFRACTORY_CRS = Step(
    Text(
        "If CRS does not respond to tocilizumab and corticosteroids, guidelines list further "
        "options by expert opinion (for example anakinra or siltuximab); involve senior and "
        "intensive-care colleagues.",
        "若 CRS 对托珠单抗和糖皮质激素无效，指南依据专家意见列出其他选择（如阿那白滞素或"
        "司妥昔单抗）；请上级医师及重症医学团队参与。",
    ),
    (ASCO, EBMT),
)
_ICANS_SUPPORT = Step(
    Text(
        "Supportive care: aspiration precautions, IV hydration, neurological checks including "
        "the ICE score at least twice a day; consider seizure prophylaxis (levetiracetam) for "
        "high-risk products or patients.",
        "支持治疗：防误吸、静脉补液，至少每日两次神经系统评估（包括 ICE 评分）；"
        "对高风险产品或患者考虑预防性抗癫痫治疗（左乙拉西坦）。",
    ),
    (ASCO, EBMT),
)
_NO_TOCILIZUMAB_WITHOUT_CRS = Step(
    Text(
        "Tocilizumab treats concurrent CRS only: without CRS it is not recommended for ICANS, "
        "and repeated doses call for caution in a patient with ICANS.",
        "托珠单抗仅用于同时存在的 CRS：无 CRS 时不推荐用于 ICANS；"
        "ICANS 患者重复使用托珠单抗需谨慎。",
    ),
    (ASCO, EBMT),
)
_NEURO_WORKUP = Step(
    Text(
        "Neurology consultation; brain imaging (MRI, or CT if MRI is not possible) and EEG; "
        "lumbar puncture when safe for grade 3 or more.",
        "请神经内科会诊；行脑影像学检查（MRI，不能完成时行 CT）及脑电图；"
        "3 级及以上在安全时行腰椎穿刺。",
    ),
    (ASCO, EBMT),
)

GUIDANCE: Mapping[tuple[Syndrome, int], GradeGuidance] = {
    (Syndrome.CRS, 1): GradeGuidance(
        Syndrome.CRS,
        1,
        Text(
            "Fever >= 38 degC without hypotension or hypoxia.",
            "发热 ≥ 38 °C，无低血压或低氧。",
        ),
        (
            _INFECTION,
            Step(
                Text(
                    "Consider tocilizumab when fever persists (for example beyond 3 days) or in "
                    "patients at high risk; guidelines differ on how early.",
                    "发热持续（如超过 3 天）或高风险患者可考虑托珠单抗；各指南对用药时机的建议不完全一致。",
                ),
                (ASCO, EBMT),
            ),
        ),
    ),
    (Syndrome.CRS, 2): GradeGuidance(
        Syndrome.CRS,
        2,
        Text(
            "Fever with hypotension not needing vasopressors and/or hypoxia needing low-flow "
            "oxygen (<= 6 L/min).",
            "发热伴低血压但无需血管活性药物，和/或低氧需低流量吸氧（≤ 6 L/min）。",
        ),
        (
            _TOCILIZUMAB_DOSE,
            Step(
                Text(
                    "IV fluid boluses for hypotension and supplemental oxygen; consider "
                    "intensive care if hypotension persists after fluids and tocilizumab.",
                    "低血压者静脉补液，低氧者给予氧疗；补液及托珠单抗后低血压仍持续时考虑转入重症监护病房。",
                ),
                (ASCO, EBMT),
            ),
            Step(
                Text(
                    "If there is no improvement after 1-2 doses of tocilizumab, add a "
                    "corticosteroid: dexamethasone 10 mg IV every 6-12 hours.",
                    "托珠单抗 1-2 次后无改善时加用糖皮质激素：地塞米松 10 mg 静脉注射，每 6-12 小时一次。",
                ),
                (ASCO, EBMT),
            ),
            _INFECTION,
        ),
    ),
    (Syndrome.CRS, 3): GradeGuidance(
        Syndrome.CRS,
        3,
        Text(
            "Fever with hypotension needing one vasopressor and/or hypoxia needing high-flow "
            "oxygen (> 6 L/min, face mask, non-rebreather or Venturi mask).",
            "发热伴需一种血管活性药物的低血压，和/或需高流量吸氧（> 6 L/min、面罩、"
            "非重复呼吸面罩或文丘里面罩）的低氧。",
        ),
        (
            _ICU,
            Step(
                Text(
                    "Tocilizumab as for grade 2 (if the maximum has not been reached) plus "
                    "dexamethasone 10 mg IV every 6 hours; taper rapidly once CRS improves.",
                    "托珠单抗用法同 2 级（未达最大次数时），并加用地塞米松 10 mg 静脉注射，每 6 小时一次；"
                    "CRS 改善后快速减量。",
                ),
                (ASCO, EBMT),
            ),
            Step(
                Text(
                    "If it does not improve, manage as grade 4.",
                    "若无改善，按 4 级处理。",
                ),
                (ASCO,),
            ),
        ),
    ),
    (Syndrome.CRS, 4): GradeGuidance(
        Syndrome.CRS,
        4,
        Text(
            "Fever with hypotension needing several vasopressors (excluding vasopressin) and/or "
            "hypoxia needing positive pressure (CPAP, BiPAP, intubation and ventilation).",
            "发热伴需多种血管活性药物（不含血管加压素）的低血压，和/或需正压通气"
            "（CPAP、BiPAP、气管插管机械通气）的低氧。",
        ),
        (
            _ICU,
            Step(
                Text(
                    "Tocilizumab as for grade 2 if the maximum has not been reached.",
                    "未达最大次数时，托珠单抗用法同 2 级。",
                ),
                (ASCO, EBMT),
            ),
            Step(
                Text(
                    "High-dose methylprednisolone, for example 1,000 mg IV a day for 3 days "
                    "(ASCO gives 500 mg every 12 hours for 3 days), then taper.",
                    "大剂量甲泼尼龙，如 1,000 mg/日静脉滴注共 3 天（ASCO 建议 500 mg 每 12 小时一次共 3 天），"
                    "随后减量。",
                ),
                (ASCO, EBMT),
            ),
            _REFRACTORY_CRS,
        ),
    ),
    (Syndrome.ICANS, 1): GradeGuidance(
        Syndrome.ICANS,
        1,
        Text(
            "ICE score 7-9 (adults), or awakens spontaneously.",
            "ICE 评分 7-9 分（成人），或可自行觉醒。",
        ),
        (
            _ICANS_SUPPORT,
            _NO_TOCILIZUMAB_WITHOUT_CRS,
        ),
    ),
    (Syndrome.ICANS, 2): GradeGuidance(
        Syndrome.ICANS,
        2,
        Text(
            "ICE score 3-6 (adults), or awakens to voice.",
            "ICE 评分 3-6 分（成人），或呼之可醒。",
        ),
        (
            _ICANS_SUPPORT,
            _NEURO_WORKUP,
            Step(
                Text(
                    "Corticosteroid: dexamethasone 10 mg IV, repeated every 6-12 hours until "
                    "improvement to grade 1, then taper (ASCO advises it at grade 2 for "
                    "high-risk products or patients; EBMT for grade 2 in general).",
                    "糖皮质激素：地塞米松 10 mg 静脉注射，每 6-12 小时重复，直至改善至 1 级后减量"
                    "（ASCO 建议 2 级时用于高风险产品或患者；EBMT 建议 2 级普遍使用）。",
                ),
                (ASCO, EBMT),
            ),
            _NO_TOCILIZUMAB_WITHOUT_CRS,
        ),
    ),
    (Syndrome.ICANS, 3): GradeGuidance(
        Syndrome.ICANS,
        3,
        Text(
            "ICE score 0-2 (adults), awakens only to touch, a seizure that resolves rapidly, "
            "or focal oedema on imaging.",
            "ICE 评分 0-2 分（成人），仅对触觉刺激觉醒，癫痫发作可迅速缓解，或影像学见局灶性水肿。",
        ),
        (
            Step(
                Text(
                    "Manage in intensive care.",
                    "转入重症监护病房管理。",
                ),
                (ASCO, EBMT),
            ),
            Step(
                Text(
                    "Dexamethasone 10 mg IV every 6-12 hours (some protocols 10-20 mg every 6 "
                    "hours), or methylprednisolone 1 mg/kg IV every 12 hours, until improvement "
                    "to grade 1, then taper.",
                    "地塞米松 10 mg 静脉注射，每 6-12 小时一次（部分方案为 10-20 mg 每 6 小时一次），"
                    "或甲泼尼龙 1 mg/kg 静脉滴注，每 12 小时一次，直至改善至 1 级后减量。",
                ),
                (ASCO, EBMT),
            ),
            Step(
                Text(
                    "Treat seizures with benzodiazepines and levetiracetam; EEG; repeat imaging "
                    "every 2-3 days while grade 3 or more persists.",
                    "癫痫发作使用苯二氮䓬类药物及左乙拉西坦；行脑电图；3 级及以上持续时每 2-3 天复查影像。",
                ),
                (ASCO, EBMT),
            ),
            _NO_TOCILIZUMAB_WITHOUT_CRS,
        ),
    ),
    (Syndrome.ICANS, 4): GradeGuidance(
        Syndrome.ICANS,
        4,
        Text(
            "ICE score 0 because unarousable, stupor or coma, prolonged or repetitive "
            "seizures, deep focal motor weakness, or diffuse cerebral oedema.",
            "因无法唤醒致 ICE 评分 0 分，昏睡或昏迷，长时间或反复癫痫发作，深部局灶性运动无力，"
            "或弥漫性脑水肿。",
        ),
        (
            Step(
                Text(
                    "Intensive care; protect the airway, with mechanical ventilation if needed.",
                    "重症监护；保护气道，必要时机械通气。",
                ),
                (ASCO, EBMT),
            ),
            Step(
                Text(
                    "High-dose methylprednisolone 1,000 mg IV a day for 3 days, then taper.",
                    "大剂量甲泼尼龙 1,000 mg/日静脉滴注共 3 天，随后减量。",
                ),
                (ASCO, EBMT),
            ),
            Step(
                Text(
                    "Status epilepticus: benzodiazepines and antiseizure drugs per status "
                    "epilepticus protocol. Cerebral oedema: head elevation, hyperosmolar therapy "
                    "(mannitol or hypertonic saline), hyperventilation, neurosurgical opinion.",
                    "癫痫持续状态：按癫痫持续状态流程使用苯二氮䓬类及抗癫痫药物。脑水肿：抬高床头、"
                    "高渗治疗（甘露醇或高渗盐水）、过度通气，请神经外科会诊。",
                ),
                (ASCO, EBMT),
            ),
            _NO_TOCILIZUMAB_WITHOUT_CRS,
        ),
    ),
}


def guidance_for(syndrome: str, grade: int | None) -> GradeGuidance | None:
    """The guidance for a grade, or ``None`` when the consensus ties none to it.

    Grade 0 (no syndrome), grade 5 (death) and an unknown grade have no management text.
    ``syndrome`` is ``crs`` or ``icans``; anything else raises ``ValueError``.
    """
    kind = Syndrome(syndrome)
    if grade is None or not MIN_GRADE <= grade <= MAX_GRADE:
        return None
    return GUIDANCE[(kind, grade)]
