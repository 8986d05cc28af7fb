"""Award amounts by kind, vectorized over the rows that qualify.

Each function returns the amount and the figures it was computed from, so an explanation can
show the arithmetic without computing anything a second time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fiscalsim.engine.conditions import all_hold
from fiscalsim.engine.factview import FactView
from fiscalsim.engine.state import EngineState
from fiscalsim.rules.book import CompiledRule
from fiscalsim.rules.schema import (
    BandedQuantity,
    BaseAndIncrement,
    Flat,
    PerPerson,
    Rate,
    ShareOfHigherAward,
    TieredFirstReach,
)


@dataclass
class AmountResult:
    """Amounts (万元) and their basis for each qualifying row."""

    amount_wan: np.ndarray
    uncapped_wan: np.ndarray
    base: np.ndarray  # the quantity paid on (revenue, investment, persons ...); NaN for flat
    factor: np.ndarray  # the rate, share or amount per unit; NaN for flat and tiers
    tier_from: np.ndarray  # ladders: tiers reached before (count); -1 otherwise
    tier_to: np.ndarray  # ladders: tiers reached now (count); -1 otherwise
    variant: np.ndarray  # index of the variant paid; -1 without variants
    base_assumed: np.ndarray  # True where an assumed base stood in for a missing fact


def _result(n: int) -> AmountResult:
    return AmountResult(
        amount_wan=np.zeros(n),
        uncapped_wan=np.zeros(n),
        base=np.full(n, np.nan),
        factor=np.full(n, np.nan),
        tier_from=np.full(n, -1, dtype=np.int16),
        tier_to=np.full(n, -1, dtype=np.int16),
        variant=np.full(n, -1, dtype=np.int16),
        base_assumed=np.zeros(n, dtype=bool),
    )


def _capped(values: np.ndarray, cap: float | None) -> np.ndarray:
    return values if cap is None else np.minimum(values, cap)


def _with_variants(
    amount: Flat | Rate | ShareOfHigherAward,
    view: FactView,
    rows: np.ndarray,
    base: np.ndarray,
    result: AmountResult,
    pay_each: bool = False,
) -> AmountResult:
    """Amount under the rule's own parameters, or the best variant that holds.

    Under the `designations: each` reading every variant that holds is paid (their sum);
    the basis then shows the largest of them.
    """
    default_factor = getattr(amount, "rate", None) or getattr(amount, "share", None)
    options: list[tuple[np.ndarray, float | None, float | None, float | None]] = []
    if amount.variants:
        for variant in amount.variants:
            factor = variant.rate if variant.rate is not None else variant.share
            options.append(
                (
                    all_hold(variant.when, view, rows),
                    variant.amount_wan,
                    factor if factor is not None else default_factor,
                    variant.cap_wan
                    if variant.cap_wan is not None
                    else getattr(amount, "cap_wan", None),
                )
            )
    else:
        options.append(
            (
                np.ones(rows.size, dtype=bool),
                getattr(amount, "amount_wan", None),
                default_factor,
                getattr(amount, "cap_wan", None),
            )
        )
    best = np.full(rows.size, -1.0)
    total = np.zeros(rows.size)
    for position, (holds, flat, factor, cap) in enumerate(options):
        if flat is not None:
            uncapped = np.full(rows.size, flat)
        else:
            uncapped = base * float(factor or 0.0)
        value = _capped(uncapped, cap)
        total += np.where(holds, np.nan_to_num(value, nan=0.0), 0.0)
        better = holds & (value > best)
        best = np.where(better, value, best)
        result.uncapped_wan = np.where(better, uncapped, result.uncapped_wan)
        result.factor = np.where(
            better, np.nan if flat is not None else float(factor or 0.0), result.factor
        )
        if amount.variants:
            result.variant = np.where(better, position, result.variant).astype(np.int16)
    result.amount_wan = total if pay_each else np.maximum(best, 0.0)
    if not isinstance(amount, Flat):
        result.base = base
    return result


def tiered(
    compiled: CompiledRule,
    view: FactView,
    state: EngineState,
    rows: np.ndarray,
) -> AmountResult:
    """Pay the tiers reached for the first time, under the rule's tier-jump reading."""
    amount = compiled.rule.amount
    assert isinstance(amount, TieredFirstReach)
    result = _result(rows.size)
    values = view.get(amount.fact, rows)
    firms = view.table.firm[rows]
    before = state.reached(compiled.ladder)[firms].astype(np.int64)
    now = np.searchsorted(compiled.thresholds_wan, values, side="right")
    now = np.where(np.isnan(values), 0, now)
    newly = now > before
    cumulative = np.concatenate([[0.0], np.cumsum(compiled.tier_amounts_wan)])
    top = compiled.tier_amounts_wan[np.maximum(now - 1, 0)]
    reading = compiled.readings.tier_jump
    if reading == "every_tier":
        paid = cumulative[now] - cumulative[before]
    elif reading == "highest_only":
        paid = top
    else:  # top_up
        paid = np.maximum(top - state.paid(compiled.ladder)[firms], 0.0)
    paid = np.where(newly, paid, 0.0)
    result.amount_wan = paid
    result.uncapped_wan = paid
    result.base = values
    result.tier_from = before.astype(np.int16)
    result.tier_to = now.astype(np.int16)
    return result


