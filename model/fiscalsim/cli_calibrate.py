"""`fiscalsim calibrate`: the calibration report of a scenario's start population, without
running the projection. Registers on `fiscalsim.cli.app` (imported at the bottom of cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from fiscalsim.cli import app, console


@app.command()
def calibrate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for calibration.csv.")],
    replicates: Annotated[int | None, typer.Option("--replicates", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0)] = None,
) -> None:
    """Write DIR/calibration.csv: each target, its source, the synthesized mean and P5–P95."""
    from fiscalsim.output import csv_writer, write_all
    from fiscalsim.population.calibration_report import calibration_table
    from fiscalsim.simulation.montecarlo import prepare

    prepared = prepare(scenario, replicates=replicates, seed=seed)
    model = prepared.model
    table = calibration_table(
        model.scenario, list(model.plans), model.book.registry, prepared.scenario_path
    )
    write_all(out, {"calibration.csv": csv_writer(table)})
    shown = Table(
        title=f"{model.scenario.title}: calibration ({model.scenario.replicates} replicates, start populations shared by {model.scenario.population.replicates_per_start})"
    )
    for column in ("block", "target_id", "target", "mean", "P5–P95", "error", "pass"):
        shown.add_column(column)
    for row in table.rename(columns={"pass": "passed"}).itertuples():
        shown.add_row(
            str(row.block),
            str(row.target_id),
            f"{row.target:,.0f}",
            f"{row.synthesized_mean:,.0f}",
            f"{row.synthesized_p5:,.0f}–{row.synthesized_p95:,.0f}",
            f"{row.error_share:+.1%}",
            "pass" if row.passed else "FAIL",
        )
    console.print(shown)
    failed = int((~table["pass"].astype(bool)).sum())
    console.print(f"{len(table)} targets, {failed} outside tolerance -> {out / 'calibration.csv'}")
