"""The patient page: the journey as a swimmer plot, the day-by-day computed CRS and ICANS
grades with their reasons and any disagreement with the recorded grade, the baseline risk
scores, the infusions' dose check, treatments, responses and follow-up visits (ADR 0232).

Every value shown was computed by the services or the adapters; this module reads the
patient's records through the selectors (a fixed number of queries) and arranges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from carta.web.accounts import access
from carta.web.reasons import reason_texts
from carta.web.registry import adapters, forecasting, guidance, plots, selectors
from carta.web.registry.models import (
    Apheresis,
    BridgingTherapy,
    Consent,
    DailyAssessment,
    Death,
    Diagnosis,
    FollowUpVisit,
    Infusion,
    Lymphodepletion,
    Patient,
    ProductLot,
    ResponseAssessment,
    ToxicityTreatment,
)
from carta.web.registry.templatetags.carta_ui import (
    choice_label,
    product_label,
    visit_label,
    visit_status,
)
from carta.web.registry.views import page_cache
from carta.web.registry.views.common import signed_in
from carta.web.registry.views.compiled_reads import PatientRecords

GOOD_RESPONSES = frozenset({"scr", "cr", "cmr", "cri", "crh"})
PARTIAL_RESPONSES = frozenset({"vgpr", "pr", "pmr", "mr"})
PROGRESSION = frozenset({"pd", "pmd"})
ENDING_CONSENTS = frozenset({"registry", "long_term_follow_up"})


@dataclass(frozen=True, slots=True)
class Records:
    """Everything recorded about one patient, read once."""

    patient: Patient
    infusions: list[Infusion]
    assessments: list[DailyAssessment]
    treatments: list[ToxicityTreatment]
    diagnoses: list[Diagnosis]
    consents: list[Consent]
    aphereses: list[Apheresis]
    lots: list[ProductLot]
    bridging: list[BridgingTherapy]
    lymphodepletions: list[Lymphodepletion]
    responses: list[ResponseAssessment]
    visits: list[FollowUpVisit]
    death: Death | None


# The daily-assessment fields the page shows (the observations themselves are on the form).
SHOWN_DAY_FIELDS = (
    "patient_id",
    "infusion_id",
    "day",
    *(
        f"{prefix}_{part}"
        for prefix in ("crs", "icans")
        for part in ("status", "grade", "reasons", "missing", "criteria")
    ),
    *adapters.RECORDED_FIELDS,
    *adapters.BASELINE_LABS,
    *forecasting.OBSERVED_FIELDS,
)


def _scoped_patient(user: Any, pk: int) -> tuple[Patient, page_cache.Variant]:
    """The patient (with center and death) among those the user may view, else a 404, and
    what the viewer may do with it.

    Its ``updated_at`` is the revision the cached body is keyed by (ADR 0286). The user's
    grants are read once and answer view, change and identify with the rules of
    ``carta.web.accounts.access`` (ADR 0287): two simple queries instead of three scoped ones,
    whose compilation cost more CPU than the rest of a cached view.
    """
    grants = access.grants(user)
    try:
        patient = selectors.patient_for(grants, pk, "death")
    except Patient.DoesNotExist as missing:
        raise Http404 from missing
    variant = page_cache.Variant(
        can_change=grants.may(patient.center_id, "change"),
        can_identify=grants.may(patient.center_id, "identify"),
    )
    return patient, variant


# Every record of the journey, one plain query each (ADR 0233), compiled once per process
# (ADR 0289). The access check is the patient's (a record belongs to its patient's center,
# ADR 0203), so the records need no scoped query of their own.
INFUSIONS: PatientRecords[Infusion] = PatientRecords(
    Infusion.objects.select_related("product", "product_lot").order_by("number")
)
ASSESSMENTS: PatientRecords[DailyAssessment] = PatientRecords(
    DailyAssessment.objects.only(*SHOWN_DAY_FIELDS).order_by("infusion__number", "day")
)
TREATMENTS: PatientRecords[ToxicityTreatment] = PatientRecords(
    ToxicityTreatment.objects.order_by("infusion__number", "day", "pk")
)
DIAGNOSES: PatientRecords[Diagnosis] = PatientRecords(Diagnosis.objects.all())
CONSENTS: PatientRecords[Consent] = PatientRecords(Consent.objects.all())
APHERESES: PatientRecords[Apheresis] = PatientRecords(Apheresis.objects.select_related("center"))
LOTS: PatientRecords[ProductLot] = PatientRecords(ProductLot.objects.select_related("product"))
BRIDGING: PatientRecords[BridgingTherapy] = PatientRecords(BridgingTherapy.objects.all())
LYMPHODEPLETIONS: PatientRecords[Lymphodepletion] = PatientRecords(Lymphodepletion.objects.all())
RESPONSES: PatientRecords[ResponseAssessment] = PatientRecords(ResponseAssessment.objects.all())
VISITS: PatientRecords[FollowUpVisit] = PatientRecords(FollowUpVisit.objects.all())


def _read(patient: Patient) -> Records:
    key = patient.pk
    return Records(
        patient=patient,
        infusions=INFUSIONS(key),
        assessments=ASSESSMENTS(key),
        treatments=TREATMENTS(key),
        diagnoses=DIAGNOSES(key),
        consents=CONSENTS(key),
        aphereses=APHERESES(key),
        lots=LOTS(key),
        bridging=BRIDGING(key),
        lymphodepletions=LYMPHODEPLETIONS(key),
        responses=RESPONSES(key),
        visits=VISITS(key),
        death=getattr(patient, "death", None),
    )


# --- the day-by-day grades --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GradeCell:
    """One syndrome's result on one day, ready to show."""

    status: str | None
    grade: int | None
    reasons: list[str]
    missing: list[str]
    recorded: int | None
    agreement: str
    criteria: str


