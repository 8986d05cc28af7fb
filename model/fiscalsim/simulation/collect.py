"""What a batch keeps: every award (for the ledger and budget tables), population aggregates,
first crossings of each tier, and optionally replicate 0's firm-year panel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numba import njit

from fiscalsim.dynamics.tallies import Crossings, Tally, count_crossings, count_firm
from fiscalsim.engine import FactTable, YearAwards
from fiscalsim.rules.book import RuleBook
from fiscalsim.simulation.firms import FirmArrays

if TYPE_CHECKING:
    from fiscalsim.simulation.world import World

LEDGER_FIELDS = (
    "replicate",
    "firm_key",
    "rule",
    "location",
    "performance_year",
    "payment_year",
    "amount_wan",
    "province_wan",
    "city_wan",
    "county_wan",
    "province_payer",
    "city_payer",
    "county_payer",
)


def tier_thresholds(book: RuleBook) -> np.ndarray:
    """Every revenue threshold of a revenue ladder, for the first-crossing counts."""
    values = [t for c in book.rules if c.ladder >= 0 for t in c.thresholds_wan]
    return np.unique(np.array(values, dtype=np.float64))


class Collector:
    def __init__(
        self,
        book: RuleBook,
        replicates: list[int],
        start_year: int,
        horizon: int,
        panel_replicate: int | None,
        places: np.ndarray,
        n_variants: int = 1,
    ) -> None:
        self.book = book
        self.replicates = replicates
        self.slot_of = np.full(max(replicates) + 1, -1, dtype=np.int64)  # replicate -> row here
        self.slot_of[replicates] = np.arange(len(replicates))
        self.start_year = start_year
        n_years = horizon - start_year + 1
        # The place axis holds `places` (Model.places), in order: a unit's column is
        # place_column[its registry index] (-1 for a unit no firm can be in).
        self.places = places
        self.place_column = np.full(len(book.registry.items), -1, dtype=np.int64)
        self.place_column[places] = np.arange(places.size)
        n_places = places.size
        self.thresholds = tier_thresholds(book)
        # population[replicate, year, place, class, metric]: firms, revenue, above-scale firms
        self.population_stats = np.zeros((len(replicates), n_years, n_places, 6, 3))
        self.crossings = np.zeros((len(replicates), n_years, n_places, self.thresholds.size))
        self.crossings_counted: set[int] = set()  # years the yearly step counted
        # One ledger per policy variant; the first variant also gives crossings and the panel.
        self.pieces: list[dict[str, list[np.ndarray]]] = [
            {name: [] for name in LEDGER_FIELDS} for _ in range(n_variants)
        ]
        self.panel_replicate = panel_replicate
        self.panel_rows: list[pd.DataFrame] = []
        self.firm_years = 0  # firms evaluated in simulated years (after exits), for throughput
        self.start_statistics = pd.DataFrame()  # of each start population drawn here (calibration)

    def city_year(
        self, passes: list[tuple[list[int], FactTable, YearAwards | None]], keys: np.ndarray
    ) -> None:
        """Book one city-year's engine passes (variants, facts, awards; None for a pass that
        did not run, its rules' windows being over) to the variants' ledgers; `keys` gives the
        firm key of each of the tables' rows. A variant served by more than one pass
        (configs.py) gets their awards in the order one pass over all its rules gives: by
        clause, each clause's awards in their own order."""
        columns = [self._columns(table, awards, keys) for _, table, awards in passes]
        served: dict[int, list[int]] = {}
        for index, (variants, _, awards) in enumerate(passes):
            for variant in variants:
                indices = served.setdefault(variant, [])
                if awards is not None:
                    indices.append(index)
        for variant, indices in served.items():
            if not indices:  # booked as an empty piece, as a pass without awards books it
                indices = [next(i for i, p in enumerate(passes) if variant in p[0])]
            if len(indices) == 1:
                booked = columns[indices[0]]
            else:
                joined = {
                    name: np.concatenate([columns[i][name] for i in indices])
                    for name in LEDGER_FIELDS
                }
                order = np.argsort(joined["rule"], kind="stable")
                booked = {name: values[order] for name, values in joined.items()}
            for name, values in booked.items():
                self.pieces[variant][name].append(values)
        first = next((table for variants, table, _ in passes if 0 in variants), None)
        if first is not None:
            self._year_facts(first, keys)

    def _columns(
        self, table: FactTable, awards: YearAwards | None, keys: np.ndarray
    ) -> dict[str, np.ndarray]:
        """One pass's awards as ledger columns (empty ones of the same types for None)."""
        if awards is None:
            rows = rule = payment_year = np.zeros(0, dtype=np.int64)
            amount_wan, payer_wan = np.zeros(0), np.zeros((0, 3))
            payer = np.zeros((0, 3), dtype=np.int64)
        else:
            rows, rule, payment_year = awards.row, awards.rule, awards.payment_year
            amount_wan, payer_wan, payer = awards.amount_wan, awards.payer_wan, awards.payer
        columns = {
            "replicate": table.group[rows].astype(np.int32),
            "firm_key": keys[rows],
            "rule": rule.astype(np.int32),
            "location": table.location[rows].astype(np.int32),
            "performance_year": np.full(rows.size, table.year, dtype=np.int32),
            "payment_year": payment_year.astype(np.int32),
            "amount_wan": amount_wan,
        }
        for i, level in enumerate(("province", "city", "county")):
            columns[f"{level}_wan"] = payer_wan[:, i]
            columns[f"{level}_payer"] = payer[:, i].astype(np.int32)
        return columns

    def _year_facts(self, table: FactTable, keys: np.ndarray) -> None:
        """Throughput, first crossings and the panel, from the first variant's facts."""
        if table.year > self.start_year:
            self.firm_years += table.n
        counted = table.year in self.crossings_counted
        if table.year > self.start_year and self.thresholds.size and not counted:
            add_crossings(
                self.crossings,
                table.year - self.start_year,
                self.slot_of,
                table.rows_at_least("revenue_wan", float(self.thresholds[0])),  # the engine's
                table.group,
                self.place_column,
                table.location,
                table.dense["revenue_wan"],
                table.dense["prior_max_revenue_wan"],
                self.thresholds,
            )
        if self.panel_replicate is not None and self.panel_replicate in self.replicates:
            self.panel_rows.append(self._panel(table, keys))

    def _panel(self, table: FactTable, keys: np.ndarray) -> pd.DataFrame:
        mine = np.flatnonzero(table.group == self.panel_replicate)
        names = np.array([j.id for j in self.book.registry.items], dtype=object)
        frame = pd.DataFrame(
            {
                "firm_id": [f"f{k}" for k in keys[mine]],
                "location": names[table.location[mine]],
                "year": table.year,
                "industry_class": [f"{c:02d}" for c in table.industry_class[mine]],
                **{name: values[mine] for name, values in table.dense.items()},
            }
        )
        for name, (rows, values) in table.sparse.items():
            column = np.full(mine.size, np.nan)
            position = np.searchsorted(mine, rows)
            inside = (position < mine.size) & (mine[np.minimum(position, mine.size - 1)] == rows)
            if not inside.any():  # no firm of the panel's replicate has it: no column, else the
                continue  # columns followed the other replicates of the batch
            column[position[inside]] = values[inside]
            frame[name] = column
        return frame

    def population(self, world: World, year: int | None = None) -> None:
        """The population aggregates of `year` (the start year if None): every living firm."""
        tally = self.tally(world, year if year is not None else self.start_year)
        for firms in world.living():  # in row order, entrants last: the sums of one pass
            self.count(firms, tally)

    def tally(self, world: World, year: int) -> Tally:
        """Where `year`'s population aggregates go (tallies.Tally: the yearly step counts them)."""
        return Tally(
            self.population_stats,
            year - self.start_year,
            self.slot_of,
            self.place_column,
            float(world.scenario.population.above_scale_wan),
        )

    def crossing_counts(self, year: int) -> Crossings:
        """Where `year`'s first crossings go when the yearly step counts them (tallies.Crossings);
        the year's facts then add none."""
        self.crossings_counted.add(year)
        return Crossings(
            self.crossings, year - self.start_year, self.slot_of, self.place_column, self.thresholds
        )

    @staticmethod
    def count(firms: FirmArrays, tally: Tally) -> None:
        """Add these firms to the population aggregates, in row order."""
        add_population(
            tally.stats,
            tally.offset,
            tally.slot_of,
            firms.replicate,
            tally.place_column,
            firms.location,
            firms.industry_class,
            firms.revenue_wan,
            tally.above_scale_wan,
        )

    def result(self) -> dict[str, Any]:
        ledgers = [
            {
                name: np.concatenate(parts) if parts else np.zeros(0)
                for name, parts in pieces.items()
            }
            for pieces in self.pieces
        ]
        panel = pd.concat(self.panel_rows, ignore_index=True) if self.panel_rows else None
        return {
            "replicates": np.array(self.replicates),
            "ledgers": ledgers,
            "population": self.population_stats,
            "crossings": self.crossings,
            "places": self.places,
            "panel": panel,
            "firm_years": self.firm_years,
            "start_statistics": self.start_statistics,
        }


