"""Reforms as data: a scenario names a `base` scenario and lists `changes` by dotted path.

    base: ../baseline.yaml
    changes:
      policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan: 500
      policies.ganzhou_2022.years.last: 2025
      readings.first_reach: since_policy
      dynamics.growth.sigma0: 0.45
      events.gz_top100_rest.per_year: 0.5

A path starts at `policies.<policy_id>` (a policy file, rules addressed by their id),
`events.<process name>` (an event process) or any key of the scenario itself. Nothing is copied:
relative paths resolve against the file that names them. Every change is applied to the raw
files and the result validated as a whole before anything runs, so a reform is never applied
in part; an error names the scenario file and the change's path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fiscalsim.errors import InputError
from fiscalsim.rules.loader import policy_paths, read_yaml_mapping

_SEGMENT = re.compile(r"^([^.\[\]]+)((?:\[\d+\])*)$")

# Scenario keys holding file names, resolved against the file that names them.
_PATH_LISTS: tuple[tuple[str, ...], ...] = (("policies",), ("dynamics", "events_files"))
_PATH_KEYS: tuple[tuple[str, ...], ...] = (
    ("budget", "file"),
    ("process", "file"),
    ("population", "calibrated", "firm_counts"),
    ("population", "calibrated", "county_weights"),
    ("population", "calibrated", "known_firms"),
    ("population", "calibrated", "checks"),
)
MAX_BASE_DEPTH = 10


@dataclass
class Change:
    path: str
    value: Any
    source: Path  # the scenario file that lists it


@dataclass
class Sources:
    """A scenario and everything it reads, as raw mappings, before validation."""

    path: Path
    scenario: dict[str, Any]
    policies: dict[str, tuple[Path, dict[str, Any]]] = field(default_factory=dict)
    event_files: dict[Path, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, tuple[Path, dict[str, Any]]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)  # every file read, for the scenario hash
    changes: list[Change] = field(default_factory=list)


def parse_path(path: str, source: Path) -> list[str | int]:
    """`a.b[0].c` -> ['a', 'b', 0, 'c']; a malformed path is an error."""
    steps: list[str | int] = []
    for part in path.split("."):
        match = _SEGMENT.match(part.strip())
        if not match:
            raise InputError(source, f"changes.{path}", f"malformed path segment '{part}'")
        steps.append(match.group(1))
        steps.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    return steps


def _resolved(value: Any, base_dir: Path) -> Any:
    """A file name (or a list of them) made absolute against `base_dir`; anything else as is."""
    if isinstance(value, list):
        return [_resolved(v, base_dir) if isinstance(v, str) else v for v in value]
    if isinstance(value, str):
        return str((base_dir / value).resolve())
    return value


def _absolute(raw: dict[str, Any], base_dir: Path) -> None:
    """Make the scenario's file names absolute, so a scenario built on it can live elsewhere."""
    for keys in _PATH_LISTS + _PATH_KEYS:
        node: Any = raw
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and keys[-1] in node:
            node[keys[-1]] = _resolved(node[keys[-1]], base_dir)


def _read_scenario(
    path: Path, depth: int, files: list[Path]
) -> tuple[dict[str, Any], list[Change]]:
    """The scenario's own keys over its base's, and the changes of both, base first."""
    if depth > MAX_BASE_DEPTH:
        raise InputError(path, "base", f"more than {MAX_BASE_DEPTH} bases deep (a cycle?)")
    raw = read_yaml_mapping(path)
    files.append(path)
    _absolute(raw, path.parent)
    changes_raw = raw.pop("changes", None) or {}
    if not isinstance(changes_raw, dict):
        raise InputError(path, "changes", "must be a mapping of path: value")
    changes = [Change(str(k), v, path) for k, v in changes_raw.items()]
    base_name = raw.pop("base", None)
    if base_name is None:
        return raw, changes
    if not isinstance(base_name, str):
        raise InputError(path, "base", "must be the file name of a scenario")
    base_path = (path.parent / base_name).resolve()
    if not base_path.is_file():
        raise InputError(path, "base", f"no such scenario file: {base_name}")
    if base_path in files:
        raise InputError(path, "base", f"{base_name} is already a base of this scenario (a cycle)")
    base_raw, base_changes = _read_scenario(base_path, depth + 1, files)
    if "description" in raw and "description_zh" not in raw:
        base_raw.pop("description_zh", None)  # the base's Chinese describes the base, not this
    return {**base_raw, **raw}, base_changes + changes


def _on_files(change: Change) -> bool:
    """Whether a change edits a policy or events file rather than the scenario itself."""
    steps = parse_path(change.path, change.source)
    return steps[0] in ("policies", "events") and len(steps) > 2


