"""`fiscalsim validate PATH ...`: each file checked against what its content says it is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fiscalsim.cli import app, console
from fiscalsim.errors import InputError
from fiscalsim.paths import POLICIES_DIR


@app.command()
def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Policy files or folders, scenarios, events files, panels, data files (data/)."
        ),
    ],
) -> None:
    """Check inputs, each against the schema its content calls for (not its extension)."""
    from fiscalsim.calculator import load_book
    from fiscalsim.filekind import detect_kind
    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.panel import read_panel
    from fiscalsim.rules.loader import load_policy_file, parse_model, policy_paths
    from fiscalsim.scenario import EventsFile
    from fiscalsim.yamlfile import read_yaml_mapping

    registry = load_registry()
    for path in paths:
        files = policy_paths([path]) if path.is_dir() else [path]
        if not files:
            raise InputError(path, None, "no YAML files in this folder")
        for file in files:
            kind = detect_kind(file)
            if kind == "panel":
                book = load_book([POLICIES_DIR], registry=registry)
                checked = read_panel(file, registry, book.facts_used())
                console.print(
                    f"ok  {file}: panel, {len(checked.frame)} rows, {len(checked.firm_ids)} firms"
                )
            elif kind == "scenario":
                from fiscalsim.process.params import params_for_run
                from fiscalsim.simulation.montecarlo import prepare

                model = prepare(file).model
                scenario = model.scenario
                params_for_run(scenario.process, scenario.budget.governments, model.book, file)
                console.print(
                    f"ok  {file}: scenario {model.scenario.name}, {len(model.book.rules)} "
                    f"rules, {len(model.scenario.dynamics.events)} event processes"
                )
            elif kind == "events":
                from fiscalsim.dynamics.events import check_processes, process_places

                parsed = parse_model(EventsFile, read_yaml_mapping(file), file)
                processes = list(parsed.events)  # checked as a scenario that simulates
                for process in processes:  # every city of the registry would check them
                    process_places(process, registry, str(file))
                cities = [j.id for j in registry.items if registry.is_city(j.id)]
                check_processes(processes, cities, str(file))
                console.print(f"ok  {file}: events file, {len(parsed.events)} processes")
            elif kind != "policy":
                from fiscalsim.datacheck import check_data_file

                described = check_data_file(kind, file, registry)
                console.print(f"ok  {file}: {described}", soft_wrap=True)
            else:
                policy = load_policy_file(file, registry)
                costed = sum(rule.costed for rule in policy.rules)
                console.print(
                    f"ok  {file}: {policy.policy_id}, {costed} costed and "
                    f"{len(policy.rules) - costed} non-cash/unquantified clauses"
                )
