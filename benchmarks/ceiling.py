"""The practical ceiling: the benchmark model as one plain compiled per-firm loop (numba).

Same model as scenarios/benchmark.yaml and the same two keyed draws per firm-year (exit and
growth, numerics.keyed_uniform of the simulation's stream states), written as directly as it can
be: one array of revenues and tiers reached per replicate, compacted in place, no rule engine,
no ledger, no aggregates. fiscalsim's simulation is measured against it (run_benchmarks.py).
Its start population and entrants use their own keyed draws, so its award totals agree with
the simulation's in distribution, not firm by firm.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from numba import njit

from fiscalsim.dynamics.numerics import keyed_uniform, ndtri, poisson_inverse
from fiscalsim.engine.state import tiers_reached
from fiscalsim.simulation.streams import stream_state

FIRMS, LOG_MEAN, LOG_SD = 10_000, 5.0, 1.2  # scenarios/benchmark.yaml
HAZARD, DRIFT, SIGMA, ENTRY = 0.06, 0.05, 0.35, 600.0
THRESHOLDS = np.array([1000.0, 5000.0, 10000.0])
AMOUNTS = np.array([20.0, 50.0, 100.0])
START, HORIZON, SEED = 2021, 2030, 2022


@njit(cache=True)
def _replicate(
    replicate: int,
    states: np.ndarray,  # (years, 4): exit, growth, entry count, entrant size
    start_state: np.uint64,
    entries: np.ndarray,  # Poisson entrants per year (drawn by the caller)
    thresholds: np.ndarray,
    amounts: np.ndarray,
) -> tuple[float, int]:
    capacity = FIRMS + int(entries.sum()) + 1
    revenue = np.empty(capacity)
    reached = np.empty(capacity, dtype=np.int64)
    serial = np.empty(capacity, dtype=np.int64)
    n = FIRMS
    for i in range(n):
        counter = np.uint64((replicate << 40) | i)
        revenue[i] = math.exp(LOG_MEAN + LOG_SD * ndtri(keyed_uniform(start_state, counter)))
        reached[i] = tiers_reached(revenue[i], thresholds)
        serial[i] = i
    next_serial = n
    location = math.log1p(DRIFT) - SIGMA * SIGMA / 2
    awards, firm_years = 0.0, 0
    for y in range(states.shape[0]):
        kept = 0
        for i in range(n):
            counter = np.uint64((replicate << 40) | serial[i])
            if keyed_uniform(states[y, 0], counter) < HAZARD:
                continue
            z = ndtri(keyed_uniform(states[y, 1], counter))
            r = revenue[i] * math.exp(location + SIGMA * z)
            level = tiers_reached(r, thresholds)
            if level > reached[i]:
                for t in range(reached[i], level):
                    awards += amounts[t]
                reached[i] = level
            revenue[kept], reached[kept], serial[kept] = r, reached[i], serial[i]
            kept += 1
        firm_years += kept
        n = kept
        for _ in range(entries[y]):
            counter = np.uint64((replicate << 40) | next_serial)
            r = math.exp(LOG_MEAN + LOG_SD * ndtri(keyed_uniform(states[y, 3], counter)))
            if keyed_uniform(states[y, 2], counter) >= HAZARD:  # survives its founding year
                revenue[n], reached[n], serial[n] = r, tiers_reached(r, thresholds), next_serial
                n += 1
            next_serial += 1
    return awards, firm_years


def run(replicates: int) -> dict[str, Any]:
    """Firm-years per second of the plain loop on one core (compiled beforehand)."""
    years = range(START + 1, HORIZON + 1)
    states = np.array(
        [
            [stream_state(SEED, "ceiling", y, c) for c in ("exit", "growth", "exit0", "size")]
            for y in years
        ],
        dtype=np.uint64,
    )
    start_state = np.uint64(stream_state(SEED, "ceiling", START, "size"))
    count_states = [np.uint64(stream_state(SEED, "ceiling", y, "entry")) for y in years]

    def one(r: int) -> tuple[float, int]:
        u = np.array([keyed_uniform(s, np.uint64(r)) for s in count_states])
        entries = poisson_inverse(u, ENTRY)
        return _replicate(r, states, start_state, entries, THRESHOLDS, AMOUNTS)  # type: ignore[no-any-return]

    one(0)  # compile (or load from the cache) outside the timing
    started = time.process_time()
    results = [one(r) for r in range(replicates)]
    seconds = time.process_time() - started
    firm_years = sum(f for _, f in results)
    return {
        "replicates": replicates,
        "firm_years": firm_years,
        "cpu_seconds": round(seconds, 3),
        "firm_years_per_second": firm_years / seconds,
        "awards_wan_per_replicate": round(sum(a for a, _ in results) / replicates, 1),
    }


if __name__ == "__main__":
    import sys

    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
