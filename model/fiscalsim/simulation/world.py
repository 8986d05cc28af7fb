"""One batch of replicates moving through the years: the model in one short loop.

    for year in years:
        exit, grow, draw events, evaluate awards (the engine), book them, enter

Everything random is drawn here, per replicate and city from named streams; the award engine
itself is deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from fiscalsim.dynamics import exit as exits
from fiscalsim.dynamics import growth as growths
from fiscalsim.dynamics.entry import entrants
from fiscalsim.dynamics.events import EventDrawer, to_sparse
from fiscalsim.engine import EngineState, FactTable, YearAwards, evaluate_year
from fiscalsim.engine.state import reindex
from fiscalsim.population.synthesis import CityPlan, initial_population
from fiscalsim.rules.book import CompiledRule, RuleBook
from fiscalsim.scenario import Scenario
from fiscalsim.simulation.collect import Collector
from fiscalsim.simulation.firms import FirmArrays
from fiscalsim.simulation.streams import Streams


@dataclass(frozen=True)
class Model:
    """What every batch shares: the scenario, the compiled rules and the city plans."""

    scenario: Scenario
    book: RuleBook
    plans: tuple[CityPlan, ...]
    n_replicates_total: int

    @property
    def years(self) -> range:
        return range(self.scenario.population.start_year + 1, self.scenario.horizon + 1)


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
        self.state = EngineState(model.book.n_ladders, model.book.needs_ladder_paid)
        self.drift = growths.drift_table(
            self.scenario.dynamics.growth,
            range(self.scenario.population.start_year, self.scenario.horizon + 1),
            [plan.city for plan in sorted(model.plans, key=lambda p: p.city_index)],
        )
        self.rules: dict[int, list[CompiledRule]] = {
            plan.city_index: model.book.covering(
                np.array(
                    [registry.index[c] for s in plan.segments for c in s.county_weights],
                    dtype=np.int64,
                )
            )
            for plan in model.plans
        }
        processes_by_city: dict[str, list[object]] = defaultdict(list)
        for process in self.scenario.dynamics.events:
            processes_by_city[process.city].append(process)
        self.drawers = {
            (plan.city_index, r): EventDrawer(list(processes_by_city[plan.city]), registry.index)  # type: ignore[arg-type]
            for plan in model.plans
            for r in replicates
        }

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

    # -- steps -------------------------------------------------------------------------
    def blocks(self) -> np.ndarray:
        return self.firms.blocks(len(self.model.plans), self.model.n_replicates_total)

    def _block(self, city: int, replicate: int, blocks: np.ndarray) -> slice:
        code = city * self.model.n_replicates_total + replicate
        return slice(int(blocks[code]), int(blocks[code + 1]))

    def exit(self, year: int) -> None:
        """Exits, drawn per (city, replicate) run; survivors are compacted back into run order."""
        spec = self.scenario.dynamics.exit
        firms = self.firms
        revenue = self.firms.revenue_wan if spec.size_gamma else np.zeros(0)
        probability = exits.hazard(spec, year - firms.founded_year, revenue)
        code = firms.city.astype(np.int64) * self.model.n_replicates_total + firms.replicate
        order = np.argsort(code, kind="stable")  # entrants were appended last year
        starts = np.concatenate(
            [
                [0],
                np.cumsum(
                    np.bincount(
                        code, minlength=len(self.model.plans) * self.model.n_replicates_total
                    )
                ),
            ]
        )
        draws = np.empty(firms.n)  # uniforms in run order, one stream per run
        for plan in self.model.plans:
            for r in self.replicates:
                b = plan.city_index * self.model.n_replicates_total + r
                rng = self.streams.get(r, plan.city, "exit")
                draws[starts[b] : starts[b + 1]] = rng.uniform(size=int(starts[b + 1] - starts[b]))
        chance = probability[order] if isinstance(probability, np.ndarray) else probability
        keep = order[draws >= chance]
        self.firms = firms.take(keep)
        self.state = reindex(self.state, keep)

    def grow(self, year: int) -> None:
        """ln S += location(city, class, year, sigma) + common(city, class, year) + sigma * own,
        the location set so that the expected simple growth is the drift (growth.drift_table)."""
        spec = self.scenario.dynamics.growth
        firms = self.firms
        offset = year - self.scenario.population.start_year
        own, common = self._shocks()
        location = self.drift[firms.city, firms.industry_class, offset]
        step = growths.log_step(
            spec, location, firms.revenue_wan, year - firms.founded_year, own, common
        )
        firms.revenue_wan = firms.revenue_wan * np.exp(step)  # ln S grows by `step`

    def _shocks(self) -> tuple[np.ndarray, np.ndarray]:
        """Each firm's unit shock and the shock common to its replicate, city and class."""
        spec = self.scenario.dynamics.growth
        firms = self.firms
        own = np.empty(firms.n)
        shared = spec.common_shock_sd > 0 or spec.national_shock_sd > 0
        common = np.zeros(firms.n if shared else 1)
        blocks = self.blocks()
        for r in self.replicates:
            national = 0.0
            if shared:
                national = (
                    spec.national_shock_sd
                    * self.streams.get(r, "national", "shock").standard_normal()
                )
            for plan in self.model.plans:
                rows = self._block(plan.city_index, r, blocks)
                own[rows] = growths.unit_shocks(
                    spec, self.streams.get(r, plan.city, "growth"), rows.stop - rows.start
                )
                if shared:
                    by_class = growths.common_shocks(
                        spec, self.streams.get(r, plan.city, "common_shock")
                    )
                    common[rows] = national + by_class[firms.industry_class[rows]]
        return own, common

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
            columns: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
            if events_on:
                for r in self.replicates:
                    rows = self._block(plan.city_index, r, blocks)
                    if rows.stop == rows.start:
                        continue
                    local = slice(rows.start - city_rows.start, rows.stop - city_rows.start)
                    drawer = self.drawers[(plan.city_index, r)]
                    rngs = {
                        p.name: self.streams.get(r, plan.city, "event", p.name)
                        for p in drawer.processes
                    }
                    block_facts = {k: v[local] for k, v in facts.items()}
                    drawer.draw(year, block_facts, self.firms.key[rows], rngs, local.start, columns)
            table = FactTable(
                year=year,
                firm=np.arange(city_rows.start, city_rows.stop, dtype=np.int64),
                location=facts["location"],
                industry_class=facts["industry_class"],
                group=self.firms.replicate[city_rows],
                dense={
                    k: facts[k]
                    for k in (
                        "revenue_wan",
                        "above_scale",
                        "rd_expense_wan",
                        "prior_max_revenue_wan",
                        "founded_year",
                    )
                },
                sparse=to_sparse(columns),
            )
            awards: YearAwards = evaluate_year(
                self.model.book, table, self.state, self.rules[plan.city_index]
            )
            self.collector.awards(self, table, awards)
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
        if len(parts) > 1:
            self.firms = FirmArrays.concat(parts)
            self.state.ensure(self.firms.n)
