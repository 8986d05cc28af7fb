"""Events the non-revenue clauses pay for: designations, projects, funding rounds, staff.

Each process draws a Poisson number of events a year per replicate and city and gives them to
distinct eligible firms, with the amounts the clauses compute on. Every draw is keyed by the
process's name (and the firm or replicate it concerns), so adding a process never shifts
another's events and a firm's chances do not depend on which other firms exist.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numba import njit

from fiscalsim.dynamics import draws
from fiscalsim.dynamics.sampling import sample_rows
from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import Registry
from fiscalsim.population.synthesis import KEY_CITY
from fiscalsim.rules.book import CompiledRule, RuleBook, rule_facts
from fiscalsim.scenario import Amount, EventProcess
from fiscalsim.simulation.streams import firm_counter, named_uniforms

EVENT_TESTABLE_FACTS = frozenset({"revenue_wan", "above_scale", "firm_age_years"})

SparseColumns = dict[str, tuple[np.ndarray, np.ndarray]]
PLACE_CLASS = 8  # industry class codes are 1..5


def check_processes(processes: list[EventProcess], cities: list[str], source: str) -> None:
    names: set[str] = set()
    for process in processes:
        if process.name in names:
            raise InputError(source, f"event {process.name}", "event process name used twice")
        names.add(process.name)
        if process.city not in cities:
            raise InputError(
                source, f"event {process.name}.city", f"'{process.city}' is not simulated"
            )
        for condition in process.eligible:
            if condition.subject not in EVENT_TESTABLE_FACTS:
                raise InputError(
                    source,
                    f"event {process.name}.eligible",
                    f"only {sorted(EVENT_TESTABLE_FACTS)} can be tested, not '{condition.subject}'",
                )


def check_event_facts(processes: list[EventProcess], facts_used: set[str], source: str) -> None:
    """Every fact an event process sets or draws is one a loaded rule reads (no misspellings)."""
    for process in processes:
        for kind, names in (("sets", process.sets), ("draws", process.draws)):
            for name in names:
                if name in facts_used:
                    continue
                near = difflib.get_close_matches(name, sorted(facts_used), n=2, cutoff=0.6)
                hint = f"; did you mean {', '.join(near)}?" if near else ""
                raise InputError(
                    source, f"event {process.name}.{kind}.{name}", f"no loaded rule reads it{hint}"
                )


def check_rule_facts(
    rule_facts: Mapping[str, AbstractSet[str]],
    processes: list[EventProcess],
    known: set[str],
    source: str,
) -> None:
    """A fact a rule reads that nothing supplies but is one letter off one that is: a misspelling.

    `rule_facts` maps rule id -> facts it reads; `known` are the core and derived facts. Facts no
    process sets are otherwise allowed (a clause whose event is not modelled pays nothing).
    """
    supplied = set(known)
    for process in processes:
        supplied |= set(process.sets) | set(process.draws)
    for rule_id, facts in rule_facts.items():
        for name in sorted(facts - supplied):
            near = difflib.get_close_matches(name, sorted(supplied), n=1, cutoff=0.85)
            if near:
                raise InputError(
                    source,
                    f"rule {rule_id}",
                    f"reads '{name}', which nothing supplies; did you mean '{near[0]}'?",
                )


def draw_amount(amount: Amount, uniform: np.ndarray) -> np.ndarray:
    """Amounts by inverse CDF, one uniform each (keyed by the firm that receives it)."""
    if amount.fixed is not None:
        values = np.full(uniform.size, amount.fixed)
    elif amount.poisson_mean is not None:
        values = draws.poisson(uniform, amount.poisson_mean).astype(np.float64)
    else:
        assert amount.median is not None
        values = amount.median * np.exp(amount.log_sd * draws.normal(uniform))
    if amount.minimum is not None:
        values = np.maximum(values, amount.minimum)
    if amount.maximum is not None:
        values = np.minimum(values, amount.maximum)
    return values


@dataclass(frozen=True)
class CityBlock:
    """The firms of one city in a batch: facts by row, and who each row is."""

    facts: Mapping[str, np.ndarray]
    key: np.ndarray  # firm keys (unique in the batch); key % KEY_CITY is the serial number
    replicate: np.ndarray
    replicates: np.ndarray  # the batch's replicates

    @cached_property
    def place_class(self) -> np.ndarray:
        """location * PLACE_CLASS + industry class of each row."""
        location = self.facts["location"].astype(np.int64)
        return location * PLACE_CLASS + self.facts["industry_class"]

    @cached_property
    def group_of_row(self) -> np.ndarray:
        """Each row's position among the batch's replicates (its sampling group), made once a
        year and only if some process has events."""
        slot = np.full(int(self.replicates.max(initial=0)) + 1, -1, dtype=np.int64)
        slot[self.replicates] = np.arange(self.replicates.size)
        return slot[self.replicate]

    @cached_property
    def keys_ascending(self) -> bool:
        """Whether the rows' keys ascend (rows run by replicate, then serial number, so they
        do): then a firm's row is found by a search of the keys."""
        return bool(np.all(self.key[1:] > self.key[:-1]))

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """True at the rows whose firm is one of `keys` (sorted, unique): a search for each
        of the few keys, not a search of them for each of the many rows."""
        if not self.keys_ascending:
            return np.isin(self.key, keys)
        mask = np.zeros(self.key.size, dtype=bool)
        position = np.searchsorted(self.key, keys)
        inside = position < self.key.size
        position = position[inside]
        mask[position[self.key[position] == keys[inside]]] = True
        return mask


