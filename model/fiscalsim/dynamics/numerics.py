"""Scalar numerics shared by the compiled yearly step and the NumPy code: one implementation.

The keyed uniform (SplitMix64, as simulation/streams.keyed_uniforms), the inverse normal CDF,
the unit shock of a firm's growth and the log moment-generating function that centres it.
growth.py calls the array forms, the kernel the scalar ones, so the two cannot drift apart.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def keyed_uniform(state: np.uint64, counter: np.uint64) -> float:
    """One uniform in (0, 1): SplitMix64 of state + counter * golden (as streams.keyed_uniforms)."""
    x = state + counter * _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    x = x ^ (x >> np.uint64(31))
    return (float(x >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def keyed_uniforms_into(states: np.ndarray, counters: np.ndarray, out: np.ndarray) -> None:
    """keyed_uniform of each (state, counter) pair, into out: a loop with no branch and no
    division, which the compiler spreads over SIMD lanes (64-bit multiplies)."""
    for i in range(counters.size):
        out[i] = keyed_uniform(states[i], counters[i])


@njit(cache=True)
def keyed_uniforms_of(state: np.uint64, counters: np.ndarray) -> np.ndarray:
    """keyed_uniform of one state and each counter: streams.named_uniforms in one pass (the
    NumPy form makes four passes and a state array)."""
    out = np.empty(counters.size)
    for i in range(counters.size):
        out[i] = keyed_uniform(state, counters[i])
    return out


@njit(cache=True)
def ndtri(p: float) -> float:
    """Inverse of the standard normal CDF (Wichura 1988, AS 241 PPND16: about 1e-16 relative)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        return _ndtri_central(q)
    return _ndtri_tail(p, q)


