"""Entry: a Poisson number of new firms a year per city and class, sized like the start population
(or by the scenario's entrant distribution). Their revenue at entry sets their starting point:
tiers at or below it count as reached before, exactly as for a panel's first year."""

from __future__ import annotations

import numpy as np

from fiscalsim.jurisdictions import Registry
from fiscalsim.population.fit import draw_sizes
from fiscalsim.population.synthesis import KEY_CITY, KEY_REPLICATE, CityPlan, draw_segment
from fiscalsim.scenario import Entry
from fiscalsim.simulation.firms import FirmArrays


def entrants(
    entry: Entry,
    plan: CityPlan,
    replicate: int,
    year: int,
    rng: np.random.Generator,
    registry: Registry,
    next_key: int,
) -> FirmArrays:
    pieces: list[FirmArrays] = []
    streams = [(entry.per_year.get(plan.city, {}), entry.size)]
    if entry.recruited is not None:
        streams.append((entry.recruited.per_year.get(plan.city, {}), entry.recruited.size))
    for (counts, size), segment in ((c, s) for c in streams for s in plan.segments):
        mean = counts.get(segment.industry_class, 0.0)
        n = int(rng.poisson(mean)) if mean > 0 else 0
        if n == 0:
            continue
        location, revenue, rd_share = draw_segment(segment, n, rng, registry)
        if size is not None:
            revenue = draw_sizes(size, n, rng)
        founded = np.full(n, year)
        pieces.append(
            FirmArrays.block(
                replicate,
                plan.city_index,
                int(segment.industry_class),
                location,
                revenue,
                revenue.copy(),
                founded,
                rd_share,
            )
        )
    if not pieces:
        return FirmArrays()
    block = FirmArrays.concat(pieces)
    block.key = (
        replicate * KEY_REPLICATE
        + plan.city_index * KEY_CITY
        + next_key
        + np.arange(block.n, dtype=np.int64)
    )
    return block