class EventDrawer:
    """Draws every process of one city for all replicates of a batch, one process at a time.

    Counts are keyed by (city, year, process, replicate); which eligible firms receive the
    events by draws keyed by (replicate, event number) (dynamics/sampling.py: uniformly, or in
    proportion to revenue, without replacement); amounts by a uniform keyed by the firm.
    """

    def __init__(
        self,
        processes: list[EventProcess],
        location_index: dict[str, int],
        years: Mapping[str, frozenset[int]],
        seed: int,
        city: str,
    ) -> None:
        self.processes = processes
        self.years = years
        self.seed = seed
        self.city = city
        size = max(location_index.values(), default=0) + 1
        # Whether a (location, class) may receive the process's events: one lookup per firm.
        self.place_ok: dict[str, np.ndarray] = {}
        for p in processes:
            places = np.zeros(size, dtype=bool)
            places[[location_index[c] for c in p.locations] or slice(None)] = True
            classes = np.zeros(PLACE_CLASS, dtype=bool)
            classes[[int(c) for c in p.industry_classes] or slice(None)] = True
            self.place_ok[p.name] = (places[:, None] & classes[None, :]).reshape(-1)
        self.picked: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(0, dtype=np.int64))

    def _eligible(
        self,
        process: EventProcess,
        year: int,
        block: CityBlock,
        busy: dict[str, np.ndarray],
        in_place: dict[bytes, np.ndarray],
    ) -> np.ndarray:
        """Rows that may receive the process's events, in row order. The rows of each set of
        places and classes are found once per block and year (`in_place`): many processes share
        one, and each test then reads only those rows."""
        facts = block.facts
        place_ok = self.place_ok[process.name]
        key = place_ok.tobytes()
        if key not in in_place:
            in_place[key] = rows_where(place_ok, block.place_class)
        candidates = in_place[key]
        if process.max_firm_age_years is not None:
            age = year - _at(facts, "founded_year", candidates)
            candidates = candidates[age <= process.max_firm_age_years]
        for condition in process.eligible:
            values = _at(facts, condition.subject, candidates)
            ok = np.ones(candidates.size, dtype=bool)
            for test, compare in (
                (condition.at_least, np.greater_equal),
                (condition.more_than, np.greater),
                (condition.at_most, np.less_equal),
                (condition.less_than, np.less),
                (condition.equals, np.equal),
            ):
                if test is not None:
                    ok &= compare(values, test)
            candidates = candidates[ok]
        for name in process.draws:
            if name in busy:
                candidates = candidates[~busy[name][candidates]]
        picked = self.picked[process.name]
        if process.once_per_firm and picked.size and candidates.size:
            candidates = candidates[~block.rows_of(picked)[candidates]]
        return candidates

    def _uniforms(self, year: int, process: str, part: str, counter: np.ndarray) -> np.ndarray:
        return named_uniforms(self.seed, (self.city, year, "event", process, part), counter)

    def _counts(self, process: EventProcess, year: int, block: CityBlock) -> np.ndarray | None:
        """Events of the process per replicate this year; None if there are none."""
        counts = draws.poisson(
            self._uniforms(year, process.name, "count", block.replicates), process.per_year
        )
        return None if not counts.any() else counts

    def draw(self, year: int, block: CityBlock) -> SparseColumns:
        """This year's events of every process, as sparse columns over the block's rows."""
        columns: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        busy: dict[str, np.ndarray] = {}
        in_place: dict[bytes, np.ndarray] = {}
        for process in self.processes:
            if year not in self.years[process.name]:
                continue
            counts = self._counts(process, year, block)
            if counts is None:
                continue
            candidates = self._eligible(process, year, block, busy, in_place)
            if candidates.size == 0:
                continue
            weights = block.facts["revenue_wan"] if process.pick == "revenue_weighted" else None

            def uniforms(part: str, counter: np.ndarray, name: str = process.name) -> np.ndarray:
                return self._uniforms(year, name, part, counter)

            chosen = candidates[
                sample_rows(
                    candidates, block.group_of_row, counts, weights, uniforms, block.replicates
                )
            ]
            if chosen.size == 0:
                continue
            chosen_counter = firm_counter(block.replicate[chosen], block.key[chosen] % KEY_CITY)
            for name, value in process.sets.items():
                columns[name].append((chosen, np.full(chosen.size, value)))
            for name, amount in process.draws.items():
                uniform = self._uniforms(year, process.name, f"amount:{name}", chosen_counter)
                columns[name].append((chosen, draw_amount(amount, uniform)))
                mask = busy.setdefault(name, np.zeros(block.key.size, dtype=bool))
                mask[chosen] = True
            if process.once_per_firm:
                self.picked[process.name] = np.union1d(self.picked[process.name], block.key[chosen])
        return to_sparse(columns)


