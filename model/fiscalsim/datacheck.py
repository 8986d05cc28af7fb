"""`fiscalsim validate` of a data file: the reading a run gives it, and its names checked.

A finance bureau edits data/ as much as the policy files: its own expenditure in budgets.yaml,
firm counts, an appropriation in the process defaults. A run reads each of these files only
when a scenario names it, and some names in them (a government, a clause of the shared process
defaults) a run never looks up: a misspelt one is then unused without a word. `validate` reads
the file as a run does and checks every such name against the registry and the shipped
policy files, so the mistake is found before a run, with file and field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fiscalsim.datafiles import (
    CountyWeightsFile,
    FirmCountsFile,
    LargeFirmsFile,
    check_known,
    read_budgets,
    read_data_file,
)
from fiscalsim.filekind import DataKind
from fiscalsim.jurisdictions import Registry, load_registry
from fiscalsim.paths import POLICIES_DIR
from fiscalsim.process.schema import ProcessFile
from fiscalsim.responses_schema import ResponsesFile
from fiscalsim.rules.loader import parse_model
from fiscalsim.yamlfile import read_yaml_mapping


def _known_cities(path: Path, registry: Registry, key: str, entries: Sequence[Any]) -> None:
    """Every entry's `city` one of the registry's cities (`key[i].city` named if not)."""
    names = [(f"{key}[{i}].city", str(e.city)) for i, e in enumerate(entries)]
    check_known(path, names, registry.is_city, "a city in the registry", registry)


def _place_of(registry: Registry, city: str) -> Callable[[str], bool]:
    return lambda unit: registry.is_place_of(unit, city)


def _budgets(path: Path, registry: Registry) -> str:
    entries = read_budgets(path, registry).budgets  # as a run reads it
    governments = len({e.government for e in entries})
    return f"budgets file, {len(entries)} figures of {governments} governments"


def _firm_counts(path: Path, registry: Registry) -> str:
    entries = read_data_file(FirmCountsFile, path).firm_counts
    _known_cities(path, registry, "firm_counts", entries)
    return f"firm counts, {len(entries)} city-class segments"


def _county_weights(path: Path, registry: Registry) -> str:
    entries = read_data_file(CountyWeightsFile, path).county_weights
    _known_cities(path, registry, "county_weights", entries)
    for i, entry in enumerate(entries):
        check_known(
            path,
            [
                (f"county_weights[{i}].weights[{j}].unit", w.unit)
                for j, w in enumerate(entry.weights)
            ],
            _place_of(registry, entry.city),
            f"a place of {entry.city}",
            registry,
        )
    return f"county weights, {len(entries)} sets"


def _large_firms(path: Path, registry: Registry) -> str:
    parsed = read_data_file(LargeFirmsFile, path)
    _known_cities(path, registry, "known_firms", parsed.known_firms)
    _known_cities(path, registry, "segment_bounds", parsed.segment_bounds)
    return (
        f"large firms, {len(parsed.known_firms)} named firms and "
        f"{len(parsed.segment_bounds)} segment bounds"
    )


def _calibration_checks(path: Path, registry: Registry) -> str:
    from fiscalsim.population.calibration_report import read_checks

    return f"calibration checks, {len(read_checks(path, registry).checks)} published facts"


def _responses(path: Path, registry: Registry) -> str:
    parsed = parse_model(ResponsesFile, read_yaml_mapping(path), path)
    return f"responses file, {len(parsed.sensitivity.values)} parameters in the sensitivity grid"


def _known_clauses(path: Path, named: list[tuple[str, str]], registry: Registry) -> None:
    """Every clause named (field path, clause id) is one of the shipped policy files': a run
    ignores a clause no scenario of it loads, so a misspelt one would go unnoticed."""
    from fiscalsim.calculator import load_book

    clauses = {c.id for c in load_book([POLICIES_DIR], registry=registry).rules}
    check_known(
        path, named, clauses.__contains__, f"a clause of the policy files in {POLICIES_DIR}"
    )


def _process_defaults(path: Path, registry: Registry) -> str:
    """The shared defaults: every clause they name is a shipped one (_known_clauses)."""
    parsed = parse_model(ProcessFile, read_yaml_mapping(path), path)
    named = [(f"quotas.{name}", name) for name in parsed.quotas]
    named += [(f"approval.by_clause.{name}", name) for name in parsed.approval.by_clause]
    _known_clauses(path, named, registry)
    bureaus = [(f"review.by_bureau.{name}", name) for name in parsed.review.by_bureau]
    check_known(path, bureaus, registry.__contains__, "a jurisdiction in the registry", registry)
    return f"budget process defaults, {len(parsed.quotas)} clause quotas"


def _jurisdictions(path: Path, registry: Registry) -> str:
    return f"jurisdictions registry, {len(load_registry(path).items)} jurisdictions"


def _panel_columns(path: Path, registry: Registry) -> str:
    from fiscalsim.facts import PanelColumnsFile

    parsed = read_data_file(PanelColumnsFile, path)
    named = [
        (f"panel_columns.{name}.clauses[{i}]", clause)
        for name, column in parsed.panel_columns.items()
        for i, clause in enumerate(column.clauses)
    ]
    _known_clauses(path, named, registry)
    return f"panel columns of the clauses, {len(parsed.panel_columns)} described"


def _matters(path: Path, registry: Registry) -> str:
    """Each named matter is one a shipped policy file's clause belongs to (a misspelt id would
    name nothing, and that matter would go unnamed)."""
    from fiscalsim.calculator import load_book
    from fiscalsim.rules.matters import MattersFile

    parsed = read_data_file(MattersFile, path)
    used = {c.rule.matter for c in load_book([POLICIES_DIR], registry=registry).rules}
    named = [(f"matters.{name}", name) for name in parsed.matters]
    check_known(path, named, used.__contains__, f"a matter of the policy files in {POLICIES_DIR}")
    return f"names of the 就高不重复 matters, {len(parsed.matters)} named"


CHECKS: dict[DataKind, Callable[[Path, Registry], str]] = {
    "budgets": _budgets,
    "firm_counts": _firm_counts,
    "county_weights": _county_weights,
    "large_firms": _large_firms,
    "calibration_checks": _calibration_checks,
    "responses": _responses,
    "process_defaults": _process_defaults,
    "jurisdictions": _jurisdictions,
    "panel_columns": _panel_columns,
    "matters": _matters,
}


def check_data_file(kind: DataKind, path: Path, registry: Registry) -> str:
    """What the file is, once it has been read as a run reads it and its names checked; an
    InputError (file, field, what is wrong) otherwise. A reference file is read by no command."""
    if kind == "reference":
        read_yaml_mapping(path)  # at least well-formed YAML
        return "reference data, read by no command (the sources cited in the README)"
    return CHECKS[kind](path, registry)
