"""Behavioural responses to awards as pure functions on arrays (no state, no randomness drawn here).

The simulation (simulation/responding.py) keeps what a response remembers from one year to the
next, keyed by firm, and calls these with keyed uniforms; the parameters are scenario data
(responses_schema.py). Each function returns zeros when its response is off, so a world with
responses off is the world without them, number for number.
"""

from __future__ import annotations

import numpy as np

from fiscalsim.responses_schema import BunchingResponse, EntryResponse, GrowthResponse


def lookup(keys: np.ndarray, known_keys: np.ndarray, known_values: np.ndarray) -> np.ndarray:
    """Values of `keys` in a table sorted by key; 0 for keys not in it."""
    if known_keys.size == 0 or keys.size == 0:
        return np.zeros(keys.size)
    position = np.minimum(np.searchsorted(known_keys, keys), known_keys.size - 1)
    found = known_keys[position] == keys
    return np.where(found, known_values[position], 0.0)


def by_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lookup table (sorted unique keys, summed values) of the nonzero values."""
    keep = values != 0
    unique, inverse = np.unique(keys[keep], return_inverse=True)
    return unique, np.bincount(inverse, weights=values[keep], minlength=unique.size)


def growth_step(
    spec: GrowthResponse | None, received_wan: np.ndarray, revenue_wan: np.ndarray
) -> np.ndarray:
    """Extra ln-growth of each firm: award_to_growth x (award received / revenue when received),
    at most max_step (event awards, e.g. for a listing, can exceed a small firm's revenue)."""
    if spec is None or spec.award_to_growth == 0:
        return np.zeros(revenue_wan.size)
    ratio = np.divide(
        received_wan, revenue_wan, out=np.zeros(revenue_wan.size), where=revenue_wan > 0
    )
    return np.asarray(np.minimum(spec.award_to_growth * ratio, spec.max_step))


def bunching_shift(
    spec: BunchingResponse | None,
    revenue_wan: np.ndarray,
    prior_max_wan: np.ndarray,
    tiers_wan: np.ndarray,
    applies: np.ndarray,
    uniforms: np.ndarray,
) -> np.ndarray:
    """Revenue each firm moves into this year to just reach a tier (0 for most firms).

    A firm bunches over the lowest tier that pays it an award this year (`applies`, shape
    (firms, tiers)), that it has never reached (prior maximum below the tier) and whose band
    [tier x (1 - band), tier) holds its revenue, when its uniform falls below `share`.
    """
    shift = np.zeros(revenue_wan.size)
    if spec is None or spec.share == 0 or tiers_wan.size == 0 or revenue_wan.size == 0:
        return shift
    tiers = tiers_wan[None, :]
    near = (
        applies
        & (revenue_wan[:, None] >= tiers * (1.0 - spec.band))
        & (revenue_wan[:, None] < tiers)
        & (prior_max_wan[:, None] < tiers)
    )
    candidate = near.any(axis=1) & (uniforms < spec.share)
    lowest = np.argmax(near, axis=1)  # tiers are sorted: the first True is the lowest tier
    rows = np.flatnonzero(candidate)
    shift[rows] = tiers_wan[lowest[rows]] - revenue_wan[rows]
    return shift


def pay_back(underlying_wan: np.ndarray, shifted_wan: np.ndarray) -> np.ndarray:
    """This year's revenue of firms that pulled `shifted_wan` into last year: it is lost now
    (never below 1% of the underlying revenue, so a firm that shrank keeps a revenue)."""
    return np.maximum(underlying_wan - shifted_wan, 0.01 * underlying_wan)


def award_rate(awards_wan: np.ndarray, revenue_wan: np.ndarray) -> np.ndarray:
    """Awards granted over revenue, cell by cell (0 where there is no revenue)."""
    return np.divide(
        awards_wan, revenue_wan, out=np.zeros(np.shape(revenue_wan)), where=revenue_wan > 0
    )


def extra_entry_means(
    spec: EntryResponse | None, base_means: np.ndarray, rates: np.ndarray
) -> np.ndarray:
    """Extra Poisson entrants per cell: base mean x min(semi-elasticity x award rate, cap).

    `rates` are awards / revenue (0.01 = 1%); a semi-elasticity of 10 means awards worth 1% of
    revenue bring 10% more entrants (10 x 0.01 = 0.10 of the base rate).
    """
    if spec is None or spec.semi_elasticity == 0:
        return np.zeros(np.shape(base_means))
    uplift = np.minimum(spec.semi_elasticity * rates, spec.max_uplift)
    return np.asarray(base_means * uplift)
