"""The report's budget-process section: the appropriation that keeps arrears at zero (P90/P95)
per paying budget and year, and the wait from qualifying to payment, from summary.json."""

from __future__ import annotations

from typing import Any

from fiscalsim.reports.labels import Names, fmt_amount


def _months(value: Any) -> str:
    """Months to two decimals at most: 7.449999999999999 reads 7.45."""
    return f"{round(float(value), 2):g}"


def _wait(waits: dict[str, Any], jurisdiction: str | None) -> dict[str, Any]:
    """The wait from qualifying to payment: every budget's in a whole report; in one
    jurisdiction's, its own budget's (it showed every budget's as if it were its own), and
    none when its budget pays no share or it has several budgets (say, a city's and its
    county-level districts')."""
    if jurisdiction is None:
        found: dict[str, Any] = waits.get("all", {})
        return found
    own = [b for b in waits.get("by_budget", []) if b.get("jurisdiction") == jurisdiction]
    return own[0] if len(own) == 1 else {}


def budget_risk_section(
    summary: dict[str, Any], names: Names, texts: dict[str, str], jurisdiction: str | None
) -> dict[str, Any] | None:
    """Rows of P90 / P95 by budget year for every budget that ever needs money; None without
    the budget process."""
    process = summary.get("budget_process")
    if not isinstance(process, dict):
        return None
    rows = [
        r
        for r in process.get("budget_at_risk", {}).get("rows", [])
        if jurisdiction is None or r.get("jurisdiction") == jurisdiction
    ]
    needed = [r for r in rows if float(r.get("need_mean_wan") or 0) > 0]
    years = sorted({int(r["year"]) for r in needed})
    if not years:
        return None
    table: dict[tuple[str, str], dict[int, dict[str, Any]]] = {}
    for r in rows:
        key = (str(r["jurisdiction"]), str(r["payer_level"]))
        if any(n["jurisdiction"] == key[0] and n["payer_level"] == key[1] for n in needed):
            table.setdefault(key, {})[int(r["year"])] = r
    out_rows = []
    for (place, level), by_year in table.items():
        cells = []
        for year in years:
            r = by_year.get(year)
            cells.append(
                {
                    "risk": f"{fmt_amount(r['p90_wan'])} / {fmt_amount(r['p95_wan'])}" if r else "",
                    "limit": fmt_amount(r["appropriation_wan"])
                    if r and r.get("appropriation_wan") is not None
                    else "",
                }
            )
        out_rows.append({"budget": names.budget(place, level), "cells": cells})
    wait = _wait(process.get("wait_months", {}), jurisdiction)
    wait_line = ""
    if "mean_months" in wait:
        wait_line = texts["wait_line"].format(  # per-budget figures are not rounded in summary
            mean=_months(wait["mean_months"]),
            p50=_months(wait["p50_months"]),
            p95=_months(wait["p95_months"]),
            within=f"{100 * float(wait['within_12_months']):.1f}%",
            unpaid=f"{100 * float(wait['unpaid_share']):.1f}%",
        )
    return {"years": years, "rows": out_rows, "wait": wait_line}
