"""What the money buys: windfall share, induced crossings, firms and revenue, cost per induced.

Two simulated worlds on the same keyed draws: the responding world (the policy, firms responding
to it) and the counterfactual (no award, no response). Without responses the counterfactual's
firms are the policy world's firms; its qualifying crossings are those for which the policy
world without responses books an award. So an award of the responding world is a windfall when
the world without responses books the same award (same replicate, firm, rule and occurrence, in
any year of the window): the firm would have done what the award pays for without the policy.
Induced crossings, firms and revenue are the responding world less the counterfactual, per
replicate, in the territory of each paying budget.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim.comparison.evaluate import TOTAL_BY, model_locations
from fiscalsim.rules.book import RuleBook
from fiscalsim.series import Series, payer_series
from fiscalsim.simulation.model import Model

KEYS = ["jurisdiction", "payer_level", "year", "basis"]
ALL = "all"  # the row summing every paying budget of the simulated area


@dataclass(frozen=True)
class Simulated:
    """One simulated world's outputs that the measures need."""

    model: Model
    variant: int
    result: dict[str, Any]

    @property
    def book(self) -> RuleBook:
        return self.model.variants[self.variant].book

    @property
    def ledger(self) -> dict[str, np.ndarray]:
        ledger: dict[str, np.ndarray] = self.result["ledgers"][self.variant]
        return ledger


def windfall_rows(on: dict[str, np.ndarray], off: dict[str, np.ndarray]) -> np.ndarray:
    """True for each award of `on` that `off` also books (the k-th award of a firm under a rule
    matches when `off` books at least k under it; firm keys carry the replicate)."""
    if on["amount_wan"].size == 0:
        return np.zeros(0, dtype=bool)
    code_on = on["firm_key"].astype(np.int64) * 4096 + on["rule"].astype(np.int64)
    code_off = off["firm_key"].astype(np.int64) * 4096 + off["rule"].astype(np.int64)
    order = np.lexsort((on["payment_year"], on["performance_year"], code_on))
    sorted_codes = code_on[order]
    starts = np.searchsorted(sorted_codes, sorted_codes, side="left")
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size) - starts
    known, counts = np.unique(code_off, return_counts=True)
    if known.size == 0:
        return np.zeros(code_on.size, dtype=bool)
    position = np.minimum(np.searchsorted(known, code_on), known.size - 1)
    available = np.where(known[position] == code_on, counts[position], 0)
    return np.asarray(rank < available)


def _subset(ledger: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[keep] for name, values in ledger.items()}


def _with_all(series: Series) -> Series:
    """Add the 'all' rows: every budget's money summed, per year and basis."""
    keys = series.keys.reset_index(drop=True)
    groups = keys.groupby(["year", "basis"], sort=False, observed=True).indices
    pairs: list[tuple[Any, Any]] = [tuple(key) for key in groups]  # type: ignore[misc, arg-type]
    extra = [{"jurisdiction": ALL, "payer_level": ALL, "year": y, "basis": b} for y, b in pairs]
    amounts = [series.amount_wan[rows].sum(axis=0) for rows in groups.values()]
    awards = [series.awards[rows].sum(axis=0) for rows in groups.values()]
    if not extra:
        return series
    return Series(
        pd.concat([keys, pd.DataFrame(extra)], ignore_index=True),
        np.vstack([series.amount_wan, np.array(amounts)]),
        np.vstack([series.awards, np.array(awards)]),
    )


def _territory(on: Simulated, jurisdictions: list[str]) -> dict[str, np.ndarray]:
    """Each jurisdiction's places, as a mask over the place axis of the run's arrays."""
    registry = on.book.registry
    items = [registry.items[i] for i in on.result["places"]]
    everything = np.ones(len(items), dtype=bool)
    return {
        j: everything
        if j == ALL
        else np.array([registry.covers(j, item.id) for item in items], dtype=bool)
        for j in jurisdictions
    }


def _induced(on: Simulated, off: Simulated) -> dict[str, np.ndarray]:
    """Per (replicate, year offset, place): induced crossings, firms alive and revenue."""
    assert np.array_equal(on.result["places"], off.result["places"]), "one place axis"
    crossings = on.result["crossings"].sum(axis=3) - off.result["crossings"].sum(axis=3)
    population = on.result["population"].sum(axis=3) - off.result["population"].sum(axis=3)
    return {
        "crossings": crossings,
        "firms": population[..., 0],
        "revenue_wan": population[..., 1],
    }


