"""The policymaker's commands: compare, sweep and target. Thin layers over fiscalsim.api."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from fiscalsim import __version__
from fiscalsim.cli import ForceOption, SchedulerOption, app, console
from fiscalsim.errors import InputError
from fiscalsim.excel import about_sheet, clause_titles, target_sheet, with_titles, xlsx_writer
from fiscalsim.output import check_targets, csv_writer, json_writer, write_all
from fiscalsim.reports.parameters import named_parameters
from fiscalsim.simulation.scheduler import MAX_LOCAL_WORKERS, checked_scheduler, use_scheduler

Replicates = Annotated[int | None, typer.Option("--replicates", min=1, max=100_000)]
Seed = Annotated[int | None, typer.Option("--seed", min=0)]
Workers = Annotated[int | None, typer.Option("--workers", min=1, max=MAX_LOCAL_WORKERS)]
Out = Annotated[Path, typer.Option("--out", help="Output folder.")]


# Options that say where and how a command runs, never what it computes: left out of the command
# summary.json records, so the same inputs give the same file in-process and on a cluster.
HOW_OPTIONS = ("--workers", "--scheduler", "--out", "--force")


def recorded_command(argv: list[str]) -> str:
    """The command line as summary.json keeps it: without HOW_OPTIONS and their values."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in HOW_OPTIONS:
            skip = "=" not in arg and name != "--force"
            continue
        kept.append(arg)
    return "fiscalsim " + shlex.join(kept)  # quoted: a path has brackets (tiers[0])


def _header(loaded: Any) -> dict[str, Any]:
    from fiscalsim.run_summary import scenario_header

    return scenario_header(loaded)


def warn_appropriations(loaded: Any) -> list[str]:
    """compare, sweep, target and butfor work on cash as it falls due, without the budget
    process; a scenario's appropriations were ignored without a word, and its differences read
    as cash. Says so on stderr and returns the budgets concerned (summary.json records them)."""
    scenario = loaded.scenario
    capped = sorted(
        name for name, g in scenario.budget.governments.items() if g.appropriation_wan is not None
    )
    if capped:
        print(
            f"fiscalsim: warning: {scenario.name}: the appropriations of {', '.join(capped)} "
            "are not applied here (cash as it falls due, without the budget process); "
            "`fiscalsim run` gives cash paid under them and arrears",
            file=sys.stderr,
        )
    return capped


def _scenario_summary(
    kind: str, path: Path, replicates: int | None, seed: int | None
) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """What a sweep or target ran on: the scenario's header, seed and replicates in force;
    and the scenario's policy files (the workbook names their clauses)."""
    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.scenario_load import load_scenario
    from fiscalsim.simulation.montecarlo import with_run_options

    loaded = with_run_options(load_scenario(path, load_registry()), replicates, seed)
    ignored = warn_appropriations(loaded)
    summary = {
        "fiscalsim_version": __version__,
        "kind": kind,
        "scenario": _header(loaded),
        **({"appropriations_not_applied": {loaded.scenario.name: ignored}} if ignored else {}),
        "seed": loaded.scenario.seed,
        "replicates": loaded.scenario.replicates,
        "command": recorded_command(sys.argv[1:]),
    }
    return summary, loaded.policies


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="BASE.yaml ALT.yaml [ALT2.yaml ...]")],
    out: Out,
    replicates: Replicates = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: SchedulerOption = None,
    force: ForceOption = False,
) -> None:
    """Differences from the first scenario, on the same firms and shocks, with P5–P95."""
    from fiscalsim.api import compare as run_compare

    if len(scenarios) < 2:
        raise InputError("compare", None, "give a base scenario and at least one alternative")
    check_targets(out, force=force)  # before the simulation, not after it
    with use_scheduler(checked_scheduler(scheduler, workers)):
        result = run_compare(scenarios[0], scenarios[1:], replicates, seed, workers)
    ignored = {s.scenario.name: warn_appropriations(s) for s in result["scenarios"]}
    summary = {
        "fiscalsim_version": __version__,
        "kind": "compare",
        **(
            {"appropriations_not_applied": {k: v for k, v in ignored.items() if v}}
            if any(ignored.values())
            else {}
        ),  # fmt: skip
        "seed": result["seed"],
        "replicates": result["replicates"],
        "scenarios": [_header(s) for s in result["scenarios"]],
        "units": "万元; diff_* = the alternative minus the first scenario, per replicate",
        "command": recorded_command(sys.argv[1:]),
    }
    # the first scenario's title wins where two files title a clause differently (later
    # entries of the dict replace earlier ones, so the scenarios are read last to first)
    clauses = clause_titles(p for s in reversed(result["scenarios"]) for p in s.policies)
    scenario_titles = {  # by the name compare gave each (a repeated name gets _again)
        name: loaded.scenario.title or name
        for name, loaded in zip(result["names"], result["scenarios"], strict=True)
    }
    write_all(
        out,
        {
            "differences.csv": csv_writer(result["differences"]),
            "differences_by_clause.csv": csv_writer(result["differences_by_clause"]),
            "tables.xlsx": xlsx_writer(
                {
                    "about": about_sheet(summary),
                    "differences": with_titles(result["differences"], clauses, scenario_titles),
                    "differences_by_clause": with_titles(
                        result["differences_by_clause"], clauses, scenario_titles
                    ),
                }
            ),
            "summary.json": json_writer(summary),
        },
        force=force,
    )
    frame = result["differences"]
    totals = frame[
        (frame["year"].astype(str) == "total")
        & (frame["basis"] == "cash")
        & (frame["scenario"] != result["names"][0])
        & (frame["diff_mean_wan"].abs() > 0.005)
    ]
    table = Table(title="Cash over the whole window: difference from the base (万元)")
    for column in ("scenario", "jurisdiction", "payer", "diff mean", "diff P5", "diff P95"):
        table.add_column(column, justify="right" if column.startswith("diff") else "left")
    for row in totals.itertuples():
        table.add_row(
            str(row.scenario),
            str(row.jurisdiction),
            str(row.payer_level),
            f"{row.diff_mean_wan:,.1f}",
            f"{row.diff_p05_wan:,.1f}",
            f"{row.diff_p95_wan:,.1f}",
        )
    console.print(table)
    console.print(f"{result['replicates']} replicates, seed {result['seed']} -> {out}")


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Out,
    set_: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="PATH=v1,v2,... (once or twice), e.g. readings.first_reach=ever,since_policy",
        ),
    ],
    replicates: Replicates = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: SchedulerOption = None,
    force: ForceOption = False,
) -> None:
    """The cost curve over a grid of one or two parameters, on the same firms."""
    from fiscalsim.comparison.sweep import parse_set
    from fiscalsim.comparison.sweep import sweep as run_sweep

    sets = [parse_set(option) for option in set_]
    check_targets(out, force=force)
    with use_scheduler(checked_scheduler(scheduler, workers)):
        frame = run_sweep(scenario, sets, replicates, seed, workers)
    scenario_facts, policies = _scenario_summary("sweep", scenario, replicates, seed)
    summary = {
        **scenario_facts,
        "grid": {path: values for path, values in sets},
    }
    write_all(
        out,
        {
            "sweep.csv": csv_writer(frame),
            "tables.xlsx": xlsx_writer(
                {"about": about_sheet(summary), "sweep": named_parameters(frame, policies)}
            ),
            "summary.json": json_writer(summary),
        },
        force=force,
    )
    _print_sweep(frame)
    console.print(f"{len(frame)} rows -> {out}")


