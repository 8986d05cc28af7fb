"""Budget projection: spending per paying budget, clause and year, obligation and cash, as
mean, P5, P50 and P95 over replicates, plus the population aggregates the spending comes from.

Every table is summed from the one ledger, so the tables always add up to it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim.arrays import scatter_add
from fiscalsim.datafiles import BudgetFile, read_data_file
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.process.schema import Government
from fiscalsim.rules.book import CLASS_CODES, RuleBook
from fiscalsim.series import QUANTILES, Series, statistics

# The spending table also carries the quartiles: a fan chart draws P5–P95 and P25–P75.
FAN_QUANTILES = (5, 25, 50, 75, 95)


def summary_stats(values: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
    """Mean and P5/P50/P95 over the first axis (replicates)."""
    return {f"{prefix}_{k}": v for k, v in statistics(np.moveaxis(values, 0, -1)).items()}


def many_summary_stats(
    parts: Sequence[tuple[str, np.ndarray]], columns: dict[str, list[Any]]
) -> None:
    """`summary_stats` of many (prefix, values) pairs of one shape, appended to `columns`: the
    percentiles in one call over all of them (a call each took 0.5 ms; the same order
    statistics), each mean taken as `summary_stats` takes it (so summed in the same order)."""
    if not parts:
        return
    together = statistics(np.moveaxis(np.stack([v for _, v in parts]), 1, -1), scratch=True)
    for b, (prefix, values) in enumerate(parts):
        own = {key: column[b] for key, column in together.items()}
        if values.shape[0]:  # the mean summed block by block, as summary_stats sums it
            own["mean"] = np.moveaxis(values, 0, -1).mean(axis=-1)
        for key, column in own.items():
            columns[f"{prefix}_{key}"].append(np.asarray(column))


Expenditure = dict[str, dict[int, tuple[float, str]]]  # government -> year -> (万元, basis)


def load_expenditure(
    path: Path | None, governments: Mapping[str, Government] | None = None
) -> Expenditure:
    """General public expenditure (万元) per government and year, with what each figure is.

    From the budgets file, one scope per government (its own level, 本级, where the file has
    it); a scenario's `budget.governments` replaces a government's figures with the bureau's own.
    """
    found: Expenditure = {}
    if path is not None:
        parsed = read_data_file(BudgetFile, path)
        own = {e.government for e in parsed.budgets if "本级" in e.scope}
        for entry in parsed.budgets:
            if (entry.government in own) != ("本级" in entry.scope):
                continue
            label = f"{entry.year} {entry.scope} ({entry.kind}, {entry.confidence})"
            found.setdefault(entry.government, {})[entry.year] = (entry.expenditure_wan, label)
    for name, figures in (governments or {}).items():
        value = figures.expenditure_wan
        if value is None:
            continue
        source = figures.source or "no source given"
        if isinstance(value, dict):
            found[name] = {y: (v, f"{y} scenario: {source}") for y, v in value.items()}
        else:
            found[name] = {0: (float(value), f"scenario, every year: {source}")}
    return found


def expenditure_in(
    figures: dict[int, tuple[float, str]] | None, year: object
) -> tuple[float, str] | None:
    """The figure of `year`, else of the nearest earlier year, else of the earliest year."""
    if not figures:
        return None
    if 0 in figures:
        return figures[0]
    years = sorted(figures)
    wanted = int(year) if isinstance(year, (int, np.integer)) else years[-1]
    earlier = [y for y in years if y <= wanted]
    return figures[earlier[-1] if earlier else years[0]]


def spending_table(
    series: Series, expenditure: Expenditure, process: Series | None = None
) -> pd.DataFrame:
    """Per paying budget, year and basis: mean and P5–P95 of amounts and award counts.

    `series` is series.payer_series of the run. With the budget process (`process`: its cash
    and arrears rows), cash is what the process paid and `arrears` rows are added; otherwise
    cash is the obligation shifted by the lag.
    """
    if process is not None:
        series = with_process(series, process)
    frame = table_from_series(series, FAN_QUANTILES)
    budget = [
        expenditure_in(expenditure.get(str(name)), year)
        for name, year in zip(frame["jurisdiction"], frame["year"], strict=True)
    ]
    frame["share_of_expenditure_mean"] = [
        mean / b[0] if b else np.nan for mean, b in zip(frame["mean_wan"], budget, strict=True)
    ]
    frame["expenditure_basis"] = [b[1] if b else "no published figure found" for b in budget]
    return frame


BASIS_ORDER = {"obligation": 0, "cash": 1, "arrears": 2}


def with_process(series: Series, process: Series) -> Series:
    """The obligation rows of `series`, then the process's cash and arrears rows, per budget."""
    keep = (series.keys["basis"] != "cash").to_numpy()
    keys = pd.concat([series.keys[keep], process.keys], ignore_index=True)
    amounts = np.vstack([series.amount_wan[keep], process.amount_wan])
    awards = np.vstack([series.awards[keep], process.awards])
    budget = list(dict.fromkeys(zip(keys["jurisdiction"], keys["payer_level"], strict=True)))
    rank = {b: i for i, b in enumerate(budget)}
    sort = pd.DataFrame(
        {
            "budget": [
                rank[b] for b in zip(keys["jurisdiction"], keys["payer_level"], strict=True)
            ],
            "basis": keys["basis"].map(BASIS_ORDER),
            "year": keys["year"].astype(int),
        }
    )
    order = sort.sort_values(["budget", "basis", "year"], kind="stable").index.to_numpy()
    return Series(keys.iloc[order].reset_index(drop=True), amounts[order], awards[order])


