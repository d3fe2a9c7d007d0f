"""Response: best overall response, overall and complete response rates with exact
(Clopper-Pearson) intervals, and duration of response.

Response words are the registry's (``carta.web.registry`` choices, the words of
``carta.synth``): ``scr``, ``cr``, ``cri``, ``vgpr``, ``pr``, ``mr``, ``sd``, ``pd``, ``nr``
across Lugano 2014, IMWG 2016, B-ALL and iwCLL 2018 criteria. An **objective response** is PR
or better (sCR, CR, CRi, VGPR, PR); a **complete response** is sCR, CR or CRi (ADR 0305).

* :func:`best_overall_response` - per patient, the best response over their assessments
  (ties: the earliest), and the day of the first objective response.
* :func:`response_rates` - per group: counts by best response, ORR and CR rate with
  Clopper-Pearson 95% intervals (Clopper & Pearson 1934; R ``binom.test``). The denominator
  is every patient in the group (intention to treat) unless ``denominator="evaluable"``;
  patients without a response are counted as ``not_evaluable``.
* :func:`duration_of_response` - Kaplan-Meier curves of the time from first objective
  response to progression or death (the PFS event), among responders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from carta.analytics.cohort import (
    ALL,
    COMPLETE_RESPONSES,
    GROUP,
    OBJECTIVE_RESPONSES,
    CohortError,
    event_column,
    group_column,
    numeric_values,
    require_column,
)
from carta.analytics.survival import SurvivalCurves, kaplan_meier

# Best first: the order in which a better response replaces a worse one (NR, no remission
# of B-ALL, ranks with stable disease above progression).
RESPONSE_ORDER = ("scr", "cr", "cri", "vgpr", "pr", "mr", "sd", "nr", "pd")
NOT_EVALUABLE = "not_evaluable"
DENOMINATORS = ("all", "evaluable")


def clopper_pearson(successes: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Exact binomial confidence interval of ``successes`` / ``n`` (R ``binom.test``)."""
    if n <= 0:
        raise CohortError("a proportion needs at least one patient")
    if not 0 <= successes <= n:
        raise CohortError(f"{successes} successes out of {n} is not a proportion")
    tail = (1 - conf_level) / 2
    # The beta quantiles of Clopper & Pearson (R: qbeta(tail, x, n - x + 1) ...).
    lower = 0.0 if successes == 0 else float(special.betaincinv(successes, n - successes + 1, tail))
    upper = (
        1.0 if successes == n else float(special.betaincinv(successes + 1, n - successes, 1 - tail))
    )
    return lower, upper


def _response_words(series: pl.Series, name: str) -> pl.Series:
    """Lower-case response words, each one of :data:`RESPONSE_ORDER` or null."""
    words = series.cast(pl.String).str.strip_chars().str.to_lowercase().replace("", None)
    unknown = words.is_not_null() & ~words.is_in(RESPONSE_ORDER)
    if unknown.any():
        found = sorted(set(words.filter(unknown).to_list()))[:5]
        raise CohortError(
            f"column {name!r} (response) holds {found}; expected one of "
            f"{', '.join(RESPONSE_ORDER)} (or an empty cell for not evaluable)"
        )
    return words.alias(name)


def best_overall_response(
    responses: pl.DataFrame,
    *,
    patient: str = "patient_id",
    response: str = "response",
    day: str = "day",
) -> pl.DataFrame:
    """Per patient: ``best_response`` (best over the assessments; ties the earliest),
    ``best_response_day`` and ``first_response_day`` (first PR or better; null if none)."""
    words = _response_words(require_column(responses, response), response)
    days = numeric_values(require_column(responses, day), day, "day")
    rank = {word: position for position, word in enumerate(RESPONSE_ORDER)}
    data = pl.DataFrame(
        [
            require_column(responses, patient).alias("patient"),
            words.alias("response"),
            days.alias("day"),
        ]
    ).drop_nulls("response")
    data = data.with_columns(
        pl.col("response").replace_strict(rank, return_dtype=pl.Int64).alias("rank")
    )
    best = (
        data.sort("patient", "rank", "day")
        .group_by("patient", maintain_order=True)
        .agg(
            pl.col("response").first().alias("best_response"),
            pl.col("day").first().alias("best_response_day"),
        )
    )
    first = (
        data.filter(pl.col("response").is_in(OBJECTIVE_RESPONSES))
        .group_by("patient")
        .agg(pl.col("day").min().alias("first_response_day"))
    )
    return best.join(first, on="patient", how="left").rename({"patient": patient})


