"""Sections of a run report: headline table, fan charts and clauses (assumptions: assumptions.py).

Each function turns a table of the output folder into plain rows of strings for the template;
amounts are rounded here (one unit per table, 万元 or 亿元) so the template only lays them out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from fiscalsim.reports.figures import Panel, Series, grid, make_figures
from fiscalsim.reports.labels import (
    LEVELS_TEXT,
    Lang,
    Names,
    amount_unit,
    fmt_amount,
    fmt_band,
    fmt_count,
)

LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}
TOP_CLAUSES = 15


def _numeric_years(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["year"].map(lambda v: isinstance(v, int))]


def records_by(frame: pd.DataFrame, keys: list[str]) -> dict[tuple[str, ...], dict[str, Any]]:
    """Rows as dicts keyed by the string values of `keys` (no tuple `.loc` look-ups)."""
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in record.items()} for record in frame.to_dict("records")
    ]
    return {tuple(str(record[k]) for k in keys): record for record in records}


def select_jurisdiction(frame: pd.DataFrame, jurisdiction: str | None) -> pd.DataFrame:
    if jurisdiction is None or "jurisdiction" not in frame.columns:
        return frame
    return frame[frame["jurisdiction"] == jurisdiction]


def budget_order(frame: pd.DataFrame, value: str = "mean_wan") -> list[tuple[str, str]]:
    """Paying budgets that spend anything: province, city, county, largest first in each."""
    totals = frame.groupby(["jurisdiction", "payer_level"], sort=False)[value].sum()
    spent = {(str(k[0]), str(k[1])): float(v) for k, v in totals.items() if v != 0}  # type: ignore[index]
    return sorted(spent, key=lambda k: (LEVEL_ORDER.get(k[1], 3), -spent[k]))


def cash_rows(spending: pd.DataFrame) -> pd.DataFrame:
    rows = _numeric_years(spending)
    return rows[rows["basis"] == "cash"] if "basis" in rows.columns else rows


def _active_years(rows: pd.DataFrame) -> list[int]:
    spent = rows.groupby("year")["mean_wan"].apply(lambda s: (s.abs() > 0).any())
    years = [int(str(y)) for y, any_spent in spent.items() if any_spent]
    return list(range(min(years), max(years) + 1)) if years else []


def readings_totals(readings: pd.DataFrame | None) -> dict[tuple[str, str], tuple[float, float]]:
    """Lowest and highest window total (cash) per budget across the reading combinations."""
    if readings is None or readings.empty:
        return {}
    known = {"jurisdiction", "payer_level", "year", "basis", "mean_wan"}
    combination = [c for c in readings.columns if c not in known]  # one column per reading
    if not combination:
        return {}
    cash = readings[readings["basis"] == "cash"] if "basis" in readings.columns else readings
    written = cash[cash["year"].astype(str) == "total"]
    rows = written if not written.empty else cash_rows(readings)
    keys = [*combination, "jurisdiction", "payer_level"]
    totals = rows.fillna({c: "" for c in combination}).groupby(keys)["mean_wan"].sum()
    spans = totals.groupby(level=["jurisdiction", "payer_level"]).agg(["min", "max"])
    return {
        (str(k[0]), str(k[1])): (float(v["min"]), float(v["max"]))  # type: ignore[index]
        for k, v in spans.iterrows()
    }


def _arrears_row(
    owing: pd.DataFrame,
    jurisdiction: str,
    level: str,
    years: list[int],
    unit_div: float,
    names: Names,
    texts: dict[str, str],
) -> dict[str, Any] | None:
    """A budget's arrears at each year's end, under its cash row, where an appropriation left
    any (`owing`: the arrears rows of spending.csv): the cash row of a capped budget is what it
    paid, not what it owed (Rongjiang at 300 a year showed 300 every year and never the 948万
    unpaid at the end)."""
    own = owing[(owing["jurisdiction"] == jurisdiction) & (owing["payer_level"] == level)]
    if not (own["mean_wan"] > 0).any():
        return None
    by_year = records_by(own, ["year"])
    cells = []
    for year in years:
        r = by_year.get((str(year),))
        cells.append(
            {"mean": "—", "band": "", "readings": ""}
            if r is None
            else {
                "mean": fmt_amount(r["mean_wan"], unit_div),
                "band": fmt_band(r["p05_wan"], r["p95_wan"], unit_div),
                "readings": "",
            }
        )
    label = texts["arrears_row"].format(budget=names.budget(jurisdiction, level))
    return {
        "budget": label,
        "cells": cells,
        "total": "—",
        "total_band": "",
        "readings_total": "",
        "arrears": True,
    }


def _total_band(
    spreads: dict[str, dict[str, Any]], jurisdiction: str, total: float, unit_div: float
) -> str:
    """The window total's P5–P95 from summary.json's `uncertainty` (cash as it falls due), shown
    only where that total is the row's (within 0.5%: a budget whose payments the process held
    back or capped has its own total, and no band)."""
    spread = spreads.get(jurisdiction)
    if not spread or "cash_total_p05_wan" not in spread:
        return ""
    mean = float(spread.get("cash_total_mean_wan", float("nan")))
    if not abs(mean - total) <= 0.005 * abs(total) + 0.05:
        return ""
    return fmt_band(spread["cash_total_p05_wan"], spread["cash_total_p95_wan"], unit_div)


def headline(
    spending: pd.DataFrame,
    names: Names,
    texts: dict[str, str],
    readings: pd.DataFrame | None = None,
    spreads: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What each paying budget must set aside by year: mean over P5–P95, readings band."""
    rows = cash_rows(spending)
    numeric = _numeric_years(spending)
    owing = numeric[numeric["basis"] == "arrears"] if "basis" in numeric.columns else numeric[:0]
    budgets = budget_order(rows)
    # a budget that paid nothing but owes (an appropriation of 0) is listed too: it showed as
    # a budget without spending, its arrears nowhere
    budgets += [b for b in budget_order(owing) if b not in budgets]
    years = _active_years(pd.concat([rows, owing]))
    unit_div, unit = amount_unit(list(rows["mean_wan"]) + list(rows["p95_wan"]), names.lang)
    band_column = "readings_low_wan" in rows.columns and "readings_high_wan" in rows.columns
    spans = readings_totals(readings)
    table: list[dict[str, Any]] = []
    for jurisdiction, level in budgets:
        own = rows[(rows["jurisdiction"] == jurisdiction) & (rows["payer_level"] == level)]
        by_year = records_by(own, ["year"])
        cells = []
        for year in years:
            if (str(year),) not in by_year:
                cells.append({"mean": "—", "band": "", "readings": ""})
                continue
            r = by_year[(str(year),)]
            if r["p05_wan"] == 0 and r["p95_wan"] == 0 and r["mean_wan"] == 0:
                cells.append({"mean": "0", "band": "", "readings": ""})
                continue
            cells.append(
                {
                    "mean": fmt_amount(r["mean_wan"], unit_div),
                    "band": fmt_band(r["p05_wan"], r["p95_wan"], unit_div),
                    "readings": fmt_band(r["readings_low_wan"], r["readings_high_wan"], unit_div)
                    if band_column and pd.notna(r["readings_low_wan"])  # none: capped cash
                    else "",
                }
            )
        span = spans.get((jurisdiction, level))
        if band_column and own["readings_low_wan"].isna().all():
            span = None  # its cash is capped by an appropriation: run.with_band
        total = float(own["mean_wan"].sum())
        arrears = _arrears_row(owing, jurisdiction, level, years, unit_div, names, texts)
        table.append(
            {
                "budget": names.budget(jurisdiction, level),
                "cells": cells,
                "total": fmt_amount(total, unit_div),
                # the range is of cash as it falls due: none beside what a capped budget paid
                "total_band": ""
                if arrears is not None
                else _total_band(spreads or {}, jurisdiction, total, unit_div),
                "readings_total": fmt_band(span[0], span[1], unit_div) if span else "",
            }
        )
        if arrears is not None:
            table.append(arrears)
    all_budgets = rows.groupby(["jurisdiction", "payer_level"], sort=False).size().index
    idle = [names.budget(j, lvl) for j, lvl in all_budgets if (j, lvl) not in budgets]
    return {
        "unit": unit,
        "years": years,
        "rows": table,
        "has_arrears": any(r.get("arrears") for r in table),
        "idle": idle,
        # the legend only where a band is shown (a capped budget's cash has none)
        "has_readings": any(c["readings"] for r in table for c in r["cells"]),
        "has_readings_total": any(r["readings_total"] for r in table),
    }


