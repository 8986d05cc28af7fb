"""One performance year of facts about many firms, dense or sparse, plus derived facts.

Dense columns hold a value for every row (revenue); sparse columns hold only the rows where
something happened (a designation, a project), which keeps a simulated year of rare events
small. Derived facts (growth, last year's R&D, newly above-scale, age) come from the firm's own
previous year in the engine state, so the calculator and the simulation derive them one way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numba import njit

from fiscalsim.engine.state import EngineState

# Decimals a year's revenue growth is rounded to: floating point's error, not policy.
GROWTH_DECIMALS = 12

# Facts whose absence means "unknown" rather than "none happened".
UNKNOWN_WHEN_MISSING: frozenset[str] = frozenset(
    {"founded_year", "application_day", "prior_max_revenue_wan"}
)


class LazyColumns(Mapping[str, np.ndarray]):
    """Dense columns made when first read: a simulated year derives facts (R&D expense, 规上,
    age) for every firm, and most rule sets read few of them. Each is made once, checked to
    have one value per row, and kept.

    A column may also have a maker at given rows (`at_rows`), for a fact computed row by row
    from stored ones: its first read, if at some rows (the engine's new firms, a clause's
    candidates), computes it at those rows only, with the same values; a second read makes it
    whole, since a fact read again is likely read again after that (event conditions)."""

    def __init__(
        self,
        n: int,
        makers: Mapping[str, Callable[[], np.ndarray]],
        at_rows: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None,
    ) -> None:
        self.n = n
        self._makers = dict(makers)
        self._at_rows = dict(at_rows or {})
        self._made: dict[str, np.ndarray] = {}
        self._read_at_rows: set[str] = set()
        # rows at or above a value, per (column, value): shared by every table of these columns
        self.at_least: dict[tuple[str, float], np.ndarray] = {}

    def take(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The column's values at `rows` (self[name][rows]); on the first read of a column with
        a maker at rows, computed at those rows only."""
        if name in self._at_rows and name not in self._made and name not in self._read_at_rows:
            self._read_at_rows.add(name)
            return self._at_rows[name](rows)
        return self[name][rows]

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._made:
            values = self._makers[name]()
            if values.shape != (self.n,):
                raise ValueError(f"column {name} has shape {values.shape}, expected ({self.n},)")
            self._made[name] = values
        return self._made[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __contains__(self, name: object) -> bool:
        return name in self._makers

    def only(self, names: tuple[str, ...]) -> LazyColumns:
        """The named columns, sharing what is made."""
        part = LazyColumns(
            self.n,
            {name: self._makers[name] for name in names},
            {name: self._at_rows[name] for name in names if name in self._at_rows},
        )
        part._made, part._read_at_rows, part.at_least = (
            self._made,
            self._read_at_rows,
            self.at_least,
        )
        return part


@dataclass
class FactTable:
    """Rows are firm-years of one performance year."""

    year: int
    firm: np.ndarray  # int64 state index of each row
    location: np.ndarray  # int32 registry index of the county-level unit
    industry_class: np.ndarray  # int8, 1..5
    group: np.ndarray  # int32: quota group (a replicate); 0 for a single panel
    dense: Mapping[str, np.ndarray] = field(default_factory=dict)
    sparse: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # the rows whose firm the engine's state has never seen, when the caller knows them (the
    # simulation: last year's entrants); else the engine finds them in a pass over every row
    new_rows: np.ndarray | None = None
    _at_least: dict[tuple[str, float], np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        n = self.firm.size
        if isinstance(self.dense, LazyColumns) and self.dense.n != n:  # columns checked as made
            raise ValueError(f"dense columns have {self.dense.n} rows, expected {n}")
        for name, values in () if isinstance(self.dense, LazyColumns) else self.dense.items():
            if values.shape != (n,):
                raise ValueError(f"column {name} has shape {values.shape}, expected ({n},)")
        for name, (rows, _values) in self.sparse.items():
            if rows.size and (np.any(np.diff(rows) <= 0) or rows[-1] >= n):
                raise ValueError(f"sparse column {name} needs sorted unique rows below {n}")

    @property
    def n(self) -> int:
        return int(self.firm.size)

    @cached_property
    def firms(self) -> np.ndarray | slice:
        """The rows' firm indices, as a slice when they are one increasing run (no gather)."""
        firm = self.firm
        if (
            firm.size
            and int(firm[-1]) - int(firm[0]) == firm.size - 1
            and bool(np.all(np.diff(firm) > 0))
        ):
            return slice(int(firm[0]), int(firm[-1]) + 1)
        return firm

    def has(self, name: str) -> bool:
        return name in self.dense or name in self.sparse

    def rows_at_least(self, name: str, value: float) -> np.ndarray:
        """Rows where a stored fact is at least `value` (never NaN ones), found once: the
        ladders of several clauses, the engine's memory and the simulation's count of first
        crossings all start from them. For a column of lazily made dense facts the answer is
        kept with the columns, so the tables of a city-year's engine passes (a sweep's values,
        which share the firms' facts) find it once between them. Rows already found at a lower
        value are filtered, not the whole column scanned: the simulation gives the rows at or
        above the lowest rung of its ladders, found by its yearly pass."""
        dense = self.dense
        if isinstance(dense, LazyColumns) and name in dense:
            cache = dense.at_least
        else:
            cache = self._at_least
        key = (name, value)
        if key not in cache:
            lower = [v for n, v in cache if n == name and v <= value]
            if lower:
                found = cache[(name, max(lower))]
                cache[key] = found[self.raw(name, found) >= value]
            else:
                cache[key] = rows_at_least(self.column(name), value)
        return cache[key]

    def raw(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Values of a stored column at `rows` (float64); missing columns are 0 or NaN."""
        if name in self.dense:
            dense = self.dense
            values = dense.take(name, rows) if isinstance(dense, LazyColumns) else dense[name][rows]
            return values.astype(np.float64, copy=False)
        if name in self.sparse:
            stored_rows, stored_values = self.sparse[name]
            out = np.zeros(rows.size)
            if stored_rows.size:
                position = np.minimum(np.searchsorted(stored_rows, rows), stored_rows.size - 1)
                found = stored_rows[position] == rows
                out[found] = stored_values[position[found]]
            return out
        fill = np.nan if name in UNKNOWN_WHEN_MISSING else 0.0
        return np.full(rows.size, fill)

    def column(self, name: str) -> np.ndarray:
        """A stored column for every row, without copying a dense one."""
        if name in self.dense:
            return self.dense[name].astype(np.float64, copy=False)
        return self.raw(name, np.arange(self.n))

    def nonzero_rows(self, name: str) -> np.ndarray:
        """Rows where a stored column is non-zero (and not NaN)."""
        if name in self.sparse:
            stored_rows, stored_values = self.sparse[name]
            return stored_rows[(stored_values != 0) & ~np.isnan(stored_values)]
        if name in self.dense:
            values = self.dense[name]
            return np.flatnonzero((values != 0) & ~np.isnan(values))
        return np.zeros(0, dtype=np.int64)


class FactView:
    """Stored and derived facts of one year, read at chosen rows."""

    def __init__(self, table: FactTable, state: EngineState) -> None:
        self.table = table
        self.state = state
        self.year = table.year

    def rows_at_least(self, name: str, value: float) -> np.ndarray:
        """FactTable.rows_at_least: found once per table."""
        return self.table.rows_at_least(name, value)

    def _previous(self, rows: np.ndarray, memory: np.ndarray) -> np.ndarray:
        firms = self.table.firm[rows]
        consecutive = self.state.last_year[firms] == self.year - 1
        return np.where(consecutive, memory[firms], np.nan)

    def get(self, name: str, rows: np.ndarray) -> np.ndarray:
        table = self.table
        if name == "revenue_prev_wan":
            return self._previous(rows, self.state.last_revenue_wan)
        if name == "rd_expense_prev_wan":
            return self._previous(rows, self.state.last_rd_expense_wan)
        if name == "revenue_increase_wan":
            return table.raw("revenue_wan", rows) - self.get("revenue_prev_wan", rows)
        if name == "revenue_growth":
            previous = self.get("revenue_prev_wan", rows)
            # (now - before) / before, not now / before - 1: 7200 / 6000 - 1 is
            # 0.19999999999999996, so a rise of exactly 20% failed 增幅达到20%以上 (SZ-4c); and
            # rounded to GROWTH_DECIMALS, since with decimals (4170.1 -> 5004.12) even the
            # difference is 0.19999999999999987: the rounding error is ~1e-16, while two revenue
            # figures of 0.0001万 precision up to 100亿 differ in growth by 1e-10 or more
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = (table.raw("revenue_wan", rows) - previous) / previous
            return np.where(previous > 0, np.round(growth, GROWTH_DECIMALS), np.nan)
        if name == "newly_above_scale":
            before = self._previous(rows, self.state.last_above_scale)
            now = table.raw("above_scale", rows)
            return ((now == 1) & (before == 0)).astype(np.float64)
        if name == "firm_age_years":
            founded = table.raw("founded_year", rows)
            remembered = self.state.founded_year[table.firm[rows]]
            founded = np.where(np.isnan(founded), remembered, founded)
            return self.year - founded
        return table.raw(name, rows)

    def nonzero_rows(self, name: str) -> np.ndarray | None:
        """Rows where a stored fact is non-zero, or None when the fact is derived."""
        if name in {
            "revenue_prev_wan",
            "rd_expense_prev_wan",
            "revenue_increase_wan",
            "revenue_growth",
            "newly_above_scale",
            "firm_age_years",
        }:
            return None
        return self.table.nonzero_rows(name)


@njit(cache=True)
def rows_at_least(values: np.ndarray, value: float) -> np.ndarray:
    """np.flatnonzero(values >= value) in one pass, not a mask and a scan (NaN is never at
    least anything, as in NumPy). Every row is written and the count moves by the test, with
    no branch: a branch taken at random (a tenth of revenues pass 1000万) cost 2.4 times as
    much."""
    out = np.empty(values.size, dtype=np.int64)
    n = 0
    for i in range(values.size):
        out[n] = i
        n += values[i] >= value
    return out[:n]
