"""Revenue growth: sector drift, shocks common to a city and sector, and each firm's own shock.

The firm's own shock is fat-tailed (Laplace, as Stanley et al. 1996 found for annual log growth)
and its spread falls with size as sigma(S) = sigma0 (S/S0)^-beta (beta about 0.2, Amaral et al.
1997). The common shock per city, class and year is what makes budget risk: in a good year many
firms cross thresholds together. Sources are cited in data/calibration/dynamics.yaml.
"""

from __future__ import annotations

import numpy as np

from fiscalsim.scenario import Growth

CLASSES = ("01", "02", "03", "04", "05")


def drift_table(growth: Growth, years: range) -> np.ndarray:
    """Mean log growth by (class code 0..5, year offset)."""
    table = np.zeros((6, len(years)))
    for code, value in growth.drift_by_class.items():
        for offset, year in enumerate(years):
            if isinstance(value, dict):
                known = [y for y in value if y <= year]
                table[int(code), offset] = value[max(known)] if known else value[min(value)]
            else:
                table[int(code), offset] = value
    return table


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


def unit_shocks(growth: Growth, rng: np.random.Generator, n: int) -> np.ndarray:
    """Shocks with mean 0 and variance 1, normal or Laplace, optionally clipped."""
    if growth.shape == "laplace":
        shocks = rng.laplace(0.0, 1.0 / np.sqrt(2.0), n)
    else:
        shocks = rng.standard_normal(n)
    if growth.tail_clip_sigmas is not None:
        shocks = np.clip(shocks, -growth.tail_clip_sigmas, growth.tail_clip_sigmas)
    return shocks


def common_shocks(growth: Growth, rng: np.random.Generator) -> np.ndarray:
    """One shock per class (index 0..5) for a city and year."""
    if growth.common_shock_sd == 0:
        return np.zeros(6)
    return growth.common_shock_sd * rng.standard_normal(6)