def fan_figures(spending: pd.DataFrame, names: Names, texts: dict[str, str]) -> list[str]:
    """Small multiples, province then city then county budgets, each on its own axis."""
    panels, heading, unit, labels = fan_panels(spending, names, texts)
    size = (4.0, 2.2) if len(panels) <= 2 else (2.9, 2.15)  # one bureau's report: larger
    return grid(panels, heading, unit, labels, panel_size=size) if panels else []


def fan_charts(
    spending: pd.DataFrame, lang: Lang = "zh", jurisdiction: str | None = None
) -> list[Figure]:
    """The report's fan charts as matplotlib figures (for notebooks): one panel per budget."""
    from fiscalsim.reports.texts import TEXTS

    names = Names(lang)
    panels, heading, unit, labels = fan_panels(
        select_jurisdiction(spending, jurisdiction), names, TEXTS[lang]
    )
    return make_figures(panels, heading, unit, labels)


def fan_panels(
    spending: pd.DataFrame, names: Names, texts: dict[str, str]
) -> tuple[list[Panel], str, str, dict[str, str]]:
    rows = cash_rows(spending)
    years = _active_years(rows)
    rows = rows[rows["year"].isin(years)]
    quartiles = "p25_wan" in rows.columns and "p75_wan" in rows.columns
    labels = {"outer": texts["outer"], "inner": texts["inner"], "mean": texts["mean"]}
    unit_div, unit = amount_unit(list(rows["p95_wan"]), names.lang)
    panels = []
    for jurisdiction, level in budget_order(rows):
        own = rows[(rows["jurisdiction"] == jurisdiction) & (rows["payer_level"] == level)]
        own = own.sort_values("year")
        scaled = own[[c for c in own.columns if c.endswith("_wan")]] / unit_div
        series = Series(
            label=texts["median"],
            x=list(own["year"]),
            mid=list(scaled["p50_wan"]),
            low=list(scaled["p05_wan"]),
            high=list(scaled["p95_wan"]),
            inner_low=list(scaled["p25_wan"]) if quartiles else None,
            inner_high=list(scaled["p75_wan"]) if quartiles else None,
            mean=list(scaled["mean_wan"]),
        )
        panels.append(Panel(names.budget(jurisdiction, level), [series]))
    heading = texts["fans"].split("、", 1)[-1].split(". ", 1)[-1]
    return panels, heading, texts["unit"].format(unit=unit), labels


