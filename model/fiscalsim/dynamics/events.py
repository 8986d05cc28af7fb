"""Events the non-revenue clauses pay for: designations, projects, funding rounds, staff.

Each process draws a Poisson number of events a year per replicate and city and gives them to
distinct eligible firms, with the amounts the clauses compute on. Draws come from the process's
own named stream, so adding a process never shifts another's events.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from fiscalsim.errors import InputError
from fiscalsim.rules.book import RuleBook, rule_facts
from fiscalsim.scenario import Amount, EventProcess

EVENT_TESTABLE_FACTS = frozenset({"revenue_wan", "above_scale", "firm_age_years"})

SparseColumns = dict[str, tuple[np.ndarray, np.ndarray]]


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
    rule_facts: dict[str, set[str]], processes: list[EventProcess], known: set[str], source: str
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


def draw_amount(amount: Amount, rng: np.random.Generator, n: int) -> np.ndarray:
    if amount.fixed is not None:
        values = np.full(n, amount.fixed)
    elif amount.poisson_mean is not None:
        values = rng.poisson(amount.poisson_mean, n).astype(np.float64)
    else:
        assert amount.median is not None
        values = amount.median * np.exp(amount.log_sd * rng.standard_normal(n))
    if amount.minimum is not None:
        values = np.maximum(values, amount.minimum)
    if amount.maximum is not None:
        values = np.minimum(values, amount.maximum)
    return values


class EventDrawer:
    """Draws every process of one city for one replicate block and year."""

    def __init__(
        self,
        processes: list[EventProcess],
        location_index: dict[str, int],
        years: Mapping[str, frozenset[int]],
    ) -> None:
        self.processes = processes
        self.location_index = location_index
        self.years = years
        self.picked: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(0, dtype=np.int64))

    def _eligible(
        self,
        process: EventProcess,
        year: int,
        facts: dict[str, np.ndarray],
        keys: np.ndarray,
        busy: dict[str, np.ndarray],
    ) -> np.ndarray:
        ok = np.ones(keys.size, dtype=bool)
        if process.industry_classes:
            ok &= np.isin(facts["industry_class"], [int(c) for c in process.industry_classes])
        if process.locations:
            ok &= np.isin(facts["location"], [self.location_index[c] for c in process.locations])
        if process.max_firm_age_years is not None:
            ok &= (year - facts["founded_year"]) <= process.max_firm_age_years
        for condition in process.eligible:
            values = facts[condition.subject]
            for test, compare in (
                (condition.at_least, np.greater_equal),
                (condition.more_than, np.greater),
                (condition.at_most, np.less_equal),
                (condition.less_than, np.less),
                (condition.equals, np.equal),
            ):
                if test is not None:
                    ok &= compare(values, test)
        for name in process.draws:
            if name in busy:
                ok &= ~busy[name]
        if process.once_per_firm and self.picked[process.name].size:
            ok &= ~np.isin(keys, self.picked[process.name])
        return np.flatnonzero(ok)

    def draw(
        self,
        year: int,
        facts: dict[str, np.ndarray],
        keys: np.ndarray,
        rng_for: dict[str, np.random.Generator],
        offset: int,
        columns: dict[str, list[tuple[np.ndarray, np.ndarray]]],
    ) -> None:
        """Add this block's events to `columns` (rows shifted by `offset`)."""
        busy: dict[str, np.ndarray] = {}
        for process in self.processes:
            if year not in self.years[process.name]:
                continue
            rng = rng_for[process.name]
            count = int(rng.poisson(process.per_year))
            if count == 0:
                continue
            candidates = self._eligible(process, year, facts, keys, busy)
            if candidates.size == 0:
                continue
            count = min(count, candidates.size)
            if process.pick == "revenue_weighted":
                weight = facts["revenue_wan"][candidates]
                chosen = rng.choice(candidates, size=count, replace=False, p=weight / weight.sum())
            else:
                chosen = rng.choice(candidates, size=count, replace=False)
            chosen = np.sort(chosen)
            for name, value in process.sets.items():
                columns[name].append((chosen + offset, np.full(count, value)))
            for name, amount in process.draws.items():
                columns[name].append((chosen + offset, draw_amount(amount, rng, count)))
                mask = busy.setdefault(name, np.zeros(keys.size, dtype=bool))
                mask[chosen] = True
            if process.once_per_firm:
                self.picked[process.name] = np.union1d(self.picked[process.name], keys[chosen])


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


def event_years(
    processes: list[EventProcess], book: RuleBook, source: str
) -> dict[str, frozenset[int]]:
    """The years each process draws events: its own `years`, or those of the rules it feeds.

    A process feeds a rule when it sets or draws a fact the rule reads and the rule covers one of
    the places the process picks firms in. Without its own `years` the process runs in every
    year one of those rules is in force, so extending a document's window extends the events
    its clauses pay on. A fact that no rule reads is an error, as an unknown panel column is:
    it would cost nothing and most likely is a misspelt name.
    """
    registry = book.registry
    readers = [(c, rule_facts(c.rule)) for c in book.rules]
    years: dict[str, frozenset[int]] = {}
    for process in processes:
        facts = set(process.sets) | set(process.draws)
        places = process.locations or [
            j.id for j in registry.items if registry.covers(process.city, j.id)
        ]
        where = np.array([registry.index[p] for p in places], dtype=np.int64)
        fed = [c for c, used in readers if facts & used]
        read = set().union(*(used for _, used in readers)) if readers else set()
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
        found: set[int] = set()
        for compiled in fed:
            if np.any(compiled.location_ok[where]):
                found.update(range(compiled.first_year, compiled.last_year + 1))
        years[process.name] = frozenset(found)
    return years
