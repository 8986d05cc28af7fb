"""`fiscalsim run`: simulate a scenario and write the budget projection with its provenance."""

from __future__ import annotations

import platform
import shutil
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fiscalsim import __version__
from fiscalsim.budget import (
    Expenditure,
    clause_table,
    crossings_table,
    cumulative_table,
    load_expenditure,
    population_table,
    spending_table,
)
from fiscalsim.comparison.evaluate import model_locations
from fiscalsim.excel import about_sheet, clause_titles, with_titles, write_sheets
from fiscalsim.output import (
    StreamedFile,
    Writer,
    check_targets,
    csv_writer,
    json_writer,
    scratch_dir,
    write_all,
)
from fiscalsim.population.calibration_report import calibration_table as report_table
from fiscalsim.process.outcome import process_outcome, process_years
from fiscalsim.process.params import ProcessParams, params_for_run, unused_appropriations
from fiscalsim.run_blocks import RunReducer, RunTotals, join_run_blocks
from fiscalsim.run_summary import run_summary, scenario_header
from fiscalsim.scenario_load import budgets_file
from fiscalsim.simulation.collect import tier_thresholds
from fiscalsim.simulation.montecarlo import Prepared, simulate
from fiscalsim.simulation.scheduler import scheduler_label


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


def library_versions() -> dict[str, str]:
    """The versions of the libraries the numbers go through (pyproject gives lower bounds only,
    so two installs can differ)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str] = {}
    for name in ("numpy", "scipy", "pandas", "numba", "pyarrow", "simpy", "pydantic"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:  # pragma: no cover - every one is a dependency
            found[name] = "absent"
    return found


def with_band(
    spending: pd.DataFrame, low_high: pd.DataFrame, limited: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """spending.csv with the lowest and highest mean over every combination of readings.

    The band runs without the budget process: cash as it falls due. The cash of a budget whose
    appropriation limits it (`limited`) is not that, so it gets no band (a band of 129–261
    stood beside cash of 68 paid under an appropriation of 80)."""
    yearly = low_high[low_high["year"].astype(str) != "total"].astype({"year": int})
    keys = ["jurisdiction", "payer_level", "year", "basis"]
    merged = spending.merge(yearly, on=keys, how="left")
    capped = (merged["basis"] == "cash") & merged["jurisdiction"].isin(limited)
    evaluated = (merged["basis"] != "arrears") & ~capped
    for column in ("readings_low_wan", "readings_high_wan"):
        merged.loc[evaluated, column] = merged.loc[evaluated, column].fillna(0.0)
        merged.loc[capped, column] = np.nan
    return merged


def run_scenario(
    prepared: Prepared,
    out_dir: Path,
    panel_out: Path | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    readings_band: bool = False,
    force: bool = False,
    process: bool | None = None,
    appropriation: Mapping[str, float] | None = None,
    ledger: bool = True,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Simulate, reduce each block where it ran (run_blocks), write every table all or nothing.

    With `ledger`, every award goes to `ledger.parquet`, a folder of Parquet parts (one per
    block of replicates) written by the processes that simulated them."""
    model = prepared.model
    scenario = model.scenario
    panel = {panel_out: "--panel-out"} if panel_out else None
    check_targets(out_dir, panel, force=force, reserved=RUN_FILES)
    process_params = params_for_run(
        scenario.process,
        scenario.budget.governments,
        model.book,
        prepared.scenario_path,
        process,
        appropriation,
    )
    first_year = scenario.population.start_year + 1
    years = process_years(model.book, first_year, scenario.horizon)
    warnings = (
        unused_appropriations(process_params, model.book, model_locations(model), years)
        if process_params is not None
        else []
    )
    if warn is not None:  # before the run, which may be long
        for warning in warnings:
            warn(warning)
    expenditure = load_expenditure(
        budgets_file(scenario, prepared.scenario_path), scenario.budget.governments
    )
    parts_dir = scratch_dir(out_dir, "ledger") if ledger else None
    work_dir: Path | None = None
    workbook: StreamedFile | None = None
    try:
        work_dir = scratch_dir(out_dir, "workbook")
        reducer = RunReducer(
            tuple(model_locations(model)),
            first_year,
            scenario.horizon,
            scenario.seed,
            process_params,
            years,
            str(parts_dir) if parts_dir else None,
        )
        started = time.perf_counter()
        results = simulate(
            model,
            workers=workers,
            panel_replicate=0 if panel_out else None,
            progress=progress,
            reduce=reducer,
        )
        run_info: dict[str, Any] = {
            "simulation_seconds": round(time.perf_counter() - started, 2),
            "workers": workers,
            "scheduler": scheduler_label(),
            "python": platform.python_version(),
            "libraries": library_versions(),
            "note": "how this run went; summary.json holds only what the inputs determine",
        }
        if warnings:
            run_info["warnings"] = warnings
        totals = join_run_blocks(results["reduced"][0], model.book)
        band = None
        if readings_band:
            from fiscalsim.comparison.readings_band import readings_band as band_of

            band = band_of(prepared.loaded, workers=workers)
        assert work_dir is not None
        workbook = StreamedFile(write_sheets, work_dir, "tables.xlsx")
        titles = clause_titles(prepared.loaded.policies)
        sheets = SheetFeed(
            lambda item: workbook.send((item[0], with_titles(item[1], titles))),
            ["about", *WORKBOOK, "ledger_replicate_0", *(SHEET_OF.get(n, n) for n in EXTRA_SHEETS)],
        )
        # what the inputs determine only, as summary.json (no command line: an API run and a
        # command-line run of the same inputs write the same cells)
        sheets("about", about_sheet(_about(prepared)))
        sheets("ledger_replicate_0", totals.sample)
        tables, summary = run_tables(
            prepared,
            results,
            totals,
            expenditure,
            process_params,
            band.low_high if band is not None else None,
            on_table=sheets,
        )
        if band is not None:
            summary["readings_band"] = {
                "combinations": int(len(band.readings) // max(len(band.low_high), 1)),
                "influence": band.influence.to_dict("records"),
            }
            tables["readings"] = band.readings
            tables["readings_influence"] = band.influence
            sheets("readings_totals", window_totals(band.readings))
            sheets("readings_influence", band.influence)
        sheets.close()  # the readings band's sheets too: they were left out of the workbook
        # the whole command's work up to writing: the readings band's simulations included
        # (a --readings all run took 22.6 s and said 1.61, the first simulation's time)
        run_info["seconds"] = round(time.perf_counter() - started, 2)
        writers = _writers(tables, summary, run_info, workbook.writer())
        if parts_dir is not None:
            writers["ledger.parquet"] = partial(_move, parts_dir)
        files: dict[Path, Writer] = {}
        if panel_out is not None and results["panel"] is not None:
            panel = results["panel"].sort_values(["year"], kind="stable")
            files[panel_out] = csv_writer(panel, exact=True)
        write_all(out_dir, writers, files, force=force)
    finally:
        if workbook is not None:
            workbook.close()
        for folder in (parts_dir, work_dir):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
    return {
        "spending": tables["spending"],
        "tables": tables,
        "summary": summary,
        "run": run_info,
        "results": results,
    }


def run_tables(
    prepared: Prepared,
    results: dict[str, Any],
    totals: RunTotals,
    expenditure: Expenditure,
    process_params: ProcessParams | None,
    readings_low_high: pd.DataFrame | None = None,
    on_table: Callable[[str, pd.DataFrame], None] | None = None,
) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The run's tables (by file name stem) and summary.json, from the joined blocks.

    With the readings band's lowest and highest means, spending.csv shows them. `on_table`
    gets each table as soon as it is made (the workbook is written meanwhile)."""
    model = prepared.model
    book, scenario = model.book, model.scenario
    start_year = scenario.population.start_year
    places = results["places"].tolist()  # the place axis of the population and crossing arrays
    outcome = None
    if process_params is not None and totals.process is not None:
        years = process_years(book, start_year + 1, scenario.horizon)
        outcome = process_outcome(book, process_params, totals.process, years)

    def spending() -> pd.DataFrame:
        table = spending_table(
            totals.payer, expenditure, outcome.series if outcome is not None else None
        )
        if readings_low_high is None:
            return table
        limited = frozenset(
            book.registry.items[place].id
            for place in (process_params.appropriation if process_params is not None else {})
        )
        return with_band(table, readings_low_high, limited)

    makers: dict[str, Callable[[], pd.DataFrame]] = {
        "spending": spending,
        "spending_by_clause": lambda: clause_table(totals.clause),
        "cumulative": lambda: cumulative_table(book, totals.cumulative),
        "population": lambda: population_table(book, results["population"], places, start_year),
        "first_crossings": lambda: crossings_table(
            book, results["crossings"], tier_thresholds(book), places, start_year
        ),
        "calibration": lambda: calibration_table(prepared, results["start_statistics"]),
    }
    tables: dict[str, pd.DataFrame] = {}
    for name, make in makers.items():
        tables[name] = make()
        if on_table is not None:
            on_table(name, tables[name])
    summary = run_summary(prepared.loaded, model, totals.paid_rules, totals.cash, start_year + 1)
    if outcome is not None:
        summary["units"] = f"{summary['units']}; arrears = approved, due, unpaid at the year's end"
        summary["budget_process"] = outcome.summary
        tables["cashflow"] = outcome.cashflow
        # what to appropriate, per budget and year, as a table (it was in summary.json only)
        tables["budget_at_risk"] = pd.DataFrame(outcome.summary["budget_at_risk"]["rows"]).rename(
            columns={"p90_wan": "needed_p90_wan", "p95_wan": "needed_p95_wan"}
        )  # not P5/P95 of a spread, as the other tables' p95_wan: what to set aside
        if len(outcome.rejected):  # applications turned down, if any (counts in summary.json)
            tables["rejected"] = outcome.rejected
        if on_table is not None:
            for name in ("cashflow", "budget_at_risk", "rejected"):
                if name in tables:
                    on_table(name, tables[name])
    return tables, summary


def _move(folder: Path, path: Path) -> None:
    """Move the ledger's parts, written by the workers, into the output being assembled."""
    shutil.move(folder, path)


# Tables written as CSV and into the workbook, in the workbook's order; then those a run writes
# only with the budget process or the readings band (EXTRA_SHEETS, after replicate 0's ledger).
WORKBOOK = (
    "spending",
    "spending_by_clause",
    "cumulative",
    "population",
    "first_crossings",
    "calibration",
)
EXTRA_SHEETS = ("cashflow", "budget_at_risk", "rejected", "readings", "readings_influence")
# A table whose sheet holds less than its CSV: the readings band's sheet has each combination's
# window totals only (9,216 rows in the baseline); its yearly rows (96,768) are in readings.csv.
# Writing them all into the workbook took XlsxWriter 11 s, longer than the band's simulations.
SHEET_OF = {"readings": "readings_totals"}
# Every name a run may write in its folder (a --panel-out there must take another).
RUN_FILES = frozenset(
    {
        *(f"{name}.csv" for name in WORKBOOK),
        *(f"{name}.csv" for name in EXTRA_SHEETS),
        "summary.json",
        "run.json",
        "tables.xlsx",
        "ledger.parquet",
    }
)


def _about(prepared: Prepared) -> dict[str, Any]:
    """What the workbook's 说明 sheet says about a run (summary.json's first keys)."""
    scenario = prepared.model.scenario
    return {
        "kind": "run",
        "scenario": scenario_header(prepared.loaded),
        "replicates": scenario.replicates,
        "seed": scenario.seed,
        "years": [scenario.population.start_year + 1, scenario.horizon],
        "fiscalsim_version": __version__,
    }


def window_totals(readings: pd.DataFrame) -> pd.DataFrame:
    """The readings band's rows of window totals (`year` "total"), without the year column."""
    return readings[readings["year"].astype(str) == "total"].drop(columns="year")


class SheetFeed:
    """Passes tables on in the workbook's sheet order, whatever order they are made in; a
    sheet never made is skipped when the feed is closed."""

    def __init__(self, send: Callable[[tuple[str, pd.DataFrame]], None], order: list[str]):
        self.send = send
        self.order = order
        self.ready: dict[str, pd.DataFrame] = {}

    def __call__(self, name: str, table: pd.DataFrame) -> None:
        if name in self.order:
            self.ready[name] = table
        while self.order and self.order[0] in self.ready:
            first = self.order.pop(0)
            self.send((first, self.ready.pop(first)))

    def close(self) -> None:
        for name in list(self.order):
            if name in self.ready:
                self.send((name, self.ready.pop(name)))
        self.order.clear()


def _writers(
    tables: dict[str, pd.DataFrame],
    summary: dict[str, Any],
    run_info: dict[str, Any],
    workbook: Writer,
) -> dict[str, Writer]:
    """One writer per output file (the ledger's parts are moved in by the caller)."""
    return {
        **{f"{name}.csv": csv_writer(table) for name, table in tables.items()},
        "summary.json": json_writer(summary),
        "run.json": json_writer(run_info),
        "tables.xlsx": workbook,
    }