@njit(cache=True)
def add_population(
    stats: np.ndarray,
    offset: int,
    slot_of: np.ndarray,
    replicate: np.ndarray,
    place_column: np.ndarray,
    location: np.ndarray,
    industry_class: np.ndarray,
    revenue_wan: np.ndarray,
    above_scale_wan: float,
) -> None:
    """stats[slot, offset, place, class] += (firms, revenue, above-scale firms), one pass in row
    order (the order, and so the sums, of the three bincounts this replaces); a row's slot is
    slot_of[its replicate] and its place place_column[its location], looked up in the pass."""
    for i in range(replicate.size):
        s, place = slot_of[replicate[i]], place_column[location[i]]
        count_firm(stats, s, offset, place, industry_class[i], revenue_wan[i], above_scale_wan)


@njit(cache=True)
def add_crossings(
    crossings: np.ndarray,
    offset: int,
    slot_of: np.ndarray,
    rows: np.ndarray,
    group: np.ndarray,
    place_column: np.ndarray,
    location: np.ndarray,
    revenue_wan: np.ndarray,
    prior_max_wan: np.ndarray,
    thresholds_wan: np.ndarray,
) -> None:
    """crossings[slot, offset, place, tier] += 1 for each tier a firm reaches for the first time
    this year (tallies.count_crossings), from the year's facts: with responses on, which move
    revenue after the yearly pass, the pass cannot count them. One pass over `rows`, the rows
    (ascending) whose revenue reaches the lowest threshold: only they can cross one."""
    for j in range(rows.size):
        i = rows[j]
        count_crossings(
            crossings,
            slot_of[group[i]],
            offset,
            place_column[location[i]],
            revenue_wan[i],
            prior_max_wan[i],
            thresholds_wan,
        )