def read_sources(path: Path, check: Callable[[Sources], None] | None = None) -> Sources:
    """Read a scenario, its bases, its policy files and its event files, and apply its changes.

    `check` sees the scenario with its own changes applied before any policy or event file is
    read, so an error in the scenario itself is reported first.
    """
    files: list[Path] = []
    scenario, changes = _read_scenario(path, 0, files)
    sources = Sources(path=path, scenario=scenario, files=files, changes=changes)
    for change in changes:
        if not _on_files(change):
            apply_change(sources, change)
    if check is not None:
        check(sources)
    names = scenario.get("policies")
    if isinstance(names, list):
        for file in policy_paths([Path(str(n)) for n in names]):
            raw = read_yaml_mapping(file)
            sources.files.append(file)
            policy_id = raw.get("policy_id")
            if isinstance(policy_id, str):
                if policy_id in sources.policies:
                    other = sources.policies[policy_id][0]
                    raise InputError(file, "policy_id", f"'{policy_id}' is also used by {other}")
                sources.policies[policy_id] = (file, raw)
            else:
                sources.policies[f"<{file.name}>"] = (file, raw)  # validation names the problem
    dynamics = scenario.get("dynamics")
    event_files = dynamics.get("events_files") if isinstance(dynamics, dict) else None
    for name in event_files or []:
        file = Path(str(name))
        raw = read_yaml_mapping(file)
        sources.files.append(file)
        sources.event_files[file] = raw
        processes = raw.get("events")
        for process in processes if isinstance(processes, list) else []:
            if isinstance(process, dict) and isinstance(process.get("name"), str):
                sources.events[process["name"]] = (file, process)
    for change in changes:
        if _on_files(change):
            apply_change(sources, change)
    return sources


def _child(node: Any, step: str | int, where: str, change: Change) -> Any:
    """One step down; a missing key or index is an error naming the change."""
    if isinstance(step, int):
        if not isinstance(node, list) or not -len(node) <= step < len(node):
            size = len(node) if isinstance(node, list) else "no"
            raise InputError(
                change.source, f"changes.{change.path}", f"{where} has {size} items, no [{step}]"
            )
        return node[step]
    if isinstance(node, list):
        for item in node:  # rules and other lists of mappings are addressed by their id
            if isinstance(item, dict) and item.get("id") == step:
                return item
        raise InputError(change.source, f"changes.{change.path}", f"no item '{step}' in {where}")
    if not isinstance(node, dict) or step not in node:
        raise InputError(change.source, f"changes.{change.path}", f"no '{step}' in {where}")
    return node[step]


def _check_type(old: Any, new: Any, change: Change) -> None:
    """A number stays a number, text stays text, a mapping stays a mapping."""
    if old is None or new is None:
        return

    def kind(value: Any) -> str:
        if isinstance(value, bool):
            return "true/false"
        if isinstance(value, int | float):
            return "a number"
        if isinstance(value, str):
            return "text"
        if isinstance(value, list):
            return "a list"
        return "a mapping"

    if kind(old) != kind(new):
        raise InputError(
            change.source,
            f"changes.{change.path}",
            f"expected {kind(old)} (as in the base), got {new!r}",
        )


def apply_change(sources: Sources, change: Change) -> None:
    steps = parse_path(change.path, change.source)
    head = steps[0]
    node: Any
    if head == "policies" and len(steps) > 2:
        policy_id = steps[1]
        if not isinstance(policy_id, str) or policy_id not in sources.policies:
            known = ", ".join(sorted(sources.policies))
            raise InputError(
                change.source, f"changes.{change.path}", f"no policy '{policy_id}' (have {known})"
            )
        node, rest, where = sources.policies[policy_id][1], steps[2:], f"policies.{policy_id}"
    elif head == "events" and len(steps) > 2:
        name = steps[1]
        if not isinstance(name, str) or name not in sources.events:
            raise InputError(change.source, f"changes.{change.path}", f"no event process '{name}'")
        node, rest, where = sources.events[name][1], steps[2:], f"events.{name}"
    else:
        node, rest, where = sources.scenario, steps, "the scenario"
        if tuple(steps) in _PATH_LISTS + _PATH_KEYS:  # file names resolve against the file
            change = Change(
                change.path, _resolved(change.value, change.source.parent), change.source
            )
    for step in rest[:-1]:
        node = _child(node, step, where, change)
        where = f"{where}.{step}" if isinstance(step, str) else f"{where}[{step}]"
    last = rest[-1]
    if isinstance(last, int) or isinstance(node, list):
        old = _child(node, last, where, change)
        _check_type(old, change.value, change)
        if isinstance(last, int):
            node[last] = change.value
            return
        raise InputError(
            change.source, f"changes.{change.path}", "cannot replace a list item whole"
        )
    if not isinstance(node, dict):
        raise InputError(change.source, f"changes.{change.path}", f"{where} is not a mapping")
    _check_type(node.get(last), change.value, change)
    node[last] = change.value


def touching(sources: Sources, file: Path) -> list[tuple[Change, list[str]]]:
    """The changes that edit `file` (a policy or events file), each with the names on its path
    as an error about the file would name them: an event process also by its position in its
    file, since its file's errors count processes (`events[3]`)."""
    found: list[tuple[Change, list[str]]] = []
    for change in sources.changes:
        steps = parse_path(change.path, change.source)
        if steps[0] not in ("policies", "events") or len(steps) < 2:
            continue
        table = sources.policies if steps[0] == "policies" else sources.events
        named = str(steps[1])
        if named not in table or table[named][0] != file:
            continue
        names = [str(step) for step in steps[1:]]
        if steps[0] == "events":
            listed = sources.event_files.get(file, {}).get("events")
            position = next((i for i, p in enumerate(listed or []) if p is table[named][1]), None)
            names = ["events", str(position), *names]
        found.append((change, names))
    return found
