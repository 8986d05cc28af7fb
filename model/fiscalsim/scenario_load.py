"""Load a scenario with its base, changes, policy files and event files, validated as a whole.

The result is everything a run needs to know about its inputs: the validated scenario (event
processes merged in), the validated policy files after the reform, and a hash over every file
read and every change applied, so two runs with the same hash had the same inputs.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import Registry
from fiscalsim.paths import DATA_DIR
from fiscalsim.reform import Change, Sources, apply_change, read_sources, touching
from fiscalsim.rules.loader import check_unique_rules, parse_model, validate_policy
from fiscalsim.rules.schema import PolicyFile
from fiscalsim.scenario import EventsFile, Scenario, resolve


@dataclass(frozen=True)
class LoadedScenario:
    path: Path
    scenario: Scenario
    policies: tuple[PolicyFile, ...]
    digest: str
    changes: tuple[tuple[str, Any], ...]  # every change applied, base's first


def _blame(sources: Sources, file: Path, error: InputError) -> InputError:
    """An invalid file after changes is a change's fault: of the changes that edit the file,
    the one whose path shares most names with where the error is, named in the file (or the
    option) that lists it."""
    changes = touching(sources, file)
    if not changes:
        return error
    at = re.findall(r"[^\s.\[\]()]+", error.where or "")
    change = max(changes, key=lambda item: _shared(item[1], at))[0]
    where = f"{error.where}: " if error.where else ""
    value = change.value if isinstance(change.value, int | float | str) else None
    shown = f" = {value}" if value is not None and len(str(value)) <= 40 else ""
    return InputError(
        change.source,
        f"changes.{change.path}{shown}",
        f"makes {file.name} invalid: {where}{error.problem}",
    )


def _shared(a: list[str], b: list[str]) -> int:
    """How many names two paths share in order (their longest common subsequence)."""
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b):
            previous, row[j + 1] = row[j + 1], (previous + 1 if x == y else max(row[j + 1], row[j]))
    return row[-1]


def budgets_file(scenario: Scenario, path: Path) -> Path:
    """The budgets file a run reads for each budget's share of expenditure: the scenario's, or
    the shipped one."""
    if scenario.budget.file:
        return resolve(path, scenario.budget.file)
    return DATA_DIR / "calibration" / "budgets.yaml"


def data_files(scenario: Scenario, path: Path) -> list[Path]:
    """The data files a run of the scenario reads besides the scenario, policy and event files:
    the registry, the calibration inputs, the budgets and the budget process's defaults. The
    scenario's hash covers them too: it covered only the scenario's own files, so a run with
    another firm count for Ganzhou had the same hash and other results."""
    from fiscalsim.process.params import DEFAULTS_FILE

    files = [DATA_DIR / "jurisdictions.yaml"]
    calibrated = scenario.population.calibrated
    if calibrated is not None:
        named = [calibrated.firm_counts, calibrated.county_weights]
        named += [n for n in (calibrated.known_firms, calibrated.checks) if n]
        files += [resolve(path, name) for name in named]
    files.append(budgets_file(scenario, path))
    process_file = scenario.process.file if scenario.process is not None else None
    files.append(resolve(path, process_file) if process_file else DEFAULTS_FILE)
    return files


def validate_sources(sources: Sources, registry: Registry) -> LoadedScenario:
    raw = {k: v for k, v in sources.scenario.items()}
    scenario = parse_model(Scenario, raw, sources.path)
    loaded: list[tuple[Path, PolicyFile]] = []
    for file, policy_raw in sources.policies.values():
        try:
            loaded.append((file, validate_policy(policy_raw, file, registry)))
        except InputError as error:
            raise _blame(sources, file, error) from None
    owner: dict[str, Path] = {}
    for file, policy in loaded:  # read_sources checked the ids as read; a change may copy one
        first = owner.setdefault(policy.policy_id, file)
        if first != file:  # blame the file a change edited, if one did
            changed, other = (first, file) if touching(sources, first) else (file, first)
            clash = f"'{policy.policy_id}' is also used by {other}"
            raise _blame(sources, changed, InputError(changed, "policy_id", clash))
    policies = check_unique_rules(loaded)
    events = list(scenario.dynamics.events)
    for file, events_raw in sources.event_files.items():
        try:
            events.extend(parse_model(EventsFile, events_raw, file).events)
        except InputError as error:
            raise _blame(sources, file, error) from None
    dynamics = scenario.dynamics.model_copy(update={"events": events, "events_files": []})
    scenario = scenario.model_copy(update={"dynamics": dynamics})
    digest = hashlib.sha256()
    for file in sources.files:
        digest.update(file.read_bytes())
    for file in data_files(scenario, sources.path):  # the data a run reads besides
        if file.is_file():  # a missing one is an error where it is read
            digest.update(file.read_bytes())
    changes = tuple((c.path, c.value) for c in sources.changes)
    digest.update(json.dumps(changes, sort_keys=True, default=str).encode("utf-8"))
    return LoadedScenario(
        path=sources.path,
        scenario=scenario,
        policies=tuple(policies),
        digest=digest.hexdigest(),
        changes=changes,
    )


def load_scenario(
    path: Path, registry: Registry, extra: Sequence[tuple[str, Any]] = ()
) -> LoadedScenario:
    """A scenario file (with its base and changes) plus `extra` changes, e.g. a sweep's value."""
    sources = read_sources(path, lambda s: _check_scenario(s))
    return with_changes(sources, registry, extra)


def _check_scenario(sources: Sources) -> None:
    parse_model(Scenario, sources.scenario, sources.path)


def with_changes(
    sources: Sources, registry: Registry, extra: Sequence[tuple[str, Any]], label: str = "--set"
) -> LoadedScenario:
    """Apply further changes to a copy of `sources` and validate the result."""
    if extra:
        sources = copy.deepcopy(sources)
        for path, value in extra:
            change = Change(path, value, Path(label))
            apply_change(sources, change)
            sources.changes.append(change)
    return validate_sources(sources, registry)