def _print_sweep(frame: pd.DataFrame) -> None:
    totals = frame[(frame["year"].astype(str) == "total") & (frame["basis"] == "cash")]
    pivot = totals.pivot_table(
        index=["jurisdiction", "payer_level"], columns="value", values="mean_wan", aggfunc="sum"
    )
    pivot = pivot[(pivot.abs() > 0.005).any(axis=1)]
    table = Table(title="Cash over the whole window by parameter value (万元, mean)")
    table.add_column("jurisdiction")
    table.add_column("payer")
    for value in pivot.columns:
        table.add_column(str(value), justify="right")
    for index, row in pivot.iterrows():
        name, level = index if isinstance(index, tuple) else (index, "")
        table.add_row(str(name), str(level), *[f"{v:,.1f}" for v in row])
    console.print(table)


@app.command()
def target(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    param: Annotated[
        str, typer.Option("--param", help="Dotted path of the parameter to solve for.")
    ],
    jurisdiction: Annotated[
        str, typer.Option("--jurisdiction", help="The paying jurisdiction id.")
    ],
    payer: Annotated[str, typer.Option("--payer", help="province, city or county.")],
    ceiling: Annotated[float, typer.Option("--ceiling", help="The budget ceiling, 万元.")],
    out: Out,
    year: Annotated[
        int | None, typer.Option("--year", help="One year (default: the window).")
    ] = None,
    window: Annotated[
        bool, typer.Option("--window", help="The whole window's total (default).")
    ] = False,
    quantile: Annotated[float, typer.Option("--quantile")] = 0.9,
    bracket: Annotated[str | None, typer.Option("--bracket", help="LO,HI")] = None,
    replicates: Replicates = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: SchedulerOption = None,
    force: ForceOption = False,
) -> None:
    """The parameter value at which a budget's cost at a quantile equals the ceiling."""
    from fiscalsim.comparison.sweep import target as run_target

    if year is not None and window:
        raise InputError("--year", str(year), "give --year or --window, not both")
    limits: tuple[float, float] | None = None
    if bracket is not None:
        try:
            low, high = (float(v) for v in bracket.split(","))
        except ValueError:
            raise InputError("--bracket", bracket, "expected LO,HI (two numbers)") from None
        limits = (low, high)
    check_targets(out, force=force)
    with use_scheduler(checked_scheduler(scheduler, workers)):
        result = run_target(
            scenario,
            param,
            jurisdiction,
            payer,
            ceiling,
            year=year,
            quantile=quantile,
            bracket=limits,
            replicates=replicates,
            seed=seed,
            workers=workers,
        )
    summary, policies = _scenario_summary("target", scenario, replicates, seed)
    write_all(
        out,
        {
            "target.json": json_writer(result.answer),
            "curve.csv": csv_writer(result.curve),
            "tables.xlsx": xlsx_writer(
                {
                    "about": about_sheet(summary),
                    "target": named_parameters(target_sheet(result.answer), policies),
                    "curve": named_parameters(result.curve, policies),
                }
            ),
            "summary.json": json_writer(summary),
        },
        force=force,
    )
    console.print(result.answer["message"])
    if "warning" in result.answer:
        console.print(f"warning: {result.answer['warning']}")
    console.print(json.dumps({k: result.answer[k] for k in ("value", "cost_wan", "evaluations")}))
