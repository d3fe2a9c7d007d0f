"""The forecast panel on the patient page, the center view of patients at high forecast risk,
and the management guidance beside the computed grades (ADR 0431)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carta.web.registry import forecasting
from tests.web.conftest import Network
from tests.web.views.conftest import record_day


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained on a small synthetic network, saved where the loader looks."""
    from carta.synth import generate_network

    folder = tmp_path_factory.mktemp("data")
    return forecasting.train_demo_model(generate_network(40, seed=1), folder)


@pytest.fixture
def with_model(trained_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(forecasting.MODEL_ENV, str(trained_model))
    forecasting.clear_cache()
    yield trained_model
    forecasting.clear_cache()


@pytest.fixture
def without_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    missing = tmp_path / "forecast" / "model.joblib"
    monkeypatch.setenv(forecasting.MODEL_ENV, str(missing))
    forecasting.clear_cache()
    yield missing
    forecasting.clear_cache()


def _page(client: Client, patient: Any) -> str:
    response = client.get(reverse("registry:patient_detail", args=[patient.pk]))
    assert response.status_code == 200
    return str(response.content.decode())


def _recent_patient(
    network: Network, make_patient: Callable[..., Any], actor: Any, center: Any, registry_id: str
) -> Any:
    """A patient infused 4 days ago with days 0-3 recorded, the last with fever and high CRP."""
    from carta.web.registry import services

    patient = make_patient(actor=actor, center=center, registry_id=registry_id)
    services.record_diagnosis(actor=actor, patient=patient, disease="lbcl")
    services.record_infusion(
        actor=actor,
        patient=patient,
        product=network.product,
        infused_on=timezone.localdate() - timedelta(days=4),
        cell_dose_total=1.4e8,
    )
    for day, temperature, crp in ((0, 36.9, 0.8), (1, 37.4, 2.0), (2, 38.6, 6.0), (3, 39.2, 14.0)):
        services.record_daily_assessment(
            actor=actor,
            patient=patient,
            day=day,
            **{
                "temperature_c": temperature,
                "fever_attributable_to_other_cause": False,
                "hypotension": "none",
                "vasopressors": [],
                "hypotension_attributable_to_other_cause": False,
                "oxygen_device": "none",
                "hypoxia_attributable_to_other_cause": False,
                "died_due_to_crs": False,
                "crp_mg_dl": crp,
                "ferritin_ng_ml": 400.0 * (day + 1),
            },
        )
    return patient


def test_the_panel_shows_todays_probabilities_and_the_model_version(
    with_model: Path, client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    response = client_for("coordinator").get(
        reverse("registry:patient_detail", args=[graded_patient.pk])
    )
    panel = response.context["forecast"]
    model = forecasting.current_model().model
    assert model is not None
    assert panel.forecast is not None
    assert panel.forecast.version == model.version
    assert panel.forecast.day == 2  # the latest assessed day after infusion
    page = response.content.decode()
    assert model.version in page
    assert "decision support — does not replace clinical judgement" in page
    for target in panel.forecast.targets:
        assert target.probability is not None and 0.0 <= target.probability <= 1.0
        assert f"{target.percent:.0f}%" in page
        assert [day for day, _p in target.trend] == [0, 1, 2]
        assert target.factors, "each target lists the factors behind it"
    assert 'class="forecast-trend"' in page
    # No IL-6 was recorded: listed as missing, never filled in; age comes from the year of birth.
    assert "IL-6" in panel.forecast.missing and "age" not in panel.forecast.missing
    assert "IL-6" in page.split("Missing inputs:")[1]


def test_the_panel_matches_the_model_run_on_the_same_rows(
    with_model: Path, graded_patient: Any
) -> None:
    """The adapter's frame gives the panel exactly what ``predict`` gives for those rows."""
    from carta.analytics.forecast.models import predict
    from carta.analytics.forecast.store import load_model

    infusion = graded_patient.infusions.get()
    course = forecasting.course_of(
        graded_patient,
        infusion,
        list(graded_patient.assessments.all()),
        list(graded_patient.treatments.all()),
        "lbcl",
        -5,
    )
    frame = forecasting.canonical_frame([course])
    assert frame["tocilizumab_given"].to_list() == [False, False, False, True]  # day 2
    assert frame["recorded_crs_grade"].to_list()[-1] == 2  # the recorded grade is used
    expected = predict(load_model(with_model), frame).row(-1, named=True)
    shown = forecasting.forecast_courses(load_model(with_model), [course])[0]
    assert shown.targets[0].probability == pytest.approx(expected["p_icans_5d"])


def _course(patient: Any, disease: str | None = "lbcl") -> forecasting.Course:
    infusion = patient.infusions.order_by("number").last()
    return forecasting.course_of(
        patient,
        infusion,
        list(patient.assessments.all()),
        list(patient.treatments.all()),
        disease,
        -5,
    )


def _assert_same_forecast(
    shown: forecasting.PatientForecast | None, expected: forecasting.PatientForecast
) -> None:
    assert shown is not None
    assert (shown.key, shown.day, shown.missing, shown.version) == (
        expected.key,
        expected.day,
        expected.missing,
        expected.version,
    )
    assert [t.target for t in shown.targets] == [t.target for t in expected.targets]
    for mine, theirs in zip(shown.targets, expected.targets, strict=True):
        assert mine.label == theirs.label
        assert mine.probability == pytest.approx(theirs.probability, rel=1e-12, abs=0.0)
        assert [day for day, _p in mine.trend] == [day for day, _p in theirs.trend]
        for (_d, p), (_e, q) in zip(mine.trend, theirs.trend, strict=True):
            assert p == pytest.approx(q, rel=1e-12, abs=0.0)
        assert mine.factors == theirs.factors  # the same inputs, labels and rounded values


def test_the_page_path_forecasts_as_the_frame_path(
    with_model: Path,
    network: Network,
    make_patient: Callable[..., Any],
    graded_patient: Any,
) -> None:
    """``forecast_course`` (the page's, without frames, ADR 0288) shows exactly what
    ``forecast_courses`` shows for the same course."""
    recent = _recent_patient(network, make_patient, network.coordinator, network.beijing, "BJ-R")
    record_day(network, recent, 4, temperature_c=40.1, ice_score=6, recorded_icans_grade=2)
    model = forecasting.current_model().model
    assert model is not None
    for patient, disease in ((graded_patient, "lbcl"), (recent, "lbcl"), (recent, None)):
        course = _course(patient, disease)
        (expected,) = forecasting.forecast_courses(model, [course])
        _assert_same_forecast(forecasting.forecast_course(model, course), expected)


def test_a_course_the_page_path_cannot_read_takes_the_frame_path(
    with_model: Path, graded_patient: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from decimal import Decimal

    model = forecasting.current_model().model
    assert model is not None
    course = _course(graded_patient)
    (expected,) = forecasting.forecast_courses(model, [course])
    rows = forecasting.course_rows(course)

    def decimal_rows(course: forecasting.Course) -> list[dict[str, Any]]:
        return [{**row, "age_years": Decimal(row["age_years"])} for row in rows]

    monkeypatch.setattr(forecasting, "course_rows", decimal_rows)
    _assert_same_forecast(forecasting.forecast_course(model, course), expected)


def _reference_trend_svg(targets: Any) -> Any:
    """``forecast_plot.trend_svg`` as written before ADR 0288 (every dot through
    ``format_html``; the dot's day now "day %(day)s", translated, where it was an
    untranslated "day"): the faster one must give the very same markup."""
    from django.utils.html import format_html, format_html_join
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext as _

    from carta.web.registry import forecast_plot as fp

    days = [day for target in targets for day, _p in target.trend]
    if not days:
        return mark_safe("")
    first, last = min(days), max(days)
    parts = [
        format_html(
            '<line class="fc-grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>'
            '<text class="fc-tick" x="{}" y="{}" text-anchor="end" font-size="10" '
            'fill="#666">{}%</text>',
            fp.LEFT,
            fp.WIDTH - fp.RIGHT,
            fp._y(tick),
            fp._y(tick),
            fp.LEFT - 4,
            f"{float(fp._y(tick)) + 3:.1f}",
            int(tick * 100),
        )
        for tick in fp.Y_TICKS
    ]
    for day in sorted({first, last}):
        parts.append(
            format_html(
                '<text class="fc-tick" x="{}" y="{}" text-anchor="{}" font-size="10" '
                'fill="#666">{}</text>',
                fp._x(day, first, last),
                fp.HEIGHT - 5,
                "end" if day == last and day != first else "start",
                _("day %(day)s") % {"day": day},
            )
        )
    for target in targets:
        if not target.trend:
            continue
        points = " ".join(f"{fp._x(d, first, last)},{fp._y(p)}" for d, p in target.trend)
        dots = format_html_join(
            "",
            '<circle cx="{}" cy="{}" r="2"><title>{}</title></circle>',
            (
                (
                    fp._x(d, first, last),
                    fp._y(p),
                    f"{target.label}, {_('day %(day)s') % {'day': d}}: {100 * p:.0f}%",
                )
                for d, p in target.trend
            ),
        )
        parts.append(
            format_html(
                '<g class="{}" stroke="{}" fill="{}"><title>{}</title>'
                '<polyline points="{}" fill="none" stroke-width="2" stroke-dasharray="{}"/>{}</g>',
                fp.LINE_CSS.get(target.target, ""),
                fp.LINE_COLOURS.get(target.target, "#333"),
                fp.LINE_COLOURS.get(target.target, "#333"),
                target.label,
                points,
                fp.DASHES.get(target.target, ""),
                dots,
            )
        )
    return format_html(
        '<svg class="forecast-trend" viewBox="0 0 {} {}" width="{}" height="{}" '
        'style="max-width:100%;height:auto" role="img" aria-label="{}">{}</svg>',
        fp.WIDTH,
        fp.HEIGHT,
        fp.WIDTH,
        fp.HEIGHT,
        _("Forecast trend by day since infusion"),
        mark_safe("".join(parts)),
    )


def test_the_trend_svg_is_the_markup_it_always_was(chinese_catalogue: None) -> None:
    from django.utils import translation

    from carta.web.registry.forecast_plot import trend_svg

    cases = [
        [
            forecasting.TargetForecast(
                "icans_5d",
                "ICANS <any> & \"all\" 'grades'",
                0.2,
                [(0, 0.0), (3, 0.123456), (9, 1.0)],
            ),
            forecasting.TargetForecast("crs2_5d", "CRS ≥ 2", None, []),
            forecasting.TargetForecast("other", "x", 0.5, [(1, 0.5049), (2, 0.995)]),
        ],
        [forecasting.TargetForecast("severe_icans_5d", "one day", 0.3, [(4, 0.3)])],
        [forecasting.TargetForecast("icans_5d", "none", None, [])],
    ]
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for targets in cases:
                assert str(trend_svg(targets)) == str(_reference_trend_svg(targets))
    with translation.override("en"):
        english = str(trend_svg(cases[0]))
    assert "&lt;any&gt; &amp; &quot;all&quot; &#x27;grades&#x27;, day 3: 12%" in english
    with translation.override("zh-hans"):
        chinese = str(trend_svg(cases[0]))
    assert chinese != english  # the translated words are in it
    assert "&lt;any&gt; &amp; &quot;all&quot; &#x27;grades&#x27;, 第 3 天: 12%" in chinese


def test_without_a_model_the_panel_says_how_to_train_one(
    without_model: Path, client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    page = _page(client_for("coordinator"), graded_patient)
    assert "No forecast model is installed" in page
    assert "carta forecast train --format registry" in page
    assert str(without_model) in page


def test_a_damaged_model_file_does_not_break_the_page(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    client_for: Callable[[str], Client],
    graded_patient: Any,
) -> None:
    damaged = tmp_path / "model.joblib"
    damaged.write_bytes(b"not a model")
    monkeypatch.setenv(forecasting.MODEL_ENV, str(damaged))
    forecasting.clear_cache()
    page = _page(client_for("coordinator"), graded_patient)
    forecasting.clear_cache()
    assert "No forecast model is installed" in page
    assert "could not be read" in page


def test_the_center_view_lists_only_the_users_centers(
    with_model: Path,
    network: Network,
    make_patient: Callable[..., Any],
    client_for: Callable[[str], Client],
    graded_patient: Any,
) -> None:
    beijing = _recent_patient(
        network, make_patient, network.coordinator, network.beijing, "BJ-RECENT"
    )
    shanghai = _recent_patient(
        network, make_patient, network.other_coordinator, network.shanghai, "SH-RECENT"
    )
    response = client_for("coordinator").get(reverse("registry:forecast_risk"))
    assert response.status_code == 200
    listed = [row.patient.pk for row in response.context["rows"]]
    page = response.content.decode()
    assert listed == [beijing.pk]  # graded_patient was infused in 2025: not "currently"
    assert "BJ-RECENT" in page and "SH-RECENT" not in page
    other = client_for("other_coordinator").get(reverse("registry:forecast_risk"))
    assert [row.patient.pk for row in other.context["rows"]] == [shanghai.pk]
    # choosing a center one may not view shows one's own centers, never the other's patients
    chosen = client_for("coordinator").get(
        reverse("registry:forecast_risk"), {"center": network.shanghai.pk}
    )
    assert "SH-RECENT" not in chosen.content.decode()


def test_the_center_view_orders_by_the_highest_forecast_and_hides_identity(
    with_model: Path,
    network: Network,
    make_patient: Callable[..., Any],
    client_for: Callable[[str], Client],
) -> None:
    from carta.web.registry import services

    first = _recent_patient(network, make_patient, network.coordinator, network.beijing, "BJ-A")
    second = _recent_patient(network, make_patient, network.coordinator, network.beijing, "BJ-B")
    services.set_patient_identity(actor=network.coordinator, patient=first, full_name="Li Lei")
    record_day(network, second, 4, temperature_c=40.1, ice_score=6, recorded_icans_grade=2)
    response = client_for("analyst").get(reverse("registry:forecast_risk"))
    rows = response.context["rows"]
    highest = [row.forecast.highest for row in rows]
    assert {row.patient.pk for row in rows} == {first.pk, second.pk}
    assert highest == sorted(highest, reverse=True)
    assert "Li Lei" not in response.content.decode()


def test_the_center_view_without_a_model(
    without_model: Path, client_for: Callable[[str], Client]
) -> None:
    page = client_for("coordinator").get(reverse("registry:forecast_risk")).content.decode()
    assert "No forecast model is installed" in page


def test_guidance_is_shown_beside_the_computed_grade_in_english(
    without_model: Path, client_for: Callable[[str], Client], graded_patient: Any
) -> None:
    response = client_for("coordinator").get(
        reverse("registry:patient_detail", args=[graded_patient.pk])
    )
    shown = {(g.syndrome, g.grade): g for g in response.context["guidance"]}
    computed = {
        (syndrome, getattr(row, syndrome).grade)
        for row in response.context["day_rows"]
        for syndrome in ("crs", "icans")
        if getattr(row, syndrome).status == "ok" and 1 <= (getattr(row, syndrome).grade or 0) <= 4
    }
    assert computed and set(shown) == computed
    page = response.content.decode()
    crs = shown[("crs", 3)]
    assert crs.days == [2]
    assert 'id="guidance-crs-3"' in page
    assert "reference information" in page
    assert "Santomasso BD" in page  # the ASCO 2021 citation
    assert crs.steps[0].text in page


def test_guidance_is_shown_in_chinese(
    without_model: Path,
    chinese_catalogue: None,
    client_for: Callable[[str], Client],
    graded_patient: Any,
) -> None:
    from carta.clinical.guidance import guidance_for

    client = client_for("coordinator")
    client.post(reverse("accounts:language"), {"language": "zh-hans", "next": "/"})
    page = _page(client, graded_patient)
    entry = guidance_for("crs", 3)
    assert entry is not None
    assert entry.steps[0].text.zh_hans in page
    assert entry.steps[0].text.en not in page
    assert "参考信息" in page
    assert "决策支持" in page  # the forecast label, translated
