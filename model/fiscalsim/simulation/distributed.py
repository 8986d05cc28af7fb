"""The Monte Carlo of one model on a Dask cluster, with the in-process run's numbers to the bit.

The work of a model is cut into tasks by block of replicates (the in-process batches, so that
per-batch reductions add up in the same order) and, when there are fewer blocks than twice the
cluster's worker threads, inside a block by city (a city task carries the whole model's arrays
and set-up, so it costs more per firm: 100 replicates of the province scenario took 35 s split
by city on 2 workers against 17 s in blocks in-process; with enough blocks they are not split):

    model ── city task (block b, city c)  ×  every city ──► block task (b) ──► client

A city task simulates one city of one block alone. That is exact because nothing random is
shared between cities: a firm's draws are keyed by (replicate, city, serial, year, component),
and the start population, entrants, events and common shocks come from streams named by
(replicate, city) (streams.py); each city's engine keeps its own state (world.py configures one
engine per city). The other cities stay in the model with no firms, so city positions, firm keys
and the drift table are those of the whole model. The block task, on a worker, puts the cities
back together in the order the whole World would have booked them (year, then city), applies
the caller's `reduce` (compact per-replicate totals), and only that reaches the client.

Every task is a pure function of (model, city, replicates): when a worker dies, Dask runs its
tasks again elsewhere and the merged result is the same, with nothing lost or counted twice.
"""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim.errors import InputError
from fiscalsim.population.synthesis import CityPlan
from fiscalsim.simulation.model import Model
from fiscalsim.simulation.montecarlo import Reducer, batches, merge, run_batch


def city_model(model: Model, city: str) -> Model:
    """The model with only `city`'s firms: the other cities keep their place but no segments."""
    plans = tuple(p if p.city == city else CityPlan(p.city, p.city_index, ()) for p in model.plans)
    return replace(model, plans=plans)


def load_model(blob: bytes) -> Model:
    """A task that gives the model to the tasks that need it (recomputed if its worker dies)."""
    model = pickle.loads(blob)
    assert isinstance(model, Model)
    return model


# Axis of the place (county-level unit or city) in the population and crossings arrays.
PLACE_AXIS = {"population": 2, "crossings": 2}


def run_city(model: Model, city: str, replicates: list[int]) -> dict[str, Any]:
    """One city of one block of replicates, every variant's full ledger kept. The population
    and crossing arrays are sent for the city's own places only (the other places are zero):
    a province's arrays are ten times the city's, and every city task would ship them whole."""
    result = run_batch(city_model(model, city), replicates, None, places=model.places)
    for name, axis in PLACE_AXIS.items():
        values = result[name]
        other = tuple(a for a in range(values.ndim) if a != axis)
        places = np.flatnonzero(values.any(axis=other))
        result[name] = (values.shape, places, np.take(values, places, axis=axis))
    return result


def _dense(part: tuple[tuple[int, ...], np.ndarray, np.ndarray], axis: int) -> np.ndarray:
    """A city's array back in the whole model's shape (zeros outside the city's places)."""
    shape, places, values = part
    full = np.zeros(shape, dtype=values.dtype)
    index: list[Any] = [slice(None)] * len(shape)
    index[axis] = places
    full[tuple(index)] = values
    return full


