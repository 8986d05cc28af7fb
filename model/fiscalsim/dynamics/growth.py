"""Revenue growth: sector drift, shocks common to a city and sector, and each firm's own shock.

The firm's own shock is fat-tailed (Laplace, as Stanley et al. 1996 found for annual log growth)
and its spread falls with size as sigma(S) = sigma0 (S/S0)^-beta (beta about 0.2, Amaral et al.
1997). The common shock per city, class and year is what makes budget risk: in a good year many
firms cross thresholds together. Sources are cited in data/calibration/dynamics.yaml.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

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


def normal_from_uniform(uniforms: np.ndarray) -> np.ndarray:
    """Standard normal draws by the inverse CDF of keyed uniforms."""
    return np.asarray(ndtri(uniforms))


def unit_shocks_from_uniform(growth: Growth, uniforms: np.ndarray) -> np.ndarray:
    """Shocks with mean 0 and variance 1 from keyed uniforms (inverse CDF), optionally clipped.

    The unit-variance Laplace has scale 1/sqrt(2): x = -b sign(u - 1/2) ln(1 - 2|u - 1/2|).
    """
    if growth.shape == "laplace":
        centred = uniforms - 0.5
        shocks = -np.sign(centred) * np.log1p(-2.0 * np.abs(centred)) / np.sqrt(2.0)
    else:
        shocks = normal_from_uniform(uniforms)
    if growth.tail_clip_sigmas is not None:
        shocks = np.clip(shocks, -growth.tail_clip_sigmas, growth.tail_clip_sigmas)
    return shocks
