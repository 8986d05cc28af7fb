"""The yearly step of every firm of a batch in one compiled pass: exit, then growth.

The pass goes through the firms in run order, CHUNK rows at a time. For a chunk it first draws
each firm's exit uniform and growth uniform from the keyed generator (numerics.keyed_uniform of
the (seed, city, year, component) state and the firm's (replicate, serial number) counter, made
in the pass from its key as streams.firm_counter makes it) and turns the growth uniforms into
unit shocks in one call (numerics.unit_shocks_into: the normal's inverse CDF then runs on SIMD
lanes, which in the per-firm loop cost a third of the pass). Then, firm by firm, it applies the
exit hazard and, for a survivor, the year's ln-growth, and writes the survivor's columns, its new
revenue among them, to the next year's rows (the compaction is part of the pass, not a copy of
its own). The NumPy version needed about fifteen passes and as many temporary arrays for the
same work. Numba compiles the pass once and caches the machine code on disk (`cache=True`).

The formulas are those of exit.hazard and growth.log_step (tests/test_kernel.py checks the pass
against them on the same keyed uniforms); the shared scalars live in numerics.py. One shortcut:
where the spread varies by firm, the log mgf that centres the shock is interpolated in a table
of spreads (step MGF_STEP), which is within 1e-8 of ln growth a year of the exact formula and
three times faster than evaluating it per firm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from fiscalsim.dynamics import numerics
from fiscalsim.dynamics.growth import _age_multiplier, _shape, log_mgf
from fiscalsim.dynamics.tallies import (
    NO_CROSSINGS,
    NO_TALLY,
    Crossings,
    Tally,
    count_crossings,
    count_firm,
)
from fiscalsim.population.synthesis import KEY_CITY
from fiscalsim.scenario import Exit, Growth
from fiscalsim.simulation.firms import Columns

MAX_AGE = 200  # ages beyond this take the last band's multiplier (firm ages are far below)
CHUNK = 512  # rows a chunk of the pass draws for at once (its buffers stay in the L1 cache)
MGF_STEP = 1e-4  # grid of spreads on which the log mgf is tabulated (error < 1e-8, tested)


@dataclass(frozen=True)
class Stepped:
    """What a year's pass gives: the survivors' rows (run order) and columns, and two lists of
    the survivors' new rows found as the pass wrote them, which the award engine would
    otherwise find in passes of its own over a million rows: those whose new revenue is at or
    above `watch_wan` (ascending; none for NaN) and those that were last year's entrants."""

    keep: np.ndarray
    survivors: Columns
    high: np.ndarray
    fresh: np.ndarray


@dataclass(frozen=True)
class StepParameters:
    """Exit and growth parameters as flat numbers and tables the compiled pass reads."""

    hazard_by_age: np.ndarray
    size_gamma: float
    size_reference_wan: float
    size_multiplier_min: float
    laplace: bool
    clip: float
    sigma0: float
    s0_wan: float
    beta: float
    sigma_min: float
    sigma_max: float
    age_multiplier: np.ndarray  # by age 0..MAX_AGE
    constant_spread: bool  # spread and its log mgf are the same for every firm
    mgf_table: np.ndarray  # log mgf at spreads 0, MGF_STEP, 2 MGF_STEP, ... up to the largest

    @staticmethod
    def of(exit_spec: Exit, growth: Growth) -> StepParameters:
        laplace, clip = _shape(growth)
        ages = np.arange(MAX_AGE + 1)
        multiplier = _age_multiplier(growth, ages).astype(np.float64)
        largest = growth.sigma_max * float(multiplier.max())
        grid = np.arange(int(largest / MGF_STEP) + 3) * MGF_STEP
        return StepParameters(
            hazard_by_age=np.asarray(exit_spec.hazard_by_age, dtype=np.float64),
            size_gamma=float(exit_spec.size_gamma),
            size_reference_wan=float(exit_spec.size_reference_wan),
            size_multiplier_min=float(exit_spec.size_multiplier_min),
            laplace=laplace,
            clip=clip,
            sigma0=float(growth.sigma0),
            s0_wan=float(growth.s0_wan),
            beta=float(growth.beta),
            sigma_min=float(growth.sigma_min),
            sigma_max=float(growth.sigma_max),
            age_multiplier=multiplier,
            constant_spread=growth.beta == 0 and not growth.young_age_multiplier,
            mgf_table=(
                np.zeros(1)
                if growth.beta == 0 and not growth.young_age_multiplier
                else log_mgf(growth, grid)  # raises for a spread the shock has no mean at
            ),
        )


