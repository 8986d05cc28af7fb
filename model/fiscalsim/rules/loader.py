"""Read policy YAML files into validated `PolicyFile`s, failing with one line per problem."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import Registry
from fiscalsim.rules.schema import Flat, PolicyFile, Rate, ShareOfHigherAward
from fiscalsim.yamlfile import read_yaml_mapping

__all__ = ["describe_validation_error", "load_policies", "parse_model", "read_yaml_mapping"]


def describe_validation_error(exc: ValidationError, raw: object) -> tuple[str, str]:
    """The first pydantic error as (field path, plain message), naming rule ids in the path.

    For a field that takes one of several types (a number or a mapping by year), pydantic
    reports why each type failed; the error of the type the value has is the one given (a
    mapping with a bad year is about the year, not "Input should be a valid number")."""
    errors = exc.errors()
    error = next((e for e in errors if not _wrong_branch(e)), errors[0])
    parts: list[str] = []
    node: object = raw
    tag_seen = 0
    for item in error["loc"]:
        if _union_label(item):
            continue  # pydantic's name of a type of the union, not a key the author wrote
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node):
                node = node[item]
                if isinstance(node, dict) and isinstance(node.get("id"), str):
                    label += f" ({node['id']})"
            else:
                node = None
            if parts:
                parts[-1] += label
            else:
                parts.append(label)
            continue
        key = str(item)
        if isinstance(node, dict) and node.get("kind") == key and id(node) != tag_seen:
            tag_seen = id(node)
            continue  # pydantic's discriminator tag, not a key the author wrote
        if isinstance(node, dict) and key in node:
            node = node[key]
        else:
            node = None
        parts.append(key)
    where = ".".join(parts) or "top level"
    kind = error["type"]
    message = str(error["msg"])
    if kind == "extra_forbidden":
        message = "unknown key"
    elif kind == "missing":
        message = "required key is missing"
    elif kind == "union_tag_invalid":
        ctx = error.get("ctx") or {}
        message = f"unknown kind '{ctx.get('tag')}' (expected one of {ctx.get('expected_tags')})"
    elif kind == "union_tag_not_found":
        message = "needs a `kind`"
    message = message.removeprefix("Value error, ")
    if error["loc"] and error["loc"][-1] == "[key]":
        message = f"the key: {message}"
    return where, message


def _union_label(item: object) -> bool:
    """A loc item naming a type of a union (`constrained-float`, `dict[...]`) or a key check."""
    return isinstance(item, str) and (
        "[" in item or item.startswith(("constrained-", "function-")) or item in _PLAIN_TYPES
    )


_PLAIN_TYPES = frozenset({"float", "int", "str", "bool", "none"})


def _wrong_branch(error: Any) -> bool:
    """A union type that the value is not of at all (a mapping given where a number is one of
    the choices): another type's error says more."""
    loc = error["loc"]
    last = loc[-1] if loc else None
    return str(error["type"]).endswith("_type") and last != "[key]" and _union_label(last)


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], raw: dict[str, Any], path: Path) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        where, message = describe_validation_error(exc, raw)
        raise InputError(path, where, message) from None


def _check_variants(policy: PolicyFile, path: Path) -> None:
    allowed = {
        Flat: {"amount_wan"},
        Rate: {"rate", "cap_wan"},
        ShareOfHigherAward: {"share", "cap_wan"},
    }
    for position, rule in enumerate(policy.rules):
        fields = allowed.get(type(rule.amount))
        variants = getattr(rule.amount, "variants", [])
        for v_position, variant in enumerate(variants):
            used = {
                name
                for name in ("amount_wan", "rate", "share", "cap_wan")
                if getattr(variant, name) is not None
            }
            if fields is not None and not used <= fields:
                extra = ", ".join(sorted(used - fields))
                raise InputError(
                    path,
                    f"rules[{position}] ({rule.id}).amount.variants[{v_position}]",
                    f"a {rule.amount.kind} variant cannot set {extra}",
                )


def _check_places(policy: PolicyFile, registry: Registry, path: Path) -> None:
    if policy.jurisdiction not in registry:
        raise InputError(path, "jurisdiction", f"unknown jurisdiction '{policy.jurisdiction}'")
    for position, rule in enumerate(policy.rules):
        for place in rule.eligibility.locations:
            if place not in registry:
                raise InputError(
                    path,
                    f"rules[{position}] ({rule.id}).eligibility.locations",
                    f"unknown jurisdiction '{place}'",
                )
            if not registry.covers(policy.jurisdiction, place):
                raise InputError(
                    path,
                    f"rules[{position}] ({rule.id}).eligibility.locations",
                    f"'{place}' is outside {policy.jurisdiction}",
                )


def load_policy_file(path: Path, registry: Registry) -> PolicyFile:
    return validate_policy(read_yaml_mapping(path), path, registry)


def validate_policy(raw: dict[str, Any], path: Path, registry: Registry) -> PolicyFile:
    """A policy file's raw mapping (as read, or after a scenario's changes), checked whole."""
    policy = parse_model(PolicyFile, raw, path)
    _check_places(policy, registry, path)
    _check_variants(policy, path)
    return policy


def policy_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their *.yaml files, sorted so every run reads them in one order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"}))
        elif path.exists():
            found.append(path)
        else:
            raise InputError(path, None, "no such file or folder")
    return found


def load_policies(paths: Sequence[Path], registry: Registry) -> list[PolicyFile]:
    """Load every policy file and check rule ids are unique across all of them."""
    files = policy_paths(paths)
    if not files:
        raise InputError(", ".join(str(p) for p in paths), None, "no policy files (*.yaml) found")
    return check_unique_rules([(path, load_policy_file(path, registry)) for path in files])


def check_unique_rules(loaded: Sequence[tuple[Path, PolicyFile]]) -> list[PolicyFile]:
    """Rule ids are unique across every loaded file (they key the ledger)."""
    policies: list[PolicyFile] = []
    owner: dict[str, Path] = {}
    for path, policy in loaded:
        for rule in policy.rules:
            if rule.id in owner:
                raise InputError(path, rule.id, f"rule id also defined in {owner[rule.id]}")
            owner[rule.id] = path
        policies.append(policy)
    return policies
