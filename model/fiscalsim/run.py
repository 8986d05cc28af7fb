"""`fiscalsim run`: simulate a scenario and write the budget projection with its provenance."""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
from fiscalsim.output import Writer, check_targets, csv_writer, json_writer, write_all
from fiscalsim.paths import DATA_DIR, portable
from fiscalsim.population.calibration_report import calibration_table as report_table
from fiscalsim.rules.readings import describe
from fiscalsim.scenario_load import LoadedScenario
from fiscalsim.simulation.collect import tier_thresholds
from fiscalsim.simulation.montecarlo import Prepared, simulate
from fiscalsim.uncertainty import budget_spread


def firm_ids(keys: np.ndarray) -> pd.Series:
    """ "f" + the firm key, as pandas strings (built in Arrow: a Python loop took most of the
    ledger table's time)."""
    text = pc.binary_join_element_wise("f", pc.cast(pa.array(keys), pa.string()), "")
    return pd.Series(text, dtype="string")


def ledger_frame(prepared: Prepared, ledger: dict[str, np.ndarray]) -> pd.DataFrame:
    book = prepared.model.book
    names = np.array([j.id for j in book.registry.items] + [""], dtype=object)
    clause = pd.Categorical(np.array([c.id for c in book.rules], dtype=object)[ledger["rule"]])
    issuer = np.array([c.policy.jurisdiction for c in book.rules], dtype=object)
    frame = pd.DataFrame(
        {
            "replicate": ledger["replicate"],
            "firm_id": firm_ids(ledger["firm_key"]),
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


def calibration_table(prepared: Prepared, start_statistics: pd.DataFrame) -> pd.DataFrame:
    """Each target of the start population against what was synthesized (calibration_report),
    from the statistics the simulation took of each start population as it drew it."""
    model = prepared.model
    return report_table(
        model.scenario,
        list(model.plans),
        model.book.registry,
        prepared.scenario_path,
        stats=start_statistics,
    )


def with_band(spending: pd.DataFrame, low_high: pd.DataFrame) -> pd.DataFrame:
    """spending.csv with the lowest and highest mean over every combination of readings."""
    yearly = low_high[low_high["year"].astype(str) != "total"].astype({"year": int})
    keys = ["jurisdiction", "payer_level", "year", "basis"]
    merged = spending.merge(yearly, on=keys, how="left")
    for column in ("readings_low_wan", "readings_high_wan"):
        merged[column] = merged[column].fillna(0.0)
    return merged


def scenario_header(loaded: LoadedScenario) -> dict[str, Any]:
    """Who wrote the scenario, what it says it is, and exactly which inputs it ran on."""
    scenario = loaded.scenario
    return {
        "name": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "author": scenario.author,
        "sources": list(scenario.sources),
        "path": portable(loaded.path),
        "sha256": loaded.digest,
        "changes": [{"path": path, "value": value} for path, value in loaded.changes],
    }


def run_scenario(
    prepared: Prepared,
    out_dir: Path,
    panel_out: Path | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    readings_band: bool = False,
    force: bool = False,
) -> dict[str, Any]:
    model = prepared.model
    scenario = model.scenario
    check_targets(out_dir, {panel_out: "--panel-out"} if panel_out else None, force=force)
    budget_file = (
        (prepared.scenario_path.parent / scenario.budget.file).resolve()
        if scenario.budget.file
        else DATA_DIR / "calibration" / "budgets.yaml"
    )
    expenditure = load_expenditure(budget_file)
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
    spending = spending_table(
        book,
        ledger,
        scenario.replicates,
        locations,
        first_year,
        scenario.horizon,
        expenditure,
    )
    by_clause = clause_table(book, ledger, scenario.replicates, first_year, scenario.horizon)
    cumulative = cumulative_table(book, ledger, scenario.replicates)
    population = population_table(
        book, results["population"], locations, scenario.population.start_year
    )
    crossings = crossings_table(
        book, results["crossings"], tier_thresholds(book), locations, scenario.population.start_year
    )
    calibration = calibration_table(prepared, results["start_statistics"])
    band = None
    if readings_band:
        from fiscalsim.comparison.readings_band import readings_band as band_of

        band = band_of(prepared.loaded, workers=workers)
        spending = with_band(spending, band.low_high)
    ledger_table = ledger_frame(prepared, ledger)
    paid_rules = {book.rules[int(r)].id for r in np.unique(ledger["rule"])}
    summary = {
        "fiscalsim_version": __version__,
        "kind": "run",
        "scenario": scenario_header(prepared.loaded),
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
                **{  # issue 12: behavioural responses, only when the scenario sets them
                    f"response_{part}": block.source
                    for part in ("entry", "growth", "bunching")
                    if (block := getattr(scenario.dynamics.responses, part, None)) is not None
                },
            },
        },
        "uncertainty": budget_spread(
            ledger,
            registry,
            scenario.replicates,
            first_year,
            scenario.horizon,
            scenario.population.replicates_per_start,
        ),
        "not_costed": [
            {"clause_id": r.id, "kind": r.amount.kind, "notes": r.notes} for _p, r in book.uncosted
        ],
    }
    run_info = {
        "seconds": round(elapsed, 2),
        "workers": workers,
        "python": platform.python_version(),
        "note": "how this run went; summary.json holds only what the inputs determine",
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
        "run.json": json_writer(run_info),
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
    if band is not None:
        summary["readings_band"] = {
            "combinations": int(len(band.readings) // max(len(band.low_high), 1)),
            "influence": band.influence.to_dict("records"),
        }
        writers["readings.csv"] = csv_writer(band.readings)
        writers["readings_influence.csv"] = csv_writer(band.influence)
    files: dict[Path, Writer] = {}
    if panel_out is not None and results["panel"] is not None:
        panel = results["panel"].sort_values(["year"], kind="stable")
        files[panel_out] = csv_writer(panel, exact=True)
    write_all(out_dir, writers, files, force=force)
    tables = {
        "spending": spending,
        "spending_by_clause": by_clause,
        "cumulative": cumulative,
        "population": population,
        "first_crossings": crossings,
        "calibration": calibration,
    }
    if band is not None:
        tables["readings"] = band.readings
        tables["readings_influence"] = band.influence
    return {
        "spending": spending,
        "tables": tables,
        "summary": summary,
        "run": run_info,
        "results": results,
    }