ALIGN_BYTES = 64  # a cache line, and the width of the widest vector registers


def aligned_empty(n: int, dtype: np.dtype) -> np.ndarray:
    """An uninitialised array whose data starts on a 64-byte boundary."""
    raw = np.empty(n * dtype.itemsize + ALIGN_BYTES, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGN_BYTES
    return raw[start : start + n * dtype.itemsize].view(dtype)


def exit_and_grow(
    p: StepParameters,
    year: int,
    firms: Columns,
    entering: Columns,
    n_rep: int,
    exit_state: np.ndarray,
    growth_state: np.ndarray,
    location: np.ndarray,
    national: np.ndarray,
    by_class: np.ndarray,
    raise_max: bool = False,
    tally: Tally | None = None,
    watch_wan: float = math.nan,
    crossings: Crossings | None = None,
) -> Stepped:
    """Rows of the firms that survive, in run order, and the survivors' rows with their new
    revenues: every column copied in the same pass, so the copy costs no pass of its own.
    With them, the new rows at or above `watch_wan` and the new rows of last year's entrants.

    Rows index `firms` and, from `firms.key.size` on, `entering` (last year's entrants, not
    yet copied in: the pass reads them where they are). Run order is (city, replicate) order:
    `firms` is in it, and each entrant goes after the rows of its city and replicate (code
    city * n_rep + replicate), entrants of one code in the order they came; the pass merges
    the two as it goes, so no order array is made. A firm's serial number is
    `key % KEY_CITY` and its age `year - founded_year`; its counter is (replicate << 40) |
    serial, as streams.firm_counter makes it. `exit_state`/`growth_state` are the generator
    state of each city this year, `location[city, class]` the ln-growth location
    (growth.drift_table), `national[replicate]` and `by_class[city, replicate, class]` the
    common shocks. With `raise_max`, a firm's highest revenue so far takes in its revenue
    before this year's growth (np.maximum of the two, NaN kept) for the rows of `firms`, so
    the engine's year need not do it in a pass of its own; entrants' rows are copied as they
    are (an entrant's highest revenue is its revenue when it enters). With a `tally`, the
    rows of `firms` are counted into the population aggregates as the pass reads them, in row
    order, before exit (the entrants are the caller's to count, after the pass: then every
    cell's sums are those of collect.add_population over the firms, then the entrants).
    With `crossings`, the survivors' first crossings of `year` are counted as they are written
    (the highest revenue before is the one written: raised with last year's under `raise_max`).
    """
    if p.constant_spread:
        spread = float(np.clip(p.sigma0, p.sigma_min, p.sigma_max))
        lmgf = numerics.log_mgf(p.laplace, p.clip, spread)
    else:
        spread, lmgf = math.nan, math.nan
    new_code = entering.city.astype(np.int64) * n_rep + entering.replicate
    new_order = np.argsort(new_code, kind="stable")
    size = firms.key.size + new_code.size
    count = tally is not None
    tally = tally if tally is not None else NO_TALLY
    cross = crossings is not None and crossings.thresholds_wan.size > 0
    crossings = crossings if cross and crossings is not None else NO_CROSSINGS
    keep = aligned_empty(size, np.dtype(np.int64))
    high = aligned_empty(size, np.dtype(np.int64))
    fresh = aligned_empty(new_code.size, np.dtype(np.int64))
    out = Columns(*(aligned_empty(size, column.dtype) for column in firms))
    n, n_high, n_fresh = _step(
        new_code[new_order],
        new_order,
        n_rep,
        year,
        *firms,
        *entering,
        exit_state,
        growth_state,
        location,
        national,
        by_class,
        p.hazard_by_age,
        p.laplace,
        p.clip,
        p.size_gamma,
        p.size_reference_wan,
        p.size_multiplier_min,
        p.sigma0,
        p.s0_wan,
        p.beta,
        p.sigma_min,
        p.sigma_max,
        p.age_multiplier,
        p.mgf_table,
        spread,
        lmgf,
        raise_max,
        count,
        tally.stats,
        tally.offset,
        tally.slot_of,
        tally.place_column,
        tally.above_scale_wan,
        cross,
        crossings.counts,
        crossings.offset,
        crossings.slot_of,
        crossings.place_column,
        crossings.thresholds_wan,
        watch_wan,
        high,
        fresh,
        keep,
        *out,
    )
    return Stepped(
        keep[:n], Columns(*(column[:n] for column in out)), high[:n_high], fresh[:n_fresh]
    )


# The columns go in and out as separate arrays, in Columns' order: arrays read out of a tuple
# inside the loop cost a reference count each, which made the pass four times slower.
@njit(cache=True)
def _step(
    new_sorted: np.ndarray,
    new_order: np.ndarray,
    n_rep: int,
    year: int,
    key: np.ndarray,
    replicate: np.ndarray,
    city: np.ndarray,
    place: np.ndarray,
    industry_class: np.ndarray,
    revenue_wan: np.ndarray,
    max_revenue_wan: np.ndarray,
    founded_year: np.ndarray,
    rd_share: np.ndarray,
    slot: np.ndarray,
    key_in: np.ndarray,
    replicate_in: np.ndarray,
    city_in: np.ndarray,
    place_in: np.ndarray,
    class_in: np.ndarray,
    revenue_in: np.ndarray,
    max_revenue_in: np.ndarray,
    founded_in: np.ndarray,
    rd_share_in: np.ndarray,
    slot_in: np.ndarray,
    exit_state: np.ndarray,
    growth_state: np.ndarray,
    location: np.ndarray,
    national: np.ndarray,
    by_class: np.ndarray,
    hazard_by_age: np.ndarray,
    laplace: bool,
    clip: float,
    size_gamma: float,
    size_reference_wan: float,
    size_multiplier_min: float,
    sigma0: float,
    s0_wan: float,
    beta: float,
    sigma_min: float,
    sigma_max: float,
    age_multiplier: np.ndarray,
    mgf_table: np.ndarray,
    spread: float,
    lmgf: float,
    raise_max: bool,
    count: bool,
    stats: np.ndarray,
    offset: int,
    slot_of: np.ndarray,
    place_column: np.ndarray,
    above_scale_wan: float,
    cross: bool,
    cross_counts: np.ndarray,
    cross_offset: int,
    cross_slot_of: np.ndarray,
    cross_place_column: np.ndarray,
    thresholds_wan: np.ndarray,
    watch_wan: float,
    high: np.ndarray,
    fresh: np.ndarray,
    keep: np.ndarray,
    key_out: np.ndarray,
    replicate_out: np.ndarray,
    city_out: np.ndarray,
    place_out: np.ndarray,
    class_out: np.ndarray,
    revenue_out: np.ndarray,
    max_revenue_out: np.ndarray,
    founded_out: np.ndarray,
    rd_share_out: np.ndarray,
    slot_out: np.ndarray,
) -> tuple[int, int, int]:
    n = n_high = n_fresh = 0
    last_band = hazard_by_age.size - 1
    log_reference, log_s0 = math.log(size_reference_wan), math.log(s0_wan)
    by_size = size_gamma != 0 or math.isnan(spread)  # else no power law needs ln revenue
    n_old, n_new = key.size, new_sorted.size
    next_old = next_new = 0
    rows = np.empty(CHUNK, dtype=np.int64)
    exit_u, growth_u, own_shock = np.empty(CHUNK), np.empty(CHUNK), np.empty(CHUNK)
    counters = np.empty(CHUNK, dtype=np.uint64)
    exit_s, growth_s = np.empty(CHUNK, dtype=np.uint64), np.empty(CHUNK, dtype=np.uint64)
    for start in range(0, n_old + n_new, CHUNK):
        m = min(CHUNK, n_old + n_new - start)
        for j in range(m):  # the chunk's rows in run order, and their two keyed uniforms
            if next_new == n_new or (
                next_old < n_old
                and np.int64(city[next_old]) * n_rep + replicate[next_old] <= new_sorted[next_new]
            ):
                i = next_old  # an old row, in run order
                next_old += 1
            else:
                i = n_old + new_order[next_new]  # the next entrant in run order
                next_new += 1
            rows[j] = i
            e = i - n_old
            if e < 0:
                firm, r, c = key[i], replicate[i], city[i]
            else:
                firm, r, c = key_in[e], replicate_in[e], city_in[e]
            serial = np.uint64(firm) % np.uint64(KEY_CITY)  # keys are >= 0: unsigned is cheaper
            counters[j] = (np.uint64(r) << np.uint64(40)) | serial
            exit_s[j], growth_s[j] = exit_state[c], growth_state[c]
        numerics.keyed_uniforms_into(exit_s[:m], counters[:m], exit_u[:m])
        numerics.keyed_uniforms_into(growth_s[:m], counters[:m], growth_u[:m])
        numerics.unit_shocks_into(laplace, clip, growth_u[:m], own_shock[:m])
        for j in range(m):
            i = rows[j]
            e = i - n_old  # the row among the entrants, if it is one
            if e < 0:
                c, f, r, k = city[i], founded_year[i], replicate[i], industry_class[i]
                firm, revenue = key[i], revenue_wan[i]
            else:
                c, f, r, k = city_in[e], founded_in[e], replicate_in[e], class_in[e]
                firm, revenue = key_in[e], revenue_in[e]
            a = year - f
            if count and e < 0:  # the year just ended, as collect.add_population counts it
                count_firm(
                    stats, slot_of[r], offset, place_column[place[i]], k, revenue, above_scale_wan
                )
            chance = (
                hazard_by_age[0] if last_band == 0 else hazard_by_age[min(max(a, 0), last_band)]
            )
            log_size = math.log(max(revenue, 1e-9)) if by_size else 0.0  # both power laws'
            if size_gamma != 0:
                modifier = math.exp(-size_gamma * (log_size - log_reference))
                chance = min(chance * max(modifier, size_multiplier_min), 1.0)
            if exit_u[j] < chance:
                continue
            s, mgf = spread, lmgf
            if math.isnan(s):
                s = sigma0 * math.exp(-beta * (log_size - log_s0))
                s = min(max(s, sigma_min), sigma_max) * age_multiplier[min(max(a, 0), MAX_AGE)]
                x = s * (1.0 / MGF_STEP)  # linear interpolation in the tabulated log mgf
                at = min(int(x), mgf_table.size - 2)
                mgf = mgf_table[at] + (x - at) * (mgf_table[at + 1] - mgf_table[at])
            common = national[r] + by_class[c, r, k]
            step = location[c, k] - mgf + common + s * own_shock[j]
            keep[n] = i
            key_out[n], replicate_out[n], city_out[n], class_out[n] = firm, r, c, k
            grown = revenue * math.exp(step)
            founded_out[n], revenue_out[n] = f, grown
            high[n_high] = n  # kept when at or above the watched revenue (no branch)
            n_high += grown >= watch_wan
            if e < 0:
                place_out[n], slot_out[n] = place[i], slot[i]
                highest = max_revenue_wan[i]
                if raise_max and not (math.isnan(highest) or highest >= revenue):
                    highest = revenue  # np.maximum(highest, revenue)
                max_revenue_out[n], rd_share_out[n] = highest, rd_share[i]
            else:
                place_out[n], slot_out[n] = place_in[e], slot_in[e]
                max_revenue_out[n], rd_share_out[n] = max_revenue_in[e], rd_share_in[e]
                fresh[n_fresh] = n
                n_fresh += 1
            if cross and grown >= thresholds_wan[0]:  # else it crosses no tier
                count_crossings(
                    cross_counts,
                    cross_slot_of[r],
                    cross_offset,
                    cross_place_column[place_out[n]],
                    grown,
                    max_revenue_out[n],
                    thresholds_wan,
                )
            n += 1
    return n, n_high, n_fresh
