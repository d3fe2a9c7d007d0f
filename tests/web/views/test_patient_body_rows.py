"""The patient page's rows and links built in Python (ADR 0289): the markup the template
loops wrote before, every entered value escaped, and the records read through SQL compiled
once equal to the ORM's."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from carta.web.registry import services
from carta.web.registry.views import patient_page
from tests.web.conftest import Network

TODAY = date(2025, 9, 1)

# The template loops as they were before ADR 0289 (the reference markup).
TREATMENTS_BEFORE = """{% load i18n %}{% for t in records.treatments %}<tr><td class="num">{{ t.day }}</td><td>{{ t.get_agent_display }}{% if t.agent_detail %} ({{ t.agent_detail }}){% endif %}</td><td>{% if t.dose is not None %}{{ t.dose }} {{ t.get_dose_unit_display }}{% else %}—{% endif %}</td><td>{{ t.get_indication_display|default:"—" }}</td>
      <td class="row-links">{% if can_change %}<a href="{% url 'registry:record_edit' patient.pk 'treatment' t.pk %}">{% translate "Edit" %}</a>{% endif %}<a href="{% url 'registry:record_history' patient.pk 'treatment' t.pk %}">{% translate "History" %}</a></td></tr>{% endfor %}"""
RESPONSES_BEFORE = """{% load i18n %}{% for r in records.responses %}<tr><td>{{ r.assessed_on|date:"Y-m-d" }}{% if r.day is not None %} <small class="muted">({% blocktranslate with day=r.day %}day {{ day }}{% endblocktranslate %})</small>{% endif %}</td><td>{{ r.get_category_display }}</td><td>{{ r.get_criteria_display }}</td><td>{{ r.get_mrd_display|default:"—" }}</td>
      <td class="row-links">{% if can_change %}<a href="{% url 'registry:record_edit' patient.pk 'response' r.pk %}">{% translate "Edit" %}</a>{% endif %}<a href="{% url 'registry:record_history' patient.pk 'response' r.pk %}">{% translate "History" %}</a></td></tr>{% endfor %}"""
FOLLOW_UP_BEFORE = """{% load carta_ui %}{% for follow_up in follow_ups %}{% for state in follow_up.states %}
      <tr><td>{{ state.visit.key|visit_label }}</td><td>{{ state.visit.window_start|date:"Y-m-d" }} – {{ state.visit.window_end|date:"Y-m-d" }}</td>
      <td><span class="badge {{ state.status }}">{{ state.status|visit_status }}</span></td>
      <td>{% for key, when in follow_up.done_on.items %}{% if key == state.visit.key %}{{ when|date:"Y-m-d" }}{% endif %}{% endfor %}</td></tr>
    {% endfor %}{% endfor %}"""
TREATMENTS_NOW = "{% load carta_days %}{% treatment_rows records.treatments %}"
RESPONSES_NOW = "{% load carta_days %}{% response_rows records.responses %}"
FOLLOW_UP_NOW = "{% load carta_days %}{% for f in follow_ups %}{% follow_up_rows f %}{% endfor %}"
ENTERED = '<b>"dexa" & co</b>'


@pytest.fixture
def varied_patient(network: Network, graded_patient: Any) -> Any:
    """The graded patient with rows of every shape: entered text to escape, a dose and none,
    an indication and none, a response with MRD, a second visit done."""
    actor, infusion = network.coordinator, graded_patient.infusions.get()
    services.record_toxicity_treatment(
        actor=actor,
        patient=graded_patient,
        infusion=infusion,
        day=3,
        agent="corticosteroid",
        agent_detail=ENTERED,
        dose=10.5,
        dose_unit="mg",
        indication="icans",
    )
    services.record_response(
        actor=actor,
        patient=graded_patient,
        infusion=infusion,
        assessed_on=date(2025, 4, 20),
        day=100,
        criteria="lugano_2014",
        category="pd",
        mrd="positive",
    )
    services.record_follow_up_visit(
        actor=actor,
        patient=graded_patient,
        infusion=infusion,
        visit="day_100",
        done_on=date(2025, 4, 20),
    )
    return graded_patient


def _render(source: str, patient: Any, can_change: bool) -> str:
    records = patient_page._read(patient)
    context = {
        "patient": patient,
        "records": records,
        "can_change": can_change,
        "follow_ups": patient_page._follow_ups(records, TODAY),
    }
    return Template(source).render(Context(context))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("can_change", [True, False])
@pytest.mark.parametrize(
    ("before", "now"),
    [
        (TREATMENTS_BEFORE, TREATMENTS_NOW),
        (RESPONSES_BEFORE, RESPONSES_NOW),
        (FOLLOW_UP_BEFORE, FOLLOW_UP_NOW),
    ],
    ids=["treatments", "responses", "follow-up"],
)
def test_the_rows_are_the_markup_of_the_template_loops(
    chinese_catalogue: None,
    varied_patient: Any,
    before: str,
    now: str,
    can_change: bool,
    language: str,
) -> None:
    with translation.override(language):
        expected = _render(before, varied_patient, can_change)
        assert _render(now, varied_patient, can_change) == expected
    assert expected.count("<tr>") >= 2


def test_entered_text_is_escaped(varied_patient: Any) -> None:
    rows = _render(TREATMENTS_NOW, varied_patient, True)
    assert "&lt;b&gt;&quot;dexa&quot; &amp; co&lt;/b&gt;" in rows
    assert ENTERED not in rows
    assert '<small class="muted">(day 100)</small>' in _render(RESPONSES_NOW, varied_patient, True)


def test_the_links_are_the_reversed_urls(varied_patient: Any) -> None:
    treatment = varied_patient.treatments.first()
    edit = reverse("registry:record_edit", args=[varied_patient.pk, "treatment", treatment.pk])
    history = reverse(
        "registry:record_history", args=[varied_patient.pk, "treatment", treatment.pk]
    )
    create = reverse("registry:record_create", args=[varied_patient.pk, "follow-up"])
    source = (
        "{% load carta_days %}{% row_links 'treatment' pk %}|{% history_link 'treatment' pk %}|"
        "{% create_url 'follow-up' %}"
    )
    context = {"patient": varied_patient, "pk": treatment.pk}
    changing = Template(source).render(Context({**context, "can_change": True}))
    viewing = Template(source).render(Context({**context, "can_change": False}))
    assert changing == (
        f'<a href="{edit}">Edit</a><a href="{history}">History</a>|'
        f'<a href="{history}">History</a>|{create}'
    )
    assert viewing == f'<a href="{history}">History</a>|<a href="{history}">History</a>|{create}'


def _values(record: Any) -> dict[str, Any]:
    return {
        field.attname: getattr(record, field.attname)
        for field in record._meta.concrete_fields
        if field.attname not in record.get_deferred_fields()
    }


@pytest.mark.parametrize(
    "name",
    [
        "INFUSIONS",
        "ASSESSMENTS",
        "TREATMENTS",
        "DIAGNOSES",
        "CONSENTS",
        "APHERESES",
        "LOTS",
        "BRIDGING",
        "LYMPHODEPLETIONS",
        "RESPONSES",
        "VISITS",
    ],
)
def test_compiled_reads_are_the_orm_reads(
    varied_patient: Any, name: str, django_assert_num_queries: Any
) -> None:
    read = getattr(patient_page, name)
    expected = list(read.queryset.filter(patient_id=varied_patient.pk))
    related = list(read.queryset.query.select_related or {})
    with django_assert_num_queries(1):  # the related objects come with the rows
        records = read(varied_patient.pk)
        fetched = [[getattr(record, field) for field in related] for record in records]
    assert [_values(record) for record in records] == [_values(record) for record in expected]
    assert fetched == [[getattr(record, field) for field in related] for record in expected]


def test_a_compiled_read_is_only_this_patients(
    varied_patient: Any, make_patient: Any, network: Network
) -> None:
    other = make_patient()
    assert patient_page.ASSESSMENTS(other.pk) == []
    assert len(patient_page.ASSESSMENTS(varied_patient.pk)) == 4
