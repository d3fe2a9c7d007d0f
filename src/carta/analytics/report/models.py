"""The report's model sections beyond the Cox model: the protocol comparison adjusted by
inverse-probability weighting (:func:`carta.analytics.compare.compare_protocols`), logistic
regressions of objective response and of severe CRS and ICANS
(:func:`carta.analytics.regression.logistic_regression`) and vein-to-vein time with its
association with overall survival
(:func:`carta.analytics.regression.vein_to_vein_association`).

As everywhere in the report, the numbers are the library's; a model the data do not allow
(:class:`CohortError`: separation, a constant outcome, a level without events ...) is said in
its place instead of failing the report.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from carta.analytics.cohort import (
    OBJECTIVE_RESPONSES,
    CohortError,
    describe,
    group_column,
    time_column,
)
from carta.analytics.compare import TREATED, ProtocolComparison, compare_protocols, default_arms
from carta.analytics.regression import (
    LogisticModel,
    VeinToVein,
    logistic_regression,
    vein_to_vein_association,
)
from carta.analytics.report.common import (
    EMPTY,
    _Context,
    _estimate_ci,
    _median_iqr,
    _missing_columns,
    _number,
    _p_value,
    _survival_table,
    _term_label,
    default_covariates,
    km_svg,
)
from carta.analytics.report.document import Block, Figure, Note, Paragraph, Section, Table
from carta.analytics.report.figures import (
    DAYS_PER_MONTH,
    box_plot,
    to_svg,
)

COMPARE_COLUMN = "ld_regimen"  # the default protocol column, as on the web Analytics page
SEVERE_GRADE = 3
VEIN_TO_VEIN = "vein_to_vein_days"
VEIN_TO_VEIN_PER_DAYS = 7.0
SMD_BALANCED = 0.1
# (section sub-heading key, outcome column added, what it needs)
LOGISTIC_OUTCOMES = (
    ("logistic_response", "_objective_response", ("best_response",)),
    ("logistic_crs", "_severe_crs", ("crs_max_grade",)),
    ("logistic_icans", "_severe_icans", ("icans_max_grade",)),
)


# --- protocol comparison --------------------------------------------------------------------------


def compare_section(
    context: _Context,
    column: str | None,
    arms: Sequence[str] | None,
    covariates: Sequence[str] | None,
) -> Section:
    """Overall survival of two protocols adjusted by inverse-probability weighting."""
    text = context.text
    name = column or COMPARE_COLUMN
    absent = _missing_columns(context, "compare", [name, "os_days", "os_event"])
    if absent is not None:
        return absent
    chosen_arms = _arms(context.cohort, name, arms)
    in_arms = context.cohort.filter(pl.col(name).cast(pl.String).is_in(list(chosen_arms)))
    months = time_column(in_arms, "os_days") / DAYS_PER_MONTH
    data = in_arms.with_columns(months.alias("_months"))
    if covariates:
        terms, left_out = [c for c in covariates if c != name], list[str]()
    else:
        terms, left_out = _propensity_covariates(data, name, chosen_arms)
    if not terms:
        raise CohortError(f"no baseline covariate varies between the arms of {name!r}")
    try:
        result = compare_protocols(data, name, "_months", "os_event", terms, arms=list(chosen_arms))
    except CohortError as error:  # name the protocol column, not the internal indicator
        raise CohortError(str(error).replace(TREATED, name)) from None
    counts = {arm: int((data[name].cast(pl.String) == arm).sum()) for arm in chosen_arms}
    reference, compared = result.arms
    intro = text(
        "compare_intro",
        column=f"{text.variable(name)} ({name})",
        compared=text.value(compared),
        n_compared=f"{counts[compared]:,}",
        reference=text.value(reference),
        n_reference=f"{counts[reference]:,}",
        how=text("compare_given" if arms else "compare_chosen"),
        covariates=", ".join(f"{text.variable(term)} ({term})" for term in terms),
    )
    ess = ", ".join(
        f"{text.value(arm)} {size:,.1f}" for arm, size in result.effective_sample_size.items()
    )
    blocks: list[Block] = [
        Paragraph(intro),
        Paragraph(text("compare_ess", ess=ess, n=f"{result.weights.height:,}")),
    ]
    if result.dropped:
        blocks.append(Note(text("compare_dropped", dropped=f"{result.dropped:,}")))
    if left_out:
        names = ", ".join(f"{text.variable(c)} ({c})" for c in left_out)
        blocks.append(Note(text("compare_left_out", covariates=names)))
    blocks.append(_weighted_figure(context, result))
    blocks.append(_survival_table(context, result.curves, text("compare_km_caption"), rmst=False))
    blocks.append(_hazard_table(context, result))
    blocks += _balance_blocks(context, result)
    frames = {
        "balance": result.balance,
        "curves": result.curves.summary,
        "hazard_ratios": pl.concat(
            [
                result.cox.coefficients.select(pl.lit("weighted").alias("model"), pl.all()),
                result.unadjusted_cox.coefficients.select(
                    pl.lit("unadjusted").alias("model"), pl.all()
                ),
            ]
        ),
        "effective_sample_size": pl.DataFrame(
            {
                "arm": list(result.effective_sample_size),
                "size": list(result.effective_sample_size.values()),
            }
        ),
        "arms": pl.DataFrame(
            {
                "column": [name, name],
                "arm": list(result.arms),
                "n": [counts[arm] for arm in result.arms],
                "chosen": [arms is None, arms is None],
            }
        ),
        "covariates": pl.DataFrame({"name": terms}),
    }
    return Section("compare", text("sec_compare"), tuple(blocks), frames)


def _propensity_covariates(
    data: pl.DataFrame, column: str, arms: tuple[str, str]
) -> tuple[list[str], list[str]]:
    """The report's default covariates that the propensity model can take, in order: each kept
    only if the logistic model of the compared arm still fits with it (a covariate level found
    in one arm only separates the arms and has no weight to give). Returns (kept, left out)."""
    candidates = [c for c in default_covariates(data, None) if c != column]
    treated = (data[column].cast(pl.String) == arms[1]).cast(pl.Int8).alias(TREATED)
    frame = data.with_columns(treated)
    kept: list[str] = []
    left_out: list[str] = []
    for name in candidates:
        try:
            logistic_regression(frame, TREATED, [*kept, name])
        except CohortError:
            left_out.append(name)
        else:
            kept.append(name)
    return kept, left_out


def _arms(cohort: pl.DataFrame, column: str, arms: Sequence[str] | None) -> tuple[str, str]:
    if arms is None:
        chosen = default_arms(cohort, column)
        if chosen is None:
            raise CohortError(
                f"column {column!r} has fewer than two values among these patients; there is "
                "nothing to compare"
            )
        return chosen
    if len(arms) != 2 or arms[0] == arms[1]:
        raise CohortError(f"give two different values of {column!r} to compare, not {list(arms)}")
    _, levels = group_column(cohort.filter(pl.col(column).is_not_null()), column)
    absent = [arm for arm in arms if arm not in levels]
    if absent:
        raise CohortError(
            f"{', '.join(repr(arm) for arm in absent)} is not a value of {column!r} among these "
            f"patients; the values are {', '.join(levels[:20])}"
        )
    return arms[0], arms[1]


def _weighted_figure(context: _Context, result: ProtocolComparison) -> Figure:
    text = context.text
    return Figure(
        text("compare_figure_caption"), km_svg(context, result.curves, text("compare_figure"))
    )


def _hazard_table(context: _Context, result: ProtocolComparison) -> Table:
    text = context.text
    rows = []
    for label, model in (
        (text("compare_weighted"), result.cox),
        (text("compare_unadjusted"), result.unadjusted_cox),
    ):
        row = model.coefficients.row(0, named=True)
        rows.append(
            (
                label,
                _estimate_ci(row["hr"], row["hr_lower"], row["hr_upper"], digits=2),
                _p_value(row["p"]),
            )
        )
    reference, compared = result.arms
    caption = text(
        "compare_hr_caption", compared=text.value(compared), reference=text.value(reference)
    )
    return Table(caption, (text("col_model"), text("col_hr"), text("col_p")), tuple(rows))


def _balance_blocks(context: _Context, result: ProtocolComparison) -> list[Block]:
    text = context.text
    reference, compared = result.arms
    rows = tuple(
        (
            _term_label(context, row["term"]),
            _number(row["mean_treated_before"], 2),
            _number(row["mean_reference_before"], 2),
            _number(row["smd_before"], 3),
            _number(row["mean_treated_after"], 2),
            _number(row["mean_reference_after"], 2),
            _number(row["smd_after"], 3),
        )
        for row in result.balance.iter_rows(named=True)
    )
    columns = (
        text("col_term"),
        text("col_mean_before", arm=text.value(compared)),
        text("col_mean_before", arm=text.value(reference)),
        text("col_smd_before"),
        text("col_mean_after", arm=text.value(compared)),
        text("col_mean_after", arm=text.value(reference)),
        text("col_smd_after"),
    )
    blocks: list[Block] = [Table(text("balance_caption"), columns, rows)]
    unbalanced = result.balance.filter(pl.col("smd_after").abs() >= SMD_BALANCED)["term"]
    if unbalanced.len():
        terms = ", ".join(_term_label(context, term) for term in unbalanced.to_list())
        blocks.append(Note(text("balance_not_reached", terms=terms)))
    return blocks


# --- logistic regressions -------------------------------------------------------------------------


def logistic_outcome(cohort: pl.DataFrame, outcome: str) -> pl.DataFrame:
    """``cohort`` with the 0/1 column ``outcome``: objective response (every patient; not
    evaluable counts as no response, as in the response section) or grade >= 3 CRS / ICANS
    (the patients without any determined grade are left out)."""
    if outcome == "_objective_response":
        words = cohort["best_response"].cast(pl.String).str.to_lowercase()
        responded = words.is_in(list(OBJECTIVE_RESPONSES)).fill_null(False)
        return cohort.with_columns(responded.cast(pl.Int8).alias(outcome))
    grade = f"{outcome.removeprefix('_severe_')}_max_grade"
    graded = cohort.filter(pl.col(grade).is_not_null())
    return graded.with_columns((pl.col(grade) >= SEVERE_GRADE).cast(pl.Int8).alias(outcome))


def logistic_section(context: _Context, covariates: Sequence[str] | None) -> Section:
    """Odds ratios of objective response, severe CRS and severe ICANS on the covariates of the
    Cox model (the group and the usual baseline covariates, unless given)."""
    text = context.text
    blocks: list[Block] = []
    frames: dict[str, pl.DataFrame] = {}
    for key, outcome, needed in LOGISTIC_OUTCOMES:
        label = text(key)
        absent = [name for name in needed if name not in context.cohort.columns]
        if absent:
            names = ", ".join(repr(name) for name in absent)
            blocks.append(Note(f"{label}: {text('na_columns', columns=names)}"))
            continue
        try:
            blocks += _logistic_blocks(context, key, outcome, covariates, frames)
        except CohortError as error:
            # Name the outcome as the reader knows it, not by the internal column.
            message = str(error).replace(repr(outcome), label).replace(outcome, label)
            blocks.append(Note(f"{label}: {text('na_error', error=message)}"))
    if frames:  # at least one model was fitted (otherwise the section is its notes)
        blocks.insert(0, Paragraph(text("logistic_intro")))
    return Section("logistic", text("sec_logistic"), tuple(blocks), frames)


def _logistic_blocks(
    context: _Context,
    key: str,
    outcome: str,
    covariates: Sequence[str] | None,
    frames: dict[str, pl.DataFrame],
) -> list[Block]:
    text = context.text
    data = logistic_outcome(context.cohort, outcome)
    left_out = context.cohort.height - data.height
    terms = list(covariates) if covariates else default_covariates(data, context.group)
    if not terms:
        raise CohortError("no covariate varies among these patients")
    try:
        model = logistic_regression(data, outcome, terms)
    except CohortError as error:  # name the model, not its internal outcome column
        raise CohortError(str(error).replace(repr(outcome), text(key))) from None
    frames[key] = model.coefficients
    frames[f"{key}_covariates"] = pl.DataFrame({"name": terms})
    blocks: list[Block] = [Paragraph(_logistic_intro(context, key, model, terms))]
    if left_out:
        blocks.append(Note(text("excluded_not_graded", count=f"{left_out:,}")))
    rows = tuple(
        (
            _term_label(context, row["term"]),
            _estimate_ci(row["odds_ratio"], row["odds_ratio_lower"], row["odds_ratio_upper"], 1, 2),
            _p_value(row["p"]),
        )
        for row in model.coefficients.iter_rows(named=True)
        if row["term"] != "Intercept"
    )
    columns = (text("col_term"), text("col_or"), text("col_p"))
    blocks.append(Table(text("logistic_caption", outcome=text(key)), columns, rows))
    return blocks


def _logistic_intro(context: _Context, key: str, model: LogisticModel, terms: Sequence[str]) -> str:
    text = context.text
    dropped = text("forest_dropped", dropped=f"{model.dropped:,}") if model.dropped else ""
    intro = text(
        "logistic_fit",
        outcome=text(key),
        n=f"{model.n:,}",
        outcomes=f"{model.outcomes:,}",
        dropped=dropped,
        covariates=", ".join(text.variable(term) for term in terms),
    )
    if model.reference:
        levels = ", ".join(
            f"{text.variable(column)} = {text.value(level)}"
            for column, level in model.reference.items()
        )
        intro += " " + text("forest_reference", levels=levels)
    return intro


# --- vein-to-vein time ----------------------------------------------------------------------------


def vein_to_vein_section(context: _Context, covariates: Sequence[str] | None) -> Section:
    """Vein-to-vein time per group and the hazard ratio of death per 7 days longer, crude and
    adjusted for the Cox model's covariates (when the adjusted model is estimable)."""
    text = context.text
    absent = _missing_columns(context, "vein_to_vein", [VEIN_TO_VEIN, "os_days", "os_event"])
    if absent is not None:
        return absent
    crude = vein_to_vein_association(
        context.cohort, "os_days", "os_event", group=context.group, per_days=VEIN_TO_VEIN_PER_DAYS
    )
    blocks: list[Block] = [
        Paragraph(text("v2v_intro")),
        _distribution_table(context),
        _box_figure(context),
    ]
    frames = {"distribution": crude.distribution, "unadjusted": crude.model.coefficients}
    rows = [_hr_row(text("v2v_unadjusted"), crude)]
    adjusted_for: Paragraph | None = None
    terms = [
        c
        for c in (covariates or default_covariates(context.cohort, context.group))
        if c != VEIN_TO_VEIN
    ]
    if terms:
        try:
            adjusted = vein_to_vein_association(
                context.cohort,
                "os_days",
                "os_event",
                adjusted_for=terms,
                per_days=VEIN_TO_VEIN_PER_DAYS,
            )
        except CohortError as error:
            blocks.append(Note(text("v2v_adjusted_failed", error=str(error))))
        else:
            frames["adjusted"] = adjusted.model.coefficients
            frames["covariates"] = pl.DataFrame({"name": terms})
            names = ", ".join(text.variable(term) for term in terms)
            rows.append(_hr_row(text("v2v_adjusted"), adjusted))
            adjusted_for = Paragraph(text("v2v_adjusted_for", covariates=names))
    caption = text("v2v_hr_caption", days=f"{VEIN_TO_VEIN_PER_DAYS:g}")
    columns = (text("col_model"), text("col_n"), text("col_events"), text("col_hr"), text("col_p"))
    blocks.append(Table(caption, columns, tuple(rows)))
    if adjusted_for is not None:
        blocks.append(adjusted_for)
    return Section("vein_to_vein", text("sec_vein_to_vein"), tuple(blocks), frames)


