"""`fiscalsim butfor`: what the money buys, against the no-policy counterfactual. Wraps the API."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from fiscalsim.cli import SchedulerOption, app, console
from fiscalsim.cli_compare import (
    Out,
    Replicates,
    Seed,
    Workers,
    recorded_command,
    warn_appropriations,
)
from fiscalsim.excel import about_sheet, xlsx_writer
from fiscalsim.output import check_targets, csv_writer, json_writer, write_all


@app.command()
def butfor(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Out,
    responses: Annotated[
        Path | None,
        typer.Option(
            "--responses",
            help="Responses file (default: the scenario's, else data/calibration/responses.yaml).",
        ),
    ] = None,
    no_responses: Annotated[
        bool, typer.Option("--no-responses", help="No behavioural response (windfall 100%).")
    ] = False,
    no_sensitivity: Annotated[
        bool, typer.Option("--no-sensitivity", help="Skip the sensitivity table.")
    ] = False,
    replicates: Replicates = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: SchedulerOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a folder with other files.")
    ] = False,
) -> None:
    """Windfall share, induced crossings and firms, cost per induced, with P5–P95."""
    from fiscalsim.comparison.butfor import butfor as run_butfor
    from fiscalsim.comparison.butfor import summary
    from fiscalsim.simulation.scheduler import checked_scheduler, use_scheduler

    where = checked_scheduler(scheduler, workers)
    check_targets(out, force=force)
    with use_scheduler(where):
        result = run_butfor(
            scenario,
            responses_file=responses,
            no_responses=no_responses,
            sensitivity=not no_sensitivity,
            replicates=replicates,
            seed=seed,
            workers=workers,
        )
    tables = {"butfor": result.table, "elasticities": result.elasticities}
    if result.sensitivity is not None:
        tables["sensitivity"] = result.sensitivity
    writers = {f"{name}.csv": csv_writer(frame) for name, frame in tables.items()}
    facts = summary(result, recorded_command(sys.argv[1:]))
    ignored = warn_appropriations(result.loaded)  # butfor too works on cash as it falls due
    if ignored:
        facts["appropriations_not_applied"] = {result.loaded.scenario.name: ignored}
    writers["tables.xlsx"] = xlsx_writer({"about": about_sheet(facts), **tables})
    writers["summary.json"] = json_writer(facts)
    write_all(out, writers, force=force)
    _print(result.table)
    console.print(f"responses: {result.responses_from}; {len(result.table)} rows -> {out}")


def _print(frame: pd.DataFrame) -> None:
    rows = frame[(frame["year"].astype(str) == "total") & (frame["basis"] == "cash")]
    table = Table(title="Whole window, cash: windfall and induced (mean [P5, P95])")
    for column in (
        "budget",
        "spending 万元",
        "windfall share",
        "induced crossings",
        "万元/crossing",
    ):
        table.add_column(column, justify="left" if column == "budget" else "right")
    for row in rows.to_dict("records"):
        cost = float(row["cost_per_induced_crossing_mean_wan"])
        table.add_row(
            f"{row['jurisdiction']}/{row['payer_level']}",
            f"{row['spending_mean_wan']:,.0f}",
            f"{row['windfall_share_mean']:.1%} [{row['windfall_share_p05']:.0%}, "
            f"{row['windfall_share_p95']:.0%}]",
            f"{row['induced_crossings_mean']:,.1f} [{row['induced_crossings_p05']:,.0f}, "
            f"{row['induced_crossings_p95']:,.0f}]",
            "—" if math.isnan(cost) else f"{cost:,.0f}",
        )
    console.print(table)
