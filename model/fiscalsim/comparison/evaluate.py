"""Evaluate several policy variants on one set of simulated firms and shocks.

Variants that differ only in policy terms, readings or event processes share one simulation
(the engine runs once per variant, per city where its rules differ); variants that change the
population or the dynamics are simulated apart on the same keyed draws. Either way every variant
sees the same firms wherever its inputs agree, so differences are differences of policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from fiscalsim.jurisdictions import Registry, load_registry
from fiscalsim.population.synthesis import CityPlan
from fiscalsim.rules.book import RuleBook
from fiscalsim.scenario_load import LoadedScenario
from fiscalsim.series import Series, clause_series, join_replicates, payer_series
from fiscalsim.simulation.model import Model
from fiscalsim.simulation.montecarlo import VariantSpec, build_models, simulate

TOTAL_BY = ("jurisdiction", "payer_level", "basis")
CLAUSE_TOTAL_BY = ("clause_id", "document_jurisdiction", "payer", "payer_level", "basis")


@dataclass(frozen=True)
class Outcome:
    """One variant's spending per replicate, by paying budget (and by clause when kept)."""

    name: str
    loaded: LoadedScenario
    book: RuleBook
    payer: Series
    clause: Series | None
    n_replicates: int


def model_locations(model: Model) -> list[int]:
    """The county-level units the model's firms can be in (Model.places), as a list."""
    return [int(i) for i in model.places]


def _years(model: Model) -> tuple[int, int]:
    return model.scenario.population.start_year + 1, model.scenario.horizon


def _local(ledger: dict[str, np.ndarray], replicates: list[int]) -> dict[str, np.ndarray]:
    """The batch's ledger with replicates numbered from 0 (batches are contiguous ranges)."""
    return {**ledger, "replicate": ledger["replicate"] - replicates[0]}


def reduce_to_payers(
    model: Model, variant: int, replicates: list[int], ledger: dict[str, np.ndarray]
) -> Series:
    """A batch's spending per paying budget, per replicate of the batch."""
    first, horizon = _years(model)
    book = model.variants[variant].book
    return payer_series(
        book, _local(ledger, replicates), len(replicates), model_locations(model), first, horizon
    )


def reduce_to_mean_payers(
    model: Model, variant: int, replicates: list[int], ledger: dict[str, np.ndarray]
) -> Series:
    """As reduce_to_payers, summed over the batch's replicates (for many variants at once)."""
    series = reduce_to_payers(model, variant, replicates, ledger)
    return Series(
        series.keys,
        series.amount_wan.sum(axis=1, keepdims=True),
        series.awards.sum(axis=1, keepdims=True),
    )


def _add(parts: list[Series], n_replicates: int) -> Series:
    total = sum(p.amount_wan for p in parts)
    awards = sum(p.awards for p in parts)
    return Series(
        parts[0].keys, np.asarray(total) / n_replicates, np.asarray(awards) / n_replicates
    )


def restrict(model: Model, cities: set[str]) -> Model:
    """The model with only `cities` simulated: cities share no draws, so each is exact alone."""
    plans = tuple(p for p in model.plans if p.city in cities)
    if len(plans) == len(model.plans):
        return model

    renumbered = tuple(CityPlan(p.city, i, p.segments) for i, p in enumerate(plans))
    return replace(model, plans=renumbered)


def evaluate(
    specs: Sequence[VariantSpec],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    keep: str = "replicates",
    cities: set[str] | None = None,
    registry: Registry | None = None,
) -> list[Outcome]:
    """Every variant's spending. `keep`: 'clauses' (payer and clause series per replicate),
    'replicates' (payer series per replicate) or 'means' (payer means only, for many variants).
    `cities` simulates only those cities (a target on one budget needs no other city)."""
    registry = registry or load_registry()
    outcomes: list[Outcome | None] = [None] * len(specs)
    for model, members in build_models(specs, registry):
        if cities is not None:
            model = restrict(model, cities)
        n = model.scenario.replicates
        first, horizon = _years(model)
        reducer: Any = {
            "clauses": None,
            "replicates": reduce_to_payers,
            "means": reduce_to_mean_payers,
        }[keep]
        results = simulate(model, workers=workers, progress=progress, reduce=reducer)
        for k, position in enumerate(members):
            book = model.variants[k].book
            clause: Series | None = None
            if keep == "clauses":
                ledger = results["ledgers"][k]
                payer = payer_series(book, ledger, n, model_locations(model), first, horizon)
                clause = clause_series(book, ledger, n, first, horizon)
            elif keep == "replicates":
                payer = join_replicates(results["reduced"][k])
            else:
                payer = _add(results["reduced"][k], n)
            outcomes[position] = Outcome(
                name=specs[position].name,
                loaded=specs[position].loaded,
                book=book,
                payer=payer,
                clause=clause,
                n_replicates=n,
            )
    return [o for o in outcomes if o is not None]
