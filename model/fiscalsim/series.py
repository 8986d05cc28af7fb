"""Spending per replicate: the rows of the budget tables before any statistic is taken.

A table row (paying budget, year, basis; or clause, paying budget, year, basis) holds one value
per replicate. The budget tables summarise these; the comparison subtracts them replicate by
replicate, so the band of a difference is the band of the differences (common random numbers),
not the difference of two bands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fiscalsim.arrays import scatter_add
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.rules.book import RuleBook

BASES = ("obligation", "cash")
BASIS_YEAR = {"obligation": "performance_year", "cash": "payment_year"}
# The order of clause_series rows; the key is unique per row.
CLAUSE_ORDER = ["clause_id", "payer_level", "payer", "basis", "year"]


@dataclass(frozen=True)
class Series:
    """Row keys and, per row, a value for each replicate (amounts and award counts)."""

    keys: pd.DataFrame
    amount_wan: np.ndarray  # (rows, replicates)
    awards: np.ndarray  # (rows, replicates)

    def with_totals(self, by: Sequence[str]) -> Series:
        """Add one row per group of `by` with `year` = "total": the sum over its years."""
        return self._with_groups(_total_groups(self.keys, by))

    def _with_groups(self, groups: tuple[pd.DataFrame, list[np.ndarray]] | None) -> Series:
        if groups is None:
            return self
        both, rows = groups
        return Series(
            keys=both,
            amount_wan=np.vstack(
                [self.amount_wan, *(self.amount_wan[r].sum(axis=0)[None] for r in rows)]
            ),
            awards=np.vstack([self.awards, *(self.awards[r].sum(axis=0)[None] for r in rows)]),
        )


def _total_groups(
    keys: pd.DataFrame, by: Sequence[str]
) -> tuple[pd.DataFrame, list[np.ndarray]] | None:
    """The keys with a "total" row per group of `by` added, and each group's rows."""
    keys = keys.reset_index(drop=True)
    groups = keys.groupby(list(by), sort=False, observed=True).indices
    total_keys = []
    for key in groups:
        values = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        total_keys.append({**values, "year": "total"})
    if not total_keys:
        return None
    both = pd.concat([keys.astype({"year": object}), pd.DataFrame(total_keys)], ignore_index=True)
    return both[list(keys.columns)], [np.asarray(rows) for rows in groups.values()]


def with_totals_all(series: Sequence[Series], by: Sequence[str]) -> list[Series]:
    """`with_totals` of each series. Series with the same keys as the first share its groups:
    the variants of a comparison mostly do (192 of 192 with --readings all), and grouping the
    keys again for each took 0.7 s of a band's 4.2 s at 2 replicates."""
    if not series:
        return []
    first = series[0].keys
    groups = _total_groups(first, by)
    return [s._with_groups(groups) if s.keys.equals(first) else s.with_totals(by) for s in series]


def year_axis(book: RuleBook, first_year: int, horizon: int) -> range:
    """Performance years of the projection, extended by the longest payment lag (cash years)."""
    lag = int(book.lag_table.max()) if book.lag_table.size else 0
    return range(first_year, horizon + lag + 1)


def basis_years(basis: str, first_year: int, horizon: int, years: range) -> range:
    """Obligations are counted in the projection's years, cash in every year it is paid."""
    return range(first_year, horizon + 1) if basis == "obligation" else years


def possible_payers(book: RuleBook, locations: Sequence[int]) -> list[tuple[int, str]]:
    """(registry index, level) of every budget a clause could charge for firms in `locations`."""
    found: set[tuple[int, str]] = set()
    table = book.registry.payer_index
    for compiled in book.rules:
        for place in locations:
            if not compiled.location_ok[place]:
                continue
            for i, level in enumerate(LEVELS):
                if compiled.payer_shares[i] > 0 and table[place, i] >= 0:
                    found.add((int(table[place, i]), level))
    return sorted(found, key=lambda item: (LEVELS.index(item[1]), item[0]))


def payer_series(
    book: RuleBook,
    ledger: dict[str, np.ndarray],
    n_replicates: int,
    locations: Sequence[int],
    first_year: int,
    horizon: int,
) -> Series:
    """Per paying budget (every one a clause could charge, zeros included), year and basis."""
    years = year_axis(book, first_year, horizon)
    n_places = len(book.registry.items)
    amounts = np.zeros((n_places, 3, len(years), 2, n_replicates))
    counts = np.zeros_like(amounts)
    for i, level in enumerate(LEVELS):
        share = ledger[f"{level}_wan"]
        paid = share > 0
        payer = ledger[f"{level}_payer"][paid]
        for b, basis in enumerate(BASES):
            year = ledger[BASIS_YEAR[basis]][paid] - years.start
            where = (payer, i, year, b, ledger["replicate"][paid])
            scatter_add(amounts, where, share[paid])
            scatter_add(counts, where, 1.0)
    names = [j.id for j in book.registry.items]
    keys: list[dict[str, object]] = []
    rows_amount: list[np.ndarray] = []
    rows_count: list[np.ndarray] = []
    for place, payer_level in possible_payers(book, locations):
        level_index = LEVELS.index(payer_level)
        for basis_index, basis in enumerate(BASES):
            for value in basis_years(basis, first_year, horizon, years):
                keys.append(
                    {
                        "jurisdiction": names[place],
                        "payer_level": payer_level,
                        "year": value,
                        "basis": basis,
                    }
                )
                cell = (place, level_index, value - years.start, basis_index)
                rows_amount.append(amounts[cell])
                rows_count.append(counts[cell])
    return _series(keys, rows_amount, rows_count, n_replicates)


