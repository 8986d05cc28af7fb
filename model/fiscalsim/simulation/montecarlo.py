"""Monte Carlo over replicates, in batches, in one process or several, with identical results.

Replicates are independent: each draws only from its own named streams, so the split into
batches and processes changes speed, never numbers.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim.datafiles import FirmCountsFile, read_budgets, read_data_file
from fiscalsim.dynamics.events import (
    check_event_facts,
    check_processes,
    check_rule_facts,
    event_years,
)
from fiscalsim.errors import InputError
from fiscalsim.facts import CORE_FACTS, DERIVED_FACTS
from fiscalsim.jurisdictions import Registry, load_registry
from fiscalsim.memo import model_json
from fiscalsim.population.calibration_report import read_checks
from fiscalsim.population.fit import calibrated_segments
from fiscalsim.population.synthesis import CityPlan
from fiscalsim.rules.book import compile_rules, rule_facts
from fiscalsim.scenario import Scenario, check_cities, resolve, with_overrides
from fiscalsim.scenario_load import LoadedScenario, load_scenario
from fiscalsim.simulation.allocator import keep_freed_memory
from fiscalsim.simulation.collect import Collector
from fiscalsim.simulation.model import Model, Variant
from fiscalsim.simulation.world import World

MAX_FIRMS_IN_BATCH = 50_000_000  # start firms x replicates held in memory at once (~10 GB)


@dataclass(frozen=True)
class Prepared:
    model: Model
    scenario_path: Path
    scenario_hash: str
    loaded: LoadedScenario


@dataclass(frozen=True)
class VariantSpec:
    """A scenario to evaluate, under a name, with optional reading overrides on top of its own."""

    name: str
    loaded: LoadedScenario
    readings: Mapping[str, str] = field(default_factory=dict)


def dynamics_signature(scenario: Scenario) -> str:
    """Everything that decides the simulated firms: variants that agree share one simulation."""
    dynamics = scenario.dynamics.model_dump_json(exclude={"events", "events_files"})
    population = scenario.population.model_dump_json()
    return f"{scenario.horizon}|{scenario.replicates}|{scenario.seed}|{population}|{dynamics}"


def _variant(
    spec: VariantSpec, registry: Registry, known: dict[str, Mapping[str, frozenset[int]]]
) -> Variant:
    """A variant's rules and its event processes' years (computed once per set of windows)."""
    scenario = spec.loaded.scenario
    overrides = {**scenario.readings, **spec.readings}
    book = compile_rules(list(spec.loaded.policies), registry, overrides)
    events = tuple(scenario.dynamics.events)
    source = str(spec.loaded.path)
    check_event_facts(list(events), book.facts_used(), source)
    check_rule_facts(
        {c.id: rule_facts(c.rule) for c in book.rules if c.rule.costed},
        list(events),
        set(CORE_FACTS) | set(DERIVED_FACTS),
        source,
    )
    key = (
        "|".join(model_json(p) for p in events)
        + "#"
        + ",".join(
            f"{c.id}:{c.first_year}-{c.last_year}:{sorted(rule_facts(c.rule))}:"
            f"{c.location_ok.tobytes().hex()}"
            for c in book.rules
        )
    )
    if key not in known:
        known[key] = event_years(list(events), book, str(spec.loaded.path))
    return Variant(name=spec.name, book=book, event_years=known[key], events=events)


def check_budget_file(path: Path, scenario: Scenario, registry: Registry) -> None:
    """The scenario's budgets file, read now, not after the whole simulation."""
    if scenario.budget.file is not None:
        read_budgets(resolve(path, scenario.budget.file), registry)


def _plans(path: Path, scenario: Scenario, registry: Registry) -> tuple[CityPlan, ...]:
    population = scenario.population
    segments = list(population.segments)
    if population.calibrated is not None:
        counts = read_data_file(FirmCountsFile, resolve(path, population.calibrated.firm_counts))
        check_cities(scenario, registry, {c.city for c in counts.firm_counts}, path)
        segments = calibrated_segments(
            population.calibrated, path.parent, population.above_scale_wan, path
        )
        if population.calibrated.checks:
            read_checks(resolve(path, population.calibrated.checks), registry)
    cities: list[str] = []
    for segment in segments:
        if not registry.is_city(segment.city):
            raise InputError(
                path,
                f"population segment {segment.city}/{segment.industry_class}",
                f"'{segment.city}' is not a city in the registry",
            )
        for place in segment.county_weights:
            if not registry.is_place_of(place, segment.city):
                raise InputError(
                    path,
                    f"population segment {segment.city}/{segment.industry_class}.county_weights",
                    f"'{place}' is not a county-level unit of {segment.city}",
                )
        if segment.city not in cities:
            cities.append(segment.city)
    check_processes(list(scenario.dynamics.events), cities, str(path))
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
    return tuple(
        CityPlan(city, i, tuple(s for s in segments if s.city == city))
        for i, city in enumerate(cities)
    )