def _at(facts: Mapping[str, np.ndarray], name: str, rows: np.ndarray) -> np.ndarray:
    """facts[name][rows]; a year's lazily made facts (engine.factview.LazyColumns) compute a
    derived fact at those rows only, if nothing has made it whole yet."""
    take = getattr(facts, "take", None)
    return take(name, rows) if take is not None else facts[name][rows]


@njit(cache=True)
def rows_where(ok: np.ndarray, code: np.ndarray) -> np.ndarray:
    """flatnonzero(ok[code]) in one pass: the rows whose place and class may receive events."""
    out = np.empty(code.size, dtype=np.int64)
    n = 0
    for i in range(code.size):  # without a branch, as factview.rows_at_least
        out[n] = i
        n += ok[code[i]]
    return out[:n]


def to_sparse(columns: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> SparseColumns:
    """Merge the pieces of each fact into sorted unique rows (the largest value wins)."""
    merged: SparseColumns = {}
    for name, pieces in columns.items():
        rows = np.concatenate([p[0] for p in pieces])
        values = np.concatenate([p[1] for p in pieces])
        order = np.lexsort((-values, rows))
        rows, values = rows[order], values[order]
        first = np.r_[True, rows[1:] != rows[:-1]]
        merged[name] = (rows[first], values[first])
    return merged


def process_places(process: EventProcess, registry: Registry, source: str) -> list[str]:
    """The places a process picks firms in: its `locations`, each its city's, or all of its
    city's. An unknown place was a KeyError; one outside the city would draw no events."""
    city = process.city
    if not registry.is_city(city):
        near = registry.suggest(city, "city")
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise InputError(
            source, f"event {process.name}.city", f"'{city}' is not a city in the registry{hint}"
        )
    for position, place in enumerate(process.locations):
        if place not in registry or not registry.covers(city, place):
            raise InputError(
                source,
                f"event {process.name}.locations[{position}]",
                f"'{place}' is not a place of {city}",
            )
    return process.locations or [j.id for j in registry.items if registry.covers(city, j.id)]


def _readers(book: RuleBook) -> list[tuple[CompiledRule, frozenset[str]]]:
    """Each rule with the facts it reads."""
    return [(c, rule_facts(c.rule)) for c in book.rules]


def _fed(
    process: EventProcess,
    readers: list[tuple[CompiledRule, frozenset[str]]],
    registry: Registry,
    source: str,
) -> list[CompiledRule]:
    """The rules a process feeds: those reading a fact it sets or draws that cover one of the
    places it picks firms in."""
    facts = set(process.sets) | set(process.draws)
    places = process_places(process, registry, source)
    where = np.array([registry.index[p] for p in places], dtype=np.int64)
    return [c for c, used in readers if facts & used and bool(np.any(c.location_ok[where]))]


def rules_fed(processes: list[EventProcess], book: RuleBook, source: str) -> dict[str, list[str]]:
    """The clauses each process feeds, by process name (what a report names a process by)."""
    readers = _readers(book)
    return {p.name: [c.id for c in _fed(p, readers, book.registry, source)] for p in processes}


def event_years(
    processes: list[EventProcess], book: RuleBook, source: str
) -> dict[str, frozenset[int]]:
    """The years each process draws events: its own `years`, or those of the rules it feeds.

    A process feeds a rule when it sets or draws a fact the rule reads and the rule covers one of
    the places the process picks firms in (`_fed`). Without its own `years` the process runs in
    every year one of those rules is in force, so extending a document's window extends the
    events its clauses pay on. A fact that no rule reads is an error, as an unknown panel column
    is: it would cost nothing and most likely is a misspelt name.
    """
    readers = _readers(book)
    read = set().union(*(used for _, used in readers)) if readers else set()
    years: dict[str, frozenset[int]] = {}
    for process in processes:
        fed = _fed(process, readers, book.registry, source)  # checks its places first
        facts = set(process.sets) | set(process.draws)
        unread = sorted(facts - read)
        if unread:
            key = "sets" if unread[0] in process.sets else "draws"
            raise InputError(
                source,
                f"event {process.name}.{key}.{unread[0]}",
                "no rule reads this fact: check its name against the policy files",
            )
        if process.years is not None:
            years[process.name] = frozenset(range(process.years[0], process.years[1] + 1))
            continue
        years[process.name] = frozenset(
            year for c in fed for year in range(c.first_year, c.last_year + 1)
        )
    return years