@dataclass(frozen=True, slots=True)
class ResponseRates:
    """Response per group.

    ``table``: one row per group - ``n`` (patients), ``evaluable``, ``denominator``, and for
    ``orr`` and ``cr`` the count, rate and Clopper-Pearson limits. ``counts``: patients per
    group and best response (every word, and ``not_evaluable``), with the percentage of the
    group.
    """

    table: pl.DataFrame
    counts: pl.DataFrame
    levels: tuple[str, ...]
    conf_level: float
    denominator: str


def response_rates(
    frame: pl.DataFrame,
    response: str = "best_response",
    group: str | None = None,
    *,
    conf_level: float = 0.95,
    denominator: str = "all",
) -> ResponseRates:
    """ORR and CR rate per group with exact CIs, and counts by best response."""
    if denominator not in DENOMINATORS:
        raise CohortError(
            f"denominator must be one of {', '.join(DENOMINATORS)}, not {denominator!r}"
        )
    words = _response_words(require_column(frame, response), response)
    if group is None:
        labels = pl.Series(GROUP, [ALL] * frame.height, dtype=pl.String)
        levels: tuple[str, ...] = (ALL,)
    else:
        labels, levels = group_column(frame, group)
    data = pl.DataFrame([words.fill_null(NOT_EVALUABLE).alias("response"), labels])
    rows, count_rows = [], []
    for level in levels:
        here = data.filter(pl.col(GROUP) == level)["response"]
        n = here.len()
        evaluable = int((here != NOT_EVALUABLE).sum())
        base = n if denominator == "all" else evaluable
        row: dict[str, object] = {GROUP: level, "n": n, "evaluable": evaluable, "denominator": base}
        for label, members in (("orr", OBJECTIVE_RESPONSES), ("cr", COMPLETE_RESPONSES)):
            count = int(here.is_in(members).sum())
            lower, upper = clopper_pearson(count, base, conf_level) if base else (None, None)
            row |= {
                f"{label}_n": count,
                f"{label}_rate": count / base if base else None,
                f"{label}_lower": lower,
                f"{label}_upper": upper,
            }
        rows.append(row)
        for word in (*RESPONSE_ORDER, NOT_EVALUABLE):
            count = int((here == word).sum())
            count_rows.append(
                {
                    GROUP: level,
                    "response": word,
                    "n": count,
                    "percent": 100 * count / n if n else None,
                }
            )
    return ResponseRates(
        table=pl.DataFrame(rows),
        counts=pl.DataFrame(count_rows),
        levels=levels,
        conf_level=conf_level,
        denominator=denominator,
    )


def duration_of_response(
    frame: pl.DataFrame,
    *,
    response_day: str = "first_response_day",
    time: str = "pfs_days",
    event: str = "pfs_event",
    group: str | None = None,
    conf_level: float = 0.95,
) -> SurvivalCurves:
    """Kaplan-Meier curves of the duration of response: from ``response_day`` (first
    objective response) to progression or death (``event`` of ``time``, both counted from
    the infusion), among the patients with a ``response_day``."""
    start = numeric_values(require_column(frame, response_day), response_day, "response day")
    end = numeric_values(require_column(frame, time), time, "time")
    events = event_column(frame, event)
    responders = start.is_not_null()
    if not responders.any():
        raise CohortError(
            f"no patient has a {response_day!r}: nobody responded, so there is no duration of response"
        )
    duration = end - start
    negative = responders & (duration < 0).fill_null(False)
    if negative.any():
        rows = [index + 1 for index in negative.arg_true().head(5).to_list()]
        raise CohortError(
            f"{time!r} is before {response_day!r} in rows {rows}: the response cannot come "
            "after progression or death; check those patients"
        )
    missing_end = responders & duration.is_null()
    if missing_end.any():
        rows = [index + 1 for index in missing_end.arg_true().head(5).to_list()]
        raise CohortError(f"column {time!r} is missing for responders (rows {rows})")
    columns = {"dor_days": duration, "dor_event": events}
    if group is not None:
        columns[group] = require_column(frame, group)
    data = pl.DataFrame(columns).filter(responders)
    return kaplan_meier(data, "dor_days", "dor_event", group, conf_level=conf_level)


def _as_int(value: float) -> int:
    return int(np.round(value))
