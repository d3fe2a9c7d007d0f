"""The patient list's cheaper paths (ADR 0292) give what the former ones gave: the rows written
in Python against the former row template, the plain widgets against Django's widget templates,
the compiled page query against the annotated queryset, and the grants against the scoped
querysets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django import forms
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy

from carta.web.accounts import access
from carta.web.accounts.models import Center
from carta.web.registry import services
from carta.web.registry.models import Patient
from carta.web.registry.templatetags.carta_list import patient_rows
from carta.web.registry.views import queries
from carta.web.registry.widgets import PlainSelect, PlainTextInput
from tests.web.conftest import PERSONAS, Network
from tests.web.views.conftest import record_day

LIST = reverse("registry:patient_list")

# The rows as registry/patient_list.html wrote them before ADR 0292.
FORMER_ROWS = """{% load i18n carta_ui %}{% for row in rows %}{% with patient=row.patient %}
      <tr>
        <td><a href="{% url 'registry:patient_detail' patient.pk %}">{{ patient.registry_id }}</a> {% include "registry/_synthetic.html" with synthetic=patient.is_synthetic %}</td>
        <td>{{ patient.center|center_label }}</td>
        <td>{{ patient.get_sex_display }}</td>
        <td class="num">{% if patient.age_at_infusion is not None %}{{ patient.age_at_infusion }}{% elif patient.year_of_birth %}<span title="{% translate 'year of birth' %}">{{ patient.year_of_birth }}*</span>{% else %}—{% endif %}</td>
        <td>{{ row.disease|default:"—" }}</td>
        <td>{{ row.product|default:"—" }}</td>
        <td class="date">{{ patient.first_infused_on|date:"Y-m-d"|default:"—" }}</td>
        <td><span class="badge status-{{ row.status }}">{{ row.status_label }}</span></td>
        <td>{% if patient.max_crs is not None %}{% grade_badge patient.max_crs %}{% else %}<span class="muted">—</span>{% endif %}</td>
        <td>{% if patient.max_icans is not None %}{% grade_badge patient.max_icans %}{% else %}<span class="muted">—</span>{% endif %}</td>
      </tr>
    {% endwith %}{% endfor %}"""


@pytest.fixture
def varied(network: Network, make_patient: Callable[..., Any]) -> list[Any]:
    """Patients in every state the list shows: registered or infused or dead, synthetic or
    not, age or year of birth, with or without a diagnosis, grades and a death; a center
    name and a registry ID that need escaping."""
    Center.objects.filter(pk=network.beijing.pk).update(name='Beijing & "Demo" <1>')
    actor = network.coordinator
    registered = make_patient(registry_id="A-1", year_of_birth=1950, age_at_infusion=None)
    no_diagnosis = make_patient(registry_id="A.2", sex="male", is_synthetic=True)
    infused = make_patient(registry_id="A_3", age_at_infusion=37)
    dead = make_patient(registry_id="a-4", year_of_birth=1999)
    shanghai = make_patient(registry_id="S-1", center=network.shanghai, actor=network.network_admin)
    services.record_diagnosis(actor=actor, patient=registered, disease="mm")
    services.record_diagnosis(actor=actor, patient=infused, disease="mm")
    services.record_diagnosis(actor=actor, patient=infused, disease="lbcl")  # the latest counts
    services.record_diagnosis(actor=actor, patient=dead, disease="b_all")
    for patient in (infused, dead, no_diagnosis):
        services.record_infusion(
            actor=actor, patient=patient, product=network.product, infused_on=date(2025, 1, 10)
        )
    record_day(network, infused, 1, temperature_c=39.0, hypotension="present")
    record_day(network, dead, 1)
    services.record_death(actor=actor, patient=dead, died_on=date(2025, 3, 1), cause="other")
    return [registered, no_diagnosis, infused, dead, shanghai]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.usefixtures("chinese_catalogue", "varied")
def test_the_rows_are_the_former_row_templates_html(
    client_for: Callable[[str], Client], language: str
) -> None:
    client = client_for("network_admin")
    client.cookies["django_language"] = language
    rows = client.get(LIST).context["rows"]
    assert len(rows) == 5
    with translation.override(language):
        former = Template(FORMER_ROWS).render(Context({"rows": rows}))
        assert str(patient_rows(rows)) == former
    assert "&amp;" in former and 'class="grade g2"' in former and "badge synthetic" in former


SELECT_CHOICES: list[Any] = [
    ("", gettext_lazy("all")),
    (1, "one & <two>"),
    ("x\"'", "quotes"),
    ("Group <g>", [("a", "A"), ("b", "B")]),
]


@pytest.mark.parametrize("value", [None, "", "1", 1, "a", ["b"], "nope", "x\"'"])
@pytest.mark.parametrize(
    "attrs",
    [None, {"id": "id_f"}, {"id": "i<d", "aria-invalid": "true", "disabled": True, "x": False}],
)
def test_the_plain_select_writes_djangos_select(value: Any, attrs: Any) -> None:
    stock = forms.Select(choices=SELECT_CHOICES)
    plain = PlainSelect(choices=SELECT_CHOICES)
    assert plain.render("f<", value, attrs) == stock.render("f<", value, attrs)


@pytest.mark.parametrize("value", [None, "", "BJ-1", "<b>&\"'", 12])
@pytest.mark.parametrize("attrs", [None, {"id": "id_q", "maxlength": 32, "required": True}])
def test_the_plain_text_input_writes_djangos_input(value: Any, attrs: Any) -> None:
    stock = forms.TextInput(attrs={"class": "a<"})
    plain = PlainTextInput(attrs={"class": "a<"})
    assert plain.render("q", value, attrs) == stock.render("q", value, attrs)


FILTERS: list[tuple[dict[str, Any], int]] = [  # (filters, patients of the varied fixture)
    ({}, 5),
    ({"q": "a"}, 4),
    ({"disease": "mm"}, 2),
    ({"product": "axi-cel"}, 3),
    ({"status": queries.STATUS_REGISTERED}, 2),
    ({"status": queries.STATUS_INFUSED}, 2),
    ({"status": queries.STATUS_DIED}, 1),
    ({"synthetic": "yes"}, 1),
    ({"q": "zzz"}, 0),
]
SLICES = [(0, 25), (0, 2), (1, 3), (2, 4), (4, 8), (30, 55)]
COLUMNS = ["disease", "first_product_id", "first_infused_on", "is_infused", "has_died"]
COLUMNS += ["max_crs", "max_icans"]
FIELDS = [field.attname for field in Patient._meta.concrete_fields]


def _values(patients: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(getattr(patient, name) for name in FIELDS + COLUMNS) for patient in patients]


@pytest.mark.parametrize(("filters", "count"), FILTERS)
@pytest.mark.usefixtures("varied")
def test_a_compiled_page_is_the_annotated_querysets_slice(
    network: Network, filters: dict[str, Any], count: int
) -> None:
    grants = access.grants(network.network_admin)
    listed = queries.listed_patients(grants, **filters)
    assert len(queries.page_with_columns(listed[0:25])) == listed.count() == count
    for bottom, top in SLICES:
        page = queries.listed_patients(grants, **filters)[bottom:top]
        former = list(queries.annotated_patients(network.network_admin, **filters)[bottom:top])
        assert _values(queries.page_with_columns(page)) == _values(former)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.usefixtures("varied")
def test_the_grants_scope_as_the_scoped_querysets_did(
    network: Network, client_for: Callable[[str], Client], persona: str
) -> None:
    user = getattr(network, persona)
    listed = queries.listed_patients(access.grants(user))
    assert sorted(listed.values_list("pk", flat=True)) == sorted(
        access.restrict(Patient.objects.all(), user, "view").values_list("pk", flat=True)
    )
    response = client_for(persona).get(LIST)
    offered = [center.pk for center in response.context["form"].centers.values()]
    assert offered == list(access.centers(user, "view").values_list("pk", flat=True))
    assert response.context["can_create"] == access.centers(user, "change").exists()


@pytest.mark.usefixtures("varied")
def test_a_center_is_chosen_by_its_key_as_a_model_choice_field_would(
    network: Network, client_for: Callable[[str], Client]
) -> None:
    client = client_for("network_admin")
    shanghai = str(network.shanghai.pk)

    def ids(center: str) -> list[str]:
        rows = client.get(LIST, {"center": center}).context["rows"]
        return [row["patient"].registry_id for row in rows]

    assert ids(shanghai) == ids(f"0{shanghai}") == ids(f" {shanghai}") == ["S-1"]
    assert len(ids("abc")) == len(ids("999999")) == 5  # not a center: the filter is dropped
    page = client.get(LIST, {"center": "abc"}).content.decode()
    invalid = 'aria-invalid="true" aria-describedby="id_center_error" id="id_center"'
    assert f'<select name="center" {invalid}>' in page
    coordinator = client_for("coordinator").get(LIST, {"center": shanghai})
    assert "S-1" not in [row["patient"].registry_id for row in coordinator.context["rows"]]
