"""Draw the start-year population of every replicate: firms per county, class, size and past.

Each firm gets its historical maximum revenue (some firms were bigger before), so "first
reaches" is honest from the first simulated year, and a founding year from the age structure
of the enterprise stock.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fiscalsim.jurisdictions import Registry
from fiscalsim.population.conditioning import start_revenue
from fiscalsim.population.fit import draw_sizes
from fiscalsim.scenario import History, Segment
from fiscalsim.simulation.firms import FirmArrays
from fiscalsim.simulation.streams import Streams, stream

KEY_REPLICATE = 10**9  # firm key = replicate * 1e9 + city * 1e7 + running number
KEY_CITY = 10**7


@dataclass(frozen=True)
class CityPlan:
    """What a city's population is drawn from."""

    city: str
    city_index: int
    segments: tuple[Segment, ...]


def age_bands(history: History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lows, highs, shares = [], [], []
    for band, share in history.age_shares.items():
        low, _, high = band.partition("-")
        lows.append(int(low))
        highs.append(int(high or low))
        shares.append(share)
    p = np.array(shares) / np.sum(shares)
    return np.array(lows), np.array(highs), p


def draw_segment(
    segment: Segment,
    n: int,
    rng: np.random.Generator,
    registry: Registry,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Locations, revenues and R&D shares of n firms of one segment."""
    places = list(segment.county_weights)
    codes = np.array([registry.index[c] for c in places], dtype=np.int32)
    if len(places) == 1:
        location = np.full(n, codes[0], dtype=np.int32)
    else:
        p = np.array([segment.county_weights[c] for c in places])
        location = codes[rng.choice(len(places), size=n, p=p / p.sum())]
    revenue = draw_sizes(segment.size, n, rng)
    rd_share = segment.rd_share_of_revenue * np.exp(
        segment.rd_share_log_sd * rng.standard_normal(n)
    )
    rd_share = np.where(rng.uniform(size=n) < segment.rd_performing_share, rd_share, 0.0)
    return location, revenue, np.minimum(rd_share, 1.0)


def start_stream(
    streams: Streams, replicate: int, city: str, per_start: int
) -> np.random.Generator:
    """The population stream of a replicate: that of its start population, fresh each time so
    replicates sharing it draw the same firms."""
    return stream(streams.seed, replicate // per_start, city, "population")


def _draw_city(
    plan: CityPlan,
    history: History,
    start_year: int,
    rng: np.random.Generator,
    registry: Registry,
    lows: np.ndarray,
    highs: np.ndarray,
    shares: np.ndarray,
) -> FirmArrays:
    """One start population of one city (replicate 0's labels; `copy_for` relabels)."""
    pieces: list[FirmArrays] = []
    for position, segment in enumerate(plan.segments):
        n = segment.firms
        location, revenue, rd_share = draw_segment(segment, n, rng, registry)
        revenue = start_revenue(segment, revenue, rng)
        age = _ages(rng, n, lows, highs, shares)
        if history.declined_share == 0 and position == len(plan.segments) - 1:
            # no firm declined, and nothing is drawn from this stream after these two draws:
            # leaving them out changes no draw (it saved 0.02 s of the benchmark's 1.8)
            max_before = revenue.copy()
        else:
            declined = rng.uniform(size=n) < history.declined_share
            log_uplift = rng.exponential(max(history.decline_log_mean, 1e-12), size=n)
            max_before = (
                np.where(declined, revenue * np.exp(log_uplift), revenue)
                if declined.any()
                else revenue.copy()  # the draws are made all the same, so the stream moves alike
            )
        pieces.append(
            FirmArrays.block(
                0,
                plan.city_index,
                int(segment.industry_class),
                location,
                revenue,
                max_before,
                start_year - age,
                rd_share,
            )
        )
    return FirmArrays.concat(pieces)


def _ages(
    rng: np.random.Generator, n: int, lows: np.ndarray, highs: np.ndarray, shares: np.ndarray
) -> np.ndarray:
    """Ages of n firms: an age band by its share, then a whole age within it, uniformly.
    With one band the band draw is skipped but the stream still moves past its uniforms
    (Generator.choice with p takes one uniform a firm, one step of PCG64 each), so every later
    draw is the same."""
    if shares.size == 1:
        bits = rng.bit_generator
        if isinstance(bits, np.random.PCG64):  # the population streams' generator
            bits.advance(n)
        else:
            rng.random(n)
        return lows[0] + np.floor(rng.uniform(size=n) * (highs[0] - lows[0] + 1)).astype(int)
    band = rng.choice(shares.size, size=n, p=shares)
    return lows[band] + np.floor(rng.uniform(size=n) * (highs[band] - lows[band] + 1)).astype(int)


def initial_population(
    plans: list[CityPlan],
    history: History,
    start_year: int,
    replicates: list[int],
    streams: Streams,
    registry: Registry,
    per_start: int = 1,
) -> tuple[FirmArrays, np.ndarray]:
    """Firms of every replicate at the end of the start year, and next key per (city, replicate).
    Replicates r and r' with r // per_start == r' // per_start start from the same firms."""
    lows, highs, shares = age_bands(history)
    parts: list[FirmArrays] = []
    next_key = np.zeros((len(plans), len(replicates)), dtype=np.int64)
    for plan in plans:
        drawn: dict[int, FirmArrays] = {}  # start population -> its firms, drawn once
        for position, replicate in enumerate(replicates):
            start = replicate // per_start
            if start not in drawn:
                rng = start_stream(streams, replicate, plan.city, per_start)
                drawn[start] = _draw_city(
                    plan, history, start_year, rng, registry, lows, highs, shares
                )
            if per_start == 1:  # used by this replicate only: relabelled, not copied
                block = drawn.pop(start)
                block.replicate[:] = replicate
            else:
                block = drawn[start].copy_for(replicate)
            block.key = (
                replicate * KEY_REPLICATE
                + plan.city_index * KEY_CITY
                + np.arange(block.n, dtype=np.int64)
            )
            next_key[plan.city_index, position] = block.n
            parts.append(block)
    firms = FirmArrays.concat(parts)
    code = firms.city.astype(np.int64) * (max(replicates) + 1) + firms.replicate
    if not bool(np.all(code[1:] >= code[:-1])):  # drawn in (city, replicate) order, as a rule
        firms = firms.take(np.argsort(code, kind="stable"))
    return firms, next_key
