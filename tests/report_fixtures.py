"""Small hand-made output folders of run, compare, sweep and target, in the commands' formats.

The report reads only these files, so a report test needs no simulation. Numbers are chosen so a
reader can check them: Xunwu's county budget pays 100 万元 a year, Ganzhou's city budget 200.
`python -m tests.report_fixtures OUT` writes the four folders (used for reports/examples/).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd

from fiscalsim.output import csv_writer, json_writer

YEARS = [2023, 2024, 2025]
BUDGETS = [("shanxi", "province", 6000.0), ("ganzhou", "city", 200.0), ("xunwu", "county", 100.0)]
SCRIPT_TITLE = "<script>alert('x')</script> 测试情景"


def _stats(mean: float, spread: float = 0.4) -> dict[str, float]:
    return {
        "mean_wan": mean,
        "p05_wan": mean * (1 - spread),
        "p25_wan": mean * (1 - spread / 2),
        "p50_wan": mean * 0.98,
        "p75_wan": mean * (1 + spread / 2),
        "p95_wan": mean * (1 + spread),
    }


def _write(folder: Path, tables: dict[str, pd.DataFrame], summary: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        csv_writer(frame)(folder / f"{name}.csv")
    json_writer(summary)(folder / "summary.json")
    return folder


def spending_rows(scale: float = 1.0) -> list[dict[str, Any]]:
    rows = []
    for jurisdiction, level, amount in BUDGETS:
        for basis in ("obligation", "cash"):
            for i, year in enumerate(YEARS):
                mean = amount * scale * (1 + 0.1 * i)
                rows.append(
                    {"jurisdiction": jurisdiction, "payer_level": level, "year": year,
                     "basis": basis, **_stats(mean), "awards_mean": mean / 20}
                )  # fmt: skip
    return rows


def make_run(folder: Path, title: str = SCRIPT_TITLE) -> Path:
    spending = pd.DataFrame(spending_rows())
    spending["readings_low_wan"] = spending["mean_wan"] * 0.8
    spending["readings_high_wan"] = spending["mean_wan"] * 1.1
    clauses = pd.DataFrame(
        [
            {"clause_id": clause, "document_jurisdiction": issuer, "payer_level": level,
             "payer": payer, "year": year, "basis": basis, **_stats(amount),
             "awards_mean": amount / 20}
            for clause, issuer, level, payer, amount in (
                ("GZ-2c", "ganzhou", "city", "ganzhou", 120.0),
                ("GZ-2c", "ganzhou", "county", "xunwu", 60.0),
                ("XW-1", "xunwu", "county", "xunwu", 40.0),
                ("SZ-1", "shuozhou", "province", "shanxi", 6000.0),
            )
            for year in YEARS
            for basis in ("obligation", "cash")
        ]
    )  # fmt: skip
    calibration = pd.DataFrame(
        [{"block": "fitted", "target_id": "ganzhou/02/above_scale_firms", "city": "ganzhou",
          "industry_class": "02", "places": "", "metric": "above_scale_firms", "kind": "count",
          "used_in_fit": True, "target": 30, "synthesized_mean": 31.4, "synthesized_p5": 27.0,
          "synthesized_p95": 36.0, "error_share": 0.0467, "tolerance": "mean within ±10%",
          "pass": True, "confidence": "L",
          "source": "firm_counts.yaml ganzhou/02: estimate, confidence L", "note": ""},
         {"block": "validation", "target_id": "ningdu_above_scale_revenue", "city": "ganzhou",
          "industry_class": "01+05", "places": "ningdu", "metric": "above_scale_revenue_wan",
          "kind": "target", "used_in_fit": False, "target": 512000.0,
          "synthesized_mean": 389000.0, "synthesized_p5": 300100.0, "synthesized_p95": 480500.0,
          "error_share": -0.2402, "tolerance": "mean within ±10%", "pass": False,
          "confidence": "M", "source": "facts.yaml NINGDU-1: 宁都县规上电子信息营收", "note": ""}]
    )  # fmt: skip
    summary = {
        "fiscalsim_version": "0.1.0",
        "kind": "run",
        "scenario": {"name": "fixture", "title": title, "path": "fixture.yaml",
                     "sha256": "ab" * 32, "description": "<b>不加粗</b> 手工夹具",
                     "author": "tests", "sources": ["赣市发〔2022〕5号"]},
        "seed": 7,
        "replicates": 20,
        "readings": {"ganzhou_2022": {"tier_jump": {"value": "every_tier", "meaning": "分别给予",
                                                    "source": "policy file default"}}},
        "assumptions": {
            "clauses": [{"clause_id": "GZ-2c", "note": "eligibility <i>assumed</i>"}],
            "events": [{"process": "gz_cluster", "note": "about 3 a year",
                        "source": "events.yaml (estimate, M)"}],
            "population": [{"city": "ganzhou", "class": "02", "source": "confidence L"}],
            "dynamics": {"growth": "dynamics.yaml (H)"},
        },
        "not_costed": [{"clause_id": "GZ-8", "kind": "non_cash", "notes": "land price"}],
    }  # fmt: skip
    readings = pd.concat(
        [
            spending[["jurisdiction", "payer_level", "year", "basis"]].assign(
                tier_jump=tier, first_reach=first, mean_wan=spending["mean_wan"] * factor
            )
            for tier, first, factor in (
                ("every_tier", "ever", 1.0),
                ("every_tier", "since_policy", 1.1),
                ("highest_only", "ever", 0.8),
                ("highest_only", "since_policy", 0.9),
            )
        ],
        ignore_index=True,
    )[["tier_jump", "first_reach", "jurisdiction", "payer_level", "year", "basis", "mean_wan"]]
    return _write(
        folder,
        {
            "spending": spending,
            "spending_by_clause": clauses,
            "calibration": calibration,
            "readings": readings,
        },
        summary,
    )


def make_compare(folder: Path) -> Path:
    scenarios = [
        ("baseline", "基准情景", 1.0),
        ("lower", "门槛下调", 1.3),
        ("extend", "延期一年", 1.6),
    ]
    rows = []
    for name, _title, scale in scenarios:
        for row in spending_rows(scale):
            base = row["mean_wan"] / scale
            spread = _stats(row["mean_wan"] - base, 0.6)
            diff = {k: (0.0 if name == "baseline" else v) for k, v in spread.items()}
            rows.append(
                {
                    "scenario": name,
                    **{k: row[k] for k in ("jurisdiction", "payer_level", "year", "basis")},
                    **{k: row[k] for k in ("mean_wan", "p05_wan", "p50_wan", "p95_wan")},
                    **{f"diff_{k}": diff[k] for k in ("mean_wan", "p05_wan", "p50_wan", "p95_wan")},
                }
            )
    frame = pd.DataFrame(rows)
    keys = ["scenario", "jurisdiction", "payer_level", "basis"]
    totals = frame.groupby(keys, as_index=False, sort=False)[
        [c for c in frame.columns if c.endswith("_wan")]
    ].sum()
    totals["year"] = "total"
    differences = pd.concat([frame, totals[frame.columns]], ignore_index=True)
    by_clause = differences.assign(clause_id="GZ-2c", payer=differences["jurisdiction"])
    summary = {
        "fiscalsim_version": "0.1.0", "kind": "compare", "seed": 7, "replicates": 20,
        "scenarios": [{"name": n, "title": t, "path": f"{n}.yaml", "sha256": "cd" * 32,
                       "changes": [{"path": "policies.ganzhou_2022.years.last", "value": 2025}]
                       if n != "baseline" else [],
                       "sources": ["赣市发〔2022〕5号 延期测算"] if n != "baseline" else [],
                       "author": "测试作者"}
                      for n, t, _s in scenarios],
    }  # fmt: skip
    return _write(folder, {"differences": differences, "differences_by_clause": by_clause}, summary)


def make_sweep(folder: Path) -> Path:
    param = "policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan"
    rows = []
    for value in (300, 500, 800, 1000, 1500):
        for row in spending_rows(1500 / (value + 500)):
            rows.append({"param": param, "value": value, **row})
    frame = pd.DataFrame(rows)
    keys = ["param", "value", "jurisdiction", "payer_level", "basis"]
    totals = frame.groupby(keys, as_index=False, sort=False)[
        [c for c in frame.columns if c.endswith("_wan")]
    ].sum()
    totals["year"] = "total"
    sweep = pd.concat([frame, totals], ignore_index=True)[
        ["param", "value", "jurisdiction", "payer_level", "year", "basis", "mean_wan", "p05_wan",
         "p50_wan", "p95_wan"]]  # fmt: skip
    summary = {"fiscalsim_version": "0.1.0", "kind": "sweep", "scenario": "scenarios/baseline.yaml",
               "grid": {param: [300, 500, 800, 1000, 1500]}, "seed": 7, "replicates": 20}  # fmt: skip
    return _write(folder, {"sweep": sweep}, summary)


def make_target(folder: Path) -> Path:
    param = "policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan"
    values = [300, 600, 900, 1200, 1500, 1800]
    curve = pd.DataFrame(
        {"param": param, "value": values,
         "cost_at_quantile_wan": [4000 - 1.5 * v for v in values],
         "mean_wan": [3600 - 1.4 * v for v in values],
         "p05_wan": [3000 - 1.2 * v for v in values],
         "p95_wan": [4200 - 1.5 * v for v in values]}
    )  # fmt: skip
    answer = {
        "param": param, "jurisdiction": "ganzhou", "payer_level": "city", "basis": "cash",
        "year": "window", "quantile": 0.9, "ceiling_wan": 2500.0, "value": 1000,
        "cost_wan": 2500.0, "converged": True, "evaluations": 6, "grid_evaluations": 9,
        "base_value": 1000,
        "message": f"{param} = 1000 puts ganzhou's city cash cost at P90 2,500.0 万元 (ceiling 2500)",
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    json_writer(answer)(folder / "target.json")
    summary = {
        "fiscalsim_version": "0.1.0",
        "kind": "target",
        "scenario": "scenarios/baseline.yaml",
    }
    return _write(folder, {"curve": curve}, summary)


FIXTURES = {"run": make_run, "compare": make_compare, "sweep": make_sweep, "target": make_target}


if __name__ == "__main__":
    out = Path(sys.argv[1])
    for kind, make in FIXTURES.items():
        make(out / kind)
        print(out / kind)
