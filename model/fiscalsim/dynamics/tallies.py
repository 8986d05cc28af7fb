"""What the yearly pass counts as it reads and writes the firms, so that no pass of its own over
a million rows is needed: the population aggregates of the year just ended (Tally) and the first
crossings of the year the firms grow into (Crossings). Each counting rule is one inline
function, which the collector's own passes (collect.add_population, collect.add_crossings) use
too, so the pass and the collector cannot count apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class Tally:
    """Where the pass adds the population aggregates of the year just ended (the rows it is
    given, before exit): stats[slot_of[replicate], offset, place_column[location], class] +=
    (1, revenue, revenue >= above_scale_wan), as collect.add_population adds them."""

    stats: np.ndarray
    offset: int
    slot_of: np.ndarray
    place_column: np.ndarray
    above_scale_wan: float


@njit(cache=True, inline="always")
def count_firm(
    stats: np.ndarray, s: int, offset: int, place: int, k: int, revenue: float, above: float
) -> None:
    """One firm into the population aggregates: firms, revenue, above-scale firms."""
    stats[s, offset, place, k, 0] += 1.0
    stats[s, offset, place, k, 1] += revenue
    if revenue >= above:
        stats[s, offset, place, k, 2] += 1.0


@dataclass(frozen=True)
class Crossings:
    """Where the pass counts the first crossings of the year it grows the firms into:
    counts[slot_of[replicate], offset, place_column[location], tier] += 1 for each tier of
    `thresholds_wan` (ascending) a survivor's new revenue reaches above its highest revenue
    before, as collect.add_crossings counts them from the year's facts (count_crossings)."""

    counts: np.ndarray
    offset: int
    slot_of: np.ndarray
    place_column: np.ndarray
    thresholds_wan: np.ndarray


@njit(cache=True, inline="always")
def count_crossings(
    counts: np.ndarray,
    s: int,
    offset: int,
    place: int,
    revenue: float,
    before: float,
    thresholds: np.ndarray,
) -> None:
    """One firm's first crossings: each tier at or below this year's revenue and above its
    highest revenue before (none if that is NaN). The tiers crossed run from the first one above
    `before`."""
    if not before < revenue:
        return
    k = np.searchsorted(thresholds, before, side="right")
    while k < thresholds.size and revenue >= thresholds[k]:
        counts[s, offset, place, k] += 1.0
        k += 1


NO_TALLY = Tally(
    np.zeros((1, 1, 1, 1, 3)), 0, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), 0.0
)
NO_CROSSINGS = Crossings(
    np.zeros((1, 1, 1, 1)), 0, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), np.zeros(1)
)
