"""What every batch of a simulation shares: the scenario, the policy variants evaluated on the
same firms, and the city plans their populations are drawn from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from fiscalsim.population.synthesis import CityPlan
from fiscalsim.rules.book import RuleBook
from fiscalsim.scenario import EventProcess, Scenario


@dataclass(frozen=True)
class Variant:
    """One policy variant evaluated on the simulated firms: its rules and its events' years."""

    name: str
    book: RuleBook
    event_years: Mapping[str, frozenset[int]]
    events: tuple[EventProcess, ...]


@dataclass(frozen=True)
class Model:
    """What every batch shares: the dynamics, the city plans and the policy variants."""

    scenario: Scenario
    variants: tuple[Variant, ...]
    plans: tuple[CityPlan, ...]
    n_replicates_total: int

    @property
    def book(self) -> RuleBook:
        """The first (base) variant's rules."""
        return self.variants[0].book

    @property
    def years(self) -> range:
        return range(self.scenario.population.start_year + 1, self.scenario.horizon + 1)

    @property
    def places(self) -> np.ndarray:
        """The county-level units the model's firms can be in (registry indices, ascending):
        the place axis of the population and first-crossing arrays, which are kept for these
        places only, not for every unit of the registry (a fifth of them in the baseline)."""
        registry = self.book.registry
        return np.array(
            sorted(
                {
                    registry.index[c]
                    for p in self.plans
                    for s in p.segments
                    for c in s.county_weights
                }
            ),
            dtype=np.int64,
        )
