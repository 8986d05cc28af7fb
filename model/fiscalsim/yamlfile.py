"""The one way fiscalsim reads YAML: strict, bounded, and failing with one line naming file and line.

PyYAML's `safe_load` lets a second `rules:` key silently replace the first, turns `.inf` into a
float, and expands aliases without limit (a 28 KB file of nested aliases takes minutes and
gigabytes). Every YAML file of the project (policies, scenarios, events, budgets, calibration,
jurisdictions) goes through `load_yaml` instead, which refuses all three.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from fiscalsim.errors import InputError

MAX_BYTES = 5_000_000  # the largest project file is ~60 KB
MAX_DEPTH = 40  # the deepest project file nests ~10 levels
MAX_ALIASES = 500  # uses of `*anchor` in one file
MAX_NODES = 500_000  # nodes after expanding every alias
MAX_NUMBER = 1e15  # no amount, count or parameter of the model comes near this
MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """A problem found while parsing, with the line it was found on."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


# libyaml's parser (PyYAML's C extension) reads the project's files several times faster than the
# pure-Python one; the limits are then checked on the composed tree, before anything is built.
_Parser: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_Parser):  # type: ignore[misc]
    """SafeLoader that refuses duplicate keys, deep nesting, alias bombs and absurd numbers."""

    def get_single_node(self) -> Node | None:
        node = super().get_single_node()
        if node is not None:
            _check_nesting(node)
            _check_expanded_size(node)
        return node

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == MERGE_TAG or not isinstance(key_node, ScalarNode):
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise _Refused(
                    _line(key_node),
                    f"duplicate key '{key}' (first at line {seen[key]}); "
                    "YAML would silently keep only the last one",
                )
            seen[key] = _line(key_node)
        return super().construct_mapping(node, deep=deep)


def _checked_number(value: float, node: Node) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise _Refused(_line(node), f"'{node.value}' is not a finite number")
    if abs(value) > MAX_NUMBER:
        raise _Refused(_line(node), f"{node.value} is out of range (at most {MAX_NUMBER:g})")


def _construct_float(loader: StrictLoader, node: ScalarNode) -> float:
    value = float(loader.construct_yaml_float(node))
    _checked_number(value, node)
    return value


def _construct_int(loader: StrictLoader, node: ScalarNode) -> int:
    value = int(loader.construct_yaml_int(node))
    if abs(value) > 2**63 - 1:
        raise _Refused(_line(node), f"{node.value} is out of range")
    return value


# YAML 1.2 reads 1e6 and 1.5e-3 as numbers; PyYAML (YAML 1.1) would read them as text.
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
StrictLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _check_nesting(root: Node) -> None:
    """Refuse, in document order, the first use of an alias beyond the limit and the first node
    nested deeper than the limit. An alias is a second reference to a node already seen."""
    seen: set[int] = set()
    aliases = 0
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Refused(_line(node), f"more than {MAX_ALIASES} aliases (*name)")
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _Refused(_line(node), f"nested more than {MAX_DEPTH} levels deep")
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        stack.extend((child, depth + 1) for child in reversed(children))


def _check_expanded_size(root: Node) -> None:
    """Count the nodes a consumer would walk with every alias expanded; refuse cycles and bombs."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Refused(_line(node), "an alias refers to the node that contains it")
        active.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        if total > MAX_NODES:
            raise _Refused(
                _line(node), f"aliases expand to more than {MAX_NODES:,} values; write it out"
            )
        sizes[key] = total
        return total

    size(root)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file strictly; any problem is an InputError naming the file and line."""
    try:
        if path.is_dir():
            raise InputError(path, None, "is a folder, not a file")
        if path.stat().st_size > MAX_BYTES:
            raise InputError(path, None, f"is larger than {MAX_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(path, None, "no such file") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InputError(path, None, "is not UTF-8 text (save it as UTF-8)") from None
    if not text.strip():
        raise InputError(path, None, "the file is empty")
    try:
        return yaml.load(text, Loader=StrictLoader)
    except _Refused as exc:
        raise InputError(path, f"line {exc.line}" if exc.line else None, exc.message) from None
    except RecursionError:
        raise InputError(path, None, f"nested more than {MAX_DEPTH} levels deep") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or "is not valid YAML"
        raise InputError(path, where, f"invalid YAML: {problem}") from None


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Parse a YAML file that must hold a mapping; empty and non-mapping files are errors."""
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        kind = type(raw).__name__ if raw is not None else "nothing"
        raise InputError(path, None, f"the top level must be a mapping, found {kind}")
    return raw