@dataclass(frozen=True, slots=True)
class DayRow:
    """One stored day: its date and the CRS and ICANS results."""

    assessment: DailyAssessment
    infusion: Infusion
    when: date
    crs: GradeCell
    icans: GradeCell


def _cell(row: DailyAssessment, prefix: str) -> GradeCell:
    status = getattr(row, f"{prefix}_status")
    grade = getattr(row, f"{prefix}_grade")
    recorded = getattr(row, f"recorded_{prefix}_grade")
    return GradeCell(
        status=status,
        grade=grade,
        reasons=getattr(row, f"{prefix}_reasons") or [],
        missing=getattr(row, f"{prefix}_missing") or [],
        recorded=recorded,
        agreement=adapters.agreement(status, grade, recorded),
        criteria=getattr(row, f"{prefix}_criteria"),
    )


def _day_rows(records: Records) -> list[DayRow]:
    infusions = {infusion.pk: infusion for infusion in records.infusions}
    return [
        DayRow(
            assessment=row,
            infusion=infusions[row.infusion_id],
            when=infusions[row.infusion_id].infused_on + timedelta(days=row.day),
            crs=_cell(row, "crs"),
            icans=_cell(row, "icans"),
        )
        for row in records.assessments
        if row.infusion_id in infusions
    ]


# --- baseline scores and follow-up ------------------------------------------------------------


def _baseline(records: Records) -> adapters.BaselineScores | None:
    """CAR-HEMATOTOX and EASIX before the first infusion's lymphodepletion."""
    if not records.infusions:
        return None
    first = records.infusions[0]
    days = [
        {"day": row.day, **{field: getattr(row, field) for field in adapters.BASELINE_LABS}}
        for row in records.assessments
        if row.infusion_id == first.pk
    ]
    lymphodepletion = records.lymphodepletions[0].first_day if records.lymphodepletions else None
    return adapters.baseline_scores(days, lymphodepletion)


def follow_up_end(records: Records) -> date | None:
    """When follow-up ended: death, or withdrawal of the registry or long-term consent."""
    ends = [records.death.died_on] if records.death else []
    ends += [
        consent.withdrawn_on
        for consent in records.consents
        if consent.withdrawn_on and consent.consent_type in ENDING_CONSENTS
    ]
    return min(ends, default=None)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """An infusion's follow-up visits as they stand today: every visit up to the next one."""

    infusion: Infusion
    states: list[Any]
    done_on: dict[str, date]


def _follow_ups(records: Records, today: date) -> list[FollowUp]:
    ended_on = follow_up_end(records)
    result = []
    for infusion in records.infusions:
        done_on = {
            visit.visit: visit.done_on
            for visit in records.visits
            if visit.infusion_id == infusion.pk
        }
        states = adapters.follow_up(infusion.infused_on, today, done_on, ended_on)
        shown, upcoming = [], 0
        for state in states:
            upcoming += state.status == "upcoming"
            if state.status != "upcoming" or upcoming == 1:
                shown.append(state)
        result.append(FollowUp(infusion, shown, done_on))
    return result


# --- the journey plot ---------------------------------------------------------------------------


