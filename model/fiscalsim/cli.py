"""The `fiscalsim` command line. Bad input ends in one line on stderr and exit code 2."""

from __future__ import annotations

import importlib
import os
import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from fiscalsim.errors import InputError
from fiscalsim.facts import CORE_FACTS, DERIVED_FACTS, REQUIRED_COLUMNS, describe_fact
from fiscalsim.paths import POLICIES_DIR
from fiscalsim.simulation.scheduler import MAX_LOCAL_WORKERS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="fiscalsim: what local enterprise-incentive policies cost, and which budget pays.",
)
console = Console()


def _click_exceptions() -> ModuleType:
    """Click's exception classes: vendored inside newer typer, a dependency of older ones."""
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError("neither typer._click nor click is installed")


click_exceptions = _click_exceptions()

ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", help="Write into an output folder holding other files; replace --panel-out."
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Where to simulate: inprocess (default), local:N (a Dask cluster of N worker "
        "processes) or tcp://HOST:PORT (a running `dask scheduler`).",
    ),
]
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
    force: ForceOption = False,
) -> None:
    """Compute the awards a firm-year panel earns under the policies, booked to each payer."""
    from fiscalsim.calculator import calculate
    from fiscalsim.excel import about_sheet, clause_titles, with_titles, xlsx_writer
    from fiscalsim.ledger import payer_totals
    from fiscalsim.output import check_targets, csv_writer, json_writer, jsonl_writer, write_all
    from fiscalsim.rules.matters import matter_names
    from fiscalsim.rules.readings import parse_overrides

    check_targets(out, force=force)
    overrides = parse_overrides(reading or [], "--reading")
    result = calculate(panel, policies or [POLICIES_DIR], overrides)
    titles = clause_titles(result.book.policies)
    write_all(
        out,
        {
            "ledger.csv": csv_writer(result.ledger),
            "dropped.csv": csv_writer(result.dropped),
            "explanations.jsonl": jsonl_writer(result.explanations),
            "summary.json": json_writer(result.summary),
            "tables.xlsx": xlsx_writer(
                {
                    "about": about_sheet(result.summary),
                    "ledger": with_titles(result.ledger, titles, matters=matter_names()),
                    "dropped": with_titles(result.dropped, titles),
                }
            ),
        },
        force=force,
    )
    for warning in result.summary["warnings"]:
        print(f"fiscalsim: warning: {warning}", file=sys.stderr)
    for note in result.summary["inputs"]["panel_notes"]:
        console.print(f"note: {panel}: {note}")
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
    workers: Annotated[int | None, typer.Option("--workers", min=1, max=MAX_LOCAL_WORKERS)] = None,
    force: ForceOption = False,
    readings: Annotated[
        str,
        typer.Option(
            "--readings",
            help="'all': also evaluate every combination of contested readings (readings.csv).",
        ),
    ] = "default",
    appropriation: Annotated[
        list[str] | None,
        typer.Option(
            "--appropriation",
            help="JURISDICTION=WAN: a paying budget's yearly appropriation (万元), repeatable; "
            "turns the budget process on.",
        ),
    ] = None,
    process: Annotated[
        bool | None,
        typer.Option(
            "--process/--no-process",
            help="Run the budget process (applications, reviews, quotas, arrears); "
            "default: as the scenario says.",
        ),
    ] = None,
    ledger: Annotated[
        bool,
        typer.Option(
            "--ledger/--no-ledger",
            help="Write every award to ledger.parquet (a folder of Parquet parts, one per block "
            "of replicates, written where the block ran); --no-ledger for large runs.",
        ),
    ] = True,
    scheduler: SchedulerOption = None,
) -> None:
    """Simulate a scenario: spending by paying budget, clause and year, with P5–P95 ranges."""
    from rich.progress import Progress

    from fiscalsim.output import check_targets
    from fiscalsim.process.params import parse_appropriation_options
    from fiscalsim.run import RUN_FILES, run_scenario
    from fiscalsim.simulation.montecarlo import prepare
    from fiscalsim.simulation.scheduler import checked_scheduler, use_scheduler

    if readings not in ("default", "all"):
        raise InputError("--readings", readings, "choose 'default' or 'all'")
    appropriations = parse_appropriation_options(appropriation or [])
    where = checked_scheduler(scheduler, workers)
    panel_target = {panel_out: "--panel-out"} if panel_out else None
    if out is not None:
        check_targets(out, panel_target, force=force, reserved=RUN_FILES)
    prepared = prepare(scenario, replicates=replicates, seed=seed)
    model = prepared.model
    out_dir = out or Path("outputs") / model.scenario.name
    check_targets(out_dir, panel_target, force=force, reserved=RUN_FILES)
    # The progress bar is for a person at a terminal: on stderr, and off when stderr is not one,
    # so stdout holds only the results (rich's display left a blank line there, even on error).
    status = Console(stderr=True)
    with (
        use_scheduler(where),
        Progress(console=status, transient=True, disable=not status.is_terminal) as progress,
    ):
        task = progress.add_task("replicates", total=model.scenario.replicates)
        result = run_scenario(
            prepared,
            out_dir,
            panel_out,
            workers,
            lambda n: progress.advance(task, n),
            readings_band=readings == "all",
            force=force,
            process=process,
            appropriation=appropriations,
            ledger=ledger,
            warn=lambda text: print(f"fiscalsim: warning: {text}", file=sys.stderr),
        )
    spending = result["spending"]
    cash = spending[spending["basis"] == "cash"]
    wide = Console(width=max(console.width, 60 + 11 * 10))
    table = Table(
        title=f"{model.scenario.title}: cash spending by paying budget (万元, mean; P5–P95 in spending.csv)"
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
    process_summary = result["summary"].get("budget_process")
    if process_summary:
        counts = process_summary["applications"]
        arrears = sum(process_summary["final_arrears_mean_wan"].values())
        console.print(
            f"budget process: {counts['approved']:,} of {counts['filed']:,} applications approved, "
            f"{counts['beyond_quota']:,} beyond a quota; unpaid at the end {arrears:,.1f} 万元 "
            "(mean: arrears, and shares that fall due after the last year); budget at risk in "
            "summary.json, cash by month in cashflow.csv"
        )
        if counts.get("undecided_at_end"):
            pending = counts["undecided_at_end_wan"] / model.scenario.replicates
            console.print(
                f"budget process: {counts['undecided_at_end']:,} applications still undecided at "
                f"the end, {pending:,.1f} 万元 a replicate (mean) in no table: the reviewing "
                "bureaus' capacity is too low for the applications"
            )
    console.print(
        f"{model.scenario.replicates} replicates, seed {model.scenario.seed}, "
        f"{result['run']['seconds']} s -> {out_dir}"
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
        known = describe_fact(name)  # data/panel_columns.yaml
        meaning = f"{known.meaning_zh} / {known.meaning_en}; " if known else ""
        unit = f" ({known.unit})" if known else ""
        table.add_row(name, f"event or amount{unit}", f"{meaning}used by {', '.join(users)}")
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


def _facts_of(rule: object) -> frozenset[str]:
    from fiscalsim.rules.book import rule_facts
    from fiscalsim.rules.schema import Rule

    assert isinstance(rule, Rule)
    return rule_facts(rule)


def _fail(message: str, code: int = 2) -> NoReturn:
    print(f"fiscalsim: error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


def _stop_on_terminate() -> None:
    """`kill` (SIGTERM) stops a command as Ctrl-C does: scratch files are removed and the
    workers are told to stop. A forked child (a worker, the workbook's writer) that inherited
    this handler just ends, as with the default action."""
    main_pid = os.getpid()

    def stop(signum: int, frame: object) -> None:
        if os.getpid() != main_pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every user error is one line on stderr and exit code 2, never a traceback.

    Click's own usage errors (unknown option, missing argument, bad value) are caught here too,
    rather than drawn as a box; an interrupt says so in one line and exits 130.
    """
    _stop_on_terminate()
    try:
        code = app(args=argv, prog_name="fiscalsim", standalone_mode=False)
    except InputError as error:
        _fail(str(error))
    except click_exceptions.NoArgsIsHelpError as error:
        print(error.ctx.get_help() if error.ctx else "fiscalsim --help")
        sys.exit(0)
    except click_exceptions.UsageError as error:
        command = error.ctx.command_path if error.ctx else "fiscalsim"
        _fail(f"{command}: {error.format_message()} (see `{command} --help`)")
    except click_exceptions.ClickException as error:
        _fail(error.format_message())
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted; no output was written", 130)
    except MemoryError:
        _fail("out of memory: reduce --replicates or the scenario's population")
    except OSError as error:  # the system refused a file (a read-only or special file system)
        where = f"{error.filename}: " if error.filename else ""
        _fail(f"{where}{error.strerror or error}")
    if code == 130:  # typer turns an interrupt inside a command into exit code 130
        _fail("interrupted; no output was written", 130)
    if isinstance(code, int) and code:
        sys.exit(code)


# Further commands live in their own modules and register on `app`.
from fiscalsim import (  # noqa: E402, F401
    cli_butfor,
    cli_calibrate,
    cli_compare,
    cli_report,
    cli_validate,
)