def build_models(
    specs: Sequence[VariantSpec], registry: Registry | None = None
) -> list[tuple[Model, list[int]]]:
    """Models to simulate, each with the positions (in `specs`) of the variants it evaluates.

    Variants that differ only in policy terms, readings or event processes share one
    simulation of the firms; variants that change the population or the dynamics get their own,
    with the same keyed draws for every firm the change does not touch.
    """
    registry = registry or load_registry()
    groups: dict[str, list[int]] = {}
    for position, spec in enumerate(specs):
        groups.setdefault(dynamics_signature(spec.loaded.scenario), []).append(position)
    models: list[tuple[Model, list[int]]] = []
    known: dict[str, Mapping[str, frozenset[int]]] = {}
    for members in groups.values():
        first = specs[members[0]].loaded
        model = Model(
            scenario=first.scenario,
            variants=tuple(_variant(specs[i], registry, known) for i in members),
            plans=_plans(first.path, first.scenario, registry),
            n_replicates_total=first.scenario.replicates,
        )
        models.append((model, members))
    checked: set[Path] = set()
    for spec in specs:  # read before any simulation, for every scenario of a comparison
        budget = spec.loaded.scenario.budget.file
        where = resolve(spec.loaded.path, budget) if budget is not None else None
        if where not in checked:  # each file once: --readings all has 192 variants of one
            check_budget_file(spec.loaded.path, spec.loaded.scenario, registry)
            if where is not None:
                checked.add(where)
    return models


def with_run_options(
    loaded: LoadedScenario,
    replicates: int | None = None,
    seed: int | None = None,
    batch_replicates: int | None = None,
) -> LoadedScenario:
    """The scenario with the command line's replicates, seed and batch size."""
    updates: dict[str, Any] = {}
    if replicates is not None:
        updates["replicates"] = replicates
    if seed is not None:
        updates["seed"] = seed
    if batch_replicates is not None:
        updates["batch_replicates"] = batch_replicates
    if not updates:
        return loaded
    return replace(loaded, scenario=with_overrides(loaded.scenario, updates))


def prepare(
    path: Path,
    replicates: int | None = None,
    seed: int | None = None,
    batch_replicates: int | None = None,
    readings: Mapping[str, str] | None = None,
) -> Prepared:
    """Load and check everything a run needs before any output is written."""
    registry = load_registry()
    loaded = with_run_options(load_scenario(path, registry), replicates, seed, batch_replicates)
    spec = VariantSpec(loaded.scenario.name, loaded, dict(readings or {}))
    [(model, _)] = build_models([spec], registry)
    return Prepared(model=model, scenario_path=path, scenario_hash=loaded.digest, loaded=loaded)


# Reduces one variant's ledger of a batch (model, variant position, replicates, ledger) to what
# the caller needs, so many variants need not keep every award of every replicate.
Reducer = Callable[[Model, int, list[int], dict[str, np.ndarray]], Any]


def run_batch(
    model: Model,
    replicates: list[int],
    panel_replicate: int | None,
    reduce: Reducer | None = None,
    places: np.ndarray | None = None,
) -> dict[str, Any]:
    """One block of replicates; `places` is the place axis of its population and crossing
    arrays (the model's own places unless told: a city's task is given the whole model's)."""
    keep_freed_memory()  # in whichever process simulates: this one, a pool's or Dask's worker
    scenario = model.scenario
    collector = Collector(
        model.book,
        replicates,
        scenario.population.start_year,
        scenario.horizon,
        panel_replicate,
        model.places if places is None else places,
        n_variants=len(model.variants),
    )
    World(model, replicates, collector).run()
    result = collector.result()
    if reduce is not None:
        result["reduced"] = [
            reduce(model, v, replicates, ledger) for v, ledger in enumerate(result["ledgers"])
        ]
        result["ledgers"] = [{name: values[:0] for name, values in result["ledgers"][0].items()}]
    return result


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
    reduce: Reducer | None = None,
) -> dict[str, Any]:
    """Run every replicate and merge the batches in replicate order.

    With `reduce`, each variant's batch ledger is reduced in the worker and `reduced[v]` lists
    the reduced batches in replicate order; `ledger` is then empty. Inside
    `scheduler.use_scheduler(...)` the batches run on that Dask cluster (distributed.py).
    """
    from fiscalsim.simulation.scheduler import active_client

    if (client := active_client()) is not None:
        from fiscalsim.simulation.distributed import simulate_on

        return simulate_on(client, model, panel_replicate, progress, reduce)
    plan = batches(model.scenario)
    workers = max(1, min(workers or os.cpu_count() or 1, len(plan)))
    results: list[dict[str, Any]] = []
    if workers == 1:
        for replicates in plan:
            results.append(run_batch(model, replicates, panel_replicate, reduce))
            if progress:
                progress(len(replicates))
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=get_context("fork"), initializer=_ignore_interrupts
        )
        try:
            futures = [pool.submit(run_batch, model, r, panel_replicate, reduce) for r in plan]
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
    ledgers = [
        _merge_ledger([r["ledgers"][v] for r in results]) for v in range(len(results[0]["ledgers"]))
    ]
    panels = [r["panel"] for r in results if r["panel"] is not None]
    return {
        "replicates": np.concatenate([r["replicates"] for r in results]),
        "ledger": ledgers[0],
        "ledgers": ledgers,
        "population": np.concatenate([r["population"] for r in results]),
        "crossings": np.concatenate([r["crossings"] for r in results]),
        "places": results[0]["places"],  # the same in every block (Model.places)
        "panel": pd.concat(panels, ignore_index=True) if panels else None,
        "reduced": [[r["reduced"][v] for r in results] for v in range(len(results[0]["reduced"]))]
        if "reduced" in results[0]
        else None,
        "firm_years": sum(int(r["firm_years"]) for r in results),
        "start_statistics": pd.concat([r["start_statistics"] for r in results], ignore_index=True),
    }


def _merge_ledger(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One variant's ledger from its batches, in a fixed order whatever the batching."""
    ledger = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    order = np.lexsort(
        (ledger["firm_key"], ledger["rule"], ledger["performance_year"], ledger["replicate"])
    )
    return {name: values[order] for name, values in ledger.items()}
