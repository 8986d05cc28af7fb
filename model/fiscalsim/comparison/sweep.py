"""`sweep` and `target`: the cost curve over a policy parameter, and the value that fits a ceiling.

Every point of a sweep is a variant evaluated on the same simulated firms (one simulation when
the parameter is a policy term). The target search bisects that common-random-numbers cost curve
between the grid points where it crosses the ceiling: with the same seed the curve is a
deterministic function of the parameter, a step function of a threshold.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from fiscalsim.comparison.evaluate import TOTAL_BY, Outcome, evaluate
from fiscalsim.comparison.tables import levels
from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import LEVELS, Registry, load_registry
from fiscalsim.reform import Sources, parse_path, read_sources
from fiscalsim.scenario import Scenario
from fiscalsim.scenario_load import _check_scenario, with_changes
from fiscalsim.series import with_totals_all
from fiscalsim.simulation.montecarlo import VariantSpec, with_run_options

KEYS = ["jurisdiction", "payer_level", "year", "basis"]


def parse_set(option: str) -> tuple[str, list[Any]]:
    """`PATH=v1,v2,...` -> (PATH, [v1, v2, ...]) with YAML scalars (numbers stay numbers)."""
    path, sep, values = option.partition("=")
    if not sep or not path.strip() or not values.strip():
        raise InputError("--set", option, "expected PATH=value1,value2,...")
    items = values.split(",")
    if not all(v.strip() for v in items):
        raise InputError("--set", option, "an empty value between commas")
    parsed = [yaml.safe_load(v) for v in items]
    twice = next((v for i, v in enumerate(parsed) if v in parsed[:i]), None)
    if twice is not None:
        raise InputError("--set", option, f"{twice!r} is listed twice")
    check_param(path.strip(), "--set")
    return path.strip(), parsed


# Run options the command line sets for every grid point: a sweep or target over one would be
# overridden (or, for the seed, compare different firms), so they are refused.
RUN_OPTIONS = ("replicates", "seed", "batch_replicates")


def check_param(path: str, option: str) -> None:
    if path in RUN_OPTIONS:
        raise InputError(option, path, "a run option, not a policy or model parameter")


@dataclass
class Runner:
    """A scenario read once, evaluated under any number of further changes."""

    path: Path
    replicates: int | None = None
    seed: int | None = None
    workers: int | None = None
    registry: Registry = field(default_factory=load_registry)
    sources: Sources = field(init=False)

    def __post_init__(self) -> None:
        self.sources = read_sources(self.path, _check_scenario)
        self.base = self.spec("base", [])

    def spec(
        self, name: str, changes: Sequence[tuple[str, Any]], label: str = "--set"
    ) -> VariantSpec:
        loaded = with_changes(self.sources, self.registry, changes, label)
        return VariantSpec(name, with_run_options(loaded, self.replicates, self.seed))

    def value_at(self, path: str) -> Any:
        """The value a path has in the scenario as read (the base value of a search)."""
        holder: dict[str, Any] = {}
        _walk(self.sources, path, lambda node, key: holder.update(value=node[key]))
        return holder["value"]

    def evaluate(self, specs: Sequence[VariantSpec], **kwargs: Any) -> list[Outcome]:
        return evaluate(specs, workers=self.workers, registry=self.registry, **kwargs)


def _walk(sources: Sources, path: str, visit: Callable[[Any, Any], None]) -> None:
    """Find the node a path names (policies.<id>..., events.<name>..., or a scenario key)."""
    steps = parse_path(path, Path("--param"))
    node: Any
    if steps[0] == "policies" and len(steps) > 2 and steps[1] in sources.policies:
        node, rest = sources.policies[str(steps[1])][1], steps[2:]
    elif steps[0] == "events" and len(steps) > 2 and steps[1] in sources.events:
        node, rest = sources.events[str(steps[1])][1], steps[2:]
    else:
        node, rest = sources.scenario, steps
    for step in rest[:-1]:
        node = _step(node, step, path)
    last = rest[-1]
    if isinstance(node, list) and isinstance(last, str):
        raise InputError("--param", path, "names a list, not a value")
    _step(node, last, path)
    visit(node, last)


def _step(node: Any, step: str | int, path: str) -> Any:
    if isinstance(step, int) and isinstance(node, list) and -len(node) <= step < len(node):
        return node[step]
    if isinstance(step, str) and isinstance(node, list):
        for item in node:
            if isinstance(item, dict) and item.get("id") == step:
                return item
    if isinstance(step, str) and isinstance(node, dict) and step in node:
        return node[step]
    raise InputError("--param", path, f"no '{step}' here")


def sweep(
    path: Path,
    sets: Sequence[tuple[str, list[Any]]],
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """The cost of every grid point, per paying budget, year (and window total) and basis."""
    if not 1 <= len(sets) <= 2:
        raise InputError("--set", None, "give one or two parameters to sweep")
    if len(sets) == 2 and sets[0][0] == sets[1][0]:
        raise InputError("--set", sets[0][0], "the same parameter twice")
    runner = Runner(path, replicates, seed, workers)
    grid = list(itertools.product(*[values for _, values in sets]))
    specs = []
    labels = []
    for point in grid:
        changes = [(p, v) for (p, _), v in zip(sets, point, strict=True)]
        name = ", ".join(f"{p}={v}" for p, v in changes)
        specs.append(runner.spec(name, changes))
        label: dict[str, Any] = {}
        for k, (p, v) in enumerate(changes):
            suffix = "" if k == 0 else str(k + 1)
            label[f"param{suffix}"] = p
            label[f"value{suffix}"] = v
        labels.append(label)
    outcomes = runner.evaluate(specs, progress=progress)
    series = with_totals_all([o.payer for o in outcomes], TOTAL_BY)
    return levels(pd.DataFrame(labels), series, KEYS)


@dataclass
class TargetResult:
    answer: dict[str, Any]
    curve: pd.DataFrame


def _needed_cities(registry: Registry, jurisdiction: str, cities: Sequence[str]) -> set[str]:
    """Cities whose firms a budget can pay: those inside it, or the one it lies in."""
    return {
        c for c in cities if registry.covers(jurisdiction, c) or registry.covers(c, jurisdiction)
    }


def target(
    path: Path,
    param: str,
    jurisdiction: str,
    payer_level: str,
    ceiling_wan: float,
    year: int | None = None,
    quantile: float = 0.9,
    bracket: tuple[float, float] | None = None,
    basis: str = "cash",
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    grid_points: int = 9,
    max_evaluations: int = 12,
) -> TargetResult:
    """The parameter value where the budget's cost at `quantile` equals `ceiling_wan`."""
    runner = Runner(path, replicates, seed, workers)
    registry = runner.registry
    if jurisdiction not in registry:
        raise InputError("--jurisdiction", jurisdiction, "unknown jurisdiction")
    if payer_level not in LEVELS:
        raise InputError("--payer", payer_level, f"choose one of {list(LEVELS)}")
    if not 0 < quantile < 1:
        raise InputError("--quantile", str(quantile), "must lie strictly between 0 and 1")
    if not (math.isfinite(ceiling_wan) and ceiling_wan >= 0):
        raise InputError(
            "--ceiling", str(ceiling_wan), "must be a finite amount of 万元, 0 or more"
        )
    check_param(param, "--param")
    base_value = runner.value_at(param)
    if isinstance(base_value, bool) or not isinstance(base_value, int | float):
        raise InputError("--param", param, f"is {base_value!r}, not a number")
    integer = isinstance(base_value, int)
    low, high = bracket if bracket is not None else (base_value * 0.25, base_value * 4.0)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InputError("--bracket", f"{low},{high}", "both ends must be finite numbers")
    if not low < high:
        raise InputError("--bracket", f"{low},{high}", "the low end must be below the high end")
    cities = _simulated_cities(runner.base.loaded.scenario)
    needed = _needed_cities(registry, jurisdiction, cities)
    if not needed:
        raise InputError("--jurisdiction", jurisdiction, "no simulated city pays into this budget")
    row_year: int | str = year if year is not None else "total"

    def as_value(x: float) -> float | int:
        return int(round(x)) if integer else float(x)

    def measure(outcomes: list[Outcome]) -> list[np.ndarray]:
        values = []
        for outcome in outcomes:
            series = outcome.payer.with_totals(TOTAL_BY)
            keys = series.keys
            match = (
                (keys["jurisdiction"] == jurisdiction)
                & (keys["payer_level"] == payer_level)
                & (keys["basis"] == basis)
                & (keys["year"].astype(str) == str(row_year))
            ).to_numpy()
            if not match.any() and year is not None and not (keys["year"] == year).any():
                raise InputError("--year", str(year), "not a year of this scenario's tables")
            if not match.any():
                raise InputError(
                    "--jurisdiction",
                    f"{jurisdiction}/{payer_level}/{row_year}/{basis}",
                    "no such budget line in this scenario",
                )
            values.append(series.amount_wan[np.flatnonzero(match)[0]])
        return values

    grid = sorted({as_value(x) for x in np.linspace(low, high, grid_points)})
    grid_specs = [runner.spec(f"{param}={v}", [(param, v)], "--param") for v in grid]
    grid_values = measure(runner.evaluate(grid_specs, cities=needed))
    curve = pd.DataFrame(
        {
            "param": param,
            "value": grid,
            "cost_at_quantile_wan": [float(np.quantile(v, quantile)) for v in grid_values],
            "mean_wan": [float(v.mean()) for v in grid_values],
            "p05_wan": [float(np.quantile(v, 0.05)) for v in grid_values],
            "p95_wan": [float(np.quantile(v, 0.95)) for v in grid_values],
        }
    )
    costs = curve["cost_at_quantile_wan"].to_numpy()
    steps = np.diff(costs)
    monotone = bool((steps >= -1e-9).all() or (steps <= 1e-9).all())
    answer: dict[str, Any] = {
        "param": param,
        "jurisdiction": jurisdiction,
        "payer_level": payer_level,
        "basis": basis,
        "year": row_year if year is not None else "window",
        "quantile": quantile,
        "ceiling_wan": ceiling_wan,
        "bracket": [low, high],
        "base_value": base_value,
        "monotone": monotone,
        "grid_evaluations": len(grid),
    }
    over = costs - ceiling_wan
    if np.ptp(costs) == 0:
        answer["warning"] = (
            f"the parameter does not change this budget's cost in the bracket "
            f"({costs[0]:,.1f} 万元 everywhere): it may not apply to {jurisdiction}"
        )
    if (over > 0).all() or (over <= 0).all():
        side = "exceeds" if (over > 0).all() else "stays within"
        answer.update(
            value=None,
            cost_wan=None,
            converged=False,
            evaluations=0,
            message=f"no value in the bracket [{low}, {high}] meets the ceiling exactly: the cost "
            f"{side} {ceiling_wan:g} 万元 everywhere (from {costs.min():,.1f} to {costs.max():,.1f})",
        )
        return TargetResult(answer, curve)
    if not monotone:
        answer["warning"] = (
            "the cost is not monotone over the bracket; the root found is one of several"
        )
    change = int(np.flatnonzero(np.sign(over[:-1]) != np.sign(over[1:]))[0])
    lo, hi = float(grid[change]), float(grid[change + 1])
    cache: dict[float | int, float] = {
        grid[change]: costs[change],
        grid[change + 1]: costs[change + 1],
    }
    evaluations = 0

    def cost(x: float) -> float:
        nonlocal evaluations
        value = as_value(x)
        if value not in cache:
            evaluations += 1
            [values] = measure(
                runner.evaluate(
                    [runner.spec(f"{param}={value}", [(param, value)], "--param")], cities=needed
                )
            )
            cache[value] = float(np.quantile(values, quantile))
        return cache[value] - ceiling_wan

    xtol = 1.0 if integer else max((hi - lo) * 1e-3, 1e-9)
    feasible_low = cache[grid[change]] <= ceiling_wan
    value, (lo, hi), converged = bisect_boundary(
        cost, lo, hi, feasible_low, xtol, max_evaluations, as_value
    )
    cost(value)
    answer.update(
        value=value,
        cost_wan=cache[value],
        converged=converged,
        evaluations=evaluations,
        boundary=[as_value(lo), as_value(hi)],
        message=f"{param} = {value} puts {jurisdiction}'s {payer_level} {basis} cost at "
        f"P{round(quantile * 100)} {cache[value]:,.1f} 万元 (ceiling {ceiling_wan:g})"
        + (
            ""
            if converged
            else f"; NOT CONVERGED after {evaluations} simulations: the boundary lies between "
            f"{as_value(lo)} and {as_value(hi)}"
        ),
    )
    return TargetResult(answer, curve)


