"""What a world with behavioural responses remembers, and the four hooks World calls.

World calls, when the scenario sets active responses (issue 12):
  step():            `before_growth` first (revenue back to its underlying path), `after_growth`
                     after the compiled exit and growth pass (growth response, last year's
                     bunching paid back, this year's bunching);
  evaluate_awards(): `awarded` after each engine pass that books the first variant;
  enter():           `entrants` adds the induced entrants to the year's new firms.

Everything is keyed by firm key, never by row, so exits, entrants and row order do not matter.
Induced entrants take serial numbers from INDUCED_SERIAL up, so every firm the policy does not
bring keeps its key and therefore its keyed draws: a responding world and the world without
responses differ only by the responses (common random numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from fiscalsim.dynamics import responses as rs
from fiscalsim.dynamics.entry import entrants
from fiscalsim.engine import YearAwards
from fiscalsim.population.synthesis import KEY_CITY
from fiscalsim.responses_schema import Responses
from fiscalsim.simulation.collect import tier_thresholds
from fiscalsim.simulation.firms import FirmArrays

if TYPE_CHECKING:
    from fiscalsim.simulation.world import World

INDUCED_SERIAL = KEY_CITY // 2  # serial numbers of induced entrants (above any ordinary one)
N_CLASSES = 6  # class codes 0..5 (0 unused), as in the population arrays


def responder(world: World) -> Responder | None:
    """The responder of a world whose scenario sets active responses, else None."""
    spec = world.scenario.dynamics.responses
    return Responder(world, spec) if spec is not None and spec.active else None


class Responder:
    def __init__(self, world: World, spec: Responses) -> None:
        self.spec = spec
        n_cities = len(world.model.plans)
        self.slot_of = np.full(max(world.replicates) + 1, -1, dtype=np.int64)  # replicate -> row
        self.slot_of[world.replicates] = np.arange(len(world.replicates))
        self.tiers = tier_thresholds(world.model.book)
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
        self.adjusted = empty  # reported minus underlying revenue, by key
        self.shifted = empty  # revenue pulled into last year by bunching, by key
        self.received = empty  # awards granted last year, by key
        self.grant_keys: list[np.ndarray] = []
        self.grant_amounts: list[np.ndarray] = []
        self.granted = np.zeros((n_cities, len(world.replicates), N_CLASSES))
        self.before = np.zeros(0)
        self.next_serial = np.full((n_cities, len(world.replicates)), INDUCED_SERIAL)

    # -- growth ------------------------------------------------------------------------
    def before_growth(self, world: World, year: int) -> None:
        """Revenue back to the underlying path; last year's awards become this year's."""
        firms = world.firms
        firms.revenue_wan = firms.revenue_wan - rs.lookup(firms.key, *self.adjusted)
        self.before = firms.revenue_wan.copy()
        keys = np.concatenate(self.grant_keys) if self.grant_keys else self.adjusted[0][:0]
        amounts = np.concatenate(self.grant_amounts) if self.grant_amounts else np.zeros(0)
        self.received = rs.by_key(keys, amounts)
        self.grant_keys, self.grant_amounts = [], []
        self.granted[:] = 0.0

    def after_growth(self, world: World, year: int, kept: np.ndarray) -> None:
        """Growth response on the underlying path, then last year's bunching paid back and
        this year's bunching; what is reported differs from the path by `adjusted`. `kept`:
        the rows (before the step) of the firms that survived it."""
        firms = world.firms
        self.before = self.before[kept]
        received = rs.lookup(firms.key, *self.received)
        underlying = firms.revenue_wan * np.exp(
            rs.growth_step(self.spec.growth, received, self.before)
        )
        shifted = rs.lookup(firms.key, *self.shifted)
        reported = np.where(shifted > 0, rs.pay_back(underlying, shifted), underlying)
        shift = rs.bunching_shift(
            self.spec.bunching,
            reported,
            firms.max_revenue_wan,
            self.tiers,
            self.applies(world, year),
            world.firm_uniforms(year, "bunching"),
        )
        shift[shifted > 0] = 0.0  # a firm paying back does not bunch again the same year
        reported = reported + shift
        firms.revenue_wan = reported
        self.adjusted = rs.by_key(firms.key, reported - underlying)
        self.shifted = rs.by_key(firms.key, shift)

    def applies(self, world: World, year: int) -> np.ndarray:
        """(firms, tiers): the tier pays this firm a nonzero award in `year` (its place, class)."""
        firms = world.firms
        table = np.zeros((firms.n, self.tiers.size), dtype=bool)
        if self.spec.bunching is None or self.spec.bunching.share == 0:
            return table
        for rule in world.model.book.rules:
            if rule.ladder < 0 or not rule.in_force(year):
                continue
            covered = rule.location_ok[firms.location] & rule.class_ok[firms.industry_class]
            for threshold, amount in zip(rule.thresholds_wan, rule.tier_amounts_wan, strict=True):
                if amount > 0:
                    table[:, np.searchsorted(self.tiers, threshold)] |= covered
        return table

    # -- awards ------------------------------------------------------------------------
    def awarded(self, world: World, rows: np.ndarray, awards: YearAwards) -> None:
        """Remember the first variant's awards of the year (`rows`: the awarded firms' rows in
        the world), by firm and by (city, replicate, class) for the entry response."""
        if awards.n == 0:
            return
        firms = world.firms
        self.grant_keys.append(firms.key[rows])
        self.grant_amounts.append(awards.amount_wan)
        slots = self.slot_of[firms.replicate[rows]]
        np.add.at(
            self.granted,
            (firms.city[rows].astype(np.int64), slots, firms.industry_class[rows].astype(np.int64)),
            awards.amount_wan,
        )

    # -- entry -------------------------------------------------------------------------
    def entrants(self, world: World, year: int) -> list[FirmArrays]:
        """Induced entrants of the year: Poisson, from their own stream and serial numbers."""
        spec = self.spec.entry
        if spec is None or spec.semi_elasticity == 0:
            return []
        firms = world.firms
        revenue = np.zeros_like(self.granted)
        slots = self.slot_of[firms.replicate]
        np.add.at(
            revenue,
            (firms.city.astype(np.int64), slots, firms.industry_class.astype(np.int64)),
            firms.revenue_wan,
        )
        rates = rs.award_rate(self.granted, revenue)
        entry = world.scenario.dynamics.entry
        parts: list[FirmArrays] = []
        for plan in world.model.plans:
            base = np.zeros(N_CLASSES)
            for code, mean in entry.per_year.get(plan.city, {}).items():
                base[int(code)] = mean
            for position, r in enumerate(world.replicates):
                means = rs.extra_entry_means(spec, base, rates[plan.city_index, position])
                if not means.any():
                    continue
                wanted = {f"{c:02d}": float(means[c]) for c in range(1, N_CLASSES) if means[c]}
                extra = entry.model_copy(
                    update={"per_year": {plan.city: wanted}, "recruited": None}
                )
                serials = self.next_serial[plan.city_index, position : position + 1]
                new = entrants(
                    extra,
                    world.scenario.dynamics.exit,
                    plan,
                    [r],
                    year,
                    world.scenario.seed,
                    world.model.book.registry,
                    serials,  # advanced in place
                    stream="entry_response",
                )
                if new.n:
                    parts.append(new)
        return parts