def clause_series(
    book: RuleBook,
    ledger: dict[str, np.ndarray],
    n_replicates: int,
    first_year: int,
    horizon: int,
) -> Series:
    """Per clause and paying budget (its own jurisdiction: Xunwu sees its share), year, basis.

    Only clause-budget pairs that ever paid appear; their years are all listed, zeros included.
    """
    years = year_axis(book, first_year, horizon)
    names = [j.id for j in book.registry.items]
    keys: list[dict[str, object]] = []
    rows_amount: list[np.ndarray] = []
    rows_count: list[np.ndarray] = []
    for level in LEVELS:
        share = ledger[f"{level}_wan"]
        paid = share > 0
        rule = ledger["rule"][paid].astype(np.int64)
        payer = ledger[f"{level}_payer"][paid].astype(np.int64)
        pair = rule * len(names) + payer
        pairs, pair_index = np.unique(pair, return_inverse=True)
        for basis in BASES:
            span = basis_years(basis, first_year, horizon, years)
            year = ledger[BASIS_YEAR[basis]][paid] - span.start
            inside = (year >= 0) & (year < len(span))
            amounts = np.zeros((pairs.size, len(span), n_replicates))
            counts = np.zeros_like(amounts)
            where = (pair_index[inside], year[inside], ledger["replicate"][paid][inside])
            scatter_add(amounts, where, share[paid][inside])
            scatter_add(counts, where, 1.0)
            for p, code in enumerate(pairs):
                compiled = book.rules[int(code // len(names))]
                for y, value in enumerate(span):
                    keys.append(
                        {
                            "clause_id": compiled.id,
                            "document_jurisdiction": compiled.policy.jurisdiction,
                            "payer": names[int(code % len(names))],
                            "payer_level": level,
                            "year": value,
                            "basis": basis,
                        }
                    )
                    rows_amount.append(amounts[p, y])
                    rows_count.append(counts[p, y])
    series = _series(keys, rows_amount, rows_count, n_replicates)
    if series.keys.empty:
        return series
    order = series.keys.sort_values(CLAUSE_ORDER, kind="stable").index.to_numpy()
    return Series(
        series.keys.iloc[order].reset_index(drop=True),
        series.amount_wan[order],
        series.awards[order],
    )


def join_replicates(parts: Sequence[Series]) -> Series:
    """Series of consecutive blocks of replicates with the same rows, as one."""
    return Series(
        parts[0].keys,
        np.hstack([p.amount_wan for p in parts]),
        np.hstack([p.awards for p in parts]),
    )


def join_clause_series(parts: Sequence[Series]) -> Series:
    """clause_series of consecutive blocks of replicates, as clause_series of them all gives it.

    A block lists only the clause-budget pairs it paid; the union is taken, zeros where a block
    had none, in clause_series's order (its sort key is unique per row)."""
    filled = [p for p in parts if not p.keys.empty]
    n_total = sum(p.amount_wan.shape[1] for p in parts)
    if not filled:
        return _series([], [], [], n_total)
    keys = (
        pd.concat([p.keys for p in filled], ignore_index=True)
        .drop_duplicates(CLAUSE_ORDER)
        .sort_values(CLAUSE_ORDER, kind="stable")
        .reset_index(drop=True)
    )
    position = keys[CLAUSE_ORDER].assign(_row=np.arange(len(keys)))
    amounts = np.zeros((len(keys), n_total))
    awards = np.zeros_like(amounts)
    column = 0
    for part in parts:
        width = part.amount_wan.shape[1]
        if not part.keys.empty:
            found = part.keys[CLAUSE_ORDER].merge(position, on=CLAUSE_ORDER, how="left")
            rows = found["_row"].to_numpy()
            amounts[rows, column : column + width] = part.amount_wan
            awards[rows, column : column + width] = part.awards
        column += width
    return Series(keys, amounts, awards)


def _series(
    keys: list[dict[str, object]],
    amounts: list[np.ndarray],
    counts: list[np.ndarray],
    n_replicates: int,
) -> Series:
    if not keys:
        empty = np.zeros((0, n_replicates))
        return Series(pd.DataFrame(keys), empty, empty.copy())
    return Series(pd.DataFrame(keys), np.array(amounts), np.array(counts))


QUANTILES = (5, 50, 95)


def statistics(
    values: np.ndarray,
    prefix: str = "",
    quantiles: Sequence[int] = QUANTILES,
    *,
    scratch: bool = False,
) -> dict[str, np.ndarray]:
    """Mean and percentiles (P5/P50/P95 unless told) over replicates (the last axis).

    With `scratch`, the caller will not read `values` again: the percentiles reorder it in
    place instead of copying it first (a baseline's population table stacks 55 MB of values
    at 1000 replicates). The mean is taken before, so it is summed in the same order either way."""
    names = [f"{prefix}p{level:02d}" for level in quantiles]
    if values.shape[-1] == 0:
        nan = np.full(values.shape[:-1], np.nan)
        return {f"{prefix}mean": nan, **{name: nan for name in names}}
    mean = values.mean(axis=-1)
    q = np.percentile(values, quantiles, axis=-1, overwrite_input=scratch)
    return {f"{prefix}mean": mean, **dict(zip(names, q, strict=True))}
