"""The award calculator: a firm-year panel in, the awards each policy owes out.

It runs the same engine the simulation uses, year by year through the panel, so a simulated
firm re-checked here gets exactly the awards the simulation booked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim import __version__
from fiscalsim.engine import EngineState, YearAwards, evaluate_year
from fiscalsim.engine.evaluate import DROP_REASONS
from fiscalsim.explain import DIGITS, explanations
from fiscalsim.jurisdictions import LEVELS, Registry, load_registry
from fiscalsim.ledger import dropped_frame, ledger_frame, payer_totals
from fiscalsim.panel import Panel, read_panel
from fiscalsim.paths import portable
from fiscalsim.rules.book import RuleBook, compile_rules
from fiscalsim.rules.loader import load_policies, policy_paths
from fiscalsim.rules.readings import describe


@dataclass(frozen=True)
class CalculatorResult:
    book: RuleBook
    panel: Panel
    ledger: pd.DataFrame
    dropped: pd.DataFrame
    explanations: list[dict[str, Any]]
    summary: dict[str, Any]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_book(
    policy_dirs: Sequence[Path],
    overrides: Mapping[str, str] | None = None,
    registry: Registry | None = None,
) -> RuleBook:
    registry = registry or load_registry()
    return compile_rules(load_policies(policy_dirs, registry), registry, overrides)


def run_panel(
    book: RuleBook, panel: Panel
) -> tuple[list[YearAwards], list[np.ndarray], list[np.ndarray]]:
    """Evaluate every panel year in order with one engine state."""
    state = EngineState(book.n_ladders, book.needs_ladder_paid)
    awards: list[YearAwards] = []
    firms: list[np.ndarray] = []
    places: list[np.ndarray] = []
    for year in panel.years:
        table = panel.table(year)
        awards.append(evaluate_year(book, table, state))
        firms.append(table.firm)
        places.append(table.location)
    return awards, firms, places


def calculate(
    panel_path: Path,
    policy_dirs: Sequence[Path],
    overrides: Mapping[str, str] | None = None,
) -> CalculatorResult:
    overrides = dict(overrides or {})
    book = load_book(policy_dirs, overrides)
    panel = read_panel(panel_path, book.registry, book.facts_used())
    year_awards, firms, places = run_panel(book, panel)
    ledger = ledger_frame(book, year_awards, firms, panel.firm_ids, places)
    dropped = dropped_frame(book, year_awards, firms, panel.firm_ids)
    records = explanations(book, year_awards, firms, panel.firm_ids)
    summary = summarize(book, panel, ledger, dropped, overrides, policy_dirs)
    summary["inputs"]["panel_notes"] = list(panel.notes)
    summary["warnings"] = panel_warnings(book, panel)
    return CalculatorResult(book, panel, ledger, dropped, records, summary)


# Median revenue above 100亿 (1e6 万元) means the column is almost surely in 元, not 万元: even
# the largest digital-economy firms of the five places have revenues of some 10亿-100亿.
LIKELY_YUAN_MEDIAN_WAN = 1e6


def panel_warnings(book: RuleBook, panel: Panel) -> list[str]:
    """Things that are not errors but usually mean the panel is not what the user thinks."""
    warnings: list[str] = []
    windows = [c.rule.years for c in book.rules if c.rule.years is not None]
    covered = _covered_policies(book, panel)
    windows = [
        c.rule.years
        for c in book.rules
        if c.rule.years is not None and c.policy.policy_id in covered
    ] or windows
    if windows and not any(w.first <= y <= w.last for y in panel.years for w in windows):
        span = f"{min(w.first for w in windows)}-{max(w.last for w in windows)}"
        warnings.append(
            f"{panel.path}: no panel year ({panel.years[0]}-{panel.years[-1]}) lies in any "
            f"policy window ({span}); no award can be paid"
        )
    revenue = panel.frame["revenue_wan"].to_numpy(dtype=float)
    positive = revenue[revenue > 0]
    if positive.size and float(np.median(positive)) > LIKELY_YUAN_MEDIAN_WAN:
        warnings.append(
            f"{panel.path}: column revenue_wan: median {float(np.median(positive)):,.0f} looks "
            "like 元, not 万元 (divide by 10,000)"
        )
    return warnings + _history_warnings(book, panel)


def _history_warnings(book: RuleBook, panel: Panel) -> list[str]:
    """首次达到 needs a firm's history: a first panel year at or above a revenue tier counts
    that tier as reached before, unless prior_max_revenue_wan says otherwise or the firm was
    founded that year (founded_year), and a missing
    year hides last year's figures. Both silently lower the awards if the panel starts late
    or has gaps, so they are said, with the first firms concerned."""
    frame = panel.frame
    found: list[str] = []
    first = frame.sort_values("year", kind="stable").drop_duplicates("firm_id")
    lowest = _lowest_tiers(book, first)  # of the ladders covering each firm's place and class
    if np.isfinite(lowest).any():
        prior = first.get("prior_max_revenue_wan", pd.Series(np.nan, index=first.index))
        founded = first.get("founded_year", pd.Series(np.nan, index=first.index))
        new = founded >= first["year"]  # founded that year: it reached nothing before
        late = first[(first["revenue_wan"].to_numpy() >= lowest) & prior.isna() & ~new]
        if len(late):
            found.append(
                f"{panel.path}: {_firms(len(late))} at or above the lowest revenue tier of a "
                "ladder covering them in their first panel year "
                f"({_some(late['firm_id'])}): those tiers count as reached before that year "
                "and pay nothing (首次达到); give prior_max_revenue_wan if they were first "
                "reached in that year"
            )
    span = frame.groupby("firm_id", sort=False)["year"].agg(["min", "max", "nunique"])
    gaps = list(span.index[span["max"] - span["min"] + 1 > span["nunique"]])
    if gaps:
        found.append(
            f"{panel.path}: {_firms(len(gaps), 'has', 'have')} a year missing between their first and last "
            f"({_some(pd.Series(gaps))}): the year after a gap has no last-year figures "
            "(growth and 新纳统 clauses cannot pay; an increment clause such as RJ-8 counts the "
            "whole amount as base)"
        )
    return found


def _lowest_tiers(book: RuleBook, rows: pd.DataFrame) -> np.ndarray:
    """Per row, the lowest first tier of the revenue ladders that cover its place and class
    (inf where none does): the warning used the lowest of every ladder (1000万) for every firm,
    so a class-01 firm at 9000万, whose ladder starts at 1亿, was warned about."""
    places = np.array([book.registry.index.get(str(p), -1) for p in rows["location"]])
    classes = rows["industry_class"].astype(str).to_numpy()
    lowest = np.full(len(rows), np.inf)
    for compiled in book.rules:
        if compiled.ladder < 0 or not compiled.thresholds_wan.size:
            continue
        eligible = compiled.rule.eligibility.industry_classes
        covered = (places >= 0) & compiled.location_ok[np.maximum(places, 0)]
        if eligible:
            covered &= np.isin(classes, eligible)
        lowest = np.where(covered, np.minimum(lowest, compiled.thresholds_wan[0]), lowest)
    return lowest


def _firms(n: int, one: str = "is", many: str = "are") -> str:
    return f"1 firm {one}" if n == 1 else f"{n} firms {many}"


def _some(ids: pd.Series) -> str:
    shown = [str(i) for i in ids.head(3)]
    return ", ".join(shown) + (", ..." if len(ids) > 3 else "")


def _covered_policies(book: RuleBook, panel: Panel) -> list[str]:
    places = {book.registry.items[i].id for i in np.unique(panel.location_index)}
    return [
        p.policy_id
        for p in book.policies
        if any(book.registry.covers(p.jurisdiction, place) for place in places)
    ]


def summarize(
    book: RuleBook,
    panel: Panel,
    ledger: pd.DataFrame,
    dropped: pd.DataFrame,
    overrides: Mapping[str, str],
    policy_dirs: Sequence[Path],
) -> dict[str, Any]:
    """Totals by payer and year, the readings in force, and every assumption relied on."""
    covered = set(_covered_policies(book, panel))
    # Sums of amounts rounded to 1e-6 万元 (0.01 yuan): 25.799999999999997 is 25.8.
    by_payer = pd.concat([payer_totals(ledger, "obligation"), payer_totals(ledger, "cash")])
    by_payer = by_payer.round(DIGITS)
    by_clause = (
        ledger.groupby("clause_id", as_index=False)
        .agg(awards=("amount_wan", "size"), amount_wan=("amount_wan", "sum"))
        .round(DIGITS)
        .to_dict("records")
    )
    used = set(ledger["clause_id"])
    assumptions = [
        {"clause_id": c.id, **note}
        for c in book.rules
        if c.id in used
        for note in c.rule.assumption_pairs()
    ]
    not_costed = [
        {
            "clause_id": rule.id,
            "kind": rule.amount.kind,
            "title_zh": rule.title_zh,
            "notes": rule.notes,
            "notes_zh": rule.notes_zh or "",
        }
        for policy, rule in book.uncosted
        if policy.policy_id in covered
    ]
    return {
        "fiscalsim_version": __version__,
        "inputs": {
            "panel": portable(panel.path),
            "panel_sha256": sha256(panel.path),
            "panel_rows": len(panel.frame),
            "firms": len(panel.firm_ids),
            "years": panel.years,
            "policy_files": [
                {"path": portable(p), "sha256": sha256(p)} for p in policy_paths(policy_dirs)
            ],
        },
        "units": "万元 (10,000 yuan)",
        "readings": describe([p for p in book.policies if p.policy_id in covered], overrides),
        "totals": {
            "awards": len(ledger),
            "amount_wan": round(float(ledger["amount_wan"].sum()), DIGITS),
            **{
                f"{level}_wan": round(float(ledger[f"{level}_wan"].sum()), DIGITS)
                for level in LEVELS
            },
        },
        "by_payer_and_year": by_payer.to_dict("records"),
        "by_clause": by_clause,
        "dropped": {
            reason: int((dropped["reason"] == reason).sum()) for reason in DROP_REASONS.values()
        },
        "assumptions": assumptions,
        "not_costed": not_costed,
        "timing_note": "obligation = performance year of the results; cash = the budget year the award is paid",
    }
