"""One batch of replicates moving through the years: the model in one short loop.

    for year in years:
        exit, grow, draw events, evaluate awards (the engine, once per policy variant), enter

Everything random is drawn here: a firm's own draws (exit, growth) keyed by its replicate, city,
serial number, year and component; shocks common to a city and class keyed the same way; events
and entrants from named streams per replicate and city. The award engine is deterministic, so
several policy variants evaluated on the same firms see exactly the same firms and shocks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from fiscalsim.dynamics import exit as exits
from fiscalsim.dynamics import growth as growths
from fiscalsim.dynamics.entry import entrants
from fiscalsim.dynamics.events import EventDrawer, SparseColumns, to_sparse
from fiscalsim.engine import EngineState, FactTable, YearAwards, evaluate_year
from fiscalsim.engine.state import reindex
from fiscalsim.population.synthesis import KEY_CITY, CityPlan, initial_population
from fiscalsim.rules.book import CompiledRule, RuleBook
from fiscalsim.scenario import EventProcess, Scenario
from fiscalsim.simulation.collect import Collector
from fiscalsim.simulation.firms import FirmArrays
from fiscalsim.simulation.responding import responder
from fiscalsim.simulation.streams import (
    Streams,
    firm_counter,
    keyed_uniforms,
    stream_state,
)


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


@dataclass
class EventGroup:
    """Event drawers of one city shared by the variants whose processes and years agree."""

    drawers: dict[int, EventDrawer]  # replicate -> drawer
    streams: Streams


@dataclass
class CityConfig:
    """The engine of one city for the variants whose rules there agree (evaluated once)."""

    book: RuleBook
    rules: list[CompiledRule]
    state: EngineState
    events: int  # index into the city's event groups
    variants: list[int] = field(default_factory=list)


def _event_signature(variant: Variant, city: str) -> str:
    return "|".join(
        f"{p.model_dump_json()}@{sorted(variant.event_years[p.name])}"
        for p in variant.events
        if p.city == city
    )


class World:
    def __init__(self, model: Model, replicates: list[int], collector: Collector) -> None:
        self.model = model
        self.scenario = model.scenario
        self.replicates = replicates
        self.streams = Streams(self.scenario.seed)
        self.collector = collector
        registry = model.book.registry
        self.firms, self.next_key = initial_population(
            list(model.plans),
            self.scenario.population.history,
            self.scenario.population.start_year,
            replicates,
            self.streams,
            registry,
            self.scenario.population.replicates_per_start,
        )
        self.drift = growths.drift_table(
            self.scenario.dynamics.growth,
            range(self.scenario.population.start_year, self.scenario.horizon + 1),
            [plan.city for plan in sorted(model.plans, key=lambda p: p.city_index)],
        )
        self.event_groups: dict[int, list[EventGroup]] = {}
        self.configs: dict[int, list[CityConfig]] = {}
        for plan in model.plans:
            self._configure(plan)
        for state in self.states:
            state.ensure(self.firms.n)  # each city's engine holds rows for every firm
        self.responder = responder(self)  # issue 12 hook: None unless responses are active

    def _configure(self, plan: CityPlan) -> None:
        """Share one engine pass among variants whose rules and events agree in this city."""
        registry = self.model.book.registry
        places = np.array(
            [registry.index[c] for s in plan.segments for c in s.county_weights], dtype=np.int64
        )
        groups: dict[str, int] = {}
        configs: dict[str, CityConfig] = {}
        self.event_groups[plan.city_index] = []
        for position, variant in enumerate(self.model.variants):
            events_key = _event_signature(variant, plan.city)
            if events_key not in groups:
                groups[events_key] = len(self.event_groups[plan.city_index])
                processes = [p for p in variant.events if p.city == plan.city]
                self.event_groups[plan.city_index].append(
                    EventGroup(
                        drawers={
                            r: EventDrawer(processes, registry.index, variant.event_years)
                            for r in self.replicates
                        },
                        streams=Streams(self.scenario.seed),
                    )
                )
            rules = variant.book.covering(places)
            key = events_key + "#" + "#".join(c.signature() for c in rules)
            if key not in configs:
                configs[key] = CityConfig(
                    book=variant.book,
                    rules=rules,
                    state=EngineState(variant.book.n_ladders, variant.book.needs_ladder_paid),
                    events=groups[events_key],
                )
            configs[key].variants.append(position)
        self.configs[plan.city_index] = list(configs.values())

    @property
    def states(self) -> list[EngineState]:
        return [c.state for configs in self.configs.values() for c in configs]

    # -- the yearly loop ---------------------------------------------------------------
    def run(self) -> None:
        start = self.scenario.population.start_year
        self.evaluate_awards(start, events_on=False)  # the start year sets each firm's memory
        self.collector.population(self)
        for year in self.model.years:
            self.exit(year)
            self.grow(year)
            self.evaluate_awards(year, events_on=True)
            self.enter(year)
            self.collector.population(self, year)

    # -- draws -------------------------------------------------------------------------
    def firm_uniforms(self, year: int, component: str) -> np.ndarray:
        """One uniform per living firm, keyed by (replicate, city, serial number, year, component)."""
        firms = self.firms
        states = np.array(
            [
                stream_state(self.scenario.seed, plan.city, year, component)
                for plan in self.model.plans
            ],
            dtype=np.uint64,
        )
        return keyed_uniforms(
            states[firms.city], firm_counter(firms.replicate, firms.key % KEY_CITY)
        )

    def common_shocks(self, year: int) -> np.ndarray:
        """Shock per firm common to its replicate, city and class (plus the national shock)."""
        spec = self.scenario.dynamics.growth
        firms = self.firms
        if spec.common_shock_sd == 0 and spec.national_shock_sd == 0:
            return np.zeros(1)
        replicates = np.arange(self.model.n_replicates_total, dtype=np.int64)
        national = spec.national_shock_sd * growths.normal_from_uniform(
            keyed_uniforms(
                np.full(
                    replicates.size,
                    stream_state(self.scenario.seed, "national", year, "shock"),
                    dtype=np.uint64,
                ),
                replicates.astype(np.uint64),
            )
        )
        by_class = np.zeros((len(self.model.plans), replicates.size, 6))
        for plan in self.model.plans:
            state = stream_state(self.scenario.seed, plan.city, year, "common_shock")
            counters = (replicates[:, None] * 8 + np.arange(6)).astype(np.uint64)
            uniforms = keyed_uniforms(np.full(counters.shape, state, dtype=np.uint64), counters)
            by_class[plan.city_index] = spec.common_shock_sd * growths.normal_from_uniform(uniforms)
        return (
            national[firms.replicate] + by_class[firms.city, firms.replicate, firms.industry_class]
        )

    # -- steps -------------------------------------------------------------------------
    def blocks(self) -> np.ndarray:
        return self.firms.blocks(len(self.model.plans), self.model.n_replicates_total)

    def _block(self, city: int, replicate: int, blocks: np.ndarray) -> slice:
        code = city * self.model.n_replicates_total + replicate
        return slice(int(blocks[code]), int(blocks[code + 1]))

    def exit(self, year: int) -> None:
        """Each firm exits with its hazard; survivors are kept in (city, replicate) order."""
        spec = self.scenario.dynamics.exit
        firms = self.firms
        revenue = firms.revenue_wan if spec.size_gamma else np.zeros(0)
        probability = exits.hazard(spec, year - firms.founded_year, revenue)
        survives = self.firm_uniforms(year, "exit") >= probability
        order = firms.order(self.model.n_replicates_total)  # entrants were appended last year
        keep = order[survives[order]]
        self.firms = firms.take(keep)
        for configs in self.configs.values():
            for config in configs:
                config.state = reindex(config.state, keep)

    def grow(self, year: int) -> None:
        """ln S += location(city, class, year, sigma) + common(city, class, year) + sigma * own,
        the location set so that the expected simple growth is the drift (growth.drift_table)."""
        if self.responder is not None:  # issue 12 hook: revenue back to its underlying path
            self.responder.before_growth(self, year)
        spec = self.scenario.dynamics.growth
        firms = self.firms
        offset = year - self.scenario.population.start_year
        own = growths.unit_shocks_from_uniform(spec, self.firm_uniforms(year, "growth"))
        location = self.drift[firms.city, firms.industry_class, offset]
        step = growths.log_step(
            spec,
            location,
            firms.revenue_wan,
            year - firms.founded_year,
            own,
            self.common_shocks(year),
        )
        firms.revenue_wan = firms.revenue_wan * np.exp(step)  # ln S grows by `step`
        if self.responder is not None:  # issue 12 hook: growth response, pay-back, bunching
            self.responder.after_growth(self, year)

    def facts(self, rows: slice, year: int) -> dict[str, np.ndarray]:
        firms = self.firms
        revenue = firms.revenue_wan[rows]
        return {
            "revenue_wan": revenue,
            "above_scale": (revenue >= self.scenario.population.above_scale_wan).astype(np.float64),
            "rd_expense_wan": revenue * firms.rd_share[rows],
            "prior_max_revenue_wan": firms.max_revenue_wan[rows],
            "founded_year": firms.founded_year[rows].astype(np.float64),
            "firm_age_years": (year - firms.founded_year[rows]).astype(np.float64),
            "industry_class": firms.industry_class[rows],
            "location": firms.location[rows],
        }

    def _events(
        self,
        plan: CityPlan,
        group: EventGroup,
        year: int,
        facts: dict[str, np.ndarray],
        city_rows: slice,
        blocks: np.ndarray,
    ) -> SparseColumns:
        columns: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        for r in self.replicates:
            rows = self._block(plan.city_index, r, blocks)
            if rows.stop == rows.start:
                continue
            local = slice(rows.start - city_rows.start, rows.stop - city_rows.start)
            drawer = group.drawers[r]
            rngs = {
                p.name: group.streams.get(r, plan.city, "event", p.name) for p in drawer.processes
            }
            block_facts = {k: v[local] for k, v in facts.items()}
            drawer.draw(year, block_facts, self.firms.key[rows], rngs, local.start, columns)
        return to_sparse(columns)

    def evaluate_awards(self, year: int, events_on: bool) -> None:
        blocks = self.blocks()
        n_rep = self.model.n_replicates_total
        for plan in self.model.plans:
            city_rows = slice(
                int(blocks[plan.city_index * n_rep]), int(blocks[(plan.city_index + 1) * n_rep])
            )
            if city_rows.stop == city_rows.start:
                continue
            facts = self.facts(city_rows, year)
            groups = self.event_groups[plan.city_index]
            sparse = [
                self._events(plan, g, year, facts, city_rows, blocks) if events_on else {}
                for g in groups
            ]
            dense = {
                k: facts[k]
                for k in (
                    "revenue_wan",
                    "above_scale",
                    "rd_expense_wan",
                    "prior_max_revenue_wan",
                    "founded_year",
                )
            }
            for config in self.configs[plan.city_index]:
                table = FactTable(
                    year=year,
                    firm=np.arange(city_rows.start, city_rows.stop, dtype=np.int64),
                    location=facts["location"],
                    industry_class=facts["industry_class"],
                    group=self.firms.replicate[city_rows],
                    dense=dense,
                    sparse=sparse[config.events],
                )
                awards: YearAwards = evaluate_year(config.book, table, config.state, config.rules)
                if self.responder is not None and 0 in config.variants:  # issue 12 hook
                    self.responder.awarded(self, table, awards)
                self.collector.awards(self, table, awards, config.variants)
        firms = self.firms
        firms.max_revenue_wan = np.maximum(firms.max_revenue_wan, firms.revenue_wan)

    def enter(self, year: int) -> None:
        """Entrants join at the end; the next exit step puts them in run order."""
        spec = self.scenario.dynamics.entry
        parts = [self.firms]
        registry = self.model.book.registry
        for plan in self.model.plans:
            for position, r in enumerate(self.replicates):
                rng = self.streams.get(r, plan.city, "entry")
                new = entrants(
                    spec,
                    plan,
                    r,
                    year,
                    rng,
                    registry,
                    int(self.next_key[plan.city_index, position]),
                )
                self.next_key[plan.city_index, position] += new.n  # keys of all founded
                new = exits.founding_year_survivors(self.scenario.dynamics.exit, new, rng)
                if new.n:
                    parts.append(new)
        if self.responder is not None:  # issue 12 hook: entrants the awards bring
            parts += self.responder.entrants(self, year)
        if len(parts) > 1:
            self.firms = FirmArrays.concat(parts)
            for state in self.states:
                state.ensure(self.firms.n)
