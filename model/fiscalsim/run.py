"""`fiscalsim run`: simulate a scenario and write the budget projection with its provenance."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim import __version__
from fiscalsim.budget import (
    clause_table,
    crossings_table,
    cumulative_table,
    load_expenditure,
    population_table,
    spending_table,
)
from fiscalsim.excel import xlsx_writer
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.output import Writer, csv_writer, json_writer, write_all
from fiscalsim.paths import DATA_DIR
from fiscalsim.population.fit import draw_sizes
from fiscalsim.rules.readings import describe
from fiscalsim.simulation.collect import tier_thresholds
from fiscalsim.simulation.montecarlo import Prepared, simulate


def ledger_frame(prepared: Prepared, ledger: dict[str, np.ndarray]) -> pd.DataFrame:
    book = prepared.model.book
    names = np.array([j.id for j in book.registry.items] + [""], dtype=object)
    clause = pd.Categorical(np.array([c.id for c in book.rules], dtype=object)[ledger["rule"]])
    issuer = np.array([c.policy.jurisdiction for c in book.rules], dtype=object)
    frame = pd.DataFrame(
        {
            "replicate": ledger["replicate"],
            "firm_id": pd.Series([f"f{k}" for k in ledger["firm_key"]], dtype="string"),
            "clause_id": clause,
            "jurisdiction": pd.Categorical(issuer[ledger["rule"]]),
            "location": pd.Categorical(names[ledger["location"]]),
            "performance_year": ledger["performance_year"],
            "payment_year": ledger["payment_year"],
            "amount_wan": ledger["amount_wan"],
            **{f"{level}_wan": ledger[f"{level}_wan"] for level in LEVELS},
            **{
                f"{level}_payer": pd.Categorical(names[ledger[f"{level}_payer"]])
                for level in LEVELS
            },
        }
    )
    return frame


def calibration_table(prepared: Prepared, population: np.ndarray) -> pd.DataFrame:
    """Each segment's target against its synthesized start population (mean over replicates)."""
    model = prepared.model
    spec = model.scenario.population
    registry = model.book.registry
    rows: list[dict[str, Any]] = []
    for plan in model.plans:
        for segment in plan.segments:
            places = [registry.index[c] for c in segment.county_weights]
            start = population[:, 0][:, places, int(segment.industry_class)].sum(axis=1)
            rng = np.random.default_rng(0)
            sample = draw_sizes(segment.size, 200_000, rng)
            large_wan = spec.calibrated.large_wan if spec.calibrated else float("inf")
            rows.append(
                {
                    "city": segment.city,
                    "industry_class": segment.industry_class,
                    "target_firms": segment.firms,
                    "synthesized_firms_mean": float(start[:, 0].mean()),
                    "target_above_scale_share": None,
                    "synthesized_above_scale_mean": float(start[:, 2].mean()),
                    "model_share_above_scale": float((sample >= spec.above_scale_wan).mean()),
                    "model_share_large": float((sample >= large_wan).mean()),
                    "log_mean": segment.size.log_mean,
                    "log_sd": segment.size.log_sd,
                    "tail_alpha": segment.size.tail_alpha,
                    "source": segment.source,
                }
            )
    return pd.DataFrame(rows)


def run_scenario(
    prepared: Prepared,
    out_dir: Path,
    panel_out: Path | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    model = prepared.model
    scenario = model.scenario
    started = time.perf_counter()
    results = simulate(
        model, workers=workers, panel_replicate=0 if panel_out else None, progress=progress
    )
    elapsed = time.perf_counter() - started
    book = model.book
    registry = book.registry
    locations = sorted(
        {registry.index[c] for plan in model.plans for s in plan.segments for c in s.county_weights}
    )
    first_year = scenario.population.start_year + 1
    ledger = results["ledger"]
    budget_file = (
        (prepared.scenario_path.parent / scenario.budget.file).resolve()
        if scenario.budget.file
        else DATA_DIR / "calibration" / "budgets.yaml"
    )
    spending = spending_table(
        book,
        ledger,
        scenario.replicates,
        locations,
        first_year,
        scenario.horizon,
        load_expenditure(budget_file),
    )
    by_clause = clause_table(book, ledger, scenario.replicates, first_year, scenario.horizon)
    cumulative = cumulative_table(book, ledger, scenario.replicates)
    population = population_table(
        book, results["population"], locations, scenario.population.start_year
    )
    crossings = crossings_table(
        book, results["crossings"], tier_thresholds(book), locations, scenario.population.start_year
    )
    calibration = calibration_table(prepared, results["population"])
    ledger_table = ledger_frame(prepared, ledger)
    paid_rules = {book.rules[int(r)].id for r in np.unique(ledger["rule"])}
    summary = {
        "fiscalsim_version": __version__,
        "scenario": {
            "name": scenario.name,
            "path": str(prepared.scenario_path),
            "sha256": prepared.scenario_hash,
        },
        "seed": scenario.seed,
        "replicates": scenario.replicates,
        "years": [first_year, scenario.horizon],
        "units": "万元 (10,000 yuan); obligation = performance year, cash = payment year",
        "readings": describe(list(book.policies), scenario.readings),
        "assumptions": {
            "clauses": [
                {"clause_id": c.id, "note": note}
                for c in book.rules
                if c.id in paid_rules
                for note in c.rule.assumption_notes
            ],
            "events": [
                {"process": e.name, "note": e.assumption, "source": e.source}
                for e in scenario.dynamics.events
            ],
            "population": [
                {"city": s.city, "class": s.industry_class, "source": s.source}
                for p in model.plans
                for s in p.segments
            ],
            "dynamics": {
                "growth": scenario.dynamics.growth.source,
                "exit": scenario.dynamics.exit.source,
                "entry": scenario.dynamics.entry.source,
                "history": scenario.population.history.source,
            },
        },
        "not_costed": [
            {"clause_id": r.id, "kind": r.amount.kind, "notes": r.notes} for _p, r in book.uncosted
        ],
        "run": {
            "seconds": round(elapsed, 2),
            "workers": workers,
            "python": platform.python_version(),
        },
    }
    writers: dict[str, Writer] = {
        "spending.csv": csv_writer(spending),
        "spending_by_clause.csv": csv_writer(by_clause),
        "cumulative.csv": csv_writer(cumulative),
        "population.csv": csv_writer(population),
        "first_crossings.csv": csv_writer(crossings),
        "calibration.csv": csv_writer(calibration),
        "ledger.parquet": lambda path: ledger_table.to_parquet(path, index=False),
        "summary.json": json_writer(summary),
        "tables.xlsx": xlsx_writer(
            {
                "spending": spending,
                "spending_by_clause": by_clause,
                "cumulative": cumulative,
                "population": population,
                "first_crossings": crossings,
                "calibration": calibration,
                "ledger_replicate_0": ledger_table[ledger_table["replicate"] == 0],
            }
        ),
    }
    write_all(out_dir, writers)
    if panel_out is not None and results["panel"] is not None:
        panel = results["panel"].sort_values(["year"], kind="stable")
        write_all(panel_out.parent, {panel_out.name: csv_writer(panel, exact=True)})
    return {"spending": spending, "summary": summary, "results": results}
