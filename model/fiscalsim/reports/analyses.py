"""Sections for compare, sweep and target folders: differences, curves with bands, the answer."""

from __future__ import annotations

from typing import Any

import pandas as pd

from fiscalsim.reports.figures import Panel, Series, grid
from fiscalsim.reports.folder import Folder
from fiscalsim.reports.labels import (
    Names,
    amount_unit,
    fmt_amount,
    fmt_band,
    fmt_signed,
    fmt_signed_band,
    in_language,
)
from fiscalsim.reports.parameters import parameter, parameter_short, value_label
from fiscalsim.reports.sections import budget_order, cash_rows, records_by, select_jurisdiction

TOP_BUDGETS = 5
TOP_CLAUSES = 12
PANELS = 12  # sweep panels: the budgets that move most with the parameter
STATS = ("mean_wan", "p05_wan", "p50_wan", "p95_wan")


def window_totals(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The `total` rows (cash) where written; else sums of yearly means (no bands then)."""
    if "basis" in frame.columns:
        frame = frame[frame["basis"] == "cash"]
    totals = frame[frame["year"].astype(str) == "total"]
    if not totals.empty:
        return totals
    yearly = frame[frame["year"].map(lambda v: isinstance(v, int))]
    means = [c for c in ("mean_wan", "diff_mean_wan") if c in yearly.columns]
    return yearly.groupby(keys, sort=False, as_index=False)[means].sum()


def _scenarios(folder: Folder, frame: pd.DataFrame) -> list[tuple[str, str]]:
    listed = folder.summary.get("scenarios") or []
    named = [(str(s.get("name")), str(s.get("title") or s.get("name"))) for s in listed]
    present = list(dict.fromkeys(frame["scenario"]))
    found = [(n, t) for n, t in named if n in present]
    return found + [(n, n) for n in present if n not in {x[0] for x in found}]


def _labels(texts: dict[str, str]) -> dict[str, str]:
    return {"outer": texts["outer"], "inner": texts["inner"], "mean": texts["mean"]}


def compare_section(
    folder: Folder, names: Names, texts: dict[str, str], jurisdiction: str | None
) -> dict[str, Any]:
    frame = select_jurisdiction(folder.tables["differences"], jurisdiction)
    scenarios = _scenarios(folder, frame)
    base = scenarios[0][0]
    keys = ["scenario", "jurisdiction", "payer_level"]
    totals = window_totals(frame, keys)
    budgets = budget_order(totals)
    indexed = records_by(totals, keys)
    values = list(totals["mean_wan"]) + [abs(v) for v in totals.get("diff_mean_wan", [])]
    unit_div, unit = amount_unit(values, names.lang)
    rows = []
    for jurisdiction_id, level in budgets:
        cells = []
        for name, _title in scenarios:
            key = (name, jurisdiction_id, level)
            if key not in indexed:
                cells.append({"mean": "—", "own": "", "diff": "", "band": ""})
                continue
            r = indexed[key]
            own = (
                fmt_band(r["p05_wan"], r["p95_wan"], unit_div)
                if pd.notna(r.get("p05_wan")) and pd.notna(r.get("p95_wan"))
                else ""
            )  # the scenario's own P5–P95 (its mean stood alone)
            has_band = pd.notna(r.get("diff_p05_wan")) and not (
                r.get("diff_p05_wan") == 0 and r.get("diff_p95_wan") == 0
            )
            cells.append(
                {
                    "mean": fmt_amount(r["mean_wan"], unit_div),
                    "own": own,
                    # a zero mean difference with a band is still a difference: without its
                    # label the band read as the scenario's own P5–P95
                    "diff": ""
                    if name == base or (r["diff_mean_wan"] == 0 and not has_band)
                    else fmt_signed(r["diff_mean_wan"], unit_div),
                    "band": fmt_signed_band(r["diff_p05_wan"], r["diff_p95_wan"], unit_div)
                    if has_band and name != base
                    else "",
                }
            )
        rows.append({"budget": names.budget(jurisdiction_id, level), "cells": cells})
    return {
        "base": scenarios[0][1],
        "scenarios": [t for _n, t in scenarios],
        "unit": unit,
        "rows": rows,
        "charts": _difference_charts(frame, scenarios, names, texts),
        "details": [
            {
                "title": str(s.get("title") or s.get("name") or ""),
                "description": in_language(s, "description", names.lang),
                "changes": [
                    f"{parameter(str(c.get('path')), names)} = {c.get('value')}"
                    for c in s.get("changes") or []
                ],
                # where the reform comes from (a compare report dropped its sources and author)
                "sources": [str(x) for x in s.get("sources") or []]
                + ([f"{texts['author']}：{s['author']}"] if s.get("author") else []),
            }
            for s in folder.summary.get("scenarios") or []
        ],
        "clauses": _clause_differences(folder, scenarios, names, jurisdiction),
    }


def _difference_charts(
    frame: pd.DataFrame, scenarios: list[tuple[str, str]], names: Names, texts: dict[str, str]
) -> list[str]:
    yearly = cash_rows(frame)
    others = [(n, t) for n, t in scenarios[1:]]
    moved = yearly[(yearly["scenario"] != scenarios[0][0]) & (yearly["diff_mean_wan"] != 0)]
    if moved.empty or not others:
        return []
    unit_div, unit = amount_unit(list(moved["diff_p95_wan"].abs()), names.lang)
    panels = []
    for jurisdiction_id, level in budget_order(moved.assign(mean_wan=moved["diff_mean_wan"].abs())):
        series = []
        for name, title in others:
            own = yearly[
                (yearly["scenario"] == name)
                & (yearly["jurisdiction"] == jurisdiction_id)
                & (yearly["payer_level"] == level)
            ].sort_values("year")
            series.append(
                Series(
                    label=title,
                    x=list(own["year"]),
                    mid=list(own["diff_mean_wan"] / unit_div),
                    low=list(own["diff_p05_wan"] / unit_div),
                    high=list(own["diff_p95_wan"] / unit_div),
                )
            )
        panels.append(Panel(names.budget(jurisdiction_id, level), series))
    heading = texts["compare_chart"]
    return grid(panels, heading, texts["unit"].format(unit=unit), _labels(texts), columns=3)


def _clause_differences(
    folder: Folder, scenarios: list[tuple[str, str]], names: Names, jurisdiction: str | None
) -> dict[str, Any] | None:
    frame = folder.table("differences_by_clause")
    if frame is None or frame.empty:
        return None
    if jurisdiction is not None:
        column = "payer" if "payer" in frame.columns else "jurisdiction"
        frame = frame[frame[column] == jurisdiction]
    totals = window_totals(frame, ["scenario", "clause_id", "jurisdiction", "payer_level"])
    totals = totals[totals["scenario"] != scenarios[0][0]]
    summed = totals.groupby(["scenario", "clause_id"], sort=False)["diff_mean_wan"].sum()
    summed = summed[summed != 0]
    if summed.empty:
        return None
    top = summed.reindex(summed.abs().sort_values(ascending=False).index).head(TOP_CLAUSES)
    unit_div, unit = amount_unit(list(top.abs()), names.lang)
    titles = dict(scenarios)
    rows = []
    for index, diff in top.items():
        scenario, clause_id = str(index[0]), str(index[1])  # type: ignore[index]
        rows.append(
            {
                "scenario": titles.get(str(scenario), str(scenario)),
                "clause_id": str(clause_id),
                "title": names.clause_title(clause_id),
                "document_number": names.document_of(clause_id),
                "diff": fmt_signed(float(diff), unit_div),
            }
        )
    return {"unit": unit, "rows": rows}


def _numeric(values: pd.Series) -> pd.Series:
    converted = pd.to_numeric(values, errors="coerce")
    return converted if converted.notna().all() else values


def sweep_section(
    folder: Folder, names: Names, texts: dict[str, str], jurisdiction: str | None
) -> dict[str, Any]:
    frame = select_jurisdiction(folder.tables["sweep"], jurisdiction)
    two = "param2" in frame.columns and frame["param2"].notna().any()
    points = ["value", "value2"] if two else ["value"]
    totals = window_totals(frame, [*points, "jurisdiction", "payer_level"]).copy()
    totals["value"] = _numeric(totals["value"])
    param = str(frame["param"].iloc[0]) if "param" in frame.columns else ""
    param2 = str(frame["param2"].dropna().iloc[0]) if two else ""
    moving = varying_budgets(totals, points) or budget_order(totals)
    budgets = moving[:TOP_BUDGETS]
    unit_div, unit = amount_unit(list(totals.get("p95_wan", totals["mean_wan"])), names.lang)
    banded = "p05_wan" in totals.columns
    panels = []
    for jurisdiction_id, level in moving[:PANELS]:
        own = totals[(totals["jurisdiction"] == jurisdiction_id) & (totals["payer_level"] == level)]
        groups = own.groupby("value2", sort=True) if two else [(None, own)]
        series = []
        for value2, rows in groups:
            rows = rows.sort_values("value")
            series.append(
                Series(
                    label=f"{parameter_short(param2, names)} = {value2!s}"
                    if two
                    else texts["mean"],
                    x=list(rows["value"]),
                    mid=list(rows["mean_wan"] / unit_div),
                    low=list(rows["p05_wan"] / unit_div) if banded else None,
                    high=list(rows["p95_wan"] / unit_div) if banded else None,
                )
            )
        panels.append(Panel(names.budget(jurisdiction_id, level), series))
    integer_x = bool(pd.api.types.is_integer_dtype(totals["value"]))
    heading = f"{texts['sweep_chart']}：{parameter_short(param, names)}"
    numbers = pd.to_numeric(totals["value"], errors="coerce")  # a reading's values are text
    values = sorted({float(v) for v in numbers if pd.notna(v)}) if numbers.notna().all() else []
    charts = grid(
        panels,
        heading,
        texts["unit"].format(unit=unit),
        _labels(texts),
        3,
        integer_x=integer_x,
        ticks=values if 1 < len(values) <= 8 else None,  # the grid's values, not 800/1600/2400
    )
    indexed = records_by(totals, [*points, "jurisdiction", "payer_level"])
    rows_out = []
    for point, _group in totals.groupby(points, sort=True):
        point = point if isinstance(point, tuple) else (point,)
        cells = []
        for jurisdiction_id, level in budgets:
            key = (*(str(p) for p in point), jurisdiction_id, level)
            if key not in indexed:
                cells.append({"mean": "—", "band": ""})
                continue
            r = indexed[key]
            band = fmt_band(r["p05_wan"], r["p95_wan"], unit_div) if banded else ""
            cells.append({"mean": fmt_amount(r["mean_wan"], unit_div), "band": band})
        paths = [param, param2]
        shown = [value_label(paths[i], p, names) for i, p in enumerate(point)]
        rows_out.append({"point": shown, "cells": cells})
    return {
        "param": parameter(param, names),
        "param2": parameter(param2, names),
        "param2_short": parameter_short(param2, names),
        "unit": unit,
        "budgets": [names.budget(j, lvl) for j, lvl in budgets],
        "panels": len(panels),
        "rows": rows_out,
        "charts": charts,
    }


def _target_note(answer: dict[str, Any], names: Names, texts: dict[str, str]) -> str:
    """The command's own message in English; in Chinese only the monotonicity warning."""
    if names.lang == "en":
        return " ".join(str(answer[k]) for k in ("message", "warning") if answer.get(k))
    return texts["not_monotone"] if answer.get("warning") or answer.get("monotone") is False else ""


def varying_budgets(totals: pd.DataFrame, points: list[str]) -> list[tuple[str, str]]:
    """Budgets whose window total moves with the swept value, largest movement first."""
    spans = totals.groupby(["jurisdiction", "payer_level"], sort=False)["mean_wan"].agg(
        lambda s: float(s.max() - s.min())
    )
    moving = spans[spans > 0.005]
    ordered = budget_order(totals)
    return sorted([b for b in ordered if b in moving.index], key=lambda b: -float(moving[b]))


def _value_unit(path: str, names: Names) -> str:
    """The unit a parameter's value is in, from its name: 万元 for *_wan, else none."""
    if not path.endswith("_wan"):
        return ""
    return " 万元" if names.lang == "zh" else " (10k yuan)"


def target_section(folder: Folder, names: Names, texts: dict[str, str]) -> dict[str, Any]:
    answer = folder.target or {}
    curve = folder.table("curve")
    amounts = [float(answer.get(k) or 0.0) for k in ("cost_wan", "ceiling_wan")]
    if curve is not None:
        amounts += [float(v) for c in curve.columns if c.endswith("_wan") for v in curve[c]]
    unit_div, unit = amount_unit(amounts, names.lang)

    def amount(key: str) -> str:
        value = answer.get(key)
        return f"{fmt_amount(float(value), unit_div)} {unit}" if value is not None else "—"

    year = answer.get("year", "window")
    budget = (
        names.budget(answer.get("jurisdiction"), answer.get("payer_level"))
        if answer.get("jurisdiction")
        else texts["total"]
    )
    quantile = answer.get("quantile", "")
    q_label = f"P{round(float(quantile) * 100)}" if isinstance(quantile, float) else str(quantile)
    found = answer.get("value") is not None
    sentence = texts["target_answer" if found else "target_none"].format(
        quantile=q_label,
        ceiling=amount("ceiling_wan"),
        param=parameter(str(answer.get("param", "")), names),
        value=answer.get("value", "—"),
        cost=amount("cost_wan"),
        base=answer.get("base_value", "—"),
        unit=_value_unit(str(answer.get("param", "")), names),
    )
    scope = texts["target_scope"].format(
        budget=budget, year=texts["window"] if str(year) == "window" else year
    )
    status = texts["converged"] if answer.get("converged") else texts["not_converged"]
    section: dict[str, Any] = {
        "sentence": sentence,
        "scope": scope,
        "evaluations": texts["evaluations"].format(
            grid=answer.get("grid_evaluations", "—"),
            n=answer.get("evaluations", "—"),
            converged=status,
        ),
        "message": _target_note(answer, names, texts),
        "charts": [],
        "columns": [],
        "rows": [],
        "unit": unit,
    }
    if curve is None or curve.empty:
        return section
    x_column = "value" if "value" in curve.columns else str(curve.columns[0])
    curve = curve.drop(columns=[c for c in ("param",) if c in curve.columns and c != x_column])
    curve = curve.assign(**{x_column: _numeric(curve[x_column])}).sort_values(x_column)
    cost_column = next((c for c in curve.columns if c.startswith("cost")), None)
    mid_column = cost_column or "mean_wan"
    series = Series(
        label=texts["cost_at"].format(quantile=q_label) if cost_column else texts["mean"],
        x=list(curve[x_column]),
        mid=list(curve[mid_column] / unit_div),
        low=list(curve["p05_wan"] / unit_div) if "p05_wan" in curve.columns else None,
        high=list(curve["p95_wan"] / unit_div) if "p95_wan" in curve.columns else None,
        mean=list(curve["mean_wan"] / unit_div) if "mean_wan" in curve.columns else None,
    )
    ceiling = answer.get("ceiling_wan")
    value = pd.to_numeric(pd.Series([answer.get("value")]), errors="coerce").iloc[0]
    panel = Panel(
        budget,
        [series],
        hline=float(ceiling) / unit_div if ceiling is not None else None,
        vline=float(value) if pd.notna(value) else None,
    )
    section["charts"] = grid(
        [panel], texts["target_chart"], texts["unit"].format(unit=unit), _labels(texts), 1,
        integer_x=False, panel_size=(6.0, 2.6),
    )  # fmt: skip
    headings = {
        "value": texts["value"],
        "cost_at_quantile_wan": texts["cost_at"].format(quantile=q_label),
        "mean_wan": texts["mean"],
        "p05_wan": "P5",
        "p95_wan": "P95",
    }
    section["columns"] = [headings.get(str(c), str(c)) for c in curve.columns]
    section["rows"] = [
        [fmt_amount(v, unit_div) if str(c).endswith("_wan") else str(v) for c, v in r.items()]
        for r in curve.to_dict("records")
    ]
    return section