def _therapy_marks() -> dict[str, str]:
    """The one-letter mark of each toxicity therapy agent (``""``: any other agent)."""
    return {
        "tocilizumab": pgettext("one-letter mark for tocilizumab", "T"),
        "corticosteroid": pgettext("one-letter mark for a corticosteroid", "S"),
        "anakinra": pgettext("one-letter mark for anakinra", "A"),
        "siltuximab": pgettext("one-letter mark for siltuximab", "X"),
        "antipyretic": pgettext("one-letter mark for an antipyretic", "P"),
        "": pgettext("one-letter mark for another therapy", "O"),
    }


def _response_css(category: str) -> str:
    if category in GOOD_RESPONSES:
        return "resp-good"
    if category in PARTIAL_RESPONSES:
        return "resp-partial"
    return "resp-progression" if category in PROGRESSION else "resp-stable"


def _graded_days(rows: list[DayRow], offset: dict[int, int], prefix: str) -> list[plots.GradedDay]:
    title = _("Day %(day)s (%(date)s): %(syndrome)s %(result)s")
    syndrome = "CRS" if prefix == "crs" else "ICANS"
    # A month of days repeats a few grades and reasons: each is put in words once.
    results: dict[int | None, str] = {}
    explained: dict[tuple[str, ...], list[str]] = {}
    days = []
    for row in rows:
        cell: GradeCell = getattr(row, prefix)
        grade = cell.grade if cell.status == "ok" else None
        if grade not in results:
            results[grade] = (
                _("grade %(grade)s") % {"grade": grade}
                if grade is not None
                else _("not determined")
            )
        codes = tuple(str(code) for code in cell.reasons)
        if codes not in explained:
            explained[codes] = reason_texts(codes)
        text = title % {
            "day": row.assessment.day,
            "date": row.when,
            "syndrome": syndrome,
            "result": results[grade],
        }
        text = " ".join([text, *explained[codes]])
        days.append(plots.GradedDay(offset[row.infusion.pk] + row.assessment.day, grade, text))
    return days


def _last_contact(records: Records, rows: list[DayRow]) -> date | None:
    dates = [row.when for row in rows]
    dates += [infusion.infused_on for infusion in records.infusions]
    dates += [response.assessed_on for response in records.responses]
    dates += [visit.done_on for visit in records.visits]
    return max(dates, default=None)


def _day_zero(records: Records) -> date | None:
    """The first infusion's date; before any infusion, the latest apheresis or bridging."""
    if records.infusions:
        return records.infusions[0].infused_on
    dated = [a.collected_on for a in records.aphereses] + [b.started_on for b in records.bridging]
    return max(dated, default=None)


def _treatment_lane(records: Records, zero: date) -> dict[str, Any]:
    return {
        "aphereses": [
            plots.Event(
                plots.day_of(a.collected_on, zero),
                _("Apheresis %(date)s") % {"date": a.collected_on},
            )
            for a in records.aphereses
        ],
        "bridging": [
            plots.Period(
                plots.day_of(b.started_on, zero),
                plots.day_of(b.ended_on or b.started_on, zero),
                _("Bridging therapy: %(kind)s") % {"kind": choice_label(b, "kind")},
            )
            for b in records.bridging
        ],
        "lymphodepletion": [
            plots.Period(
                ld.first_day,
                ld.last_day,
                _("Lymphodepletion: %(regimen)s, days %(first)s to %(last)s")
                % {
                    "regimen": choice_label(ld, "regimen"),
                    "first": ld.first_day,
                    "last": ld.last_day,
                },
            )
            for ld in records.lymphodepletions
        ],
        "infusions": [
            plots.Event(
                plots.day_of(infusion.infused_on, zero),
                _("CAR-T infusion %(number)s: %(product)s, %(date)s")
                % {
                    "number": infusion.number,
                    "product": product_label(infusion.product),
                    "date": infusion.infused_on,
                },
            )
            for infusion in records.infusions
        ],
    }


def _therapy_lane(records: Records, offset: dict[int, int]) -> list[plots.Event]:
    marks = _therapy_marks()
    return [
        plots.Event(
            offset.get(t.infusion_id, 0) + t.day,
            _("Day %(day)s: %(agent)s %(detail)s")
            % {"day": t.day, "agent": choice_label(t, "agent"), "detail": t.agent_detail},
            text=marks.get(t.agent, marks[""]),
            css=f"therapy-{t.agent}",
        )
        for t in records.treatments
    ]


