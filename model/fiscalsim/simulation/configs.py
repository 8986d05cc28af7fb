"""Which engine passes a city needs for the policy variants of a run, and which variants share one.

Variants whose rules in a city pay alike (equal signatures) and whose events are drawn alike share
one engine pass: its awards are booked to each of them. A sweep changes one clause, so its
variants differ in one 就高不重复 matter only. Matters never interact in the engine (stacking,
once-only siblings, quotas and every rule's memory stay within a matter), so the matters on which
all variants of an events group agree are evaluated once, in a pass shared by all of them, and
only the matters that differ are evaluated per variant. Without this, a sweep of ten values ran
the whole city's engine ten times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from fiscalsim.engine import EngineState
from fiscalsim.rules.book import CompiledRule, RuleBook, needs_ladder_paid, needs_previous

if TYPE_CHECKING:
    from fiscalsim.simulation.model import Variant


@dataclass
class CityConfig:
    """One engine pass of a city: the rules it evaluates and the variants its awards go to."""

    book: RuleBook
    rules: list[CompiledRule]
    state: EngineState
    events: int  # index into the city's event groups
    variants: list[int] = field(default_factory=list)

    def ended(self, year: int) -> bool:
        """Whether every rule's window is over by `year`: the pass can pay nothing from then on,
        and nothing it remembers is read again, so it need not run."""
        return not any(c.open_in(year) for c in self.rules)


def _matter(book: RuleBook, compiled: CompiledRule) -> str:
    return book.matters[compiled.matter_key]


def _common_matters(
    variants: Sequence[Variant], members: list[int], covering: list[list[CompiledRule]]
) -> set[str]:
    """Matters whose rules every member variant has, with equal signatures."""
    signatures: list[dict[str, list[str]]] = []
    for position in members:
        book = variants[position].book
        by_matter: dict[str, list[str]] = {}
        for compiled in covering[position]:
            by_matter.setdefault(_matter(book, compiled), []).append(compiled.signature())
        signatures.append(by_matter)
    first = signatures[0]
    return {m for m, s in first.items() if all(other.get(m) == s for other in signatures[1:])}


def city_configs(
    variants: Sequence[Variant], places: np.ndarray, events_of: list[int], split: bool
) -> list[CityConfig]:
    """The engine passes of one city (`places`: its county-level units; `events_of[v]`: the
    event group of variant v). With `split`, matters common to the variants of an events group
    get one shared pass; else each distinct set of the city's rules gets one pass."""
    covering = [variant.book.covering(places) for variant in variants]
    configs: dict[str, CityConfig] = {}

    def add(kind: str, position: int, rules: list[CompiledRule]) -> None:
        variant = variants[position]
        key = f"{kind}@{events_of[position]}#" + "#".join(c.signature() for c in rules)
        if key not in configs:
            configs[key] = CityConfig(
                book=variant.book,
                rules=rules,
                # a pass remembers what its own rules read, not what the whole book does
                state=EngineState(
                    variant.book.n_ladders,
                    needs_ladder_paid(rules),
                    needs_previous(rules),
                    ladders=tuple(c.ladder for c in rules if c.ladder >= 0),
                ),
                events=events_of[position],
            )
        configs[key].variants.append(position)

    groups: dict[int, list[int]] = {}
    for position, group in enumerate(events_of):
        groups.setdefault(group, []).append(position)
    for members in groups.values():
        common = (
            _common_matters(variants, members, covering) if split and len(members) > 1 else set()
        )
        for position in members:
            book = variants[position].book
            shared = [c for c in covering[position] if _matter(book, c) in common]
            own = [c for c in covering[position] if _matter(book, c) not in common]
            if shared:
                add("shared", position, shared)
            if own or not shared:
                add("own", position, own)
    return list(configs.values())
