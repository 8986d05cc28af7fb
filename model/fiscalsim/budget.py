"""Budget projection: spending per paying budget, clause and year, obligation and cash, as
mean, P5, P50 and P95 over replicates, plus the population aggregates the spending comes from.

Every table is summed from the one ledger, so the tables always add up to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from fiscalsim.arrays import scatter_add
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.rules.book import CLASS_CODES, RuleBook

BASES = ("obligation", "cash")
QUANTILES = (5, 50, 95)
# The spending table also carries the quartiles: a fan chart draws P5–P95 and P25–P75.
FAN_QUANTILES = (5, 25, 50, 75, 95)


def summary_stats(
    values: np.ndarray, prefix: str, quantiles: Sequence[int] = QUANTILES
) -> dict[str, np.ndarray]:
    """Mean and the given percentiles (default P5/P50/P95) over the first axis (replicates)."""
    q = np.percentile(values, quantiles, axis=0)
    return {
        f"{prefix}_mean": values.mean(axis=0),
        **{f"{prefix}_p{level:02d}": q[i] for i, level in enumerate(quantiles)},
    }


def _year_axes(ledger: dict[str, np.ndarray], first_year: int, horizon: int) -> range:
    last = int(
        max(horizon, ledger["payment_year"].max() if ledger["payment_year"].size else horizon)
    )
    return range(first_year, last + 1)


def payer_cube(
    ledger: dict[str, np.ndarray], n_replicates: int, n_places: int, years: range
) -> tuple[np.ndarray, np.ndarray]:
    """Amounts and award counts indexed [replicate, payer, year, basis]."""
    amounts = np.zeros((n_replicates, n_places, len(years), 2))
    counts = np.zeros_like(amounts)
    for level in LEVELS:
        share = ledger[f"{level}_wan"]
        paid = share > 0
        payer = ledger[f"{level}_payer"][paid]
        for b, column in enumerate(("performance_year", "payment_year")):
            where = (ledger["replicate"][paid], payer, ledger[column][paid] - years.start, b)
            scatter_add(amounts, where, share[paid])
            scatter_add(counts, where, 1.0)
    return amounts, counts


def possible_payers(book: RuleBook, locations: Sequence[int]) -> list[tuple[int, str]]:
    """(registry index, level) of every budget a clause could charge for firms in `locations`."""
    found: set[tuple[int, str]] = set()
    table = book.registry.payer_index
    for compiled in book.rules:
        for place in locations:
            if not compiled.location_ok[place]:
                continue
            for i, level in enumerate(LEVELS):
                if compiled.payer_shares[i] > 0 and table[place, i] >= 0:
                    found.add((int(table[place, i]), level))
    return sorted(found, key=lambda item: (LEVELS.index(item[1]), item[0]))


def load_expenditure(path: Path | None) -> dict[str, tuple[float, str]]:
    """Latest general public expenditure (万元) per government, preferring its own-level budget."""
    if path is None or not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    best: dict[str, tuple[int, int, float, str]] = {}
    for entry in raw.get("budgets", []):
        government = entry.get("government")
        value = entry.get("expenditure_wan")
        if not government or value is None:
            continue
        scope = str(entry.get("scope", ""))
        own_level = 1 if "本级" in scope else 0
        rank = (own_level, int(entry.get("year", 0)))
        label = f"{entry.get('year')} {scope} ({entry.get('kind', '?')}, {entry.get('confidence', '?')})"
        if government not in best or rank > best[government][:2]:
            best[government] = (*rank, float(value), label)
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
    years = _year_axes(ledger, first_year, horizon)
    amounts, counts = payer_cube(ledger, n_replicates, len(book.registry.items), years)
    names = [j.id for j in book.registry.items]
    frames = []
    for payer, level in possible_payers(book, locations):
        for b, basis in enumerate(BASES):
            span = range(first_year, horizon + 1) if basis == "obligation" else years
            index = [y - years.start for y in span]
            stats = summary_stats(amounts[:, payer, index, b], "", FAN_QUANTILES)
            award_stats = summary_stats(counts[:, payer, index, b], "awards")
            frame = pd.DataFrame(
                {
                    "jurisdiction": names[payer],
                    "payer_level": level,
                    "year": list(span),
                    "basis": basis,
                    **{f"{k[1:]}_wan": v for k, v in stats.items()},
                    **award_stats,
                }
            )
            budget = expenditure.get(names[payer])
            frame["share_of_expenditure_mean"] = frame["mean_wan"] / budget[0] if budget else np.nan
            frame["expenditure_basis"] = budget[1] if budget else "no published figure found"
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def clause_table(
    book: RuleBook, ledger: dict[str, np.ndarray], n_replicates: int, first_year: int, horizon: int
) -> pd.DataFrame:
    """Spending per clause, payer level, year and basis (zeros omitted: clauses that never paid)."""
    years = _year_axes(ledger, first_year, horizon)
    n_rules = len(book.rules)
    cube = np.zeros((n_replicates, n_rules, 3, len(years), 2))
    counts = np.zeros((n_replicates, n_rules, len(years), 2))
    for b, column in enumerate(("performance_year", "payment_year")):
        offset = ledger[column] - years.start
        for i, level in enumerate(LEVELS):
            scatter_add(
                cube, (ledger["replicate"], ledger["rule"], i, offset, b), ledger[f"{level}_wan"]
            )
        scatter_add(counts, (ledger["replicate"], ledger["rule"], offset, b), 1.0)
    rows: list[pd.DataFrame] = []
    for rule in np.unique(ledger["rule"]):
        compiled = book.rules[int(rule)]
        for i, level in enumerate(LEVELS):
            if compiled.payer_shares[i] == 0:
                continue
            for b, basis in enumerate(BASES):
                stats = summary_stats(cube[:, rule, i, :, b], "")
                award_stats = summary_stats(counts[:, rule, :, b], "awards")
                rows.append(
                    pd.DataFrame(
                        {
                            "clause_id": compiled.id,
                            "document_jurisdiction": compiled.policy.jurisdiction,
                            "payer_level": level,
                            "year": list(years),
                            "basis": basis,
                            **{f"{k[1:]}_wan": v for k, v in stats.items()},
                            **award_stats,
                        }
                    )
                )
    columns = ["clause_id", "document_jurisdiction", "payer_level", "year", "basis", "mean_wan"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


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
    frames = []
    n_years = population.shape[1]
    for name, members in units:
        local = population[:, :, members].sum(axis=2)  # [replicate, year, class, metric]
        for code in [*CLASS_CODES, "all"]:
            block = local[:, :, 1:].sum(axis=2) if code == "all" else local[:, :, int(code)]
            frame = pd.DataFrame(
                {
                    "jurisdiction": name,
                    "year": range(start_year, start_year + n_years),
                    "industry_class": code,
                }
            )
            for metric, label in ((0, "firms"), (1, "revenue_wan"), (2, "above_scale_firms")):
                for key, values in summary_stats(block[:, :, metric], label).items():
                    frame[key] = values
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def crossings_table(
    book: RuleBook,
    crossings: np.ndarray,
    thresholds: np.ndarray,
    locations: Sequence[int],
    start_year: int,
) -> pd.DataFrame:
    """How many firms first reach each revenue tier, per county-level unit and year."""
    names = [j.id for j in book.registry.items]
    frames = []
    for place in locations:
        for t, threshold in enumerate(thresholds):
            values = crossings[:, 1:, place, t]
            frame = pd.DataFrame(
                {
                    "jurisdiction": names[place],
                    "year": range(start_year + 1, start_year + crossings.shape[1]),
                    "threshold_wan": threshold,
                }
            )
            for key, column in summary_stats(values, "first_crossings").items():
                frame[key] = column
            frames.append(frame)
    columns = ["jurisdiction", "year", "threshold_wan", "first_crossings_mean"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
