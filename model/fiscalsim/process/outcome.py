"""Run the budget process on a simulation's ledger and gather everything it reports."""

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
    budget_at_risk,
    cashflow_table,
    process_series,
    rejected_table,
    wait_distribution,
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


def process_years(book: RuleBook, first_year: int, horizon: int) -> range:
    """Years the process runs: every cash year, and at least the year after the horizon."""
    lag = int(book.lag_table.max()) if book.lag_table.size else 0
    return range(first_year, horizon + max(lag, 1) + 1)


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
    """Applications, reviews, quotas, appropriations and payments for every replicate."""
    years = process_years(book, first_year, horizon)
    apps = applications(book, ledger, params, seed, n_replicates)
    run = run_process(apps, params, years.stop - 1)
    budgets = [
        (p, lv)
        for p, lv in sorted(
            {
                *((p, LEVELS.index(level)) for p, level in possible_payers(book, locations)),
                *zip(run.items["payer"].tolist(), run.items["level"].tolist(), strict=True),
            },
            key=lambda item: (item[1], item[0]),
        )
    ]
    cubes = yearly_cubes(apps, run, budgets, years)
    names = [j.id for j in book.registry.items]
    approved = run.status == APPROVED
    unpaid_final = cubes["arrears"][:, -1, :] if len(years) else np.zeros((0, 0))
    summary: dict[str, Any] = {
        "years": [years.start, years.stop - 1],
        "parameters": params.sources,
        "appropriation_wan": {
            names[p]: {("all years" if y is None else str(y)): v for y, v in by_year.items()}
            for p, by_year in params.appropriation.items()
        },
        "applications": {
            "filed": int(apps.n),
            "approved": int(approved.sum()),
            "not_approved": int((run.status == REJECTED).sum()),
            "beyond_quota": int((run.status == QUOTA).sum()),
            "undecided_at_end": int((run.decided < 0).sum()),
            "note": "counts over all replicates",
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
        "wait_months": wait_distribution(book, apps, run, budgets),
    }
    return ProcessOutcome(
        series=process_series(book, budgets, cubes, years),
        cashflow=cashflow_table(book, apps, run, budgets, years),
        rejected=rejected_table(book, apps, run, ledger["firm_key"]),
        summary=summary,
        years=years,
    )