def clause_rows(
    by_clause: pd.DataFrame, names: Names, jurisdiction: str | None
) -> dict[str, Any] | None:
    """Top clauses by obligation over the window, with title, document number and counts."""
    frame = _numeric_years(by_clause)
    note = False
    if jurisdiction is not None:
        if "payer" in frame.columns:
            frame = frame[frame["payer"] == jurisdiction]
        else:
            registry = names.registry
            issuers = {
                j.id
                for j in registry.items
                if j.id == jurisdiction or registry.covers(j.id, jurisdiction)
            }
            frame = frame[frame["document_jurisdiction"].isin(issuers)]
            note = True
    if frame.empty:
        return None
    totals = frame.groupby(["clause_id", "basis"])["mean_wan"].sum().unstack(fill_value=0)
    for basis in ("obligation", "cash"):
        if basis not in totals.columns:
            totals[basis] = 0.0
    obligation = frame[frame["basis"] == "obligation"]
    # An award appears once at each level that pays a share of it: summed over the budgets of a
    # level (a clause paid by twenty counties), the same at every paying level; the largest
    # level's sum is the clause's count (the largest budget's count undercounted it fourfold).
    by_level = obligation.groupby(["clause_id", "year", "payer_level"])["awards_mean"].sum()
    awards = by_level.groupby(level=[0, 1]).max().groupby(level=0).sum()
    levels = frame[frame["mean_wan"] > 0].groupby("clause_id")["payer_level"].unique()
    totals = totals.sort_values("obligation", ascending=False)
    totals = totals[(totals["obligation"] != 0) | (totals["cash"] != 0)]
    unit_div, unit = amount_unit(list(totals["obligation"]) + list(totals["cash"]), names.lang)
    rows = []
    for clause_id, values in totals.head(TOP_CLAUSES).iterrows():
        paid_by = levels.get(clause_id, [])
        rows.append(
            {
                "clause_id": clause_id,
                "title": names.clause_title(clause_id),
                "document_number": names.document_of(clause_id),
                "payers": "、".join(
                    LEVELS_TEXT[names.lang].get(str(x), str(x))
                    for x in sorted(paid_by, key=lambda x: LEVEL_ORDER.get(str(x), 3))
                ),
                "awards": fmt_count(float(awards.get(clause_id, 0.0))),
                "obligation": fmt_amount(values["obligation"], unit_div),
                "cash": fmt_amount(values["cash"], unit_div),
            }
        )
    rest = totals.iloc[TOP_CLAUSES:]
    return {
        "ids": sorted(str(c) for c in totals.index),
        "unit": unit,
        "rows": rows,
        "rest": len(rest),
        "rest_obligation": fmt_amount(rest["obligation"].sum(), unit_div),
        "rest_cash": fmt_amount(rest["cash"].sum(), unit_div),
        "rest_awards": fmt_count(float(awards.reindex(rest.index).fillna(0).sum())),
        "total_obligation": fmt_amount(totals["obligation"].sum(), unit_div),
        "total_cash": fmt_amount(totals["cash"].sum(), unit_div),
        "note": note,
    }


