"""Compile validated policy files into the lookup tables the award engine evaluates.

Compilation does every per-rule decision once (which places and classes a rule covers, who
pays, which matter it stacks in, which reading applies) so the yearly evaluation is pure array
work over firms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from fiscalsim.facts import PREVIOUS_YEAR_FACTS
from fiscalsim.jurisdictions import LEVELS, Registry
from fiscalsim.memo import PerObject, model_json
from fiscalsim.rules.readings import resolve
from fiscalsim.rules.schema import (
    BandedQuantity,
    BaseAndIncrement,
    Condition,
    PolicyFile,
    ReadingDefaults,
    Rule,
    TieredFirstReach,
)

CLASS_CODES: tuple[str, ...] = ("01", "02", "03", "04", "05")


@dataclass(frozen=True)
class CompiledRule:
    """A costed rule with its lookups precomputed."""

    index: int
    rule: Rule
    policy: PolicyFile
    readings: ReadingDefaults
    precedence: int
    location_ok: np.ndarray  # bool per registry index
    class_ok: np.ndarray  # bool per class code 0..5 (0 unused)
    payer_shares: np.ndarray  # float (province, city, county)
    matter_key: int
    ladder: int  # column in the ladder state, -1 when the rule has no tiers
    first_year: int  # performance years in force, after the signed_year reading
    last_year: int
    cap_per_window: bool  # the cap_period reading: a cap on the firm's total over the window
    pay_each_designation: bool  # the designations reading: every variant held is paid
    thresholds_wan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    tier_amounts_wan: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def id(self) -> str:
        return self.rule.id

    def in_force(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def open_in(self, year: int) -> bool:
        """Whether the rule can still pay in `year` or later: after its last year in force,
        nothing the engine remembers for it is read again."""
        return year <= self.last_year

    def signature(self) -> str:
        """Everything that decides what this rule pays: equal signatures pay alike."""
        readings = ""
        if self.ladder >= 0:
            readings += f"{self.readings.tier_jump},{self.readings.first_reach}"
        if isinstance(self.rule.amount, BaseAndIncrement):
            readings += f",{self.readings.base_increment}"
        return "|".join(
            (
                str(self.index),
                str(self.matter_key),
                model_json(self.rule),
                readings,  # stacking is in the matter key, signed_year in the window
                f"{self.first_year}-{self.last_year}",
                f"{self.cap_per_window},{self.pay_each_designation}",
                self.policy.policy_id,
            )
        )


def _window(rule: Rule, policy: PolicyFile, readings: ReadingDefaults) -> tuple[int, int]:
    """The rule's performance years; `signed_year: excluded` drops the year of signing."""
    assert rule.years is not None  # guaranteed for costed rules by the schema
    first, last = rule.years.first, rule.years.last
    issued = policy.document.issued
    if (
        "signed_year" in policy.contested
        and readings.signed_year == "excluded"
        and issued is not None
        and first <= issued.year
    ):
        first = issued.year + 1
    return first, last


@dataclass(frozen=True)
class RuleBook:
    """Every costed rule of the loaded policies, in a fixed order, plus the uncosted ones."""

    rules: tuple[CompiledRule, ...]
    uncosted: tuple[tuple[PolicyFile, Rule], ...]
    policies: tuple[PolicyFile, ...]
    registry: Registry
    matters: tuple[str, ...]
    n_ladders: int

    @cached_property
    def share_table(self) -> np.ndarray:
        """Payer shares per rule, shape (n_rules, 3)."""
        return np.array([c.payer_shares for c in self.rules]).reshape(-1, 3)

    @cached_property
    def lag_table(self) -> np.ndarray:
        return np.array([c.rule.payment_lag_years for c in self.rules], dtype=np.int64)

    @cached_property
    def matter_table(self) -> np.ndarray:
        return np.array([c.matter_key for c in self.rules], dtype=np.int64)

    @cached_property
    def precedence_table(self) -> np.ndarray:
        return np.array([c.precedence for c in self.rules], dtype=np.int64)

    @cached_property
    def payers_named_table(self) -> np.ndarray:
        """1 where the text names the paying budgets, 0 where the payer split is an assumption."""
        return np.array([payers_named(c.rule) for c in self.rules], dtype=np.int64)

    @cached_property
    def once_per_matter(self) -> dict[int, tuple[int, ...]]:
        """Per once-only rule, every once-only rule of its 就高不重复 matter (itself included).

        A one-off award is once per firm and matter, not per clause: after GZ-2a paid a firm for
        entering a top-100 list, XW-2a and RJ-2a may not pay it for the same entry later.
        """
        groups: dict[int, list[int]] = {}
        for compiled in self.rules:
            if compiled.rule.once_per_firm:
                groups.setdefault(compiled.matter_key, []).append(compiled.index)
        return {i: tuple(group) for group in groups.values() for i in group}

    @property
    def needs_ladder_paid(self) -> bool:
        return needs_ladder_paid(self.rules)

    @property
    def needs_previous(self) -> bool:
        """Whether a rule reads last year's figures (so the engine must remember them)."""
        return needs_previous(self.rules)

    def by_id(self, rule_id: str) -> CompiledRule:
        for compiled in self.rules:
            if compiled.id == rule_id:
                return compiled
        raise KeyError(rule_id)

    def facts_used(self) -> set[str]:
        """Every fact name a rule tests or pays on."""
        return facts_used(self.rules)

    def covering(self, location_index: np.ndarray) -> list[CompiledRule]:
        """Rules whose policy covers at least one of the given locations."""
        present = np.zeros(len(self.registry.items), dtype=bool)
        present[np.unique(location_index)] = True
        return [c for c in self.rules if bool(np.any(c.location_ok & present))]


