"""One batch of replicates moving through the years: the model in one short loop.

    for year in years:
        exit, grow, draw events, evaluate awards (the engine, once per policy variant), enter

Everything random is drawn here: a firm's own draws (exit, growth) keyed by its replicate, city,
serial number, year and component; shocks common to a city and class keyed the same way; events
and entrants from named streams per replicate and city. The award engine is deterministic, so
several policy variants evaluated on the same firms see exactly the same firms and shocks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from fiscalsim.dynamics import growth as growths
from fiscalsim.dynamics.entry import entrants
from fiscalsim.dynamics.events import CityBlock, EventDrawer
from fiscalsim.dynamics.kernel import StepParameters, Stepped, exit_and_grow
from fiscalsim.engine import FactTable, YearAwards, evaluate_year
from fiscalsim.engine.factview import LazyColumns
from fiscalsim.memo import model_json
from fiscalsim.population.calibration_report import start_frame
from fiscalsim.population.synthesis import KEY_CITY, CityPlan, initial_population
from fiscalsim.simulation.collect import Collector
from fiscalsim.simulation.configs import CityConfig, city_configs
from fiscalsim.simulation.firms import FirmArrays
from fiscalsim.simulation.model import Model, Variant
from fiscalsim.simulation.responding import responder
from fiscalsim.simulation.streams import (
    Streams,
    firm_counter,
    keyed_uniforms,
    stream_state,
)


@dataclass
class EventGroup:
    """The event drawer of one city shared by the variants whose processes and years agree."""

    drawer: EventDrawer


def _lowest_rung(model: Model, collector: Collector) -> float:
    """The lowest first rung of the variants' ladders on revenue and of the crossing counts
    (NaN if none): every rows_at_least of revenue the year asks for is at or above it."""
    rungs = [
        float(c.thresholds_wan[0])
        for variant in model.variants
        for c in variant.book.rules
        if c.ladder >= 0 and getattr(c.rule.amount, "fact", "revenue_wan") == "revenue_wan"
    ]
    rungs += [float(t) for t in collector.thresholds[:1]]
    return min(rungs, default=np.nan)


def _event_signature(variant: Variant, city: str) -> str:
    return "|".join(
        f"{model_json(p)}@{sorted(variant.event_years[p.name])}"
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
        self.entering: FirmArrays | None = None  # last year's entrants, until the next step
        # Rows before this one are in run order. With responses on, `enter` joins the year's
        # entrants to the rows at the end (the responses work on every living firm's row), and
        # the next step merges them into run order as it merges waiting entrants.
        self.in_order = self.firms.n
        self.uncounted: int | None = None  # a year whose population the next step counts
        self.step_parameters = StepParameters.of(
            self.scenario.dynamics.exit, self.scenario.dynamics.growth
        )
        per_start = self.scenario.population.replicates_per_start
        starts = self.firms  # each start population once: every replicate has its own, as a rule
        if per_start > 1:
            starts = starts.take(np.flatnonzero(starts.replicate % per_start == 0))
        collector.start_statistics = start_frame(starts, list(model.plans), registry, self.scenario)
        # Each city's engine memory has a row per firm ever seen (its slot), given in run order.
        city_rows = self.city_rows()
        self.next_slot = np.zeros(len(model.plans), dtype=np.int64)
        for plan in model.plans:
            rows = city_rows[plan.city_index]
            self.firms.slot[rows] = np.arange(rows.stop - rows.start)
            self.next_slot[plan.city_index] = rows.stop - rows.start
        self.responder = responder(self)  # issue 12: None unless responses are active
        # The yearly pass also lists the rows at or above the lowest rung of a revenue ladder
        # (what the engine and the crossing counts start from) and last year's entrants (the
        # firms the engine has not seen): `found`, until the year's awards are evaluated. Not
        # with responses on (issue 12): they move revenue, and entrants, after the pass.
        self.watch_wan = _lowest_rung(model, collector) if self.responder is None else np.nan
        self.found: Stepped | None = None
        self.event_groups: dict[int, list[EventGroup]] = {}
        self.configs: dict[int, list[CityConfig]] = {}
        for plan in model.plans:
            self._configure(plan)

    def _configure(self, plan: CityPlan) -> None:
        """One event drawer per distinct set of the city's event processes; the engine passes
        the variants need (configs.py: matters all variants agree on are evaluated once)."""
        registry = self.model.book.registry
        places = np.array(
            [registry.index[c] for s in plan.segments for c in s.county_weights], dtype=np.int64
        )
        groups: dict[str, int] = {}
        events_of: list[int] = []
        self.event_groups[plan.city_index] = []
        for variant in self.model.variants:
            events_key = _event_signature(variant, plan.city)
            if events_key not in groups:
                groups[events_key] = len(self.event_groups[plan.city_index])
                processes = [p for p in variant.events if p.city == plan.city]
                drawer = EventDrawer(
                    processes, registry.index, variant.event_years, self.scenario.seed, plan.city
                )
                self.event_groups[plan.city_index].append(EventGroup(drawer))
            events_of.append(groups[events_key])
        # issue 12: the responses remember the first variant's awards pass by pass, so with
        # responses on, each variant keeps a single pass
        self.configs[plan.city_index] = city_configs(
            self.model.variants, places, events_of, split=self.responder is None
        )

    # -- the yearly loop ---------------------------------------------------------------
    def run(self) -> None:
        start = self.scenario.population.start_year
        self.evaluate_awards(start, events_on=False)  # the start year sets each firm's memory
        self.count_population(start)
        for year in self.model.years:
            self.step(year)
            self.evaluate_awards(year, events_on=True)
            self.enter(year)
            self.count_population(year)
        if self.uncounted is not None:  # the last year: no step follows to count it
            self.collector.population(self, self.uncounted)
            self.uncounted = None

    def count_population(self, year: int) -> None:
        """The population aggregates of the year just ended. The next step counts them as it
        reads the firms (tallies.Tally), so they cost no pass of their own; with responses on
        (issue 12), which move revenue before the next step's growth, they are counted now."""
        if self.responder is not None:
            self.collector.population(self, year)
        else:
            self.uncounted = year

    # -- draws -------------------------------------------------------------------------
    def common_shocks(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Shocks common to a replicate (national) and to its city and class, as tables
        national[replicate] and by_class[city, replicate, class]."""
        spec = self.scenario.dynamics.growth
        n_rep = self.model.n_replicates_total
        by_class = np.zeros((len(self.model.plans), n_rep, 6))
        if spec.common_shock_sd == 0 and spec.national_shock_sd == 0:
            return np.zeros(n_rep), by_class
        replicates = np.arange(n_rep, dtype=np.int64)
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
        for plan in self.model.plans:
            state = stream_state(self.scenario.seed, plan.city, year, "common_shock")
            counters = (replicates[:, None] * 8 + np.arange(6)).astype(np.uint64)
            uniforms = keyed_uniforms(np.full(counters.shape, state, dtype=np.uint64), counters)
            by_class[plan.city_index] = spec.common_shock_sd * growths.normal_from_uniform(uniforms)
        return national, by_class

    # -- steps -------------------------------------------------------------------------
    def city_rows(self) -> list[slice]:
        """Each city's rows; the rows are in run order (by city, then replicate), so two binary
        searches a city find them, not a count over every firm."""
        cities = np.arange(len(self.model.plans) + 1, dtype=self.firms.city.dtype)
        bounds = np.searchsorted(self.firms.city, cities).tolist()
        return [slice(bounds[c], bounds[c + 1]) for c in range(len(self.model.plans))]

    def step(self, year: int) -> None:
        """Exit, then growth of the survivors (one compiled pass, dynamics/kernel.py): each firm
        exits with its hazard; a survivor's ln S grows by location(city, class, year, sigma) +
        common(city, class, year) + sigma * own shock, the location set so that the expected
        simple growth is the drift (growth.drift_table). Survivors are kept in (city,
        replicate) order, last year's entrants merged in by the same pass; the engine's memory
        stays where it is (firms keep their slots)."""
        if self.responder is not None:  # issue 12: revenue back to its underlying path
            self.responder.before_growth(self, year)
        firms = self.firms
        entering = self.entering if self.entering is not None else FirmArrays()
        if self.in_order < firms.n:  # responses on: last year's entrants were joined at the end
            firms, entering = (
                firms.rows(slice(0, self.in_order)),
                firms.rows(slice(self.in_order, None)),
            )
        national, by_class = self.common_shocks(year)
        tally = None if self.uncounted is None else self.collector.tally(self, self.uncounted)
        stepped = exit_and_grow(
            self.step_parameters,
            year,
            firms.columns(),
            entering.columns(),
            self.model.n_replicates_total,
            self.city_states(year, "exit"),
            self.city_states(year, "growth"),
            self.drift[:, :, year - self.scenario.population.start_year],
            national,
            by_class,
            raise_max=self.responder is None,  # else evaluate_awards raised it
            tally=tally,  # the firms counted in the pass, last year's entrants after it
            watch_wan=self.watch_wan,
            # the year's first crossings, counted as the pass writes the survivors (not with
            # responses on: they move revenue after the pass)
            crossings=None if self.responder else self.collector.crossing_counts(year),
        )
        keep, survivors = stepped.keep, stepped.survivors
        if tally is not None:
            self.collector.count(entering, tally)
            self.uncounted = None
        self.found = stepped if self.responder is None else None
        self.firms = FirmArrays.of(survivors)  # entrants copied in once, by the pass
        self.entering = None
        self.in_order = self.firms.n
        if self.responder is not None:  # issue 12: growth response, pay-back, bunching
            self.responder.after_growth(self, year, keep)

    def firm_uniforms(self, year: int, component: str) -> np.ndarray:
        """One uniform per living firm, keyed by (replicate, city, serial number, year, component)."""
        firms = self.firms
        return keyed_uniforms(
            self.city_states(year, component)[firms.city],
            firm_counter(firms.replicate, firms.key % KEY_CITY),
        )

    def living(self) -> list[FirmArrays]:
        """Every living firm: the rows in run order, then the entrants not yet merged in."""
        return [self.firms] if self.entering is None else [self.firms, self.entering]

    def city_states(self, year: int, component: str) -> np.ndarray:
        """The keyed generator's state of each city for one year and component."""
        return np.array(
            [stream_state(self.scenario.seed, p.city, year, component) for p in self.model.plans],
            dtype=np.uint64,
        )

    def facts(self, rows: slice, year: int) -> LazyColumns:
        """The city's facts this year; the derived ones are made only if read."""
        firms = self.firms
        revenue = firms.revenue_wan[rows]
        above_scale_wan = self.scenario.population.above_scale_wan
        founded, rd_share = firms.founded_year[rows], firms.rd_share[rows]
        # derived facts, at given rows (the engine's new firms, a clause's candidates) or whole
        derived: dict[str, Callable[[Any], np.ndarray]] = {
            "above_scale": lambda at: (revenue[at] >= above_scale_wan).astype(np.float64),
            "rd_expense_wan": lambda at: revenue[at] * rd_share[at],
            "founded_year": lambda at: founded[at].astype(np.float64),
            "firm_age_years": lambda at: (year - founded[at]).astype(np.float64),
        }

        def whole(name: str) -> Callable[[], np.ndarray]:
            return lambda: derived[name](slice(None))

        return LazyColumns(
            rows.stop - rows.start,
            {
                "revenue_wan": lambda: revenue,
                "above_scale": whole("above_scale"),
                "rd_expense_wan": whole("rd_expense_wan"),
                "prior_max_revenue_wan": lambda: firms.max_revenue_wan[rows],
                "founded_year": whole("founded_year"),
                "firm_age_years": whole("firm_age_years"),
                "industry_class": lambda: firms.industry_class[rows],
                "location": lambda: firms.location[rows],
            },
            at_rows=derived,
        )

    def _found_in(self, rows: slice, facts: LazyColumns) -> np.ndarray | None:
        """The city's new rows of last year's entrants, from the yearly pass, and its rows at or
        above the watched revenue, given to the engine's cache (None without a pass)."""
        found = self.found
        if found is None:
            return None
        bounds = [rows.start, rows.stop]
        if not np.isnan(self.watch_wan):
            low, high = np.searchsorted(found.high, bounds)
            facts.at_least[("revenue_wan", self.watch_wan)] = found.high[low:high] - rows.start
        low, high = np.searchsorted(found.fresh, bounds)
        return found.fresh[low:high] - rows.start

    def evaluate_awards(self, year: int, events_on: bool) -> None:
        rows_of_city = self.city_rows()
        for plan in self.model.plans:
            city_rows = rows_of_city[plan.city_index]
            if city_rows.stop == city_rows.start:
                continue
            facts = self.facts(city_rows, year)
            new_rows = self._found_in(city_rows, facts)
            groups = self.event_groups[plan.city_index]
            block = CityBlock(
                facts=facts,
                key=self.firms.key[city_rows],
                replicate=self.firms.replicate[city_rows],
                replicates=np.asarray(self.replicates, dtype=np.int64),
            )
            sparse = [g.drawer.draw(year, block) if events_on else {} for g in groups]
            dense = facts.only(
                (
                    "revenue_wan",
                    "above_scale",
                    "rd_expense_wan",
                    "prior_max_revenue_wan",
                    "founded_year",
                )
            )
            passes: list[tuple[list[int], FactTable, YearAwards | None]] = []
            for config in self.configs[plan.city_index]:
                table = FactTable(
                    year=year,
                    firm=self.firms.slot[city_rows],
                    location=facts["location"],
                    industry_class=facts["industry_class"],
                    group=self.firms.replicate[city_rows],
                    dense=dense,
                    sparse=sparse[config.events],
                    new_rows=new_rows,
                )
                if config.ended(year):
                    passes.append((config.variants, table, None))  # no rule in force any more
                    continue
                awards = evaluate_year(config.book, table, config.state, config.rules)
                if self.responder is not None and 0 in config.variants:  # issue 12
                    self.responder.awarded(self, city_rows.start + awards.row, awards)
                passes.append((config.variants, table, awards))
            self.collector.city_year(passes, self.firms.key[city_rows])
        self.found = None  # read once: the rows move with the next pass
        if self.responder is not None:  # issue 12: the responses move revenue before the
            # next step, so the highest revenue takes in this year's here; else the step does
            firms = self.firms
            firms.max_revenue_wan = np.maximum(firms.max_revenue_wan, firms.revenue_wan)

    def _give_slots(self, new: FirmArrays) -> None:
        """Rows in their city's engine memory for new firms (never reused)."""
        for city in np.unique(new.city).tolist():
            rows = np.flatnonzero(new.city == city)
            new.slot[rows] = self.next_slot[city] + np.arange(rows.size, dtype=np.int64)
            self.next_slot[city] += rows.size

    def enter(self, year: int) -> None:
        """Entrants wait beside the firms; the next step copies them into run order (the
        engine first sees them after next exit). With responses active they are copied in now,
        because the responses' steps work on the rows of all living firms."""
        parts: list[FirmArrays] = []
        for plan in self.model.plans:
            new = entrants(
                self.scenario.dynamics.entry,
                self.scenario.dynamics.exit,
                plan,
                self.replicates,
                year,
                self.scenario.seed,
                self.model.book.registry,
                self.next_key[plan.city_index],
            )
            if new.n:
                parts.append(new)
        if self.responder is not None:  # issue 12: entrants the awards bring
            parts += self.responder.entrants(self, year)
        for new in parts:
            self._give_slots(new)
        if not parts:
            return
        self.entering = FirmArrays.concat(parts)
        if self.responder is not None:
            self.in_order = self.firms.n  # the entrants after it wait for the next step's merge
            self.firms = FirmArrays.concat([self.firms, self.entering])
            self.entering = None
