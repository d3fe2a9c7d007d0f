"""The post-infusion follow-up schedule and the status of each visit.

CIBMTR reporting for genetically modified cellular therapy (CAR-T) follows the recipient for
15 years: the Post-CTED form (4100) at 100 days, 6 months and annually after infusion
(CIBMTR Training and Reference Guide, "Cell therapy reporting tracks": 15-year track). carta
adds a day-28 visit, the usual early response and toxicity assessment.

Windows (ADR 0241, [S] except where marked):

==========  ==========  ===========================================================
visit       target      window (days after infusion; infusion day = day 0)
==========  ==========  ===========================================================
day 28      day 28      day 21 - 35 (+/- 7 days) [S]
day 100     day 100     day 85 - 115 (CIBMTR 4100 approximate range, +/- 15 days)
6 months    day 180     day 150 - 210 (CIBMTR 4100, +/- 30 days)
1 year      day 365     day 365 - 425 (CIBMTR 4100, + 60 days)
2..15 years anniversary anniversary +/- 30 days (CIBMTR 4100 annual reporting, months
                        23-25, 35-37 ...); a 29 February infusion has its anniversary
                        on 28 February in common years [S]
==========  ==========  ===========================================================

Status of each visit, in order of precedence [S]:

1. ``done`` - the visit is among those recorded as done;
2. ``not_applicable`` - follow-up ended (death or withdrawal of consent) on or before the
   last day of the visit's window;
3. ``upcoming`` - today is before the window opens;
4. ``due`` - today is inside the window (both ends included);
5. ``overdue`` - the window has closed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

# CIBMTR Forms Instruction Manual, 4100 Q2 ("Contact date" approximate ranges).
DAY_100 = 100
DAY_100_HALF_WINDOW = 15
MONTH_6_DAY = 180
MONTH_6_HALF_WINDOW = 30
YEAR_1_DAY = 365
YEAR_1_WINDOW_AFTER = 60
ANNUAL_HALF_WINDOW_DAYS = 30
# CIBMTR 15-year follow-up track for genetically modified cell therapy.
LAST_YEAR = 15
# carta's day-28 visit [S].
DAY_28 = 28
DAY_28_HALF_WINDOW = 7
FEBRUARY = 2
LEAP_DAY = 29


class VisitStatus(StrEnum):
    """Where a visit stands on a given day."""

    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class Visit:
    """A scheduled visit: key, English label, and its window as dates."""

    key: str
    label: str
    target_date: date
    window_start: date
    window_end: date
    infusion_date: date

    @property
    def target_day(self) -> int:
        """Days after infusion (infusion day = day 0)."""
        return (self.target_date - self.infusion_date).days

    @property
    def window_start_day(self) -> int:
        """First day of the window, in days after infusion."""
        return (self.window_start - self.infusion_date).days

    @property
    def window_end_day(self) -> int:
        """Last day of the window, in days after infusion."""
        return (self.window_end - self.infusion_date).days

    def contains(self, day: date) -> bool:
        """Whether ``day`` falls in the window (both ends included)."""
        return self.window_start <= day <= self.window_end


@dataclass(frozen=True, slots=True)
class VisitState:
    """A visit and its status."""

    visit: Visit
    status: VisitStatus


def anniversary(infusion_date: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February -> 28 February in a common year."""
    year = infusion_date.year + years
    if infusion_date.month == FEBRUARY and infusion_date.day == LEAP_DAY:
        try:
            return date(year, FEBRUARY, LEAP_DAY)
        except ValueError:
            return date(year, FEBRUARY, LEAP_DAY - 1)
    return infusion_date.replace(year=year)


def _by_days(infusion_date: date, key: str, label: str, target: int, start: int, end: int) -> Visit:
    return Visit(
        key=key,
        label=label,
        target_date=infusion_date + timedelta(days=target),
        window_start=infusion_date + timedelta(days=start),
        window_end=infusion_date + timedelta(days=end),
        infusion_date=infusion_date,
    )


def schedule(infusion_date: date) -> tuple[Visit, ...]:
    """Every follow-up visit after an infusion on ``infusion_date``, in order."""
    visits = [
        _by_days(
            infusion_date,
            "day_28",
            "Day 28",
            DAY_28,
            DAY_28 - DAY_28_HALF_WINDOW,
            DAY_28 + DAY_28_HALF_WINDOW,
        ),
        _by_days(
            infusion_date,
            "day_100",
            "Day 100",
            DAY_100,
            DAY_100 - DAY_100_HALF_WINDOW,
            DAY_100 + DAY_100_HALF_WINDOW,
        ),
        _by_days(
            infusion_date,
            "month_6",
            "6 months",
            MONTH_6_DAY,
            MONTH_6_DAY - MONTH_6_HALF_WINDOW,
            MONTH_6_DAY + MONTH_6_HALF_WINDOW,
        ),
        _by_days(
            infusion_date,
            "year_1",
            "1 year",
            YEAR_1_DAY,
            YEAR_1_DAY,
            YEAR_1_DAY + YEAR_1_WINDOW_AFTER,
        ),
    ]
    half = timedelta(days=ANNUAL_HALF_WINDOW_DAYS)
    for years in range(2, LAST_YEAR + 1):
        target = anniversary(infusion_date, years)
        visits.append(
            Visit(
                key=f"year_{years}",
                label=f"{years} years",
                target_date=target,
                window_start=target - half,
                window_end=target + half,
                infusion_date=infusion_date,
            )
        )
    return tuple(visits)


VISIT_KEYS: tuple[str, ...] = tuple(visit.key for visit in schedule(date(2001, 1, 1)))


def visit_for_contact(infusion_date: date, contact_date: date) -> Visit | None:
    """The visit whose window contains ``contact_date`` (windows do not overlap), if any."""
    for visit in schedule(infusion_date):
        if visit.contains(contact_date):
            return visit
    return None


def _status(visit: Visit, today: date, done: Collection[str], ended_on: date | None) -> VisitStatus:
    if visit.key in done:
        return VisitStatus.DONE
    if ended_on is not None and ended_on <= visit.window_end:
        return VisitStatus.NOT_APPLICABLE
    if today < visit.window_start:
        return VisitStatus.UPCOMING
    if today <= visit.window_end:
        return VisitStatus.DUE
    return VisitStatus.OVERDUE


def follow_up_status(
    infusion_date: date,
    today: date,
    done: Collection[str] = (),
    ended_on: date | None = None,
) -> tuple[VisitState, ...]:
    """The status of every visit on ``today``.

    ``done`` holds the keys of visits recorded as done (``day_28``, ``day_100``, ``month_6``,
    ``year_1`` .. ``year_15``); ``ended_on`` is the date follow-up ended (death or withdrawal),
    if it has. An unknown key, or an end before the infusion, raises ``ValueError`` naming it.
    """
    unknown = sorted(set(done) - set(VISIT_KEYS))
    if unknown:
        raise ValueError(f"done: unknown visit key(s) {', '.join(unknown)}")
    if ended_on is not None and ended_on < infusion_date:
        raise ValueError(f"ended_on: {ended_on} is before the infusion on {infusion_date}")
    return tuple(
        VisitState(visit, _status(visit, today, done, ended_on))
        for visit in schedule(infusion_date)
    )
