"""Entry: a Poisson number of new firms a year per city and class, sized like the start population
(or by the scenario's entrant distribution). Their revenue at entry sets their starting point:
tiers at or below it count as reached before, exactly as for a panel's first year.

Every draw is keyed, so one call serves all replicates of a batch at once and a replicate's
entrants are the same in any batch: the count of a (replicate, city, class, year) is keyed by
those, and an entrant's location, size, R&D and founding-year survival by its serial number,
which it keeps for life. Raising one class's entry therefore changes no start firm's draws,
but it renumbers the same city and replicate's later entrants of every class, that year and
every later year (the serial count runs on across years), and so their draws (README, "How the
same firms are guaranteed").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fiscalsim.dynamics import draws
from fiscalsim.dynamics.exit import hazard
from fiscalsim.jurisdictions import Registry
from fiscalsim.population.fit import sizes_from_uniforms
from fiscalsim.population.synthesis import KEY_CITY, KEY_REPLICATE, CityPlan
from fiscalsim.scenario import Entry, Exit, Segment, SizeDistribution
from fiscalsim.simulation.firms import FirmArrays
from fiscalsim.simulation.streams import firm_counter, named_uniforms


def _attributes(
    segment: Segment,
    size: SizeDistribution,
    u: Callable[[str], np.ndarray],
    registry: Registry,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Location, revenue and R&D share of entrants, from `u(component)`: their keyed uniforms."""
    places = list(segment.county_weights)
    codes = np.array([registry.index[c] for c in places], dtype=np.int32)
    weights = np.array([segment.county_weights[c] for c in places])
    n = u("size").size
    # Draws a segment cannot use are skipped; each draw has its own key, so none shifts another.
    location = (
        np.full(n, codes[0]) if codes.size == 1 else codes[draws.category(u("location"), weights)]
    )
    has_tail = size.tail_from_wan is not None and size.tail_alpha is not None
    revenue = sizes_from_uniforms(size, u("size"), u("size_tail") if has_tail else None)
    if segment.rd_share_of_revenue == 0:
        return location, revenue, np.zeros(n)
    rd_share = segment.rd_share_of_revenue * np.exp(
        segment.rd_share_log_sd * draws.normal(u("rd_share"))
    )
    rd_share = np.where(u("rd_performing") < segment.rd_performing_share, rd_share, 0.0)
    return location, revenue, np.minimum(rd_share, 1.0)


def entrants(
    entry: Entry,
    exit_spec: Exit,
    plan: CityPlan,
    replicates: list[int],
    year: int,
    seed: int,
    registry: Registry,
    next_key: np.ndarray,
    stream: str = "entry",
) -> FirmArrays:
    """This year's surviving entrants of one city in every replicate of the batch.

    `next_key[position]` is the next serial number of replicate `replicates[position]`; it is
    advanced past every entrant founded, survivor or not. `stream` names the counts' draws (the
    awards' induced entrants have their own, so they never move the ordinary entrants).
    """
    reps = np.asarray(replicates, dtype=np.int64)
    kinds = [("organic", entry.per_year.get(plan.city, {}), entry.size)]
    if entry.recruited is not None:
        kinds.append(
            ("recruited", entry.recruited.per_year.get(plan.city, {}), entry.recruited.size)
        )
    drawn: list[tuple[Segment, SizeDistribution, np.ndarray, np.ndarray]] = []
    for kind, counts, size in kinds:
        for segment in plan.segments:
            mean = counts.get(segment.industry_class, 0.0)
            if mean <= 0:
                continue
            names = (plan.city, year, stream, kind, segment.industry_class)
            n = draws.poisson(named_uniforms(seed, names, reps), mean)
            total = int(n.sum())
            if total == 0:
                continue
            position = np.repeat(np.arange(reps.size), n)
            within = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
            drawn.append(
                (segment, size or segment.size, reps[position], next_key[position] + within)
            )
            next_key += n
    if not drawn:
        return FirmArrays()
    # An entrant's draws are keyed by its counter alone, so each component is drawn once for the
    # entrants of every segment and each segment reads its slice.
    counter = np.concatenate([firm_counter(r, serial) for _, _, r, serial in drawn])
    drawn_uniforms: dict[str, np.ndarray] = {}

    def uniforms(component: str) -> np.ndarray:
        if component not in drawn_uniforms:
            names = (plan.city, "entrant", component)
            drawn_uniforms[component] = named_uniforms(seed, names, counter)
        return drawn_uniforms[component]

    def of_part(part: slice) -> Callable[[str], np.ndarray]:
        return lambda component: uniforms(component)[part]

    pieces: list[FirmArrays] = []
    start = 0
    for segment, size, replicate, serial in drawn:
        part = slice(start, start + serial.size)
        start = part.stop
        location, revenue, rd_share = _attributes(segment, size, of_part(part), registry)
        total = serial.size
        new = FirmArrays(
            key=replicate * KEY_REPLICATE + plan.city_index * KEY_CITY + serial,
            replicate=replicate.astype(np.int32),
            city=np.full(total, plan.city_index, dtype=np.int16),
            location=location,
            industry_class=np.full(total, int(segment.industry_class), dtype=np.int8),
            revenue_wan=revenue,
            max_revenue_wan=revenue.copy(),
            founded_year=np.full(total, year, dtype=np.int32),
            rd_share=rd_share,
            slot=np.zeros(total, dtype=np.int64),  # given by the simulation
        )
        pieces.append(new)
    founded = FirmArrays.concat(pieces)
    # An entrant joins at the end of its founding year: it first survives age 0. The hazard is
    # per firm, so it is taken once for every segment's entrants, not once a segment.
    chance = hazard(exit_spec, np.zeros(founded.n, dtype=np.int64), founded.revenue_wan)
    alive = uniforms("exit0") >= chance
    return founded if alive.all() else founded.take(np.flatnonzero(alive))
