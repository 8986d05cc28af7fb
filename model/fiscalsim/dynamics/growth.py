"""Revenue growth: sector drift, shocks common to a city and sector, and each firm's own shock.

The firm's own shock is fat-tailed (Laplace, as Stanley et al. 1996 found for annual log growth)
and its spread falls with size as sigma(S) = sigma0 (S/S0)^-beta (beta about 0.2, Amaral et al.
1997). The common shock per city, class and year is what makes budget risk: in a good year many
firms cross thresholds together. Sources are cited in data/calibration/dynamics.yaml.

The drift is the expected *simple* growth of every firm (dynamics.yaml `model_form`): the
location of ln-growth is ln(1 + d) minus the log moment-generating function of each shock, so
that E[S_t / S_{t-1}] = 1 + d whatever the firm's spread. Without it a Laplace shock of spread
0.5 lifts a small firm's mean growth by about 13 points a year.
"""

from __future__ import annotations

import math

import numpy as np

from fiscalsim.dynamics import draws, numerics
from fiscalsim.scenario import Growth

CLASSES = ("01", "02", "03", "04", "05")


def _by_year(value: float | dict[int, float], year: int) -> float:
    if not isinstance(value, dict):
        return value
    known = [y for y in value if y <= year]
    return value[max(known)] if known else value[min(value)]


def simple_drift(growth: Growth, years: range, cities: list[str]) -> np.ndarray:
    """Expected simple growth by (city position, class code 0..5, year offset), with the
    regional offsets of `drift_offset_by_city` added per city and class."""
    table = np.zeros((len(cities), 6, len(years)))
    for code, value in growth.drift_by_class.items():
        for offset, year in enumerate(years):
            table[:, int(code), offset] = _by_year(value, year)
    for position, city in enumerate(cities):
        for code, extra in growth.drift_offset_by_city.get(city, {}).items():
            table[position, int(code), :] += extra
    return table


def drift_table(growth: Growth, years: range, cities: list[str]) -> np.ndarray:
    """Location of ln-growth before each firm's own-shock correction, by (city, class, year):
    ln(1 + d) less the lognormal correction of the common (city x class and national) shocks."""
    common_variance = growth.common_shock_sd**2 + growth.national_shock_sd**2
    return np.log1p(simple_drift(growth, years, cities)) - common_variance / 2


def log_mgf(growth: Growth, spread: np.ndarray | float) -> np.ndarray:
    """ln E[exp(spread * u)] for the unit shock u of `unit_shocks`, exactly, clip included
    (the formula is numerics.log_mgf, shared with the compiled step)."""
    s = np.asarray(spread, dtype=np.float64)
    laplace, clip = _shape(growth)
    if laplace and math.isinf(clip) and np.any(s >= math.sqrt(2.0)):
        raise ValueError("an unclipped Laplace shock of spread >= sqrt(2) has no mean")
    return numerics.log_mgf_array(laplace, clip, s.reshape(-1)).reshape(s.shape)


def _shape(growth: Growth) -> tuple[bool, float]:
    """(Laplace?, clip in sigmas or infinity): the shock's form as the compiled code takes it."""
    clip = growth.tail_clip_sigmas
    return growth.shape == "laplace", math.inf if clip is None else float(clip)


def _age_multiplier(growth: Growth, age: np.ndarray) -> np.ndarray:
    multiplier = np.ones(age.size)
    for band, factor in growth.young_age_multiplier.items():
        low, _, high = band.partition("-")
        inside = (age >= int(low)) & (age <= int(high or low))
        multiplier = np.where(inside, factor, multiplier)
    return multiplier


def sigma(growth: Growth, revenue_wan: np.ndarray, age: np.ndarray) -> np.ndarray:
    scaled = growth.sigma0 * np.power(np.maximum(revenue_wan, 1e-9) / growth.s0_wan, -growth.beta)
    scaled = np.clip(scaled, growth.sigma_min, growth.sigma_max)
    if growth.young_age_multiplier:
        scaled = scaled * _age_multiplier(growth, age)
    return scaled


def log_step(
    growth: Growth,
    location: np.ndarray,
    revenue_wan: np.ndarray,
    age_years: np.ndarray,
    own: np.ndarray,
    common: np.ndarray,
) -> np.ndarray:
    """One year's ln-growth of each firm: location (drift_table) less the own shock's log mgf,
    plus the common shock and the firm's own unit shock times its spread."""
    if growth.beta == 0 and not growth.young_age_multiplier:
        spread: np.ndarray | float = float(
            np.clip(growth.sigma0, growth.sigma_min, growth.sigma_max)
        )
    else:
        spread = sigma(growth, revenue_wan, age_years)
    return np.asarray(location - log_mgf(growth, spread) + common + spread * own)


def normal_from_uniform(uniforms: np.ndarray) -> np.ndarray:
    """Standard normal draws by the inverse CDF of keyed uniforms."""
    return draws.normal(uniforms)


def unit_shocks_from_uniform(growth: Growth, uniforms: np.ndarray) -> np.ndarray:
    """Shocks with mean 0 and variance 1 from uniforms in (0, 1) by the inverse CDF, clipped
    (numerics.unit_shock). The simulation feeds it keyed uniforms, one per firm and year."""
    u = np.asarray(uniforms, dtype=np.float64)
    return numerics.unit_shock_array(*_shape(growth), u.reshape(-1)).reshape(u.shape)


def unit_shocks(growth: Growth, rng: np.random.Generator, n: int) -> np.ndarray:
    """The same shocks from a generator (for tests and checks on large samples)."""
    uniforms = (np.floor(rng.random(n) * 2.0**53) + 0.5) / 2.0**53  # never exactly 0 or 1
    return unit_shocks_from_uniform(growth, uniforms)