def _outcome_lane(records: Records, follow_ups: list[FollowUp], zero: date) -> dict[str, Any]:
    open_visits = [
        plots.Event(
            plots.day_of(state.visit.target_date, zero),
            f"{visit_label(state.visit.key)}: {visit_status(state.status)}",
            css=state.status,
        )
        for follow_up in follow_ups[:1]
        for state in follow_up.states
        if state.status in ("due", "overdue")
    ]
    done_visits = [
        plots.Event(
            plots.day_of(v.done_on, zero),
            _("Follow-up visit %(visit)s done %(date)s")
            % {"visit": choice_label(v, "visit"), "date": v.done_on},
            css="done",
        )
        for v in records.visits
    ]
    responses = [
        plots.Event(
            plots.day_of(r.assessed_on, zero),
            f"{choice_label(r, 'category')} ({choice_label(r, 'criteria')}), {r.assessed_on}",
            text=r.category.upper(),
            css=_response_css(r.category),
        )
        for r in records.responses
    ]
    return {"visits": done_visits + open_visits, "responses": responses}


def _ending(records: Records, rows: list[DayRow], zero: date) -> dict[str, Any]:
    death = records.death
    if death is not None:
        label = _("Died %(date)s: %(cause)s") % {
            "date": death.died_on,
            "cause": choice_label(death, "cause"),
        }
        return {"death": plots.Event(plots.day_of(death.died_on, zero), label)}
    last = _last_contact(records, rows)
    if last is None:
        return {}
    label = _("Last contact %(date)s") % {"date": last}
    return {"last_contact": plots.Event(plots.day_of(last, zero), label)}


def _journey_data(
    records: Records, rows: list[DayRow], follow_ups: list[FollowUp]
) -> plots.JourneyData | None:
    zero = _day_zero(records)
    if zero is None:
        return None
    offset = {
        infusion.pk: plots.day_of(infusion.infused_on, zero) for infusion in records.infusions
    }
    return plots.JourneyData(
        **_treatment_lane(records, zero),
        crs=_graded_days(rows, offset, "crs"),
        icans=_graded_days(rows, offset, "icans"),
        therapy=_therapy_lane(records, offset),
        **_outcome_lane(records, follow_ups, zero),
        **_ending(records, rows, zero),
    )


def _forecast(records: Records) -> forecasting.Panel:
    """The latest infusion's toxicity forecast (ADR 0431)."""
    return forecasting.patient_panel(
        records.patient,
        records.infusions,
        records.assessments,
        records.treatments,
        records.diagnoses[0].disease if records.diagnoses else None,
        records.lymphodepletions[0].first_day if records.lymphodepletions else None,
    )


# --- the page -------------------------------------------------------------------------------


def _body_context(patient: Patient, variant: page_cache.Variant, today: date) -> dict[str, Any]:
    """What the page body shows: every record read once, the grades, plots and forecast."""
    records = _read(patient)
    rows = _day_rows(records)
    follow_ups = _follow_ups(records, today)
    data = _journey_data(records, rows, follow_ups)
    return {
        "patient": patient,
        "records": records,
        "can_change": variant.can_change,
        "bsa": adapters.patient_bsa(patient.weight_kg, patient.height_cm),
        "day_rows": rows,
        "several_infusions": len(records.infusions) > 1,
        "disagreements": sum(
            row.crs.agreement == "disagree" or row.icans.agreement == "disagree" for row in rows
        ),
        "baseline": _baseline(records),
        "follow_ups": follow_ups,
        "journey": plots.journey(data) if data else None,
        "forecast": _forecast(records),
        "guidance": guidance.grades_guidance(rows),
    }


@signed_in
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient's page; another center's patient is a 404.

    The body (everything but the identifying details) comes from the cache when this patient's
    revision was rendered before for the same language and viewer variant (ADR 0286).
    """
    patient, variant = _scoped_patient(request.user, pk)
    today = timezone.localdate()
    key = page_cache.body_key(patient, variant, today, forecasting.model_stamp())
    body, _hit = page_cache.cached_body(
        key,
        lambda: render_to_string(
            "registry/_patient_body.html", _body_context(patient, variant, today)
        ),
    )
    # Only for a viewer the grants allow to identify this patient (checked just above).
    identity = selectors.identity_of(patient) if variant.can_identify else None
    context = {
        "patient": patient,
        "body": body,
        "identity": identity,
        "can_change": variant.can_change,
        "can_identify": variant.can_identify,
    }
    return render(request, "registry/patient_detail.html", context)
