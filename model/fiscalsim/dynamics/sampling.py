"""Sampling without replacement in many groups at once (one group per replicate).

Events are few and candidates many (every firm of a city in every replicate of a batch), so the
cost must follow the events, not the candidates. Each event draws a candidate of its group by
inverse CDF (uniformly, or in proportion to a weight); a draw that repeats a firm already chosen
is drawn again with a fresh keyed uniform. Rejecting repeats from the full distribution is the
same as drawing from the firms not yet chosen, so the chosen set is a sample without replacement
with successive-sampling probabilities, exactly as NumPy's `choice(replace=False, p=...)` defines
them. Groups that want more than half their candidates, and the rare event still repeating after
`ROUNDS` tries, take the Efraimidis-Spirakis keys instead (an exponential race: the remaining
firms ordered by -ln(u)/w), which is the same distribution computed over the whole group.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

ROUNDS = 32

# uniforms(part, counters): keyed uniforms of a named part ("draw:3", "race") for counters
Uniforms = Callable[[str, np.ndarray], np.ndarray]


def sample_groups(
    group: np.ndarray,
    counts: np.ndarray,
    weights: np.ndarray | None,
    uniforms: Uniforms,
    labels: np.ndarray,
) -> np.ndarray:
    """Positions (into `group`, sorted) of the sampled candidates.

    `group[i]` is candidate i's group (non-decreasing); `counts[g]` how many group g wants;
    `weights` (or None: uniform) the candidates' weights; `labels[g]` a stable number of group g
    (its replicate) that keys its draws; `labels[g] < 2**24`.
    """
    return sample_rows(np.arange(group.size), group, counts, weights, uniforms, labels)


def sample_rows(
    rows: np.ndarray,
    group_of_row: np.ndarray,
    counts: np.ndarray,
    weight_of_row: np.ndarray | None,
    uniforms: Uniforms,
    labels: np.ndarray,
) -> np.ndarray:
    """`sample_groups` of the candidates `rows` (ascending), whose groups and weights are
    group_of_row[rows] and weight_of_row[rows]: the pass that counts the groups reads them
    there, so a draw over many candidates makes no gathered copies (the rare race does)."""
    n_groups = counts.size
    weighted = weight_of_row is not None
    sizes, positive, running = _group_tables(
        rows,
        group_of_row,
        weight_of_row.astype(np.float64, copy=False) if weight_of_row is not None else np.zeros(0),
        n_groups,
    )
    ends = np.cumsum(sizes)
    starts = ends - sizes
    want = np.minimum(counts, sizes)
    if weighted:
        want = np.minimum(want, positive)  # a firm of weight 0 is never drawn (as NumPy)
    cumulative = running if weighted else None
    accepted = np.zeros(0, dtype=np.int64)
    dense = want * 2 > sizes
    pending = _events(want, ~dense)
    for attempt in range(ROUNDS):
        if pending.size == 0:
            break
        g = pending >> np.int64(24)
        event = pending & np.int64((1 << 24) - 1)
        u = uniforms(f"draw:{attempt}", (labels[g].astype(np.int64) << 24) | event)
        if cumulative is None:
            pick = starts[g] + np.minimum((u * sizes[g]).astype(np.int64), sizes[g] - 1)
        else:
            base = np.where(starts[g] > 0, cumulative[starts[g] - 1], 0.0)
            total = cumulative[ends[g] - 1] - base
            pick = np.searchsorted(cumulative, base + u * total, side="right")
            pick = np.clip(pick, starts[g], ends[g] - 1)
        fresh, accepted = accept(pick, accepted)
        pending = pending[~fresh]
    left = np.bincount(pending >> np.int64(24), minlength=n_groups)
    need = np.where(dense, want, left)
    if need.any():
        group = group_of_row[rows]
        weights = weight_of_row[rows].astype(np.float64) if weight_of_row is not None else None
        accepted = np.union1d(
            accepted, _race(group, need, weights, accepted, uniforms, labels, starts)
        )
    return accepted


@njit(cache=True)
def _group_tables(
    rows: np.ndarray, group_of_row: np.ndarray, weight_of_row: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates per group, those of positive weight, and the running sum of the weights (as
    np.cumsum adds them, one after another), in one pass over the candidates `rows`, their
    groups and weights read at their rows; no weights: the last two are empty."""
    sizes = np.zeros(n_groups, dtype=np.int64)
    positive = np.zeros(n_groups, dtype=np.int64)
    weighted = weight_of_row.size > 0
    running = np.empty(rows.size if weighted else 0)
    total = 0.0
    for i in range(rows.size):
        row = rows[i]
        g = group_of_row[row]
        sizes[g] += 1
        if weighted:
            total += weight_of_row[row]
            running[i] = total
            if weight_of_row[row] > 0:
                positive[g] += 1
    return sizes, positive, running


def accept(pick: np.ndarray, accepted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which picks are fresh (the first pick of a candidate not accepted before), and the
    accepted candidates with them (sorted): what np.unique's first indices, a search of the
    accepted and np.union1d gave, in one sort and one compiled pass (most draws pick a
    handful). The sort stays in NumPy: a compiled sort costs seconds to compile."""
    pick = pick.astype(np.int64, copy=False)
    return _accept(pick, np.argsort(pick, kind="stable"), accepted)


@njit(cache=True)
def _accept(
    pick: np.ndarray, order: np.ndarray, accepted: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`accept` given the stable order of the picks (the first pick of a value leads)."""
    fresh = np.zeros(pick.size, dtype=np.bool_)
    merged = np.empty(accepted.size + pick.size, dtype=np.int64)
    i = n = 0
    for j in range(order.size):
        value = pick[order[j]]
        if j > 0 and pick[order[j - 1]] == value:
            continue
        while i < accepted.size and accepted[i] < value:
            merged[n] = accepted[i]
            n += 1
            i += 1
        if i < accepted.size and accepted[i] == value:
            continue
        fresh[order[j]] = True
        merged[n] = value
        n += 1
    while i < accepted.size:
        merged[n] = accepted[i]
        n += 1
        i += 1
    return fresh, merged[:n]


def _events(want: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """One code per wanted event of the given groups: group << 24 | event number."""
    n = np.where(groups, want, 0).astype(np.int64)
    g = np.repeat(np.arange(want.size, dtype=np.int64), n)
    event = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    return (g << np.int64(24)) | event


def _race(
    group: np.ndarray,
    need: np.ndarray,
    weights: np.ndarray | None,
    taken: np.ndarray,
    uniforms: Uniforms,
    labels: np.ndarray,
    starts: np.ndarray,
) -> np.ndarray:
    """Per group, the `need[g]` winners of an exponential race among candidates not yet taken."""
    rows = np.flatnonzero(need[group] > 0)
    rows = rows[~np.isin(rows, taken)]
    if weights is not None:
        rows = rows[weights[rows] > 0]
    g = group[rows]
    u = uniforms("race", (labels[g].astype(np.int64) << 32) | (rows - starts[g]))
    score = -np.log(u) if weights is None else -np.log(u) / weights[rows]
    order = np.lexsort((score, g))
    ranked, grouped = rows[order], g[order]
    rank = np.arange(ranked.size) - np.searchsorted(grouped, grouped, side="left")
    return np.sort(ranked[rank < need[grouped]])
