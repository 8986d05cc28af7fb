"""Monte Carlo over replicates, in batches, in one process or several, with identical results.

Replicates are independent: each draws only from its own named streams, so the split into
batches and processes changes speed, never numbers.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim.datafiles import BudgetFile, FirmCountsFile, read_data_file
from fiscalsim.dynamics.events import check_event_facts, check_processes, check_rule_facts
from fiscalsim.errors import InputError
from fiscalsim.facts import CORE_FACTS, DERIVED_FACTS
from fiscalsim.jurisdictions import load_registry
from fiscalsim.population.fit import calibrated_segments
from fiscalsim.population.synthesis import CityPlan
from fiscalsim.rules.book import compile_rules, rule_facts
from fiscalsim.rules.loader import load_policies
from fiscalsim.scenario import Scenario, check_cities, load_scenario, resolve, with_overrides
from fiscalsim.simulation.collect import Collector
from fiscalsim.simulation.world import Model, World

MAX_FIRMS_IN_BATCH = 50_000_000  # start firms x replicates held in memory at once (~10 GB)


@dataclass(frozen=True)
class Prepared:
    model: Model
    scenario_path: Path
    scenario_hash: str


def prepare(
    path: Path,
    replicates: int | None = None,
    seed: int | None = None,
    batch_replicates: int | None = None,
) -> Prepared:
    """Load and check everything a run needs before any output is written."""
    scenario, digest = load_scenario(path)
    updates: dict[str, Any] = {}
    if replicates is not None:
        updates["replicates"] = replicates
    if seed is not None:
        updates["seed"] = seed
    if batch_replicates is not None:
        updates["batch_replicates"] = batch_replicates
    scenario = with_overrides(scenario, updates)
    registry = load_registry()
    policies = load_policies([resolve(path, p) for p in scenario.policies], registry)
    book = compile_rules(policies, registry, scenario.readings)
    population = scenario.population
    segments = list(population.segments)
    if population.calibrated is not None:
        counts = read_data_file(FirmCountsFile, resolve(path, population.calibrated.firm_counts))
        check_cities(scenario, registry, {c.city for c in counts.firm_counts}, path)
        segments = calibrated_segments(
            population.calibrated, path.parent, population.above_scale_wan
        )
    cities: list[str] = []
    for segment in segments:
        if segment.city not in registry or registry[segment.city].level != "city":
            raise InputError(
                path,
                f"population segment {segment.city}/{segment.industry_class}",
                f"'{segment.city}' is not a city in the registry",
            )
        for place in segment.county_weights:
            if place not in registry or registry[place].parent != segment.city:
                raise InputError(
                    path,
                    f"population segment {segment.city}/{segment.industry_class}.county_weights",
                    f"'{place}' is not a county-level unit of {segment.city}",
                )
        if segment.city not in cities:
            cities.append(segment.city)
    check_processes(list(scenario.dynamics.events), cities, str(path))
    check_event_facts(list(scenario.dynamics.events), book.facts_used(), str(path))
    check_rule_facts(
        {c.id: rule_facts(c.rule) for c in book.rules if c.rule.costed},
        list(scenario.dynamics.events),
        set(CORE_FACTS) | set(DERIVED_FACTS),
        str(path),
    )
    if scenario.budget.file is not None:
        read_data_file(BudgetFile, resolve(path, scenario.budget.file))
    for city in scenario.dynamics.entry.per_year:
        if city not in cities:
            raise InputError(path, f"dynamics.entry.per_year.{city}", "not a simulated city")
    firms_in_batch = sum(s.firms for s in segments) * min(
        scenario.batch_replicates, scenario.replicates
    )
    if firms_in_batch > MAX_FIRMS_IN_BATCH:
        raise InputError(
            path,
            "batch_replicates",
            f"{firms_in_batch:,} start firms in one batch is more than {MAX_FIRMS_IN_BATCH:,}; "
            "lower batch_replicates or the population",
        )
    plans = tuple(
        CityPlan(city, i, tuple(s for s in segments if s.city == city))
        for i, city in enumerate(cities)
    )
    model = Model(scenario=scenario, book=book, plans=plans, n_replicates_total=scenario.replicates)
    return Prepared(model=model, scenario_path=path, scenario_hash=digest)


def run_batch(model: Model, replicates: list[int], panel_replicate: int | None) -> dict[str, Any]:
    scenario = model.scenario
    collector = Collector(
        model.book, replicates, scenario.population.start_year, scenario.horizon, panel_replicate
    )
    World(model, replicates, collector).run()
    return collector.result()


def batches(scenario: Scenario) -> list[list[int]]:
    size = scenario.batch_replicates
    return [
        list(range(s, min(s + size, scenario.replicates)))
        for s in range(0, scenario.replicates, size)
    ]


def simulate(
    model: Model,
    workers: int | None = None,
    panel_replicate: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run every replicate and merge the batches in replicate order."""
    plan = batches(model.scenario)
    workers = max(1, min(workers or os.cpu_count() or 1, len(plan)))
    results: list[dict[str, Any]] = []
    if workers == 1:
        for replicates in plan:
            results.append(run_batch(model, replicates, panel_replicate))
            if progress:
                progress(len(replicates))
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("fork"), initializer=_ignore_interrupts
        )
        try:
            futures = [pool.submit(run_batch, model, r, panel_replicate) for r in plan]
            for future, replicates in zip(futures, plan, strict=True):
                results.append(future.result())
                if progress:
                    progress(len(replicates))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # an interrupt stops at once
            raise
        pool.shutdown()
    return merge(results)


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the main process, which reports it in one line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    results = sorted(results, key=lambda r: int(r["replicates"][0]))
    ledger = {
        name: np.concatenate([r["ledger"][name] for r in results]) for name in results[0]["ledger"]
    }
    order = np.lexsort(
        (ledger["firm_key"], ledger["rule"], ledger["performance_year"], ledger["replicate"])
    )
    ledger = {name: values[order] for name, values in ledger.items()}
    panels = [r["panel"] for r in results if r["panel"] is not None]
    return {
        "replicates": np.concatenate([r["replicates"] for r in results]),
        "ledger": ledger,
        "population": np.concatenate([r["population"] for r in results]),
        "crossings": np.concatenate([r["crossings"] for r in results]),
        "panel": pd.concat(panels, ignore_index=True) if panels else None,
        "firm_years": sum(int(r["firm_years"]) for r in results),
    }
