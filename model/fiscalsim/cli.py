"""The `fiscalsim` command line. Bad input ends in one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from fiscalsim.errors import InputError
from fiscalsim.facts import CORE_FACTS, DERIVED_FACTS, REQUIRED_COLUMNS
from fiscalsim.paths import POLICIES_DIR

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="fiscalsim: what local enterprise-incentive policies cost, and which budget pays.",
)
console = Console()

ReadingOption = Annotated[
    list[str] | None,
    typer.Option(
        "--reading", help="Override a reading for every rule, e.g. tier_jump=highest_only."
    ),
]


def _payer_table(frame: pd.DataFrame, title: str) -> Table:
    table = Table(title=title)
    for column in ("jurisdiction", "payer_level", "year", "basis", "amount_wan"):
        table.add_column(column, justify="right" if column == "amount_wan" else "left")
    for record in frame.to_dict("records"):
        table.add_row(
            str(record["jurisdiction"]),
            str(record["payer_level"]),
            str(record["year"]),
            str(record["basis"]),
            f"{record['amount_wan']:,.1f}",
        )
    return table


@app.command()
def awards(
    panel: Annotated[Path, typer.Option("--panel", help="Firm-year panel CSV.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    policies: Annotated[
        list[Path] | None, typer.Option("--policies", help="Policy file or folder (repeatable).")
    ] = None,
    reading: ReadingOption = None,
) -> None:
    """Compute the awards a firm-year panel earns under the policies, booked to each payer."""
    from fiscalsim.calculator import calculate
    from fiscalsim.excel import xlsx_writer
    from fiscalsim.ledger import payer_totals
    from fiscalsim.output import csv_writer, json_writer, jsonl_writer, write_all
    from fiscalsim.rules.readings import parse_overrides

    overrides = parse_overrides(reading or [], "--reading")
    result = calculate(panel, policies or [POLICIES_DIR], overrides)
    write_all(
        out,
        {
            "ledger.csv": csv_writer(result.ledger),
            "dropped.csv": csv_writer(result.dropped),
            "explanations.jsonl": jsonl_writer(result.explanations),
            "summary.json": json_writer(result.summary),
            "tables.xlsx": xlsx_writer({"ledger": result.ledger, "dropped": result.dropped}),
        },
    )
    totals = result.summary["totals"]
    console.print(
        f"{totals['awards']} awards, {totals['amount_wan']:,.1f} 万元 "
        f"(province {totals['province_wan']:,.1f}, city {totals['city_wan']:,.1f}, "
        f"county {totals['county_wan']:,.1f}) -> {out}"
    )
    console.print(_payer_table(payer_totals(result.ledger, "cash"), "Cash by paying budget (万元)"))


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replicates: Annotated[int | None, typer.Option("--replicates", min=1)] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder.")] = None,
    panel_out: Annotated[
        Path | None, typer.Option("--panel-out", help="Write replicate 0's firm-year panel here.")
    ] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1)] = None,
) -> None:
    """Simulate a scenario: spending by paying budget, clause and year, with P5–P95 ranges."""
    from rich.progress import Progress

    from fiscalsim.run import run_scenario
    from fiscalsim.simulation.montecarlo import prepare

    prepared = prepare(scenario, replicates=replicates, seed=seed)
    model = prepared.model
    out_dir = out or Path("outputs") / model.scenario.name
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("replicates", total=model.scenario.replicates)
        result = run_scenario(
            prepared, out_dir, panel_out, workers, lambda n: progress.advance(task, n)
        )
    spending = result["spending"]
    cash = spending[spending["basis"] == "cash"]
    wide = Console(width=max(console.width, 60 + 11 * 10))
    table = Table(
        title=f"{model.scenario.title_zh}: cash spending by paying budget (万元, mean; P5–P95 in spending.csv)"
    )
    years = sorted(cash["year"].unique())
    table.add_column("jurisdiction")
    table.add_column("payer")
    for year in years:
        table.add_column(str(year), justify="right")
    for (name, level), group in cash.groupby(["jurisdiction", "payer_level"], sort=False):
        cells = [f"{r.mean_wan:,.1f}" for r in group.sort_values("year").itertuples()]
        table.add_row(str(name), str(level), *cells)
    wide.print(table)
    console.print(
        f"{model.scenario.replicates} replicates, seed {model.scenario.seed}, "
        f"{result['summary']['run']['seconds']} s -> {out_dir}"
    )


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Policy files, folders or panels.")],
) -> None:
    """Check policy files, folders of them, and panels (against the default policies)."""
    from fiscalsim.calculator import load_book
    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.panel import read_panel
    from fiscalsim.rules.loader import load_policy_file, policy_paths

    registry = load_registry()
    for path in paths:
        if path.suffix == ".csv":
            book = load_book([POLICIES_DIR], registry=registry)
            checked = read_panel(path, registry, book.facts_used())
            console.print(
                f"ok  {path}: panel, {len(checked.frame)} rows, {len(checked.firm_ids)} firms"
            )
            continue
        for file in policy_paths([path]):
            policy = load_policy_file(file, registry)
            costed = sum(rule.costed for rule in policy.rules)
            console.print(
                f"ok  {file}: {policy.policy_id}, {costed} costed and "
                f"{len(policy.rules) - costed} non-cash/unquantified clauses"
            )


@app.command()
def facts(
    policies: Annotated[list[Path] | None, typer.Option("--policies")] = None,
) -> None:
    """List the panel columns the loaded policies understand."""
    from fiscalsim.calculator import load_book

    book = load_book(policies or [POLICIES_DIR])
    table = Table(title="Panel columns")
    table.add_column("column")
    table.add_column("kind")
    table.add_column("meaning")
    for name in REQUIRED_COLUMNS:
        table.add_row(name, "required", "")
    for fact in CORE_FACTS.values():
        if fact.name not in REQUIRED_COLUMNS:
            table.add_row(
                fact.name, f"optional ({fact.unit})", f"{fact.meaning_zh} / {fact.meaning_en}"
            )
    for name in sorted(book.facts_used() - set(CORE_FACTS) - set(DERIVED_FACTS)):
        users = [c.id for c in book.rules if name in _facts_of(c.rule)]
        table.add_row(name, "event or amount", f"used by {', '.join(users)}")
    for fact in DERIVED_FACTS.values():
        table.add_row(fact.name, "derived (not a column)", f"{fact.meaning_zh} / {fact.meaning_en}")
    console.print(table)


def assumptions_markdown(policies: list[Path] | None = None) -> str:
    """Every assumption and not-costed clause of the policy files, as Markdown tables."""
    from fiscalsim.calculator import load_book

    book = load_book(policies or [POLICIES_DIR])
    lines = ["| clause | document | assumption |", "|---|---|---|"]
    for compiled in book.rules:
        for note in compiled.rule.assumption_notes:
            number = compiled.policy.document.number or compiled.policy.policy_id
            lines.append(f"| {compiled.id} | {number} | {note.replace('|', '/')} |")
    lines += ["", "| clause | kind | why it is not costed |", "|---|---|---|"]
    for _policy, rule in book.uncosted:
        lines.append(f"| {rule.id} | {rule.amount.kind} | {(rule.notes or '').replace('|', '/')} |")
    return "\n".join(lines) + "\n"


@app.command()
def assumptions(
    policies: Annotated[list[Path] | None, typer.Option("--policies")] = None,
) -> None:
    """Print every assumption the policy files make, and the clauses that are not costed."""
    print(assumptions_markdown(policies), end="")


def _facts_of(rule: object) -> set[str]:
    from fiscalsim.rules.book import rule_facts
    from fiscalsim.rules.schema import Rule

    assert isinstance(rule, Rule)
    return rule_facts(rule)


def main() -> None:
    """Entry point: user errors become one line and exit code 2, never a traceback."""
    try:
        app()
    except InputError as error:
        print(f"fiscalsim: error: {error}", file=sys.stderr)
        sys.exit(2)


import fiscalsim.cli_report  # noqa: E402, F401  (registers `fiscalsim report`)
