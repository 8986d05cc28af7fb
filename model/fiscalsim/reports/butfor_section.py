"""The report section of a `butfor` folder: what the money buys, the responses assumed, and how
the answer moves with them. Tables only (the folder's CSV files hold every year)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from fiscalsim.reports.folder import Folder
from fiscalsim.reports.labels import Names, fmt_amount, fmt_count

ALL = "all"


def _share(value: Any) -> str:
    number = float(value)
    return "—" if not math.isfinite(number) else f"{number:.0%}"


def _budget(names: Names, texts: dict[str, str], jurisdiction: Any, level: Any) -> str:
    return texts["all_budgets"] if str(jurisdiction) == ALL else names.budget(jurisdiction, level)


def _window(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame["year"].astype(str) == "total") & (frame["basis"] == "cash")]


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
            "per_crossing": fmt_amount(r["cost_per_induced_crossing_mean_wan"]),
            "per_firm": fmt_amount(r["cost_per_induced_firm_mean_wan"]),
        }
        for r in table.to_dict("records")
    ]
    elasticities = folder.table("elasticities")
    assumed = [
        {
            "name": f"{r['response']}.{r['parameter']}",
            "value": f"{float(r['value']):g}",
            "unit": str(r["unit"]),
            "source": ("【假设】" if names.lang == "zh" else "[assumption] ")
            * (str(r["assumption"]) == "yes")
            + str(r["source"]),
        }
        for r in (elasticities.to_dict("records") if elasticities is not None else [])
    ]
    grid = folder.table("sensitivity")
    sensitivity = []
    if grid is not None and not grid.empty:
        for r in grid[grid["jurisdiction"] == ALL].to_dict("records"):
            sensitivity.append(
                {
                    "point": f"{r['param']} = {float(r['value']):g}",
                    "windfall": _share(r["windfall_share_mean"]),
                    "crossings": fmt_count(r["induced_crossings_mean"]),
                    "firms": fmt_count(r["induced_firms_mean"]),
                    "per_crossing": fmt_amount(r["cost_per_induced_crossing_mean_wan"]),
                }
            )
    return {
        "rows": rows,
        "responses_from": str(folder.summary.get("responses_from", "")),
        "assumed": assumed,
        "sensitivity": sensitivity,
    }