@njit(cache=True, inline="always")
def _ndtri_central(q: float) -> float:
    """ndtri(q + 1/2) for |q| <= 0.425: a rational function, no branch, so a loop of it runs
    on SIMD lanes (ndtri_into). Elsewhere its value is meaningless (den may even be 0)."""
    r = 0.180625 - q * q
    num = (
        (
            (
                (
                    (
                        (2509.0809287301226727 * r + 33430.575583588128105) * r
                        + 67265.770927008700853
                    )
                    * r
                    + 45921.953931549871457
                )
                * r
                + 13731.693765509461125
            )
            * r
            + 1971.5909503065514427
        )
        * r
        + 133.14166789178437745
    ) * r + 3.387132872796366608
    den = (
        (
            (
                (
                    ((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061)
                    * r
                    + 21213.794301586595867
                )
                * r
                + 5394.1960214247511077
            )
            * r
            + 687.1870074920579083
        )
        * r
        + 42.313330701600911252
    ) * r + 1.0
    return q * num / den


@njit(cache=True)
def _ndtri_tail(p: float, q: float) -> float:
    """ndtri(p) for |q| = |p - 1/2| > 0.425."""
    r = p if q < 0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r -= 1.6
        num = (
            (
                (
                    (
                        (
                            (7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
                            + 0.24178072517745061177
                        )
                        * r
                        + 1.27045825245236838258
                    )
                    * r
                    + 3.64784832476320460504
                )
                * r
                + 5.7694972214606914055
            )
            * r
            + 4.6303378461565452959
        ) * r + 1.42343711074968357734
        den = (
            (
                (
                    (
                        (
                            (1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                            + 0.0151986665636164571966
                        )
                        * r
                        + 0.14810397642748007459
                    )
                    * r
                    + 0.68976733498510000455
                )
                * r
                + 1.6763848301838038494
            )
            * r
            + 2.05319162663775882187
        ) * r + 1.0
    else:
        r -= 5.0
        num = (
            (
                (
                    (
                        (
                            (2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                            + 0.0012426609473880784386
                        )
                        * r
                        + 0.026532189526576123093
                    )
                    * r
                    + 0.29656057182850489123
                )
                * r
                + 1.7848265399172913358
            )
            * r
            + 5.4637849111641143699
        ) * r + 6.6579046435011037772
        den = (
            (
                (
                    (
                        (
                            (2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                            + 1.8463183175100546818e-5
                        )
                        * r
                        + 7.868691311456132591e-4
                    )
                    * r
                    + 0.0148753612908506148525
                )
                * r
                + 0.13692988092273580531
            )
            * r
            + 0.59983220655588793769
        ) * r + 1.0
    value = num / den
    return -value if q < 0 else value


@njit(cache=True)
def unit_shock(laplace: bool, clip: float, u: float) -> float:
    """A shock of mean 0 and variance 1 from a uniform by the inverse CDF, clipped at +-clip.
    The unit-variance Laplace has scale 1/sqrt(2): x = -b sign(u - 1/2) ln(1 - 2|u - 1/2|).

    1 - 2|u - 1/2| is taken as 2 min(u, 1 - u), which is exact for the uniforms used (multiples
    of 2**-53), and its log with `log`: log1p of the same number is 12 ns slower a firm-year."""
    if laplace:
        centred = u - 0.5
        sign = 1.0 if centred > 0 else (-1.0 if centred < 0 else 0.0)
        x = -sign * math.log(2.0 * min(u, 1.0 - u)) / math.sqrt(2.0)
    else:
        x = ndtri(u)
    return min(max(x, -clip), clip)


@njit(cache=True)
def _ndtr(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@njit(cache=True)
def log_mgf(laplace: bool, clip: float, s: float) -> float:
    """ln E[exp(s u)] for the unit shock u of `unit_shock`, exactly, clip included.

    Laplace with unit variance has rate lam = sqrt(2); clipped at +-c,
      E = lam/2 [(e^((s-lam)c) - 1)/(s-lam) + (1 - e^(-(s+lam)c))/(s+lam)] + e^(-lam c) cosh(s c),
    which tends to 1/(1 - s^2/2) as c grows (the caller checks s < lam when c is infinite).
    Normal, clipped: E = e^(s^2/2) [Phi(c - s) - Phi(-c - s)] + (1 - Phi(c)) 2 cosh(s c).
    """
    c = clip
    if laplace:
        lam = math.sqrt(2.0)
        if math.isinf(c):
            return -math.log1p(-(s * s) / 2.0)
        minus = s - lam
        upper = c if abs(minus) < 1e-9 else math.expm1(minus * c) / minus
        lower = -math.expm1(-(s + lam) * c) / (s + lam)
        return math.log(lam / 2 * (upper + lower) + math.exp(-lam * c) * math.cosh(s * c))
    if math.isinf(c):
        return s * s / 2
    inside = math.exp(s * s / 2) * (_ndtr(c - s) - _ndtr(-c - s))
    return math.log(inside + _ndtr(-c) * 2 * math.cosh(s * c))


@njit(cache=True, error_model="numpy")
def ndtri_into(u: np.ndarray, out: np.ndarray) -> None:
    """ndtri of every u, into out (another array): the same numbers, about twice as fast.

    The central formula runs over every row with no branch, which the compiler spreads over
    SIMD lanes (error_model "numpy" drops the zero-division check that would stop it; on the
    rows where the formula means nothing the tail overwrites it), then the tails (|u - 1/2| >
    0.425, 15% of normal draws) get their own formula. Each row's operations are those of
    ndtri, in the same order, so the bits are the same."""
    for i in range(u.size):
        out[i] = _ndtri_central(u[i] - 0.5)
    for i in range(u.size):
        q = u[i] - 0.5
        if abs(q) > 0.425:
            out[i] = _ndtri_tail(u[i], q)


@njit(cache=True)
def unit_shocks_into(laplace: bool, clip: float, u: np.ndarray, out: np.ndarray) -> None:
    """unit_shock of every u, into out (another array)."""
    if laplace:
        for i in range(u.size):
            out[i] = unit_shock(True, clip, u[i])
        return
    ndtri_into(u, out)
    for i in range(u.size):
        out[i] = min(max(out[i], -clip), clip)


def ndtri_array(u: np.ndarray) -> np.ndarray:
    out = np.empty(u.size)
    ndtri_into(u, out)
    return out


def unit_shock_array(laplace: bool, clip: float, u: np.ndarray) -> np.ndarray:
    out = np.empty(u.size)
    unit_shocks_into(laplace, clip, u, out)
    return out


@njit(cache=True)
def log_mgf_array(laplace: bool, clip: float, s: np.ndarray) -> np.ndarray:
    out = np.empty(s.size)
    for i in range(s.size):
        out[i] = log_mgf(laplace, clip, s[i])
    return out


@njit(cache=True)
def poisson_inverse(u: np.ndarray, mean: float) -> np.ndarray:
    """Poisson(mean) counts by the inverse CDF of uniforms: the smallest k with F(k) >= u.

    The CDF is summed upwards from 0, so the mean must keep exp(-mean) a normal number
    (mean < 700; draws.poisson passes larger means to SciPy)."""
    out = np.empty(u.size, dtype=np.int64)
    start = math.exp(-mean)
    for i in range(u.size):
        k = 0
        pmf = start
        cdf = pmf
        while cdf < u[i] and k < 100_000:
            k += 1
            pmf *= mean / k
            cdf += pmf
        out[i] = k
    return out
