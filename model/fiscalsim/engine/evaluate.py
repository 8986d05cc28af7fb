"""Evaluate one performance year: candidates, quotas, stacking, booking, memory.

The order is the law's order. Each clause finds the firms it pays and how much; a clause with a
yearly quota grants in its stated order; 就高不重复 keeps, per firm and matter, the highest award;
each award is booked to the province, city and county by the clause's shares; the engine then
remembers what it paid and what each firm reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fiscalsim.engine.amounts import AmountResult, compute
from fiscalsim.engine.conditions import candidate_rows, eligible
from fiscalsim.engine.factview import FactTable, FactView
from fiscalsim.engine.state import EngineState, raise_reached, tiers_of, unseen_rows
from fiscalsim.rules.book import CompiledRule, RuleBook

DROPPED_STACKED = 1
DROPPED_QUOTA = 2
DROPPED_ALREADY_PAID = 3
DROP_REASONS = {
    DROPPED_STACKED: "stacked",
    DROPPED_QUOTA: "quota",
    DROPPED_ALREADY_PAID: "already_paid",
}


@dataclass
class YearAwards:
    """Awards of one performance year (granted) and the candidates not paid (dropped)."""

    year: int
    row: np.ndarray
    rule: np.ndarray
    amount_wan: np.ndarray
    payer_wan: np.ndarray  # (n, 3): province, city, county
    payer: np.ndarray  # (n, 3): registry index of each paying government, -1 if none
    payment_year: np.ndarray
    basis: AmountResult
    dropped_row: np.ndarray
    dropped_rule: np.ndarray
    dropped_amount_wan: np.ndarray
    dropped_reason: np.ndarray
    dropped_winner: np.ndarray  # rule that won the stacking, -1 otherwise

    @property
    def n(self) -> int:
        return int(self.row.size)


def _drop_paid(
    dropped: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]],
    rows: np.ndarray,
    result: AmountResult,
    over: np.ndarray,
    rule_index: int,
) -> np.ndarray:
    """Record the candidates a once-only or period limit stops; returns `over`."""
    if over.any():
        dropped.append(
            (
                rows[over],
                result.amount_wan[over],
                np.full(int(over.sum()), rule_index),
                DROPPED_ALREADY_PAID,
            )
        )
    return over


def _concat_basis(parts: list[AmountResult]) -> AmountResult:
    if not parts:
        empty = np.zeros(0)
        small = np.zeros(0, dtype=np.int16)
        return AmountResult(
            empty, empty, empty, empty, small, small, small, np.zeros(0, dtype=bool)
        )
    return AmountResult(
        *(
            np.concatenate([getattr(p, name) for p in parts])
            for name in AmountResult.__dataclass_fields__
        )
    )


def _take_basis(basis: AmountResult, keep: np.ndarray) -> AmountResult:
    return AmountResult(*(getattr(basis, name)[keep] for name in AmountResult.__dataclass_fields__))


def _start_new_firms(rules: list[CompiledRule], table: FactTable, state: EngineState) -> None:
    """A firm's first year sets its starting point: tiers at or below it count as reached before."""
    firms = table.firm
    # Without last year's figures (track_previous), only this reads last_year: it is set here
    # (for the new firms only when the table names them: only whether a firm was seen is read).
    if table.new_rows is None:
        new_rows = unseen_rows(state.last_year, firms, -1 if state.track_previous else table.year)
    else:
        new_rows = table.new_rows
        if not state.track_previous:
            state.last_year[firms[new_rows]] = table.year
    if new_rows.size == 0:
        return
    every = new_rows.size == table.n  # a first year: columns read whole, not gathered
    slots: np.ndarray | slice = table.firms if every else firms[new_rows]
    prior, revenue, founded = (
        table.column(name) if every else table.raw(name, new_rows)
        for name in ("prior_max_revenue_wan", "revenue_wan", "founded_year")
    )
    # A firm founded this year has reached nothing before (its first row's revenue is not a
    # past): tiers it reaches now are reached now, and paid if a rule is in force. Firms the
    # simulation starts in their founding (start) year reach them that year, before any rule.
    unborn = founded >= table.year  # NaN (unknown) is not
    start = np.where(np.isnan(prior), np.where(unborn, 0.0, revenue), prior)
    open_rules = [c for c in rules if c.open_in(table.year)]  # an ended ladder is not read
    for ladder, reached in _ladder_levels(open_rules, table, new_rows, start).items():
        state.reached(ladder)[slots] = reached  # a ladder's memory: through its 1-D view
    state.founded_year[slots] = founded


def _forget_before_policy(rules: list[CompiledRule], table: FactTable, state: EngineState) -> None:
    """Under the since-policy reading, the first year in force wipes what was reached before."""
    for compiled in rules:
        if (
            compiled.ladder >= 0
            and compiled.readings.first_reach == "since_policy"
            and table.year == compiled.first_year
        ):
            state.reached(compiled.ladder)[table.firm] = 0


