"""Run the budget process on a simulation's ledger and gather everything it reports.

A run's replicates are processed in blocks, where they were simulated (process_block), and the
compact blocks are joined (join_blocks) before the tables are taken (process_outcome): no
process needs every award of every replicate at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim.jurisdictions import LEVELS
from fiscalsim.process.claims import applications
from fiscalsim.process.des import APPROVED, QUOTA, REJECTED, run_process
from fiscalsim.process.params import ProcessParams
from fiscalsim.process.tables import (
    RISK_LEVELS,
    Waits,
    add_waits,
    budget_at_risk,
    cashflow_cube,
    cashflow_table,
    process_series,
    rejected_table,
    wait_distribution,
    wait_histograms,
    yearly_cubes,
)
from fiscalsim.rules.book import RuleBook
from fiscalsim.series import Series, possible_payers


@dataclass(frozen=True)
class ProcessOutcome:
    series: Series  # cash and arrears rows per budget and year (replicate values)
    cashflow: pd.DataFrame
    rejected: pd.DataFrame
    summary: dict[str, Any]
    years: range


@dataclass(frozen=True)
class ProcessBlock:
    """The process of one block of replicates, kept compact: per-replicate cubes, wait counts
    and the applications turned down, so that blocks run apart (in workers) add up exactly."""

    n_replicates: int
    budgets: list[tuple[int, int]]  # (payer, level index), sorted by level then payer
    cubes: dict[str, np.ndarray]  # (budget, year, replicate): yearly_cubes
    cashflow: np.ndarray  # (budget, month, replicate)
    waits: Waits
    counts: dict[str, float]  # applications by outcome; undecided_at_end_wan: their 万元
    rejected: pd.DataFrame


def process_years(book: RuleBook, first_year: int, horizon: int) -> range:
    """Years the process runs: every cash year, and at least the year after the horizon."""
    lag = int(book.lag_table.max()) if book.lag_table.size else 0
    return range(first_year, horizon + max(lag, 1) + 1)


def process_block(
    book: RuleBook,
    ledger: dict[str, np.ndarray],
    params: ProcessParams,
    seed: int,
    locations: Sequence[int],
    years: range,
    replicates: Sequence[int],
) -> ProcessBlock:
    """Applications, reviews, quotas, appropriations and payments for a block of replicates.

    `ledger` holds the block's awards with their run-wide replicate numbers (the draws are keyed
    by them); every replicate runs on its own, so a block gives what the whole run gives it."""
    first = int(replicates[0]) if len(replicates) else 0
    apps = applications(book, ledger, params, seed, len(replicates), first)
    run = run_process(apps, params, years.stop - 1)
    budgets = sorted(
        {
            *((p, LEVELS.index(level)) for p, level in possible_payers(book, locations)),
            *zip(run.items["payer"].tolist(), run.items["level"].tolist(), strict=True),
        },
        key=lambda item: (item[1], item[0]),
    )
    return ProcessBlock(
        n_replicates=len(replicates),
        budgets=budgets,
        cubes=yearly_cubes(apps, run, budgets, years),
        cashflow=cashflow_cube(apps, run, budgets, years),
        waits=wait_histograms(apps, run, budgets),
        counts={
            "filed": int(apps.n),
            "approved": int((run.status == APPROVED).sum()),
            "not_approved": int((run.status == REJECTED).sum()),
            "beyond_quota": int((run.status == QUOTA).sum()),
            "undecided_at_end": int((run.decided < 0).sum()),
            # approved-to-be and due, but never decided: in no table of the run (a bureau
            # that reviews too few a month), so its amount is said beside its count
            "undecided_at_end_wan": float(apps.share_wan[run.decided < 0].sum()),
        },
        rejected=rejected_table(book, apps, run, ledger["firm_key"], first),
    )


def _aligned(block: ProcessBlock, budgets: list[tuple[int, int]], cube: np.ndarray) -> np.ndarray:
    """`cube` of `block` on the rows of `budgets` (zeros for a budget the block never saw)."""
    rows = {b: i for i, b in enumerate(block.budgets)}
    out = np.zeros((len(budgets), *cube.shape[1:]))
    for i, budget in enumerate(budgets):
        if budget in rows:
            out[i] = cube[rows[budget]]
    return out


def join_blocks(blocks: Sequence[ProcessBlock]) -> ProcessBlock:
    """Blocks of replicates (in replicate order) as one block of all their replicates."""
    if len(blocks) == 1:
        return blocks[0]
    budgets = sorted({b for block in blocks for b in block.budgets}, key=lambda i: (i[1], i[0]))
    names = blocks[0].cubes.keys()
    return ProcessBlock(
        n_replicates=sum(b.n_replicates for b in blocks),
        budgets=budgets,
        cubes={
            name: np.concatenate([_aligned(b, budgets, b.cubes[name]) for b in blocks], axis=2)
            for name in names
        },
        cashflow=np.concatenate([_aligned(b, budgets, b.cashflow) for b in blocks], axis=2),
        waits=add_waits([b.waits for b in blocks]),
        counts={k: sum(b.counts[k] for b in blocks) for k in blocks[0].counts},
        rejected=pd.concat([b.rejected for b in blocks], ignore_index=True),
    )


def process_outcome(
    book: RuleBook, params: ProcessParams, block: ProcessBlock, years: range
) -> ProcessOutcome:
    """The run's process tables and summary from its joined blocks."""
    budgets, cubes = block.budgets, block.cubes
    names = [j.id for j in book.registry.items]
    unpaid_final = cubes["arrears"][:, -1, :] if len(years) else np.zeros((0, 0))
    summary: dict[str, Any] = {
        "years": [years.start, years.stop - 1],
        "parameters": params.sources,
        "appropriation_wan": {
            names[p]: {("all years" if y is None else str(y)): v for y, v in by_year.items()}
            for p, by_year in params.appropriation.items()
        },
        "applications": {
            **{k: round(v, 2) if k.endswith("_wan") else int(v) for k, v in block.counts.items()},
            "note": "counts and 万元 over all replicates",
        },
        "budget_at_risk": {
            "definition": (
                "appropriation that keeps arrears at zero at the end of the year with the given "
                "probability: P90 and P95 over replicates of the arrears carried in plus what "
                "falls due in the year"
            ),
            "levels": list(RISK_LEVELS),
            "rows": budget_at_risk(book, params, budgets, cubes, years),
        },
        "final_arrears_mean_wan": {
            f"{names[p]} ({LEVELS[lv]})": round(
                float(unpaid_final[b].mean()) if unpaid_final.size else 0.0, 2
            )
            for b, (p, lv) in enumerate(budgets)
        },
        "wait_months": wait_distribution(book, budgets, block.waits),
    }
    return ProcessOutcome(
        series=process_series(book, budgets, cubes, years),
        cashflow=cashflow_table(book, budgets, block.cashflow, years),
        rejected=block.rejected,
        summary=summary,
        years=years,
    )


def run_budget_process(
    book: RuleBook,
    ledger: dict[str, np.ndarray],
    params: ProcessParams,
    seed: int,
    locations: Sequence[int],
    first_year: int,
    horizon: int,
    n_replicates: int = 0,
) -> ProcessOutcome:
    """The process for a whole ledger at once (replicates numbered from 0)."""
    years = process_years(book, first_year, horizon)
    if ledger["replicate"].size:
        n_replicates = max(n_replicates, int(ledger["replicate"].max()) + 1)
    block = process_block(book, ledger, params, seed, locations, years, range(n_replicates))
    return process_outcome(book, params, block, years)