def _counts_for(
    keys: pd.DataFrame, induced: dict[str, np.ndarray], cover: dict[str, np.ndarray], on: Simulated
) -> dict[str, np.ndarray]:
    """Induced counts of each row's territory and year, (rows, replicates); the 'total' row
    sums crossings and revenue over the window and takes firms alive at the horizon."""
    start = on.model.scenario.population.start_year
    horizon = on.model.scenario.horizon
    window = slice(1, horizon - start + 1)
    out = {name: np.zeros((len(keys), on.model.scenario.replicates)) for name in induced}
    for i, (jurisdiction, year) in enumerate(zip(keys["jurisdiction"], keys["year"], strict=True)):
        places = cover[str(jurisdiction)]
        for name, values in induced.items():
            local = values[:, :, places].sum(axis=2)  # (replicates, years)
            if str(year) == "total":
                out[name][i] = local[:, -1] if name == "firms" else local[:, window].sum(axis=1)
            elif start < int(year) <= horizon:
                out[name][i] = local[:, int(year) - start]
    return out


def _stats(values: np.ndarray, name: str, unit: str = "") -> dict[str, np.ndarray]:
    """Mean, P5 and P95 over replicates (NaN replicates left out: a ratio with no induced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a row with no defined ratio: NaN
        mean = np.nanmean(values, axis=1)
        p05, p95 = np.nanpercentile(values, [5, 95], axis=1)
    return {f"{name}_mean{unit}": mean, f"{name}_p05{unit}": p05, f"{name}_p95{unit}": p95}


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def measures(
    on: Simulated, counterfactual: Simulated, unresponsive: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The but-for table: per paying budget (and 'all'), year (and 'total') and basis.

    `counterfactual` is the no-policy world; `unresponsive` the ledger of the policy on the
    counterfactual's own firms (the policy without responses), which decides the windfall."""
    n = on.model.scenario.replicates
    first, horizon = on.model.scenario.population.start_year + 1, on.model.scenario.horizon
    locations = model_locations(on.model)
    ledger = on.ledger
    spent = _with_all(payer_series(on.book, ledger, n, locations, first, horizon))
    matched = _subset(ledger, windfall_rows(ledger, unresponsive))
    windfall = _with_all(payer_series(on.book, matched, n, locations, first, horizon))
    spent, windfall = spent.with_totals(TOTAL_BY), windfall.with_totals(TOTAL_BY)
    keys = spent.keys.reset_index(drop=True)
    cover = _territory(on, sorted(set(keys["jurisdiction"].astype(str))))
    counts = _counts_for(keys, _induced(on, counterfactual), cover, on)
    columns: dict[str, Any] = {k: keys[k] for k in KEYS}
    columns.update(_stats(spent.amount_wan, "spending", "_wan"))
    columns["windfall_mean_wan"] = windfall.amount_wan.mean(axis=1)
    share = _ratio(windfall.amount_wan, spent.amount_wan)
    columns.update(_stats(share, "windfall_share"))
    columns["windfall_share_mean"] = _ratio(
        windfall.amount_wan.sum(axis=1), spent.amount_wan.sum(axis=1)
    )  # money-weighted over replicates
    columns.update(_stats(counts["crossings"], "induced_crossings"))
    columns.update(_stats(counts["firms"], "induced_firms"))
    columns.update(_stats(counts["revenue_wan"], "induced_revenue", "_wan"))
    for what in ("crossings", "firms"):
        per = _ratio(spent.amount_wan, counts[what])
        columns.update(_stats(per, f"cost_per_induced_{what[:-1]}", "_wan"))
        columns[f"cost_per_induced_{what[:-1]}_mean_wan"] = _ratio(
            spent.amount_wan.mean(axis=1), counts[what].mean(axis=1)
        )  # ratio of means: defined whenever induced counts are positive on average
    frame = pd.DataFrame(columns)
    return frame[(frame["spending_mean_wan"] != 0) | (frame["jurisdiction"] == ALL)].reset_index(
        drop=True
    )