def _apply_quotas(
    rules: tuple[CompiledRule, ...],
    view: FactView,
    row: np.ndarray,
    rule: np.ndarray,
) -> np.ndarray:
    """False for candidates beyond a clause's yearly quota, granted in the clause's stated order."""
    keep = np.ones(row.size, dtype=bool)
    for compiled in rules:
        quota = compiled.rule.quota
        if quota is None:
            continue
        mine = np.flatnonzero(rule == compiled.index)
        if mine.size <= quota.per_year and np.unique(view.table.group[row[mine]]).size <= 1:
            continue
        rows = row[mine]
        if quota.order_by is not None:
            order_value = view.get(quota.order_by, rows)
            if quota.descending:
                order_value = -order_value
            order_value = np.where(np.isnan(order_value), np.inf, order_value)
        else:
            order_value = np.zeros(rows.size)
        groups = view.table.group[rows]
        order = np.lexsort((rows, order_value, groups))
        sorted_groups = groups[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
        rank = np.arange(order.size) - np.repeat(starts, np.diff(np.r_[starts, order.size]))
        granted = np.zeros(rows.size, dtype=bool)
        granted[order] = rank < quota.per_year
        keep[mine] = granted
    return keep


def _stack(
    book: RuleBook, firm: np.ndarray, rule: np.ndarray, amount: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """就高不重复: per firm and matter keep the highest award.

    A tie goes to the document that names who pays over one whose payer is an assumption, then
    to the higher-level document.
    """
    if rule.size == 0:
        return np.ones(0, dtype=bool), np.zeros(0, dtype=np.int64)
    matter = book.matter_table[rule]
    precedence = book.precedence_table[rule]
    unnamed = 1 - book.payers_named_table[rule]
    order = np.lexsort((precedence, unnamed, -amount, matter, firm))
    f, m = firm[order], matter[order]
    first = np.r_[True, (f[1:] != f[:-1]) | (m[1:] != m[:-1])]
    winner_sorted = rule[order][np.maximum.accumulate(np.where(first, np.arange(f.size), 0))]
    keep = np.zeros(rule.size, dtype=bool)
    keep[order] = first
    winner = np.empty(rule.size, dtype=np.int64)
    winner[order] = winner_sorted
    return keep, winner


def _ladder_levels(
    rules: list[CompiledRule],
    table: FactTable,
    rows: np.ndarray,
    start: np.ndarray | None = None,
) -> dict[int, np.ndarray]:
    """Tiers reached by each ladder rule's fact at `rows`; rules sharing a ladder share the work."""
    cache: dict[tuple[str, tuple[float, ...]], np.ndarray] = {}
    levels: dict[int, np.ndarray] = {}
    for compiled in rules:
        if compiled.ladder < 0:
            continue
        fact = getattr(compiled.rule.amount, "fact", "revenue_wan")
        key = (fact, tuple(compiled.thresholds_wan))
        if key not in cache:
            if start is not None and fact == "revenue_wan":
                values = start
            else:
                values = table.raw(fact, rows)
            cache[key] = tiers_of(values, compiled.thresholds_wan)
        levels[compiled.ladder] = cache[key]
    return levels


def _remember(
    rules: list[CompiledRule],
    book: RuleBook,
    view: FactView,
    state: EngineState,
    awards: YearAwards,
) -> None:
    table = view.table
    firms = table.firms
    for compiled in rules:  # tiers reached: only rows at or above a ladder's first rung move
        if compiled.ladder < 0 or not compiled.open_in(table.year + 1):
            continue  # read from next year on only if the ladder can still pay then
        fact = getattr(compiled.rule.amount, "fact", "revenue_wan")
        high = view.rows_at_least(fact, float(compiled.thresholds_wan[0]))
        raise_reached(
            state.reached(compiled.ladder),
            table.firm,
            table.raw(fact, high),
            high,
            compiled.thresholds_wan,
        )
    for rule_index in np.unique(awards.rule):
        mine = awards.rule == rule_index
        granted_firms = table.firm[awards.row[mine]]
        state.rule_history(int(rule_index)).add(granted_firms, awards.amount_wan[mine], table.year)
        ladder = book.rules[int(rule_index)].ladder
        if ladder >= 0 and state.track_ladder_paid:
            np.add.at(state.paid(ladder), granted_firms, awards.amount_wan[mine])
    if state.track_previous:  # else _start_new_firms set last_year
        state.last_year[firms] = table.year
        state.last_revenue_wan[firms] = table.column("revenue_wan")
        state.last_rd_expense_wan[firms] = table.column("rd_expense_wan")
        state.last_above_scale[firms] = table.column("above_scale")


def evaluate_year(
    book: RuleBook,
    table: FactTable,
    state: EngineState,
    rules: list[CompiledRule] | None = None,
) -> YearAwards:
    """All awards earned in `table.year`, booked to their payers; updates `state`.

    `rules`, if given, are the only rules the firms of the table (and of every later year with
    this state) can come under: a caller whose firms never change place. Without it every
    ladder remembers every firm, wherever it is, so a firm that moves keeps its history."""
    # Every firm the state has seen fits it already: a table that names its new firms needs
    # only theirs looked at (the largest of a million rows took as long as the new firms' year).
    fit = table.firm if table.new_rows is None else table.firm[table.new_rows]
    state.ensure(int(fit.max()) + 1 if fit.size else 0)
    view = FactView(table, state)
    covering = rules if rules is not None else book.covering(table.location)
    # What a firm has reached is the firm's, not a clause's places': a firm seen in Zhanggong
    # that moves to Rongjiang has reached RJ-2c's tiers already (首次达到), so a panel keeps
    # every ladder's memory. The simulation passes its city's rules: its firms never move.
    remembered = covering if rules is not None else list(book.rules)
    _start_new_firms(remembered, table, state)
    active = [c for c in covering if c.in_force(table.year)]
    _forget_before_policy([c for c in remembered if c.in_force(table.year)], table, state)

    rows_parts: list[np.ndarray] = []
    rule_parts: list[np.ndarray] = []
    basis_parts: list[AmountResult] = []
    dropped: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
    for compiled in active:
        rows = candidate_rows(compiled, view)
        if rows.size == 0:
            continue
        rows = rows[eligible(compiled, view, rows)]
        if rows.size == 0:
            continue
        result = compute(compiled, view, state, rows)
        due = result.amount_wan > 0
        limit = 1 if compiled.rule.once_per_firm else compiled.rule.max_awards_per_firm
        if limit is not None and due.any():
            siblings = book.once_per_matter.get(compiled.index, (compiled.index,))
            paid_before = sum(
                (state.rule_history(i).counts_for(table.firm[rows]) for i in siblings),
                start=np.zeros(rows.size, dtype=np.int32),
            )
            over = due & (paid_before >= limit)
            due &= ~_drop_paid(dropped, rows, result, over, compiled.index)
        period = compiled.rule.period_years
        if period is not None and due.any():
            first = state.rule_history(compiled.index).first_year_for(table.firm[rows])
            over = due & (first >= 0) & (table.year - first >= period)
            due &= ~_drop_paid(dropped, rows, result, over, compiled.index)
        if not due.any():
            continue
        rows_parts.append(rows[due])
        rule_parts.append(np.full(int(due.sum()), compiled.index, dtype=np.int64))
        basis_parts.append(_take_basis(result, due))

    row = np.concatenate(rows_parts) if rows_parts else np.zeros(0, dtype=np.int64)
    rule = np.concatenate(rule_parts) if rule_parts else np.zeros(0, dtype=np.int64)
    basis = _concat_basis(basis_parts)

    by_quota = _apply_quotas(book.rules, view, row, rule)
    dropped.append((row[~by_quota], basis.amount_wan[~by_quota], rule[~by_quota], DROPPED_QUOTA))
    row, rule, basis = row[by_quota], rule[by_quota], _take_basis(basis, by_quota)

    kept, winner = _stack(book, table.firm[row], rule, basis.amount_wan)
    stacked_rows, stacked_rules = row[~kept], rule[~kept]
    stacked_amounts, stacked_winners = basis.amount_wan[~kept], winner[~kept]
    row, rule, basis = row[kept], rule[kept], _take_basis(basis, kept)

    shares = book.share_table[rule]
    lag = book.lag_table[rule]
    payer = book.registry.payer_index[table.location[row]]
    payer_wan = shares * basis.amount_wan[:, None]
    payer = np.where(payer_wan > 0, payer, -1)

    d_rows = [d[0] for d in dropped] + [stacked_rows]
    d_amounts = [d[1] for d in dropped] + [stacked_amounts]
    d_rules = [np.asarray(d[2], dtype=np.int64) for d in dropped] + [stacked_rules]
    d_reasons = [np.full(d[0].size, d[3], dtype=np.int8) for d in dropped] + [
        np.full(stacked_rows.size, DROPPED_STACKED, dtype=np.int8)
    ]
    d_winners = [np.full(d[0].size, -1, dtype=np.int64) for d in dropped] + [stacked_winners]
    awards = YearAwards(
        year=table.year,
        row=row,
        rule=rule,
        amount_wan=basis.amount_wan,
        payer_wan=payer_wan,
        payer=payer,
        payment_year=table.year + lag,
        basis=basis,
        dropped_row=np.concatenate(d_rows),
        dropped_rule=np.concatenate(d_rules),
        dropped_amount_wan=np.concatenate(d_amounts),
        dropped_reason=np.concatenate(d_reasons),
        dropped_winner=np.concatenate(d_winners),
    )
    _remember(remembered, book, view, state, awards)
    return awards
