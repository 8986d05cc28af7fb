"""Resolve the budget process's parameters: defaults file, scenario block, command line.

The result holds arrays indexed like the rule book and the registry, so the event model does no
look-ups. Everything a user can get wrong (an unknown clause, bureau or jurisdiction, a
malformed `--appropriation`) is an InputError naming the file or option, before any work.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import Registry
from fiscalsim.paths import DATA_DIR, portable
from fiscalsim.process.schema import Government, ProcessFile, ProcessSettings, Wan
from fiscalsim.rules.book import RuleBook
from fiscalsim.rules.loader import parse_model
from fiscalsim.yamlfile import read_yaml_mapping

DEFAULTS_FILE = DATA_DIR / "process" / "budget_process.yaml"


@dataclass(frozen=True)
class ProcessParams:
    """Everything the event model needs, indexed by rule (book order) and registry position."""

    month_weights: np.ndarray  # (12,) share of filings in each calendar month of year t+1
    capacity: np.ndarray  # (places,) applications a month each reviewing bureau decides
    approval: np.ndarray  # (rules,) probability a qualifying application is approved
    quota: np.ndarray  # (rules,) approvals a calendar year, -1 for no quota
    delay_months: int
    appropriation: dict[int, dict[int | None, float]] = field(default_factory=dict)
    sources: dict[str, Any] = field(default_factory=dict)

    def appropriation_of(self, place: int, year: int) -> float:
        """The yearly appropriation of a paying budget (万元), infinite where none is set."""
        by_year = self.appropriation.get(place)
        if by_year is None:
            return math.inf
        if year in by_year:
            return by_year[year]
        return by_year.get(None, math.inf)


def parse_appropriation_options(values: Sequence[str]) -> dict[str, float]:
    """`--appropriation ID=WAN` (repeatable) as {id: 万元 a year}."""
    found: dict[str, float] = {}
    for value in values:
        name, sep, amount = value.partition("=")
        try:
            wan = float(amount)
        except ValueError:
            wan = math.nan
        if not sep or not name.strip() or not math.isfinite(wan) or wan < 0:
            raise InputError(
                "--appropriation", value, "write JURISDICTION=WAN with 万元 a year at or above 0"
            )
        try:  # the bound a scenario's appropriation_wan has
            wan = TypeAdapter(Wan).validate_python(wan)
        except ValidationError as error:
            raise InputError("--appropriation", value, error.errors()[0]["msg"]) from None
        if name.strip() in found:
            raise InputError("--appropriation", value, f"{name.strip()} is given twice")
        found[name.strip()] = wan
    return found


def _place(registry: Registry, name: str, source: str | Path, where: str) -> int:
    if name not in registry.index:
        known = registry.resolve(name)
        hint = f"; write the id '{known}'" if known else ""
        raise InputError(source, where, f"'{name}' is not a jurisdiction in the registry{hint}")
    return registry.index[name]


def _governments(
    governments: Mapping[str, Government], registry: Registry, path: Path
) -> dict[int, dict[int | None, float]]:
    found: dict[int, dict[int | None, float]] = {}
    for name, figures in governments.items():
        place = _place(registry, name, path, f"budget.governments.{name}")
        value = figures.appropriation_wan
        if value is None:
            continue
        by_year: dict[int | None, float] = {}
        if isinstance(value, dict):
            by_year.update(value.items())
        else:
            by_year[None] = float(value)
        found[place] = by_year
    return found


def load_defaults(settings: ProcessSettings, scenario_path: Path) -> tuple[Path, ProcessFile]:
    path = (scenario_path.parent / settings.file).resolve() if settings.file else DEFAULTS_FILE
    if not path.is_file():
        raise InputError(scenario_path, "process.file", f"{path} does not exist")
    return path, parse_model(ProcessFile, read_yaml_mapping(path), path)


def resolve_params(
    settings: ProcessSettings,
    governments: Mapping[str, Government],
    book: RuleBook,
    scenario_path: Path,
    appropriation_options: Mapping[str, float] | None = None,
) -> ProcessParams:
    """Merge defaults, scenario and command line, and check every name against book/registry."""
    registry = book.registry
    defaults_path, defaults = load_defaults(settings, scenario_path)
    application = settings.application or defaults.application
    review = settings.review or defaults.review
    approval = settings.approval or defaults.approval
    payment = settings.payment or defaults.payment
    rule_index = {c.id: i for i, c in enumerate(book.rules)}
    named = [f"quotas.{n}" for n in settings.quotas]
    named += [f"approval.by_clause.{n}" for n in (approval.by_clause if settings.approval else {})]
    for where in named:
        name = where.rsplit(".", 1)[1]
        if name not in rule_index:
            raise InputError(
                scenario_path,
                f"process.{where}",
                f"no clause '{name}' in the scenario's policies",
            )
    weights = np.zeros(12)
    for month, share in application.month_weights.items():
        weights[month - 1] = share
    capacity = np.full(len(registry.items), review.capacity_per_month, dtype=np.int64)
    review_file = scenario_path if settings.review else defaults_path
    prefix = "process.review" if settings.review else "review"
    for name, value in review.by_bureau.items():
        capacity[_place(registry, name, review_file, f"{prefix}.by_bureau.{name}")] = value
    probability = np.full(len(book.rules), approval.probability)
    for name, p in approval.by_clause.items():
        if name in rule_index:
            probability[rule_index[name]] = p
    quota = np.full(len(book.rules), -1, dtype=np.int64)
    quotas = {**defaults.quotas, **settings.quotas}
    for name, spec in quotas.items():
        if name in rule_index:
            quota[rule_index[name]] = spec.per_year
    appropriation = _governments(governments, registry, scenario_path)
    for name, wan in (appropriation_options or {}).items():
        appropriation[_place(registry, name, "--appropriation", f"{name}={wan:g}")] = {None: wan}
    parts = (  # each part: what is in force, and what the scenario gave (None: the defaults)
        ("application", application, settings.application),
        ("review", review, settings.review),
        ("approval", approval, settings.approval),
        ("payment", payment, settings.payment),
    )
    sources = {
        "defaults_file": portable(defaults_path),
        **{name: part.source for name, part, _given in parts},
        "quotas": {  # the clauses the scenario loads (the defaults name other documents' too)
            k: {
                "per_year": v.per_year,
                "source": v.source,
                "source_zh": v.source_zh or "",
                "from": portable(scenario_path if k in settings.quotas else defaults_path),
            }
            for k, v in quotas.items()
            if k in rule_index
        },
        # which file each part comes from: the scenario's own, or the defaults
        **{
            f"{name}_from": portable(scenario_path if given is not None else defaults_path)
            for name, _part, given in parts
        },
        # the same in Chinese, for a Chinese report's list of assumptions
        **{f"{name}_zh": part.source_zh or "" for name, part, _given in parts},
    }
    return ProcessParams(
        month_weights=weights,
        capacity=capacity,
        approval=probability,
        quota=quota,
        delay_months=payment.delay_months,
        appropriation=appropriation,
        sources=sources,
    )


def params_for_run(
    process: ProcessSettings | None,
    governments: Mapping[str, Government],
    book: RuleBook,
    scenario_path: Path,
    switch: bool | None = None,
    appropriation_options: Mapping[str, float] | None = None,
) -> ProcessParams | None:
    """The process's parameters if it runs, else None.

    It runs when the scenario's `process.enabled` says so or an appropriation is given (in the
    scenario or with `--appropriation`); `switch` (`--process/--no-process`) decides over both.
    """
    limited = bool(appropriation_options) or any(
        g.appropriation_wan is not None for g in governments.values()
    )
    enabled = (process.enabled if process is not None else False) or limited
    if switch is not None:
        enabled = switch
    if not enabled:
        return None
    return resolve_params(
        process or ProcessSettings(), governments, book, scenario_path, appropriation_options
    )


def unused_appropriations(
    params: ProcessParams, book: RuleBook, places: Sequence[int], years: range
) -> list[str]:
    """The appropriations a run cannot use, said once each: a government no clause of the
    scenario pays from in the places simulated, or a year the budget process does not run.
    Such an appropriation limits nothing, so a bureau's "what if we had only 1500 万" shows
    no arrears for a reason it should be told."""
    registry = book.registry
    payers: set[int] = set()
    for compiled in book.rules:
        paying_levels = np.flatnonzero(book.share_table[compiled.index] > 0)
        for place in places:
            if compiled.location_ok[place]:
                payers.update(int(p) for p in registry.payer_index[place, paying_levels] if p >= 0)
    found: list[str] = []
    for place, by_year in params.appropriation.items():
        name = registry.items[place].id
        if place not in payers:
            found.append(
                f"appropriation of {name}: no clause of this scenario pays from its budget in "
                "the places simulated, so it limits nothing"
            )
            continue
        outside = sorted(y for y in by_year if y is not None and y not in years)
        if outside:
            listed = ", ".join(str(y) for y in outside)
            found.append(
                f"appropriation of {name} for {listed}: the budget process pays cash in "
                f"{years.start}–{years.stop - 1} only, so it limits nothing"
            )
    return found
