"""The report section of a `butfor` folder: what the money buys, the responses assumed, and how
the answer moves with them. Tables only (the folder's CSV files hold every year)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from fiscalsim.reports.folder import Folder
from fiscalsim.reports.labels import Names, fmt_amount, fmt_count

ALL = "all"
MIN_INDUCED = 1.0  # a cost per induced crossing or firm is shown from one induced on average


def _share(value: Any) -> str:
    """A share in whole percent, with one decimal where whole percent would round a share
    that is not 0 or 1 to 0% or 100% (99.68% read 100%)."""
    number = float(value)
    if not math.isfinite(number):
        return "—"
    whole = f"{number:.0%}"
    return f"{number:.1%}" if whole in ("0%", "100%") and 0 < number < 1 else whole


def _budget(names: Names, texts: dict[str, str], jurisdiction: Any, level: Any) -> str:
    return texts["all_budgets"] if str(jurisdiction) == ALL else names.budget(jurisdiction, level)


def _window(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame["year"].astype(str) == "total") & (frame["basis"] == "cash")]


def _cost(row: Mapping[Any, Any], what: str) -> dict[str, str]:
    """Cost per induced crossing or firm: a dash where fewer than one is induced on average
    (spending over 0.05 induced crossings, one in twenty replicates, read 13,533万 a crossing
    beside a band of 750–750); the ratio of means without a band where some replicates induce
    none (the band of per-replicate ratios counts only the others); else with that band."""
    if not float(row[f"induced_{what}s_mean"]) >= MIN_INDUCED:
        return {f"per_{what}": "—", f"per_{what}_band": "", f"per_{what}_few": "1"}
    value = fmt_amount(row[f"cost_per_induced_{what}_mean_wan"])
    low, high = (row.get(f"cost_per_induced_{what}_{q}_wan") for q in ("p05", "p95"))
    some_none = not float(row.get(f"induced_{what}s_p05", 1.0)) > 0
    if low is None or high is None or some_none:  # the band would count a few replicates only
        return {f"per_{what}": value, f"per_{what}_band": "", f"per_{what}_few": "partial"}
    band = f"{fmt_amount(low)}–{fmt_amount(high)}"
    return {f"per_{what}": value, f"per_{what}_band": band, f"per_{what}_few": ""}


def _assumed(assumed: bool, source: str, names: Names) -> str:
    """The source, marked as an assumption unless it says so itself (it read 【假设】假设。)."""
    if not assumed or source.lower().startswith(("假设", "assumption")):
        return source
    return ("【假设】" if names.lang == "zh" else "[assumption] ") + source


def _response_name(parameter: str, texts: dict[str, str]) -> str:
    """A response parameter (`entry.semi_elasticity`) by its name in the report's language."""
    return texts.get(f"response.{parameter}", parameter)


def _text(row: Mapping[Any, Any], key: str, names: Names) -> str:
    """A column in the report's language: `unit_zh` in a Chinese report where the folder has it
    (folders written before it stay readable), else `unit`."""
    for name in ([f"{key}_zh"] if names.lang == "zh" else []) + [key]:
        value = row.get(name)
        if not (value is None or value == "" or (isinstance(value, float) and math.isnan(value))):
            return str(value)
    return ""


def butfor_section(
    folder: Folder, names: Names, texts: dict[str, str], jurisdiction: str | None
) -> dict[str, Any]:
    """Rows per paying budget (window, cash): spending, windfall share with its band, induced
    crossings and firms, cost per induced crossing and firm; then responses and sensitivity."""
    table = _window(folder.tables["butfor"])
    if jurisdiction is not None:
        table = table[table["jurisdiction"].isin([jurisdiction, ALL])]
    table = table.assign(_all=table["jurisdiction"] == ALL).sort_values(
        ["_all", "spending_mean_wan"], ascending=[True, False]
    )
    rows = [
        {
            "budget": _budget(names, texts, r["jurisdiction"], r["payer_level"]),
            "spending": fmt_amount(r["spending_mean_wan"]),
            "windfall": _share(r["windfall_share_mean"]),
            "windfall_band": f"{_share(r['windfall_share_p05'])}–{_share(r['windfall_share_p95'])}",
            "crossings": fmt_count(r["induced_crossings_mean"]),
            "crossings_band": f"{fmt_count(r['induced_crossings_p05'])}–"
            f"{fmt_count(r['induced_crossings_p95'])}",
            "firms": fmt_count(r["induced_firms_mean"]),
            "firms_band": f"{fmt_count(r['induced_firms_p05'])}–{fmt_count(r['induced_firms_p95'])}",
            **_cost(r, "crossing"),
            **_cost(r, "firm"),
        }
        for r in table.to_dict("records")
    ]
    elasticities = folder.table("elasticities")
    assumed = [
        {
            "name": _response_name(f"{r['response']}.{r['parameter']}", texts),
            "value": f"{float(r['value']):g}",
            "unit": _text(r, "unit", names),
            "source": _assumed(str(r["assumption"]) == "yes", _text(r, "source", names), names),
        }
        for r in (elasticities.to_dict("records") if elasticities is not None else [])
    ]
    grid = folder.table("sensitivity")
    sensitivity = []
    if grid is not None and not grid.empty:
        for r in grid[grid["jurisdiction"] == ALL].to_dict("records"):
            sensitivity.append(
                {
                    "point": f"{_response_name(str(r['param']), texts)} = {float(r['value']):g}",
                    "windfall": _share(r["windfall_share_mean"]),
                    "crossings": fmt_count(r["induced_crossings_mean"]),
                    "firms": fmt_count(r["induced_firms_mean"]),
                    "per_crossing": _cost(r, "crossing")["per_crossing"],
                }
            )
    return {
        "rows": rows,
        "too_few": any("1" in (r["per_crossing_few"], r["per_firm_few"]) for r in rows),
        "partial": any("partial" in (r["per_crossing_few"], r["per_firm_few"]) for r in rows),
        "responses_from": str(folder.summary.get("responses_from", "")),
        "assumed": assumed,
        "sensitivity": sensitivity,
    }