def table_from_series(series: Series, quantiles: Sequence[int] = QUANTILES) -> pd.DataFrame:
    """Keys, then the mean and percentiles of the amounts (万元), and of the award counts."""
    frame = series.keys.copy()
    for key, values in statistics(series.amount_wan, quantiles=quantiles).items():
        frame[f"{key}_wan"] = values
    for key, values in statistics(series.awards, "awards_").items():
        frame[key] = values
    return frame


def clause_table(series: Series) -> pd.DataFrame:
    """Spending per clause and paying budget (the jurisdiction that pays), year and basis, from
    series.clause_series of the run."""
    return table_from_series(series)


def cumulative_cube(book: RuleBook, ledger: dict[str, np.ndarray], n_replicates: int) -> np.ndarray:
    """Obligations per replicate, document and paying budget, summed over the years."""
    n_places = len(book.registry.items)
    policy_of_rule = np.array([book.policies.index(c.policy) for c in book.rules] or [0])
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
    return cube


def cumulative_table(book: RuleBook, cube: np.ndarray) -> pd.DataFrame:
    """Total obligations over each document's window, per paying budget (cumulative_cube)."""
    names = [j.id for j in book.registry.items]
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
    book: RuleBook, population: np.ndarray, places: Sequence[int], start_year: int
) -> pd.DataFrame:
    """Firms, revenue and above-scale firms per county-level unit and city, year and class.
    `places` are the registry indices of the array's place axis, in order (Model.places)."""
    registry = book.registry
    units: list[tuple[str, list[int]]] = [(registry.items[i].id, [k]) for k, i in enumerate(places)]
    for city in sorted({str(registry.items[i].parent) for i in places if registry.items[i].parent}):
        members = [k for k, i in enumerate(places) if registry.items[i].parent == city]
        units.append((city, members))
    n_years = population.shape[1]
    columns: dict[str, list[Any]] = defaultdict(list)  # built whole: one frame, not hundreds
    stats: list[tuple[str, np.ndarray]] = []
    for name, members in units:
        local = population[:, :, members].sum(axis=2)  # [replicate, year, class, metric]
        for code in [*CLASS_CODES, "all"]:
            block = local[:, :, 1:].sum(axis=2) if code == "all" else local[:, :, int(code)]
            columns["jurisdiction"].append(np.full(n_years, name, dtype=object))
            columns["year"].append(np.arange(start_year, start_year + n_years))
            columns["industry_class"].append(np.full(n_years, code, dtype=object))
            for metric, label in ((0, "firms"), (1, "revenue_wan"), (2, "above_scale_firms")):
                stats.append((label, block[:, :, metric]))
    many_summary_stats(stats, columns)
    return pd.DataFrame({key: np.concatenate(parts) for key, parts in columns.items()})


def crossings_table(
    book: RuleBook,
    crossings: np.ndarray,
    thresholds: np.ndarray,
    places: Sequence[int],
    start_year: int,
) -> pd.DataFrame:
    """How many firms first reach each revenue tier, per county-level unit and year. `places`
    are the registry indices of the array's place axis, in order (Model.places)."""
    names = [j.id for j in book.registry.items]
    parts: dict[str, list[Any]] = defaultdict(list)
    n_years = crossings.shape[1] - 1
    stats: list[tuple[str, np.ndarray]] = []
    for column, place in enumerate(places):
        for t, threshold in enumerate(thresholds):
            parts["jurisdiction"].append(np.full(n_years, names[place], dtype=object))
            parts["year"].append(np.arange(start_year + 1, start_year + 1 + n_years))
            parts["threshold_wan"].append(np.full(n_years, threshold))
            stats.append(("first_crossings", crossings[:, 1:, column, t]))
    many_summary_stats(stats, parts)
    columns = ["jurisdiction", "year", "threshold_wan", "first_crossings_mean"]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({key: np.concatenate(values) for key, values in parts.items()})