def _ledger(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One variant's ledger of a block, in the whole World's booking order: year, then city.

    The parts come in city order; within a city they are in booking order, and every award of
    one booking carries that year as performance year, so a stable sort by year restores it."""
    filled = [p for p in parts if p["replicate"].dtype.kind != "f"]  # zeros(0): nothing booked
    if not filled:
        return {name: np.zeros(0) for name in parts[0]}  # as Collector.result gives it
    joined = {name: np.concatenate([p[name] for p in filled]) for name in filled[0]}
    order = np.argsort(joined["performance_year"], kind="stable")
    return {name: values[order] for name, values in joined.items()}


def join_cities(
    model: Model, replicates: list[int], reduce: Reducer | None, *parts: dict[str, Any]
) -> dict[str, Any]:
    """A block's result as run_batch gives it for the whole model, from its cities' results."""
    population = _dense(parts[0]["population"], PLACE_AXIS["population"])
    crossings = _dense(parts[0]["crossings"], PLACE_AXIS["crossings"])
    for part in parts[1:]:  # cities fill disjoint cells (their own places), so sums are exact
        population += _dense(part["population"], PLACE_AXIS["population"])
        crossings += _dense(part["crossings"], PLACE_AXIS["crossings"])
    n_variants = len(parts[0]["ledgers"])
    result: dict[str, Any] = {
        "replicates": parts[0]["replicates"],
        "ledgers": [_ledger([p["ledgers"][v] for p in parts]) for v in range(n_variants)],
        "population": population,
        "crossings": crossings,
        "places": parts[0]["places"],
        "panel": None,
        "firm_years": sum(int(p["firm_years"]) for p in parts),
        "start_statistics": _start_statistics([p["start_statistics"] for p in parts]),
    }
    return reduced(model, replicates, reduce, result)


def _start_statistics(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The block's start-population statistics as the whole World gives them: groups of
    (replicate, city, class, place) in sorted order; each group lies in one city's frame."""
    filled = [f for f in frames if len(f)]
    if not filled:
        return frames[0]
    joined = pd.concat(filled, ignore_index=True)
    keys = ["replicate", "city", "industry_class", "place"]
    return joined.sort_values(keys, kind="stable").reset_index(drop=True)


def run_block(
    model: Model, replicates: list[int], panel_replicate: int | None, reduce: Reducer | None
) -> dict[str, Any]:
    """A whole block in one task (used when replicate 0's panel is wanted: it is kept whole)."""
    return run_batch(model, replicates, panel_replicate, reduce)


def reduced(
    model: Model, replicates: list[int], reduce: Reducer | None, result: dict[str, Any]
) -> dict[str, Any]:
    """What run_batch does with `reduce`: each variant's ledger reduced, the ledgers emptied."""
    if reduce is None:
        return result
    result["reduced"] = [
        reduce(model, v, replicates, ledger) for v, ledger in enumerate(result["ledgers"])
    ]
    result["ledgers"] = [{name: values[:0] for name, values in result["ledgers"][0].items()}]
    return result


def simulate_on(
    client: Any,
    model: Model,
    panel_replicate: int | None = None,
    progress: Callable[[int], None] | None = None,
    reduce: Reducer | None = None,
) -> dict[str, Any]:
    """montecarlo.simulate on the cluster behind `client`: the same result dict, the same bits."""
    from distributed import KilledWorker, as_completed

    run = uuid.uuid4().hex[:12]
    model_future = client.submit(load_model, pickle.dumps(model), key=f"fiscalsim-model-{run}")
    cities = [plan.city for plan in model.plans]
    plan = batches(model.scenario)
    split = panel_replicate is None and len(cities) > 1 and len(plan) < 2 * _slots(client)
    tally = _Tally(progress, len(cities) if split else 0)
    for replicates in plan:
        key = f"{run}-{replicates[0]}-{replicates[-1]}"
        if split:
            parts = [
                client.submit(
                    run_city, model_future, city, replicates, key=f"fiscalsim-city-{key}-{city}"
                )
                for city in cities
            ]
            block = client.submit(
                join_cities, model_future, replicates, reduce, *parts, key=f"fiscalsim-block-{key}"
            )
            tally.add(block, replicates, parts)
        else:
            block = client.submit(
                run_block,
                model_future,
                replicates,
                panel_replicate,
                reduce,
                key=f"fiscalsim-block-{key}",
            )
            tally.add(block, replicates, [])
    results: list[dict[str, Any]] = []
    try:
        for future in as_completed(tally.futures()):  # type: ignore[no-untyped-call]
            if future in tally.sizes:
                results.append(future.result())
            tally.done(future)
    except (KilledWorker, OSError) as error:  # the cluster, not the model, failed
        raise InputError(
            "--scheduler",
            str(client.scheduler.address),
            f"the Dask cluster failed ({type(error).__name__}: {error}); nothing was written",
        ) from None
    finally:
        client.cancel([*(f for f in tally.futures() if f not in tally.seen), model_future])
    return merge(results)  # sorts the blocks by replicate, whatever order they arrived in


def _slots(client: Any) -> int:
    """Tasks the cluster runs at once (worker threads), at least 1."""
    return max(1, sum(client.nthreads().values()))


class _Tally:
    """Progress in replicates while a run is under way, as for in-process runs.

    A block's replicates are credited in proportion to its finished city tasks (keeping one
    share back for the task that joins them) and in full when its joined result arrives; each
    task counts once, even if Dask reruns it after losing a worker."""

    def __init__(self, progress: Callable[[int], None] | None, n_cities: int) -> None:
        self.progress = progress
        self.n_cities = n_cities
        self.sizes: dict[Any, int] = {}  # block future -> replicates
        self.block_of: dict[Any, Any] = {}  # city future -> block future
        self.cities_done: dict[Any, int] = {}
        self.credited: dict[Any, int] = {}
        self.seen: set[Any] = set()

    def add(self, block: Any, replicates: list[int], parts: list[Any]) -> None:
        self.sizes[block] = len(replicates)
        self.cities_done[block] = 0
        self.credited[block] = 0
        for part in parts:
            self.block_of[part] = block

    def futures(self) -> list[Any]:
        return [*self.block_of, *self.sizes]

    def done(self, future: Any) -> None:
        if future in self.seen:
            return
        self.seen.add(future)
        if future in self.sizes:
            self._credit(future, self.sizes[future])
            future.release()  # the client keeps the result, not the cluster
            for part in [p for p, b in self.block_of.items() if b is future]:
                part.release()
            return
        block = self.block_of[future]
        self.cities_done[block] += 1
        share = self.sizes[block] * self.cities_done[block] // (self.n_cities + 1)
        self._credit(block, share)

    def _credit(self, block: Any, total: int) -> None:
        step = total - self.credited[block]
        if step > 0:
            self.credited[block] = total
            if self.progress:
                self.progress(step)