def compute(
    compiled: CompiledRule,
    view: FactView,
    state: EngineState,
    rows: np.ndarray,
) -> AmountResult:
    """The award of one rule at each qualifying row (zero where nothing is due)."""
    result = _by_kind(compiled, view, state, rows)
    if compiled.cap_per_window:
        cap = getattr(compiled.rule.amount, "cap_wan", None)
        if cap is not None:
            paid = state.rule_history(compiled.index).paid_for(view.table.firm[rows])
            result.amount_wan = np.minimum(result.amount_wan, np.maximum(cap - paid, 0.0))
    return result


def _by_kind(
    compiled: CompiledRule,
    view: FactView,
    state: EngineState,
    rows: np.ndarray,
) -> AmountResult:
    amount = compiled.rule.amount
    result = _result(rows.size)
    each = compiled.pay_each_designation
    if isinstance(amount, TieredFirstReach):
        return tiered(compiled, view, state, rows)
    if isinstance(amount, Flat):
        return _with_variants(amount, view, rows, np.full(rows.size, np.nan), result, each)
    if isinstance(amount, Rate):
        return _with_variants(amount, view, rows, view.get(amount.base, rows), result, each)
    if isinstance(amount, ShareOfHigherAward):
        given = view.get(amount.base, rows)
        missing = ~(given > 0)
        if amount.assumed_base_wan is not None:
            base = np.where(missing, amount.assumed_base_wan, given)
            result.base_assumed = missing
        else:
            base = np.where(missing, 0.0, given)
        return _with_variants(amount, view, rows, base, result, each)
    if isinstance(amount, PerPerson):
        persons = view.get(amount.count, rows)
        uncapped = persons * amount.amount_wan_per_person
        result.base, result.factor = persons, np.full(rows.size, amount.amount_wan_per_person)
    elif isinstance(amount, BaseAndIncrement):
        current = view.get(amount.fact, rows)
        previous = view.get(f"{amount.fact.removesuffix('_wan')}_prev_wan", rows)
        # Without last year's figure the whole amount is treated as base (no increment); the
        # explanation says so rather than showing the year's figure as last year's.
        result.base_assumed = np.isnan(previous) & ~np.isnan(current)
        previous = np.where(np.isnan(previous), current, previous)
        rise = np.maximum(current - previous, 0.0)
        if compiled.readings.base_increment == "split":
            uncapped = (
                amount.base_rate * np.minimum(current, previous) + amount.increment_rate * rise
            )
        else:
            uncapped = amount.base_rate * current + amount.increment_rate * rise
        result.base, result.factor = current, previous
    elif isinstance(amount, BandedQuantity):
        quantity = view.get(amount.quantity, rows)
        price = view.get(amount.price, rows)
        weighted = np.zeros(rows.size)
        lower = 0.0
        for band in amount.bands:
            weighted += band.share * np.clip(quantity - lower, 0.0, band.up_to - lower)
            lower = band.up_to
        uncapped = weighted * price
        result.base, result.factor = quantity, price
    else:
        raise TypeError(f"rule {compiled.id} has no cash amount")
    uncapped = np.nan_to_num(uncapped, nan=0.0)
    result.uncapped_wan = uncapped
    result.amount_wan = _capped(uncapped, getattr(amount, "cap_wan", None))
    return result