def facts_used(rules: Iterable[CompiledRule]) -> set[str]:
    """Every fact name one of the rules tests or pays on."""
    names: set[str] = set()
    for compiled in rules:
        names |= rule_facts(compiled.rule)
    return names


def needs_ladder_paid(rules: Sequence[CompiledRule]) -> bool:
    """Whether a ladder of the rules tops up (so the engine must remember what it paid)."""
    return any(c.ladder >= 0 and c.readings.tier_jump == "top_up" for c in rules)


def needs_previous(rules: Sequence[CompiledRule]) -> bool:
    """Whether one of the rules reads last year's figures (so the engine must remember them)."""
    return bool(facts_used(rules) & PREVIOUS_YEAR_FACTS)


def _conditions(rule: Rule) -> list[Condition]:
    found = list(rule.trigger) + list(rule.eligibility.conditions)
    for group in rule.eligibility.any_of:
        found.extend(group)
    for variant in getattr(rule.amount, "variants", []):
        found.extend(variant.when)
    if rule.quota is not None and rule.quota.order_by is not None:
        found.append(Condition(fact=rule.quota.order_by, at_least=0))
    return found


@PerObject
def rule_facts(rule: Rule) -> frozenset[str]:
    """Every fact name the rule tests or pays on (kept per rule: each variant asks again)."""
    names = {c.subject for c in _conditions(rule)}
    amount = rule.amount
    for attr in ("base", "fact", "count"):
        value = getattr(amount, attr, None)
        if isinstance(value, str):
            names.add(value)
    if isinstance(amount, BandedQuantity):
        names |= {amount.quantity, amount.price}
    if isinstance(amount, BaseAndIncrement):
        names.add(f"{amount.fact.removesuffix('_wan')}_prev_wan")
    if rule.eligibility.above_scale is not None:
        names.add("above_scale")
    if rule.eligibility.max_firm_age_years is not None:
        names.add("firm_age_years")
    return frozenset(names)


# How an assumption note says the text leaves the payer open ("payer: the text names no budget").
PAYER_NOT_NAMED = ("names no budget", "not stated", "no split is written")


def payers_named(rule: Rule) -> bool:
    """Whether the clause's text names who pays, judged from its `payer:` assumption note.

    Used only to break a 就高不重复 tie: where one of two equal awards names the payers and the
    other does not (XW-3 splits 市、县各50%; GZ-3 names none), the named split applies.
    """
    return not any(
        note.startswith("payer:") and any(phrase in note for phrase in PAYER_NOT_NAMED)
        for note in rule.assumption_notes
    )


def _level_rank(policy: PolicyFile, registry: Registry) -> int:
    return LEVELS.index(registry[policy.jurisdiction].level)


def compile_rules(
    policies: Sequence[PolicyFile],
    registry: Registry,
    overrides: Mapping[str, str] | None = None,
) -> RuleBook:
    """Build the rule book. Higher-level documents take precedence when stacking ties."""
    overrides = overrides or {}
    ordered = sorted(policies, key=lambda p: (_level_rank(p, registry), p.policy_id))
    compiled: list[CompiledRule] = []
    uncosted: list[tuple[PolicyFile, Rule]] = []
    matters: list[str] = []
    n_ladders = 0
    for policy in ordered:
        readings = resolve(policy.readings, overrides)
        covered = registry.coverage(policy.jurisdiction)
        for rule in policy.rules:
            if not rule.costed:
                uncosted.append((policy, rule))
                continue
            location_ok = covered.copy()
            if rule.eligibility.locations:
                location_ok &= np.logical_or.reduce(
                    [registry.coverage(place) for place in rule.eligibility.locations]
                )
            class_ok = np.zeros(6, dtype=bool)
            for code in rule.eligibility.industry_classes or CLASS_CODES:
                class_ok[int(code)] = True
            matter = str(rule.matter)
            if readings.stacking == "cumulative":
                matter = f"{matter}#{rule.id}"
            if matter not in matters:
                matters.append(matter)
            ladder = -1
            thresholds = np.zeros(0)
            tier_amounts = np.zeros(0)
            if isinstance(rule.amount, TieredFirstReach):
                ladder = n_ladders
                n_ladders += 1
                thresholds = np.array([t.threshold_wan for t in rule.amount.tiers])
                tier_amounts = np.array([t.amount_wan for t in rule.amount.tiers])
            assert rule.payers is not None  # guaranteed for costed rules by the schema
            first_year, last_year = _window(rule, policy, readings)
            compiled.append(
                CompiledRule(
                    index=len(compiled),
                    rule=rule,
                    policy=policy,
                    readings=readings,
                    precedence=len(compiled),
                    location_ok=location_ok,
                    class_ok=class_ok,
                    payer_shares=np.array(rule.payers.as_tuple(), dtype=np.float64),
                    matter_key=matters.index(matter),
                    ladder=ladder,
                    first_year=first_year,
                    last_year=last_year,
                    cap_per_window="cap_period" in rule.contested
                    and readings.cap_period == "per_window",
                    pay_each_designation="designations" in rule.contested
                    and readings.designations == "each",
                    thresholds_wan=thresholds,
                    tier_amounts_wan=tier_amounts,
                )
            )
    return RuleBook(
        rules=tuple(compiled),
        uncosted=tuple(uncosted),
        policies=tuple(ordered),
        registry=registry,
        matters=tuple(matters),
        n_ladders=n_ladders,
    )
