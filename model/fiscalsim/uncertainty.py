"""Where a budget's spread comes from: the start population, or the shocks and events after it.

Replicates are run in a nested design: K start populations, each followed by M replicates of
the dynamics (growth shocks, exits, entry, events) drawn independently
(`population.replicates_per_start` = M; replicate r starts from population r // M). A one-way
random-effects analysis of variance over the replicates' totals then splits the variance:

    MSW = sum_g sum_i (x_gi - mean_g)^2 / (K (M - 1))     estimates var(dynamics)
    MSB = M sum_g (mean_g - mean)^2 / (K - 1)             estimates M var(start) + var(dynamics)
    var(start) = max(0, (MSB - MSW) / M)

The shares are of var(start) + var(dynamics). With M = 1 the split is not identified and the
shares are reported as null. Incomplete groups (replicates beyond a multiple of M) are left
out of the split, never out of the run's other results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fiscalsim.arrays import scatter_add
from fiscalsim.jurisdictions import LEVELS, Registry


def split_variance(values: np.ndarray, per_start: int) -> dict[str, float | None]:
    """Variance of `values` (one per replicate, in replicate order) split by start population."""
    groups = len(values) // per_start if per_start > 1 else 0
    if groups < 2:
        return {"start_population_share": None, "dynamics_share": None, "variance": None}
    table = np.asarray(values[: groups * per_start], dtype=np.float64).reshape(groups, per_start)
    means = table.mean(axis=1)
    within = float(((table - means[:, None]) ** 2).sum() / (groups * (per_start - 1)))
    between = float(per_start * ((means - means.mean()) ** 2).sum() / (groups - 1))
    start = max(0.0, (between - within) / per_start)
    total = start + within
    if total == 0:
        return {"start_population_share": 0.0, "dynamics_share": 0.0, "variance": 0.0}
    return {
        "start_population_share": start / total,
        "dynamics_share": within / total,
        "variance": total,
    }


def cash_by_payer(
    ledger: dict[str, np.ndarray],
    registry: Registry,
    n_replicates: int,
    years: range,
) -> np.ndarray:
    """Cash paid in the cash years (series.year_axis: the projection's years and those its
    payment lags reach, as spending.csv has them; it stopped at the horizon, so a window
    running to the horizon lost its last year's cash), per replicate and paying budget
    (registry index)."""
    cash = np.zeros((n_replicates, len(registry.items)))
    within = (ledger["payment_year"] >= years.start) & (ledger["payment_year"] < years.stop)
    for level in LEVELS:
        paid = within & (ledger[f"{level}_wan"] > 0)
        where = (ledger["replicate"][paid], ledger[f"{level}_payer"][paid])
        scatter_add(cash, where, ledger[f"{level}_wan"][paid])
    return cash


def budget_spread(
    cash: np.ndarray, registry: Registry, years: range, per_start: int
) -> dict[str, Any]:
    """For each paying budget, and all together: cash paid over the years (cash_by_payer), its
    spread, and the shares of its variance from the start population and from the dynamics."""
    rows: list[dict[str, Any]] = []
    columns = [(j.id, cash[:, i]) for i, j in enumerate(registry.items) if cash[:, i].any()]
    for name, values in [("all budgets", cash.sum(axis=1)), *columns]:
        rows.append(
            {
                "jurisdiction": name,
                "cash_total_mean_wan": float(values.mean()),
                "cash_total_sd_wan": float(values.std(ddof=1)) if values.size > 1 else 0.0,
                # the window total's range over replicates (spending.csv has yearly ranges only)
                "cash_total_p05_wan": round(float(np.percentile(values, 5)), 6),
                "cash_total_p95_wan": round(float(np.percentile(values, 95)), 6),
                **split_variance(values, per_start),
            }
        )
    return {
        "years": [years.start, years.stop - 1],
        "basis": (
            "cash due by payment year (obligation and lag; the budget process's reviews and "
            "appropriations not applied), summed over the years; variance over replicates"
        ),
        "replicates_per_start_population": per_start,
        "method": (
            "nested design: replicate r starts from population r // M; one-way random-effects "
            "ANOVA, var(start) = (MSB - MSW) / M, var(dynamics) = MSW"
        ),
        "budgets": rows,
    }
