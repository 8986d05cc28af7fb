"""What the engine remembers about each firm between years.

The memory is what the law needs and no more: which tiers of each ladder a firm has reached,
what each ladder clause paid it, last year's figures (for growth and R&D increments), and which
once-only awards it has had. Firms are rows addressed by an integer index that never changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit


@dataclass
class RuleHistory:
    """Sparse record of the firms a rule has paid: sorted firm indices, counts, amounts."""

    firms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    paid_wan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    first_year: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def first_year_for(self, firms: np.ndarray) -> np.ndarray:
        """Performance year of each firm's first award under this rule; -1 if never paid."""
        if self.firms.size == 0 or firms.size == 0:
            return np.full(firms.size, -1, dtype=np.int32)
        position = np.minimum(np.searchsorted(self.firms, firms), self.firms.size - 1)
        found = self.firms[position] == firms
        return np.where(found, self.first_year[position], -1).astype(np.int32)

    def counts_for(self, firms: np.ndarray) -> np.ndarray:
        if self.firms.size == 0 or firms.size == 0:
            return np.zeros(firms.size, dtype=np.int32)
        position = np.searchsorted(self.firms, firms)
        position = np.minimum(position, self.firms.size - 1)
        found = self.firms[position] == firms
        return np.where(found, self.counts[position], 0).astype(np.int32)

    def paid_for(self, firms: np.ndarray) -> np.ndarray:
        """What the rule has paid each firm so far (万元)."""
        if self.firms.size == 0 or firms.size == 0:
            return np.zeros(firms.size)
        position = np.minimum(np.searchsorted(self.firms, firms), self.firms.size - 1)
        return np.where(self.firms[position] == firms, self.paid_wan[position], 0.0)

    def add(self, firms: np.ndarray, amounts_wan: np.ndarray, year: int) -> None:
        """Record one year's awards: the sorted record and the new firms are merged in one
        pass (a firm's amounts add in the order paid), not sorted again with the whole record."""
        if firms.size == 0:
            return
        order = np.argsort(firms, kind="stable")
        self.firms, self.counts, self.paid_wan, self.first_year = _merge(
            self.firms,
            self.counts,
            self.paid_wan,
            self.first_year,
            firms[order].astype(np.int64),
            amounts_wan[order].astype(np.float64),
            year,
        )


