"""Distributions from keyed uniforms, so a draw belongs to a firm (or a replicate), not to the
position of a call in a generator's sequence. Each maps a uniform in (0, 1) by its inverse CDF,
which keeps one uniform per drawn value and makes the draws identical in any batch or order."""

from __future__ import annotations

import numpy as np

from fiscalsim.dynamics import numerics

SUMMED_UP_TO = 200.0  # below this mean, the CDF is summed in compiled code; above, SciPy


def poisson(uniform: np.ndarray, mean: float) -> np.ndarray:
    """Poisson counts with the given mean (int64)."""
    if mean <= 0:
        return np.zeros(uniform.shape, dtype=np.int64)
    if mean < SUMMED_UP_TO:
        u = np.asarray(uniform, dtype=np.float64)
        return numerics.poisson_inverse(u.reshape(-1), float(mean)).reshape(u.shape)
    return _poisson_ppf(np.asarray(uniform, dtype=np.float64), float(mean))


def _poisson_ppf(q: np.ndarray, mean: float) -> np.ndarray:
    """scipy.stats.poisson.ppf(q, mean) for 0 < q < 1, by the same two special functions
    (poisson_gen._ppf), without the 0.7 s import of scipy.stats and its ~5 ms per call of
    argument checks: 270 calls took 1.4 s of the benchmark run."""
    from scipy import special

    if not ((q > 0) & (q < 1)).all():  # never for keyed uniforms; SciPy's conventions then
        from scipy import stats

        return np.asarray(stats.poisson.ppf(q, mean), dtype=np.int64)
    values = np.ceil(special.pdtrik(q, mean))
    below = np.maximum(values - 1, 0)
    return np.where(special.pdtr(below, mean) >= q, below, values).astype(np.int64)


def normal(uniform: np.ndarray) -> np.ndarray:
    """Standard normal values (numerics.ndtri, the one the compiled step uses)."""
    u = np.asarray(uniform, dtype=np.float64)
    return numerics.ndtri_array(u.reshape(-1)).reshape(u.shape)


def category(uniform: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Index of the category each uniform falls in, with probabilities proportional to weights."""
    edges = np.cumsum(weights, dtype=np.float64)
    edges /= edges[-1]
    return np.minimum(np.searchsorted(edges, uniform, side="right"), weights.size - 1)
