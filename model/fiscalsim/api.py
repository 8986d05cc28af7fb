"""The Python API for notebooks: each function returns pandas DataFrames; the CLI wraps them.

import fiscalsim
tables = fiscalsim.run_scenario("scenarios/baseline.yaml", replicates=100)
diff = fiscalsim.compare("scenarios/baseline.yaml", ["scenarios/examples/ganzhou_extend_2025.yaml"])
curve = fiscalsim.sweep("scenarios/baseline.yaml", {"policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan": [500, 1000]})
but_for = fiscalsim.butfor("scenarios/baseline.yaml", replicates=100)  # windfall, induced
answer, curve = fiscalsim.target("scenarios/baseline.yaml", param=..., jurisdiction="xunwu",
                                 payer="county", ceiling_wan=300)
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fiscalsim.comparison.evaluate import CLAUSE_TOTAL_BY, TOTAL_BY, evaluate
from fiscalsim.comparison.sweep import sweep as _sweep
from fiscalsim.comparison.sweep import target as _target
from fiscalsim.comparison.tables import differences
from fiscalsim.jurisdictions import load_registry
from fiscalsim.scenario_load import load_scenario
from fiscalsim.series import with_totals_all
from fiscalsim.simulation.montecarlo import VariantSpec, with_run_options

KEYS = ["jurisdiction", "payer_level", "year", "basis"]
CLAUSE_KEYS = ["clause_id", "document_jurisdiction", "payer", "payer_level", "year", "basis"]


def run_scenario(
    path: str | Path,
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    readings_band: bool = False,
) -> dict[str, pd.DataFrame]:
    """Simulate a scenario: the tables `fiscalsim run` writes, as DataFrames at full precision
    (the CSV files, written to `out` when given, round amounts to 0.01 万元)."""
    from fiscalsim.run import run_scenario as run
    from fiscalsim.simulation.montecarlo import prepare

    prepared = prepare(Path(path), replicates=replicates, seed=seed)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(out) if out is not None else Path(scratch) / "run"
        result = run(
            prepared,
            folder,
            workers=workers,
            readings_band=readings_band,
            ledger=out is not None,
        )
    tables: dict[str, pd.DataFrame] = result["tables"]
    return tables


def compare(
    base: str | Path,
    alternatives: Sequence[str | Path],
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Differences of each alternative from the base on the same firms and shocks.

    Every scenario runs with the base's seed and replicates (or the ones given), so the
    differences are of policy, not of luck.
    """
    registry = load_registry()
    paths = [Path(base), *[Path(a) for a in alternatives]]
    loaded = [load_scenario(p, registry) for p in paths]
    replicates = replicates or loaded[0].scenario.replicates
    seed = loaded[0].scenario.seed if seed is None else seed
    names: list[str] = []
    for item in loaded:
        name = item.scenario.name
        while name in names:
            name += "_again"
        names.append(name)
    specs = [
        VariantSpec(name, with_run_options(item, replicates, seed))
        for name, item in zip(names, loaded, strict=True)
    ]
    outcomes = evaluate(
        specs, workers=workers, progress=progress, keep="clauses", registry=registry
    )
    by_payer = differences(names, with_totals_all([o.payer for o in outcomes], TOTAL_BY), KEYS)
    by_clause = differences(
        names,
        with_totals_all([o.clause for o in outcomes if o.clause is not None], CLAUSE_TOTAL_BY),
        CLAUSE_KEYS,
    )
    return {
        "differences": by_payer,
        "differences_by_clause": by_clause,
        "scenarios": [s.loaded for s in specs],
        "names": names,
        "replicates": replicates,
        "seed": seed,
    }


def sweep(
    path: str | Path,
    grid: Mapping[str, Sequence[Any]],
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
) -> pd.DataFrame:
    """The cost curve over one or two parameters (dotted paths, as in a scenario's `changes`)."""
    return _sweep(Path(path), [(k, list(v)) for k, v in grid.items()], replicates, seed, workers)


def target(
    path: str | Path,
    param: str,
    jurisdiction: str,
    payer: str,
    ceiling_wan: float,
    year: int | None = None,
    quantile: float = 0.9,
    bracket: tuple[float, float] | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The value of `param` at which the budget's cost at `quantile` meets the ceiling."""
    result = _target(
        Path(path),
        param,
        jurisdiction,
        payer,
        ceiling_wan,
        year=year,
        quantile=quantile,
        bracket=bracket,
        replicates=replicates,
        seed=seed,
        workers=workers,
    )
    return result.answer, result.curve


def butfor(
    path: str | Path,
    responses: str | Path | None = None,
    no_responses: bool = False,
    sensitivity: bool = True,
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """What the money buys: the policy (with behavioural responses) against the no-policy
    counterfactual on the same random numbers. Returns the tables `fiscalsim butfor` writes
    ('butfor', 'elasticities', 'sensitivity' or None) and 'summary' (what ran, with which
    responses). Responses: the file given, else the scenario's, else
    data/calibration/responses.yaml; `no_responses` runs without any (windfall exactly 100%)."""
    from fiscalsim.comparison.butfor import butfor as run
    from fiscalsim.comparison.butfor import summary

    result = run(
        Path(path),
        responses_file=Path(responses) if responses is not None else None,
        no_responses=no_responses,
        sensitivity=sensitivity,
        replicates=replicates,
        seed=seed,
        workers=workers,
    )
    return {
        "butfor": result.table,
        "elasticities": result.elasticities,
        "sensitivity": result.sensitivity,
        "summary": summary(result, "fiscalsim.butfor()"),
    }
