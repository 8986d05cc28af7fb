"""The compiled simulation and a pure-Python reference of the benchmark model, on the same keyed
draws, give identical award totals per replicate (tests/reference_model.py)."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np

from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.simulation.collect import Collector
from fiscalsim.simulation.montecarlo import prepare
from fiscalsim.simulation.world import World
from tests.reference_model import reference_awards


def test_compiled_simulation_equals_the_reference_model() -> None:
    model = prepare(SCENARIOS_DIR / "benchmark.yaml", replicates=3).model
    scenario = model.scenario
    population = scenario.population.model_copy(
        update={"segments": [scenario.population.segments[0].model_copy(update={"firms": 1500})]}
    )
    model = replace(model, scenario=scenario.model_copy(update={"population": population}))
    model = replace(model, plans=(replace(model.plans[0], segments=tuple(population.segments)),))
    replicates = [0, 1, 2]
    collector = Collector(
        model.book, replicates, population.start_year, scenario.horizon, None, model.places
    )
    world = World(model, replicates, collector)
    start, next_key = copy.deepcopy(world.firms), world.next_key.copy()
    world.run()
    ledger = collector.result()["ledgers"][0]
    simulated = np.bincount(ledger["replicate"], weights=ledger["amount_wan"], minlength=3)
    [rule] = model.book.rules
    thresholds = [float(t) for t in rule.thresholds_wan]
    amounts = [float(t.amount_wan) for t in rule.rule.amount.tiers]
    reference = reference_awards(model, start, next_key, thresholds, amounts)
    assert [reference[r] for r in replicates] == simulated.tolist()
    assert min(simulated) > 0  # the model pays: the comparison is not of zeros
