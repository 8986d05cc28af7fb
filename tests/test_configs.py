"""Engine passes shared between policy variants (simulation/configs.py).

Variants that differ in one 就高不重复 matter share one engine pass for every other matter. Each
variant's ledger must be exactly what a run of that variant alone books, award for award and in
the same order; that is what makes a sweep's answer the plain run's answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fiscalsim.comparison.evaluate import build_models
from fiscalsim.comparison.sweep import Runner
from fiscalsim.jurisdictions import load_registry
from fiscalsim.simulation.collect import LEDGER_FIELDS, Collector
from fiscalsim.simulation.configs import city_configs
from fiscalsim.simulation.model import Model
from fiscalsim.simulation.montecarlo import run_batch
from fiscalsim.simulation.world import World

pytestmark = pytest.mark.slow

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
GZ2C = "policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan"
VALUES = (500, 1000, 2300)  # 1000 is the document's value
REPLICATES = 3


@pytest.fixture(scope="module")
def models() -> tuple[Model, list[Model]]:
    """One model of the three variants, and each variant as a model of its own."""
    registry = load_registry()
    runner = Runner(BASELINE, REPLICATES, None, 1, registry)
    specs = [runner.spec(f"value {v}", [(GZ2C, v)]) for v in VALUES]
    [(together, members)] = build_models(specs, registry)
    assert members == [0, 1, 2]
    alone = [build_models([spec], registry)[0][0] for spec in specs]
    return together, alone


def test_variants_share_every_matter_but_the_one_they_change(
    models: tuple[Model, list[Model]],
) -> None:
    together, _ = models
    replicates = list(range(REPLICATES))
    collector = Collector(together.book, replicates, 2021, 2030, None, together.places, len(VALUES))
    world = World(together, replicates, collector)
    by_city = {together.plans[c].city: configs for c, configs in world.configs.items()}
    book = together.book
    changed = book.matters[book.by_id("GZ-2c").matter_key]
    ganzhou = by_city["ganzhou"]
    shared = [c for c in ganzhou if c.variants == [0, 1, 2]]
    own = [c for c in ganzhou if len(c.variants) == 1]
    assert len(shared) == 1 and len(own) == 3 and len(ganzhou) == 4
    assert changed not in {book.matters[r.matter_key] for r in shared[0].rules}
    for config in own:
        assert {config.book.matters[r.matter_key] for r in config.rules} == {changed}
        assert "GZ-2c" in {r.id for r in config.rules}
        # the matter's ladders are in force 2022-2025 (RJ-2c the longest): its passes stop after
        assert not config.ended(2025) and config.ended(2026)
    assert not shared[0].ended(2025) and shared[0].ended(2026)  # every baseline clause ends by 2025
    for city, configs in by_city.items():  # the other cities' rules do not change at all
        if city != "ganzhou":
            assert len(configs) == 1 and configs[0].variants == [0, 1, 2]
    # without sharing, each variant runs every Ganzhou rule in a pass of its own
    plan = next(p for p in together.plans if p.city == "ganzhou")
    places = np.array(
        [book.registry.index[c] for s in plan.segments for c in s.county_weights], dtype=np.int64
    )
    unsplit = city_configs(together.variants, places, [0, 0, 0], split=False)
    assert [c.variants for c in unsplit] == [[0], [1], [2]]
    assert {r.id for r in unsplit[0].rules} == {r.id for c in ganzhou[:2] for r in c.rules}


def test_each_variant_books_what_it_books_alone(models: tuple[Model, list[Model]]) -> None:
    together, alone = models
    replicates = list(range(REPLICATES))
    # a batch's ledger in booking order (simulate() sorts the merged ledger; the comparison
    # reducers sum a batch's awards in this order)
    ledgers = run_batch(together, replicates, None)["ledgers"]
    totals = []
    for k, model in enumerate(alone):
        expected = run_batch(model, replicates, None)["ledgers"][0]
        got = ledgers[k]
        assert got["rule"].size > 100  # the baseline pays in every city
        for name in LEDGER_FIELDS:
            assert np.array_equal(got[name], expected[name]), (VALUES[k], name)
        gz2c = together.variants[k].book.by_id("GZ-2c").index
        totals.append(float(got["amount_wan"][got["rule"] == gz2c].sum()))
    assert len(set(totals)) == 3  # the threshold changes what GZ-2c pays
