"""A small pure-Python reference of the benchmark model (scenarios/benchmark.yaml), firm by firm.

It shares only the draws with the package: the start population and each year's entrants come
from the population and dynamics stages, and each firm-year's exit and growth uniforms are the
keyed uniforms of (seed, city, year, component) and (replicate, serial number). Everything
else is written out here from the scenario's numbers: the exit test, the ln-growth step and the
award ladder with its memory of tiers reached. tests/test_reference.py compares its award totals
per replicate with the compiled simulation's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fiscalsim.dynamics.entry import entrants
from fiscalsim.dynamics.numerics import keyed_uniform, ndtri
from fiscalsim.population.synthesis import KEY_CITY
from fiscalsim.simulation.firms import FirmArrays
from fiscalsim.simulation.model import Model
from fiscalsim.simulation.streams import stream_state


@dataclass
class Firm:
    replicate: int
    serial: int
    revenue_wan: float
    prior_max_wan: float  # the largest revenue before the firm is first evaluated
    reached: int = -1  # tiers reached; -1 until the firm is first evaluated


def _firms(arrays: FirmArrays) -> list[Firm]:
    return [
        Firm(int(r), int(k % KEY_CITY), float(s), float(m))
        for r, k, s, m in zip(
            arrays.replicate, arrays.key, arrays.revenue_wan, arrays.max_revenue_wan, strict=True
        )
    ]


def reference_awards(
    model: Model,
    start: FirmArrays,
    next_key: np.ndarray,
    thresholds: list[float],
    amounts: list[float],
) -> dict[int, float]:
    """Award money per replicate over the horizon, firm by firm."""
    scenario = model.scenario
    [plan] = model.plans
    growth, exit_spec = scenario.dynamics.growth, scenario.dynamics.exit
    [drift] = growth.drift_by_class.values()
    assert isinstance(drift, float) and len(exit_spec.hazard_by_age) == 1
    hazard = exit_spec.hazard_by_age[0]
    sigma = growth.sigma0
    replicates = sorted({int(r) for r in start.replicate})
    keys = next_key.copy()
    firms = _firms(start)
    totals = dict.fromkeys(replicates, 0.0)

    def evaluate(firm: Firm, year: int) -> None:
        level = sum(firm.revenue_wan >= t for t in thresholds)
        if firm.reached < 0:  # first seen: tiers at or below its starting point count as reached
            firm.reached = sum(firm.prior_max_wan >= t for t in thresholds)
        if level > firm.reached and year > scenario.population.start_year:
            totals[firm.replicate] += sum(amounts[firm.reached : level])
            firm.reached = level

    for firm in firms:
        evaluate(firm, scenario.population.start_year)
    for year in range(scenario.population.start_year + 1, scenario.horizon + 1):
        exit_state = np.uint64(stream_state(scenario.seed, plan.city, year, "exit"))
        growth_state = np.uint64(stream_state(scenario.seed, plan.city, year, "growth"))
        survivors = []
        for firm in firms:
            counter = np.uint64((firm.replicate << 40) | firm.serial)
            if keyed_uniform(exit_state, counter) < hazard:
                continue
            z = ndtri(keyed_uniform(growth_state, counter))
            firm.revenue_wan *= math.exp(math.log1p(drift) - sigma * sigma / 2 + sigma * z)
            evaluate(firm, year)
            survivors.append(firm)
        new = entrants(
            scenario.dynamics.entry,
            exit_spec,
            plan,
            replicates,
            year,
            scenario.seed,
            model.book.registry,
            keys[plan.city_index],
        )
        firms = survivors + _firms(new)
    return totals