def ledger_clause_frame(ledger: pd.DataFrame, jurisdiction: str, replicates: int) -> pd.DataFrame:
    """One budget's spending per clause from the award ledger, in spending_by_clause's columns.

    Used when spending_by_clause.csv names no paying jurisdiction: the ledger knows each share's
    payer, so a county's report shows its own share, not every county's.
    """
    frames = []
    for level in ("province", "city", "county"):
        paid = ledger[
            (ledger[f"{level}_payer"].astype(str) == jurisdiction) & (ledger[f"{level}_wan"] > 0)
        ]
        for basis, column in (("obligation", "performance_year"), ("cash", "payment_year")):
            grouped = paid.groupby(["clause_id", column], observed=True)[f"{level}_wan"]
            frame = pd.DataFrame(
                {"mean_wan": grouped.sum() / replicates, "awards_mean": grouped.size() / replicates}
            ).reset_index()
            frame = frame.rename(columns={column: "year"})
            frame["payer_level"], frame["basis"], frame["payer"] = level, basis, jurisdiction
            frames.append(frame)
    columns = ["clause_id", "payer_level", "payer", "year", "basis", "mean_wan", "awards_mean"]
    if not frames:
        return pd.DataFrame(columns=columns)
    table = pd.concat(frames, ignore_index=True)
    table["clause_id"] = table["clause_id"].astype(str)
    table["year"] = table["year"].astype(int).astype(object)
    return table[columns]
