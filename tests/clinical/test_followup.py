"""The CIBMTR-based follow-up schedule and visit statuses, at the window boundaries."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from carta.clinical.followup import (
    VISIT_KEYS,
    VisitStatus,
    anniversary,
    follow_up_status,
    schedule,
    visit_for_contact,
)

INFUSION = date(2024, 1, 10)


def day(n: int) -> date:
    return INFUSION + timedelta(days=n)


def status_of(key: str, today: date, **kwargs: object) -> VisitStatus:
    states = follow_up_status(INFUSION, today, **kwargs)  # type: ignore[arg-type]
    return next(s.status for s in states if s.visit.key == key)


def test_visit_keys_and_count() -> None:
    assert VISIT_KEYS[:5] == ("day_28", "day_100", "month_6", "year_1", "year_2")
    assert VISIT_KEYS[-1] == "year_15"
    assert len(VISIT_KEYS) == 4 + 14


@pytest.mark.parametrize(
    ("key", "target", "start", "end"),
    [
        ("day_28", 28, 21, 35),
        ("day_100", 100, 85, 115),
        ("month_6", 180, 150, 210),
        ("year_1", 365, 365, 425),
    ],
)
def test_windows_in_days(key: str, target: int, start: int, end: int) -> None:
    visit = next(v for v in schedule(INFUSION) if v.key == key)
    assert (visit.target_day, visit.window_start_day, visit.window_end_day) == (target, start, end)


def test_yearly_visits_on_the_anniversary_plus_minus_30_days() -> None:
    visit = next(v for v in schedule(INFUSION) if v.key == "year_2")
    assert visit.target_date == date(2026, 1, 10)
    assert visit.window_start == date(2025, 12, 11)
    assert visit.window_end == date(2026, 2, 9)
    last = schedule(INFUSION)[-1]
    assert last.label == "15 years"
    assert last.target_date == date(2039, 1, 10)


def test_leap_day_anniversary() -> None:
    assert anniversary(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert anniversary(date(2024, 2, 29), 4) == date(2028, 2, 29)


def test_windows_do_not_overlap() -> None:
    visits = schedule(date(2024, 2, 29))
    for earlier, later in itertools.pairwise(visits):
        assert earlier.window_end < later.window_start


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (day(20), VisitStatus.UPCOMING),
        (day(21), VisitStatus.DUE),  # window opens
        (day(35), VisitStatus.DUE),  # last day of the window
        (day(36), VisitStatus.OVERDUE),
    ],
)
def test_day_28_boundaries(today: date, expected: VisitStatus) -> None:
    assert status_of("day_28", today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (day(84), VisitStatus.UPCOMING),
        (day(85), VisitStatus.DUE),
        (day(115), VisitStatus.DUE),
        (day(116), VisitStatus.OVERDUE),
    ],
)
def test_day_100_boundaries(today: date, expected: VisitStatus) -> None:
    assert status_of("day_100", today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (day(364), VisitStatus.UPCOMING),
        (day(365), VisitStatus.DUE),
        (day(425), VisitStatus.DUE),
        (day(426), VisitStatus.OVERDUE),
    ],
)
def test_year_1_boundaries(today: date, expected: VisitStatus) -> None:
    assert status_of("year_1", today) == expected


def test_done_wins_even_when_overdue_or_after_death() -> None:
    assert status_of("day_28", day(400), done={"day_28"}) == VisitStatus.DONE
    assert status_of("day_100", day(400), done={"day_100"}, ended_on=day(90)) == VisitStatus.DONE


@pytest.mark.parametrize(
    ("ended", "key", "expected"),
    [
        (day(50), "day_28", VisitStatus.OVERDUE),  # window closed while alive, not recorded
        (day(35), "day_28", VisitStatus.NOT_APPLICABLE),  # died on the window's last day
        (day(30), "day_28", VisitStatus.NOT_APPLICABLE),
        (day(50), "day_100", VisitStatus.NOT_APPLICABLE),
        (day(50), "year_15", VisitStatus.NOT_APPLICABLE),
    ],
)
def test_death_or_withdrawal(ended: date, key: str, expected: VisitStatus) -> None:
    assert status_of(key, day(200), ended_on=ended) == expected


def test_a_full_picture_on_day_100() -> None:
    states = follow_up_status(INFUSION, day(100), done={"day_28"})
    statuses = [s.status for s in states]
    assert statuses[:3] == [VisitStatus.DONE, VisitStatus.DUE, VisitStatus.UPCOMING]
    assert set(statuses[3:]) == {VisitStatus.UPCOMING}


def test_unknown_visit_key_and_end_before_infusion_raise() -> None:
    with pytest.raises(ValueError, match="day_30"):
        follow_up_status(INFUSION, day(10), done={"day_30"})
    with pytest.raises(ValueError, match="ended_on"):
        follow_up_status(INFUSION, day(10), ended_on=day(-1))


@pytest.mark.parametrize(
    ("contact", "key"),
    [
        (day(21), "day_28"),
        (day(36), None),
        (day(115), "day_100"),
        (day(365), "year_1"),
        (day(364), None),
    ],
)
def test_visit_for_contact(contact: date, key: str | None) -> None:
    visit = visit_for_contact(INFUSION, contact)
    assert (visit.key if visit else None) == key