def bisect_boundary(
    over: Callable[[float], float],
    lo: float,
    hi: float,
    feasible_low: bool,
    xtol: float,
    max_tries: int,
    as_value: Callable[[float], float | int],
) -> tuple[float | int, tuple[float, float], bool]:
    """The value at the edge of the ceiling: `over(x)` (cost minus ceiling) changes sign
    between lo and hi, and the end that meets the ceiling is lo if `feasible_low`. Bisection,
    which keeps the crossing bracketed whatever the shape: the cost at a quantile is a step
    function of a threshold (whole firms cross or not), on which brentq ran out of its 12 tries
    and then kept the tried value whose cost was nearest the ceiling, 930 above the boundary.
    Returns the feasible end, the final bracket, and whether it is within `xtol`."""
    tries = math.ceil(math.log2(max((hi - lo) / xtol, 1.0)))
    for _ in range(min(tries, max_tries)):
        mid = as_value((lo + hi) / 2)
        if not lo < mid < hi:
            break
        if (over(mid) <= 0) == feasible_low:
            lo = float(mid)
        else:
            hi = float(mid)
    return as_value(lo if feasible_low else hi), (lo, hi), hi - lo <= xtol


def _simulated_cities(scenario: Scenario) -> list[str]:
    """The cities a scenario simulates, read from its population (no model is built)."""
    population = scenario.population
    if population.calibrated is not None:
        return list(population.calibrated.cities)
    return list(dict.fromkeys(segment.city for segment in population.segments))
