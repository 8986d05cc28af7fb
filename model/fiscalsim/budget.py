"""Budget projection: spending per paying budget, clause and year, obligation and cash, as
mean, P5, P50 and P95 over replicates, plus the population aggregates the spending comes from.

Every table is summed from the one ledger, so the tables always add up to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim.arrays import scatter_add
from fiscalsim.datafiles import BudgetFile, read_data_file
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.rules.book import CLASS_CODES, RuleBook
from fiscalsim.series import (
    QUANTILES,
    Series,
    clause_series,
    payer_series,
    statistics,
)

# The spending table also carries the quartiles: a fan chart draws P5–P95 and P25–P75.
FAN_QUANTILES = (5, 25, 50, 75, 95)


def summary_stats(values: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """Mean and P5/P50/P95 over the first axis (replicates)."""
    return {f"{prefix}_{k}": v for k, v in statistics(np.moveaxis(values, 0, -1)).items()}


def load_expenditure(path: Path | None) -> dict[str, tuple[float, str]]:
    """Latest general public expenditure (万元) per government, preferring its own-level budget."""
    if path is None:
        return {}
    parsed = read_data_file(BudgetFile, path)
    best: dict[str, tuple[int, int, float, str]] = {}
    for entry in parsed.budgets:
        own_level = 1 if "本级" in entry.scope else 0
        rank = (own_level, entry.year)
        label = f"{entry.year} {entry.scope} ({entry.kind}, {entry.confidence})"
        if entry.government not in best or rank > best[entry.government][:2]:
            best[entry.government] = (*rank, entry.expenditure_wan, label)
    return {g: (v[2], v[3]) for g, v in best.items()}


def spending_table(
    book: RuleBook,
    ledger: dict[str, np.ndarray],
    n_replicates: int,
    locations: Sequence[int],
    first_year: int,
    horizon: int,
    expenditure: dict[str, tuple[float, str]],
) -> pd.DataFrame:
    """Per paying budget, year and basis: mean and P5–P95 of amounts and award counts."""
    series = payer_series(book, ledger, n_replicates, locations, first_year, horizon)
    frame = table_from_series(series, FAN_QUANTILES)
    budget = frame["jurisdiction"].map(lambda name: expenditure.get(str(name)))
    frame["share_of_expenditure_mean"] = [
        mean / b[0] if b else np.nan for mean, b in zip(frame["mean_wan"], budget, strict=True)
    ]
    frame["expenditure_basis"] = [b[1] if b else "no published figure found" for b in budget]
    return frame


def table_from_series(series: Series, quantiles: Sequence[int] = QUANTILES) -> pd.DataFrame:
    """Keys, then the mean and percentiles of the amounts (万元), and of the award counts."""
    frame = series.keys.copy()
    for key, values in statistics(series.amount_wan, quantiles=quantiles).items():
        frame[f"{key}_wan"] = values
    for key, values in statistics(series.awards, "awards_").items():
        frame[key] = values
    return frame


def clause_table(
    book: RuleBook, ledger: dict[str, np.ndarray], n_replicates: int, first_year: int, horizon: int
) -> pd.DataFrame:
    """Spending per clause and paying budget (the jurisdiction that pays), year and basis."""
    return table_from_series(clause_series(book, ledger, n_replicates, first_year, horizon))


def cumulative_table(
    book: RuleBook, ledger: dict[str, np.ndarray], n_replicates: int
) -> pd.DataFrame:
    """Total obligations over each document's window, per paying budget."""
    names = [j.id for j in book.registry.items]
    policy_of_rule = np.array([book.policies.index(c.policy) for c in book.rules] or [0])
    n_places = len(names)
    cube = np.zeros((n_replicates, len(book.policies), n_places))
    for level in LEVELS:
        paid = ledger[f"{level}_wan"] > 0
        scatter_add(
            cube,
            (
                ledger["replicate"][paid],
                policy_of_rule[ledger["rule"][paid]],
                ledger[f"{level}_payer"][paid],
            ),
            ledger[f"{level}_wan"][paid],
        )
    rows: list[dict[str, Any]] = []
    for p, policy in enumerate(book.policies):
        years = [c.rule.years for c in book.rules if c.policy is policy and c.rule.years]
        for payer in np.flatnonzero(cube[:, p, :].any(axis=0)):
            stats = summary_stats(cube[:, p, payer], "")
            rows.append(
                {
                    "document": policy.policy_id,
                    "document_number": policy.document.number or "",
                    "performance_years": f"{min(y.first for y in years)}–{max(y.last for y in years)}",
                    "jurisdiction": names[payer],
                    **{f"{k[1:]}_wan": float(v) for k, v in stats.items()},
                }
            )
    return pd.DataFrame(rows)


def population_table(
    book: RuleBook, population: np.ndarray, locations: Sequence[int], start_year: int
) -> pd.DataFrame:
    """Firms, revenue and above-scale firms per county-level unit and city, year and class."""
    registry = book.registry
    units: list[tuple[str, list[int]]] = [(registry.items[i].id, [i]) for i in locations]
    for city in sorted(
        {str(registry.items[i].parent) for i in locations if registry.items[i].parent}
    ):
        units.append((city, [i for i in locations if registry.items[i].parent == city]))
    n_years = population.shape[1]
    columns: dict[str, list[Any]] = defaultdict(list)  # built whole: one frame, not hundreds
    for name, members in units:
        local = population[:, :, members].sum(axis=2)  # [replicate, year, class, metric]
        for code in [*CLASS_CODES, "all"]:
            block = local[:, :, 1:].sum(axis=2) if code == "all" else local[:, :, int(code)]
            columns["jurisdiction"].append(np.full(n_years, name, dtype=object))
            columns["year"].append(np.arange(start_year, start_year + n_years))
            columns["industry_class"].append(np.full(n_years, code, dtype=object))
            for metric, label in ((0, "firms"), (1, "revenue_wan"), (2, "above_scale_firms")):
                for key, values in summary_stats(block[:, :, metric], label).items():
                    columns[key].append(np.asarray(values))
    return pd.DataFrame({key: np.concatenate(parts) for key, parts in columns.items()})


def crossings_table(
    book: RuleBook,
    crossings: np.ndarray,
    thresholds: np.ndarray,
    locations: Sequence[int],
    start_year: int,
) -> pd.DataFrame:
    """How many firms first reach each revenue tier, per county-level unit and year."""
    names = [j.id for j in book.registry.items]
    parts: dict[str, list[Any]] = defaultdict(list)
    n_years = crossings.shape[1] - 1
    for place in locations:
        for t, threshold in enumerate(thresholds):
            parts["jurisdiction"].append(np.full(n_years, names[place], dtype=object))
            parts["year"].append(np.arange(start_year + 1, start_year + 1 + n_years))
            parts["threshold_wan"].append(np.full(n_years, threshold))
            for key, column in summary_stats(crossings[:, 1:, place, t], "first_crossings").items():
                parts[key].append(np.asarray(column))
    columns = ["jurisdiction", "year", "threshold_wan", "first_crossings_mean"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({key: np.concatenate(values) for key, values in parts.items()})