def _hr_row(label: str, association: VeinToVein) -> tuple[str, ...]:
    model = association.model
    coefficients = model.coefficients
    row = coefficients.filter(pl.col("term") == association.term).row(0, named=True)
    return (
        label,
        f"{model.n:,}",
        f"{model.events:,}",
        _estimate_ci(row["hr"], row["hr_lower"], row["hr_upper"], digits=2),
        _p_value(row["p"]),
    )


def _distribution_table(context: _Context) -> Table:
    text = context.text
    rows = []
    for label, part in context.subsets():
        row = describe(part, VEIN_TO_VEIN).row(0, named=True)
        rows.append(
            (
                label,
                f"{row['n']:,}",
                _median_iqr(row, 0),
                _number(row["mean"]),
                f"{_number(row['min'], 0)}–{_number(row['max'], 0)}" if row["n"] else EMPTY,
                f"{row['missing']:,}",
            )
        )
    columns = (
        text("col_group"),
        text("col_n"),
        text("col_median_iqr"),
        text("col_mean"),
        text("col_range"),
        text("col_missing"),
    )
    return Table(text("v2v_caption"), columns, tuple(rows))


def _box_figure(context: _Context) -> Figure:
    text = context.text
    values = {
        label: part[VEIN_TO_VEIN].cast(pl.Float64).drop_nulls().to_list()
        for label, part in context.subsets()
    }
    figure = box_plot(values, title=text("sec_vein_to_vein"), ylabel=text("v2v_axis"))
    return Figure(text("sec_vein_to_vein"), to_svg(figure))