@njit(cache=True)
def _merge(
    firms: np.ndarray,
    counts: np.ndarray,
    paid_wan: np.ndarray,
    first_year: np.ndarray,
    new_firms: np.ndarray,
    new_wan: np.ndarray,
    year: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The record (sorted unique firms) with sorted new awards of `year` merged in."""
    size = firms.size + new_firms.size
    out_firms = np.empty(size, dtype=np.int64)
    out_counts = np.empty(size, dtype=np.int32)
    out_paid = np.empty(size)
    out_first = np.empty(size, dtype=np.int32)
    i = j = n = 0
    while i < firms.size or j < new_firms.size:
        if j == new_firms.size or (i < firms.size and firms[i] <= new_firms[j]):
            firm, count, paid, first = firms[i], counts[i], paid_wan[i], first_year[i]
            i += 1
        else:
            firm, count, paid, first = new_firms[j], 0, 0.0, year
        while j < new_firms.size and new_firms[j] == firm:
            count += 1
            paid += new_wan[j]
            first = min(first, year)
            j += 1
        out_firms[n], out_counts[n], out_paid[n], out_first[n] = firm, count, paid, first
        n += 1
    return out_firms[:n], out_counts[:n], out_paid[:n], out_first[:n]


# Each per-firm array and the value it holds for a firm the engine has never seen.
FIRM_FIELDS: dict[str, float] = {
    "last_year": -1,
    "last_revenue_wan": np.nan,
    "last_rd_expense_wan": np.nan,
    "last_above_scale": np.nan,
    "founded_year": np.nan,
}
# Last year's figures, kept only when a rule reads them (track_previous).
PREVIOUS_FIELDS = frozenset({"last_revenue_wan", "last_rd_expense_wan", "last_above_scale"})
LADDER_FIELDS: dict[str, float] = {"reached_tiers": 0, "ladder_paid_wan": 0.0}


@dataclass
class EngineState:
    """Per-firm memory, grown on demand as new firms appear."""

    n_ladders: int
    track_ladder_paid: bool = True  # only the top-up reading needs what each ladder paid
    track_previous: bool = True  # last year's figures, for rules on growth, increments, 新纳统
    # The ladders this memory keeps (the book's ladder numbers), all of them unless told: an
    # engine pass keeps only its own rules' ladders. Ganzhou's 8 ladders were kept by each of
    # its 48 passes under --readings all, 1.1 GB of a worker's 3.3 GB.
    ladders: tuple[int, ...] | None = None
    capacity: int = 0
    last_year: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    last_revenue_wan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last_rd_expense_wan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last_above_scale: np.ndarray = field(default_factory=lambda: np.zeros(0))
    founded_year: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Per ladder rule (rows) and firm (columns), so one ladder's memory is contiguous.
    reached_tiers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.uint8))
    ladder_paid_wan: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    history: dict[int, RuleHistory] = field(default_factory=dict)
    _rows: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        kept = range(self.n_ladders) if self.ladders is None else self.ladders
        self._rows = {ladder: row for row, ladder in enumerate(kept)}

    def reached(self, ladder: int) -> np.ndarray:
        """Tiers each firm has reached on a ladder (a 1-D view: writes go to the memory)."""
        return self.reached_tiers[self._rows[ladder]]

    def paid(self, ladder: int) -> np.ndarray:
        """What a ladder has paid each firm so far (kept only with track_ladder_paid)."""
        return self.ladder_paid_wan[self._rows[ladder]]

    def ensure(self, n_firms: int) -> None:
        """Make room for firm indices below `n_firms`, and half as many again. A simulation's
        entrants then fit for several years before the memory is copied into a larger one: in a
        200-replicate sweep those copies took 0.7 s. The memory reaches about the same peak,
        since it used to grow by half in the first years anyway."""
        if n_firms <= self.capacity:
            return
        new = max(int(n_firms * 1.5) + 16, int(self.capacity * 1.5) + 16)
        grow = new - self.capacity

        def extend(array: np.ndarray, fill: float) -> np.ndarray:
            shape = (grow, *array.shape[1:])
            return np.concatenate([array, np.full(shape, fill, dtype=array.dtype)])

        def widen(array: np.ndarray, rows: int, fill: float) -> np.ndarray:
            wider = np.full((rows, new), fill, dtype=array.dtype)
            if array.shape[0] == rows:
                wider[:, : self.capacity] = array
            return wider

        paid_rows = len(self._rows) if self.track_ladder_paid else 0
        self.reached_tiers = widen(self.reached_tiers, len(self._rows), 0)
        self.ladder_paid_wan = widen(self.ladder_paid_wan, paid_rows, 0.0)
        for name, fill in FIRM_FIELDS.items():
            if name in PREVIOUS_FIELDS and not self.track_previous:
                continue  # never written nor read: no rule of this pass needs last year
            setattr(self, name, extend(getattr(self, name), fill))
        self.capacity = new

    def rule_history(self, rule_index: int) -> RuleHistory:
        return self.history.setdefault(rule_index, RuleHistory())


@njit(cache=True)
def tiers_reached(value: float, thresholds: np.ndarray) -> int:
    """How many of the (ascending) thresholds the value reaches: searchsorted(side="right"),
    and 0 for NaN."""
    level = 0
    while level < thresholds.size and value >= thresholds[level]:
        level += 1
    return level


@njit(cache=True)
def raise_reached(
    reached: np.ndarray,
    firm: np.ndarray,
    values: np.ndarray,
    rows: np.ndarray,
    thresholds: np.ndarray,
) -> None:
    """reached[firm] rises to the number of thresholds at or below the firm's value this year
    (values[i], of row rows[i]; never falls): one pass, not a search, a gather and a scatter."""
    for i in range(rows.size):
        level = tiers_reached(values[i], thresholds)
        f = firm[rows[i]]
        if level > reached[f]:
            reached[f] = level


@njit(cache=True)
def beyond_reached(
    reached: np.ndarray,
    firm: np.ndarray,
    values: np.ndarray,
    rows: np.ndarray,
    thresholds: np.ndarray,
) -> np.ndarray:
    """True at the rows whose value this year (values[i], of row rows[i]) passes more thresholds
    than the firm has reached: the only rows a first-reach ladder can pay. NaN passes none."""
    out = np.zeros(rows.size, dtype=np.bool_)
    for i in range(rows.size):
        out[i] = tiers_reached(values[i], thresholds) > reached[firm[rows[i]]]
    return out


@njit(cache=True)
def tiers_of(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Tiers each value reaches (uint8), NaN counting as 0: what searchsorted(side="right") of
    the values with NaN set to 0 gives, in one pass."""
    out = np.empty(values.size, dtype=np.uint8)
    for i in range(values.size):
        value = values[i]
        out[i] = tiers_reached(0.0 if math.isnan(value) else value, thresholds)
    return out


@njit(cache=True)
def unseen_rows(last_year: np.ndarray, firm: np.ndarray, mark_year: int = -1) -> np.ndarray:
    """Rows whose firm the engine has not seen yet (last_year < 0), in one pass. With a
    `mark_year`, the same pass sets every row's last_year to it: for a table whose firms are
    distinct, when nothing reads last_year before the year is done (no rule of the pass reads
    last year's figures), so the engine need not write it in a pass of its own."""
    out = np.empty(firm.size, dtype=np.int64)
    n = 0
    for i in range(firm.size):
        if last_year[firm[i]] < 0:
            out[n] = i
            n += 1
        if mark_year >= 0:
            last_year[firm[i]] = mark_year
    return out[:n]
