"""What the budget process reports: cash and arrears by year, cash by month, the budget at risk,
the wait from qualifying to payment, and the applications turned down.

Arrears at the end of a year are approved shares that fell due (decision month + delay, and the
clause's payment year reached) and were not paid by December. The budget at risk of a year is
what must be appropriated for arrears to be zero at its end: the arrears carried in plus what
falls due in the year, at its 90th and 95th percentile over replicates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim.arrays import scatter_add
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.ledger import payer_columns
from fiscalsim.process.claims import Applications
from fiscalsim.process.des import APPROVED, STATUS, ProcessRun
from fiscalsim.process.params import ProcessParams
from fiscalsim.rules.book import RuleBook
from fiscalsim.series import Series, statistics

RISK_LEVELS = (90, 95)


def _budgets(run: ProcessRun, candidates: Sequence[tuple[int, str]]) -> list[tuple[int, int]]:
    """(payer, level index) of every budget in `candidates` plus any the process charged."""
    found = {(p, LEVELS.index(level)) for p, level in candidates}
    found |= set(zip(run.items["payer"].tolist(), run.items["level"].tolist(), strict=True))
    return sorted(found, key=lambda item: (item[1], item[0]))


def yearly_cubes(
    apps: Applications, run: ProcessRun, budgets: list[tuple[int, int]], years: range
) -> dict[str, np.ndarray]:
    """Per budget, year and replicate: cash paid, payments made, shares falling due, arrears."""
    n_reps = apps.replicates
    slot = {b: i for i, b in enumerate(budgets)}
    shape = (len(budgets), len(years), n_reps)
    cubes = {name: np.zeros(shape) for name in ("cash", "payments", "due", "due_awards")}
    for source, month_key, names in (
        (run.payments, "month", ("cash", "payments")),
        (run.items, "due", ("due", "due_awards")),
    ):
        if source["row"].size == 0:
            continue
        where_budget = slot_of(slot, source["payer"], source["level"])
        # a share falling due after the last year counts as arrears at its end
        year = np.clip(source[month_key] // 12 - years.start, 0, len(years) - 1)
        where = (where_budget, year, apps.replicate[source["row"]])
        scatter_add(cubes[names[0]], where, source["amount_wan"])
        scatter_add(cubes[names[1]], where, 1.0)
    cubes["arrears"] = np.cumsum(cubes["due"] - cubes["cash"], axis=1)
    cubes["arrears_awards"] = _open_shares(apps, run, slot, shape, years)
    cubes["arrears"][np.abs(cubes["arrears"]) < 1e-6] = 0.0
    carried = np.concatenate([np.zeros((*shape[:1], 1, n_reps)), cubes["arrears"][:, :-1]], axis=1)
    cubes["need"] = carried + cubes["due"]
    return cubes


def slot_of(slot: dict[tuple[int, int], int], payer: np.ndarray, level: np.ndarray) -> np.ndarray:
    """The position in `slot` of each (payer, level) pair, by one array look-up."""
    if payer.size == 0:
        return np.zeros(0, dtype=np.int64)
    table = np.full((int(payer.max()) + 1, len(LEVELS)), -1, dtype=np.int64)
    for (place, lv), position in slot.items():
        if place < table.shape[0]:
            table[place, lv] = position
    return table[payer, level]


def _open_shares(
    apps: Applications,
    run: ProcessRun,
    slot: dict[tuple[int, int], int],
    shape: tuple[int, int, int],
    years: range,
) -> np.ndarray:
    """Per budget, year and replicate: approved shares due and not paid in full by December."""
    counts = np.zeros(shape)
    items = run.items
    if items["row"].size == 0:
        return counts
    settled = settled_month(run)
    settled_year = np.where(settled >= 0, settled // 12, years.stop)
    due_year = np.minimum(items["due"] // 12, years.stop - 1)
    where_budget = slot_of(slot, items["payer"], items["level"])
    reps = apps.replicate[items["row"]]
    for y, year in enumerate(years):
        open_ = (due_year <= year) & (settled_year > year)
        scatter_add(counts[:, y, :], (where_budget[open_], reps[open_]), 1.0)
    return counts


def process_series(
    book: RuleBook, budgets: list[tuple[int, int]], cubes: dict[str, np.ndarray], years: range
) -> Series:
    """Rows `cash` and `arrears` per budget and year, laid out like series.payer_series."""
    names = [j.id for j in book.registry.items]
    keys: list[dict[str, object]] = []
    amounts: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for b, (place, level) in enumerate(budgets):
        for basis, amount, count in (
            ("cash", cubes["cash"], cubes["payments"]),
            ("arrears", cubes["arrears"], cubes["arrears_awards"]),
        ):
            for y, year in enumerate(years):
                keys.append(
                    {"jurisdiction": names[place], "payer_level": LEVELS[level], "year": year}
                    | {"basis": basis}
                )
                amounts.append(amount[b, y])
                counts.append(count[b, y])
    return Series(pd.DataFrame(keys), np.array(amounts), np.array(counts))


def budget_at_risk(
    book: RuleBook,
    params: ProcessParams,
    budgets: list[tuple[int, int]],
    cubes: dict[str, np.ndarray],
    years: range,
) -> list[dict[str, Any]]:
    """Per budget and year: the appropriation keeping arrears at zero with 90% and 95% probability."""
    names = [j.id for j in book.registry.items]
    rows: list[dict[str, Any]] = []
    for b, (place, level) in enumerate(budgets):
        for y, year in enumerate(years):
            need = cubes["need"][b, y]
            if need.size == 0:
                continue
            q = np.percentile(need, RISK_LEVELS)
            limit = params.appropriation_of(place, year)
            rows.append(
                {
                    "jurisdiction": names[place],
                    "payer_level": LEVELS[level],
                    "year": year,
                    "appropriation_wan": None if np.isinf(limit) else round(float(limit), 2),
                    "need_mean_wan": round(float(need.mean()), 2),
                    # rounded up, not to the nearest: an appropriation of the figure must
                    # cover the replicate the percentile lands on (rounded down it left that
                    # replicate 0.004万 in arrears, one replicate short of the probability)
                    "p90_wan": _cent_up(float(q[0])),
                    "p95_wan": _cent_up(float(q[1])),
                    "probability_no_arrears": round(float((cubes["arrears"][b, y] <= 0).mean()), 4),
                }
            )
    return rows


def cashflow_cube(
    apps: Applications, run: ProcessRun, budgets: list[tuple[int, int]], years: range
) -> np.ndarray:
    """Cash paid per budget, month of `years` and replicate (万元)."""
    slot = {b: i for i, b in enumerate(budgets)}
    months = len(years) * 12
    cube = np.zeros((len(budgets), months, apps.replicates))
    pay = run.payments
    if pay["row"].size:
        where_budget = slot_of(slot, pay["payer"], pay["level"])
        month = pay["month"] - years.start * 12
        inside = (month >= 0) & (month < months)
        scatter_add(
            cube,
            (where_budget[inside], month[inside], apps.replicate[pay["row"]][inside]),
            pay["amount_wan"][inside],
        )
    return cube


def cashflow_table(
    book: RuleBook, budgets: list[tuple[int, int]], cube: np.ndarray, years: range
) -> pd.DataFrame:
    """Cash by month per paying budget: mean and P5/P50/P95 over replicates (万元)."""
    names = [j.id for j in book.registry.items]
    frames = []
    for b, (place, level) in enumerate(budgets):
        frame = pd.DataFrame(
            {
                "jurisdiction": names[place],
                "payer_level": LEVELS[level],
                "year": np.repeat(np.array(years), 12),
                "month": np.tile(np.arange(1, 13), len(years)),
            }
        )
        for key, values in statistics(cube[b], quantiles=(5, 50, 95)).items():
            frame[f"{key}_wan"] = values
        frames.append(frame)
    columns = ["jurisdiction", "payer_level", "year", "month", "mean_wan"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def settled_month(run: ProcessRun) -> np.ndarray:
    """Per approved share (run.items order): the month its last payment made it whole, or -1."""
    items, pay = run.items, run.payments
    settled = np.full(items["row"].size, -1, dtype=np.int64)
    if pay["row"].size == 0:
        return settled
    key_items = items["row"] * 4 + items["level"]
    key_paid = pay["row"] * 4 + pay["level"]
    order = np.argsort(key_paid, kind="stable")
    unique, first = np.unique(key_paid[order], return_index=True)
    totals = np.add.reduceat(pay["amount_wan"][order], first)
    lasts = np.maximum.reduceat(pay["month"][order], first)
    position = np.minimum(np.searchsorted(unique, key_items), unique.size - 1)
    hit = unique[position] == key_items
    whole = hit & (totals[position] >= items["amount_wan"] - 1e-6)
    settled[whole] = lasts[position[whole]]
    return settled


# Waits per budget: the months waited by shares paid in full (values and counts), and the number
# of shares not paid in full. Kept as counts so that blocks of replicates add up exactly.
Waits = dict[tuple[int, int], tuple[np.ndarray, np.ndarray, int]]


def wait_histograms(apps: Applications, run: ProcessRun, budgets: list[tuple[int, int]]) -> Waits:
    """Months from the end of the performance year to the last payment of each approved share,
    counted per budget. A share paid in January of the next year waited 1 month."""
    items = run.items
    settled = settled_month(run)
    full = settled >= 0
    months = np.full(settled.size, -1, dtype=np.int64)
    months[full] = settled[full] - (apps.performance_year[items["row"][full]] + 1) * 12 + 1
    found: Waits = {}
    for place, level in budgets:
        mine = (items["payer"] == place) & (items["level"] == level)
        values, counts = np.unique(months[mine & full], return_counts=True)
        found[(place, level)] = (values, counts, int((mine & ~full).sum()))
    return found


def add_waits(parts: Sequence[Waits]) -> Waits:
    """The histograms of several blocks of replicates as one."""
    total: dict[tuple[int, int], dict[int, int]] = {}
    unpaid: dict[tuple[int, int], int] = {}
    for part in parts:
        for budget, (values, counts, open_) in part.items():
            into = total.setdefault(budget, {})
            for value, count in zip(values.tolist(), counts.tolist(), strict=True):
                into[value] = into.get(value, 0) + count
            unpaid[budget] = unpaid.get(budget, 0) + open_
    return {
        b: (
            np.array(sorted(h), dtype=np.int64),
            np.array([h[v] for v in sorted(h)], dtype=np.int64),
            unpaid[b],
        )
        for b, h in total.items()
    }


def wait_distribution(
    book: RuleBook, budgets: list[tuple[int, int]], waits: Waits
) -> dict[str, Any]:
    """The waits of `wait_histograms`, described for all budgets and for each.

    Shares not paid in full by the end of the process are counted as unpaid, not given a wait.
    """
    names = [j.id for j in book.registry.items]

    def describe(values: np.ndarray, counts: np.ndarray, unpaid: int) -> dict[str, Any]:
        wait = np.repeat(values, counts)
        total = wait.size + unpaid
        if wait.size == 0:
            return {"shares": total, "unpaid_share": 1.0 if total else 0.0}
        q = np.percentile(wait, (5, 50, 95))
        return {
            "shares": total,
            "mean_months": round(float(wait.mean()), 2),
            "p05_months": float(q[0]),
            "p50_months": float(q[1]),
            "p95_months": float(q[2]),
            "max_months": int(wait.max()),
            "within_12_months": round(float((wait <= 12).sum() / total), 4),
            "unpaid_share": round(unpaid / total, 4),
            "histogram_months": {
                str(int(m)): int(c) for m, c in zip(values, counts, strict=True) if c
            },
        }

    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0)
    every = add_waits([{(0, 0): waits.get(b, empty)} for b in budgets])
    result: dict[str, Any] = {"all": describe(*every.get((0, 0), empty))}
    result["by_budget"] = [
        {"jurisdiction": names[place], "payer_level": LEVELS[level]}
        | describe(*waits.get((place, level), empty))
        for place, level in budgets
    ]
    return result


def rejected_table(
    book: RuleBook,
    apps: Applications,
    run: ProcessRun,
    firm_key: np.ndarray,
    first_replicate: int = 0,
) -> pd.DataFrame:
    """Applications turned down (not approved, or beyond a quota), in order of filing."""
    rows = np.flatnonzero((run.status != APPROVED) & (run.decided >= 0))
    rows = rows[np.lexsort((apps.filed[rows], apps.replicate[rows]))]
    filed = apps.filed[rows]
    ids = np.array([c.id for c in book.rules] or [""], dtype=object)
    places = np.array([j.id for j in book.registry.items] + [""], dtype=object)  # -1: none
    return pd.DataFrame(
        {
            "replicate": apps.replicate[rows] + first_replicate,
            "firm_id": [f"f{k}" for k in firm_key[rows]],
            "clause_id": ids[apps.rule[rows]],
            "performance_year": apps.performance_year[rows],
            "filed_year": (filed // 12).astype(np.int64),
            "filed_month": (np.floor(filed) % 12 + 1).astype(np.int64),
            "filing_order": filed,
            "decided_year": run.decided[rows] // 12,
            "decided_month": run.decided[rows] % 12 + 1,
            "amount_wan": apps.share_wan[rows].sum(axis=1),
            # each level's share and payer, as in the ledger: a bureau finds its own
            **payer_columns(apps.share_wan[rows], apps.payer[rows], places),
            "reason": [STATUS[int(s)] for s in run.status[rows]],
        }
    )


def _cent_up(wan: float) -> float:
    """万元 rounded up to 0.01 (a float a hair above a whole cent stays on that cent)."""
    return math.ceil(round(wan * 100, 6)) / 100
