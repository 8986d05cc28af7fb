"""Vectorized tests of a rule's eligibility and trigger on chosen rows of a fact view."""

from __future__ import annotations

import numpy as np
from numba import njit

from fiscalsim.engine.factview import FactView
from fiscalsim.engine.state import beyond_reached
from fiscalsim.rules.book import CompiledRule
from fiscalsim.rules.schema import (
    BandedQuantity,
    BaseAndIncrement,
    Condition,
    PerPerson,
    Rate,
    Rule,
    TieredFirstReach,
)


def holds(condition: Condition, view: FactView, rows: np.ndarray) -> np.ndarray:
    """True where the condition holds; an unknown (NaN) fact never satisfies a test."""
    values = view.get(condition.subject, rows)
    if condition.event is not None:
        return values >= 1
    ok = ~np.isnan(values)
    if condition.at_least is not None:
        ok &= values >= condition.at_least
    if condition.more_than is not None:
        ok &= values > condition.more_than
    if condition.at_most is not None:
        ok &= values <= condition.at_most
    if condition.less_than is not None:
        ok &= values < condition.less_than
    if condition.equals is not None:
        ok &= values == condition.equals
    return ok


def all_hold(conditions: list[Condition], view: FactView, rows: np.ndarray) -> np.ndarray:
    ok = np.ones(rows.size, dtype=bool)
    for condition in conditions:
        if not ok.any():
            break
        ok &= holds(condition, view, rows)
    return ok


def _requires_positive(condition: Condition) -> bool:
    if condition.event is not None:
        return True
    return (condition.at_least is not None and condition.at_least > 0) or (
        condition.more_than is not None and condition.more_than >= 0
    )


def _variant_rows(rule: Rule, view: FactView) -> np.ndarray | None:
    """Rows where some variant of the amount might hold, when each variant needs a stored fact
    to be positive (an event, say): a row where no variant holds is paid nothing. None when
    that cannot be told cheaply."""
    variants = getattr(rule.amount, "variants", None)
    if not variants:
        return None
    union: np.ndarray = np.zeros(0, dtype=np.int64)
    for variant in variants:
        found = next(
            (
                rows
                for c in variant.when
                if _requires_positive(c) and (rows := view.nonzero_rows(c.subject)) is not None
            ),
            None,
        )
        if found is None:
            return None
        union = np.union1d(union, found)
    return union


def candidate_rows(compiled: CompiledRule, view: FactView) -> np.ndarray:
    """Rows that could possibly qualify, found cheaply from the sparsest necessary fact."""
    rule = compiled.rule
    table = view.table
    needed: list[str] = [c.subject for c in rule.trigger if _requires_positive(c)]
    amount = rule.amount
    if isinstance(amount, Rate | BaseAndIncrement):
        needed.append(amount.base if isinstance(amount, Rate) else amount.fact)
    elif isinstance(amount, PerPerson):
        needed.append(amount.count)
    elif isinstance(amount, BandedQuantity):
        needed.append(amount.quantity)
    rows: np.ndarray | None = None
    for found in [view.nonzero_rows(name) for name in needed] + [_variant_rows(rule, view)]:
        if found is None:
            continue
        rows = found if rows is None else np.intersect1d(rows, found, assume_unique=True)
        if rows.size == 0:
            return rows
    if rows is None:
        if isinstance(amount, TieredFirstReach):
            rows = view.rows_at_least(amount.fact, float(compiled.thresholds_wan[0]))
        else:
            rows = np.arange(table.n)
    rows = rows_in_places(
        rows.astype(np.int64, copy=False),
        table.location,
        table.industry_class,
        compiled.location_ok,
        compiled.class_ok,
    )
    if isinstance(amount, TieredFirstReach) and table.has(amount.fact):  # only a new tier pays
        rows = rows[
            beyond_reached(
                view.state.reached(compiled.ladder),
                table.firm,
                table.raw(amount.fact, rows),
                rows,
                compiled.thresholds_wan,
            )
        ]
    return rows


def eligible(compiled: CompiledRule, view: FactView, rows: np.ndarray) -> np.ndarray:
    """Eligibility and trigger tests, on rows already inside the rule's places and classes."""
    rule = compiled.rule
    criteria = rule.eligibility
    ok = np.ones(rows.size, dtype=bool)
    if criteria.above_scale is not None:
        ok &= (view.get("above_scale", rows) == 1) == criteria.above_scale
    if criteria.max_firm_age_years is not None:
        age = view.get("firm_age_years", rows)
        young = (age >= 0) & (age <= criteria.max_firm_age_years)
        if criteria.age_at == "first_award":  # tested when first paid, not in later years
            history = view.state.rule_history(compiled.index)
            young |= history.first_year_for(view.table.firm[rows]) >= 0
        ok &= young
    ok &= all_hold(list(criteria.conditions) + list(rule.trigger), view, rows)
    if criteria.any_of:
        either = np.zeros(rows.size, dtype=bool)
        for group in criteria.any_of:
            either |= all_hold(group, view, rows)
        ok &= either
    return ok


@njit(cache=True)
def rows_in_places(
    rows: np.ndarray,
    location: np.ndarray,
    industry_class: np.ndarray,
    location_ok: np.ndarray,
    class_ok: np.ndarray,
) -> np.ndarray:
    """The rows whose place and class the rule covers, in one pass: what
    rows[location_ok[location[rows]] & class_ok[industry_class[rows]]] gives in five."""
    out = np.empty(rows.size, dtype=np.int64)
    n = 0
    for i in range(rows.size):  # without a branch, as factview.rows_at_least
        row = rows[i]
        out[n] = row
        n += location_ok[location[row]] & class_ok[industry_class[row]]
    return out[:n]
