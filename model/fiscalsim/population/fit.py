"""Fit a lognormal body with a bounded Pareto tail to a segment's counts and its total revenue.

The body's log mean is solved so the share above the above-scale line matches. Where the
segment has a total revenue (firm_counts.yaml `revenue_total_wan`), the tail index is solved so
the expected total matches it, given the segment's upper bound and its publicly named firms
(large_firms.yaml); the large-firm count, an estimate of low confidence, is then a check in the
calibration report. Without a total the tail index matches the large-firm count, as before.
Each step is a one-dimensional root, so the fit is exact and repeatable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import ValidationError
from scipy import special

from fiscalsim.datafiles import (
    CountyWeightsFile,
    FirmCountsFile,
    LargeFirmsFile,
    read_data_file,
)
from fiscalsim.errors import InputError
from fiscalsim.rules.schema import IndustryClass
from fiscalsim.scenario import Calibrated, Segment, SizeDistribution


@dataclass(frozen=True)
class Target:
    city: str
    industry_class: IndustryClass
    firms: int
    above_scale: int
    large: int
    source: str
    revenue_total_wan: float | None = None
    above_scale_revenue_wan: float | None = None


@dataclass(frozen=True)
class Known:
    """Named firms of a segment and the bound on its synthetic firms (large_firms.yaml)."""

    names: tuple[str, ...] = ()
    revenue_wan: tuple[float, ...] = ()
    upper_bound_wan: float | None = None


def _partial_mean(log_mean: float, log_sd: float, low: float, high: float) -> float:
    """E[X; low < X < high] for a lognormal X."""

    def cut(x: float) -> float:
        if x <= 0:
            return 0.0
        if math.isinf(x):
            return 1.0
        return float(special.ndtr((math.log(x) - log_mean - log_sd**2) / log_sd))

    return math.exp(log_mean + log_sd**2 / 2) * (cut(high) - cut(low))


def _pareto_mean(start: float, alpha: float, bound: float | None) -> float:
    """Mean of a Pareto(start, alpha) truncated above at `bound`."""
    if bound is None:
        return math.inf if alpha <= 1 else alpha * start / (alpha - 1)
    ratio = start / bound
    if abs(alpha - 1) < 1e-9:
        return start * math.log(bound / start) / (1 - ratio)
    scale = alpha * start**alpha / (1 - ratio**alpha)
    return scale * (bound ** (1 - alpha) - start ** (1 - alpha)) / (1 - alpha)


def _solve_alpha(
    mean_of: Callable[[float], float], wanted: float, low: float, high: float
) -> float:
    """The tail index in [low, high] whose mean is `wanted` (means fall as alpha rises)."""
    if mean_of(low) < wanted:
        return low  # even the heaviest tail allowed is short of the total
    if mean_of(high) > wanted:
        return high  # even the lightest tail allowed is above it
    from scipy.optimize import brentq  # here: importing scipy.optimize costs 0.5 s

    return float(brentq(lambda a: mean_of(a) - wanted, low, high, xtol=1e-8))


def mean_revenue(size: SizeDistribution) -> float:
    """Expected revenue of one firm drawn by `draw_sizes(size, ...)`."""
    mu, sd = size.log_mean, size.log_sd
    above_floor = (
        float(special.ndtr(-(math.log(size.floor_wan) - mu) / sd)) if size.floor_wan else 1
    )
    bound = size.max_wan if size.max_wan is not None else math.inf
    if size.tail_from_wan is None or size.tail_alpha is None:
        top = float(special.ndtr(-(math.log(bound) - mu) / sd)) if math.isfinite(bound) else 0.0
        return (_partial_mean(mu, sd, size.floor_wan, bound) + bound * top) / above_floor
    start = size.tail_from_wan
    tail = float(special.ndtr(-(math.log(start) - mu) / sd))
    body = _partial_mean(mu, sd, size.floor_wan, start)
    return (body + tail * _pareto_mean(start, size.tail_alpha, size.max_wan)) / above_floor


class SpreadError(ValueError):
    """No body log mean gives a segment's above-scale share with the scenario's spread."""


def fit_size(
    target: Target, spec: Calibrated, tail_from_wan: float, known: Known | None = None
) -> SizeDistribution:
    """The size distribution of the segment's synthetic (not named) firms."""
    known = known or Known()
    k = len(known.revenue_wan)
    firms = max(target.firms - k, 1)
    above_scale = max(target.above_scale - k, 0)
    large = max(target.large - k, 0)
    log_sd, floor_wan, large_wan = spec.log_sd, spec.floor_wan, spec.large_wan
    bound = known.upper_bound_wan if known.upper_bound_wan is not None else spec.max_wan
    share_above = min(max(above_scale / firms, 1e-4), 0.95)

    def gap(log_mean: float) -> float:
        above = float(special.ndtr(-(math.log(tail_from_wan) - log_mean) / log_sd))
        base = float(special.ndtr(-(math.log(floor_wan) - log_mean) / log_sd))
        # no firm above the floor (a spread of 1e-300): no share at all, and no 0/0 warning
        return (above / base if base > 0 else 0.0) - share_above

    from scipy.optimize import brentq

    try:
        log_mean = float(brentq(gap, -20.0, 30.0, xtol=1e-10))
    except ValueError:  # the share is out of reach for every log mean in the bracket
        raise SpreadError(log_sd) from None

    def size(alpha: float) -> SizeDistribution:
        return SizeDistribution(
            log_mean=log_mean,
            log_sd=log_sd,
            floor_wan=floor_wan,
            tail_from_wan=tail_from_wan,
            tail_alpha=alpha,
            max_wan=bound,
        )

    low, high = spec.tail_alpha_bounds
    if target.above_scale_revenue_wan is not None and above_scale > 0:
        # the tail above the 规上 line alone carries the published above-scale revenue
        per_firm = (target.above_scale_revenue_wan - sum(known.revenue_wan)) / above_scale
        return size(
            _solve_alpha(lambda a: _pareto_mean(tail_from_wan, a, bound), per_firm, low, high)
        )
    if target.revenue_total_wan is not None:
        wanted = (target.revenue_total_wan - sum(known.revenue_wan)) / firms
        return size(_solve_alpha(lambda a: mean_revenue(size(a)), wanted, low, high))
    if above_scale > 0 and large > 0:
        alpha = math.log(large / above_scale) / math.log(tail_from_wan / large_wan)
    else:
        alpha = high
    return size(min(max(alpha, low), high))


def load_targets(path: Path, cities: list[str]) -> list[Target]:
    """Firm counts and published totals of the simulated cities, from a validated file."""
    parsed = read_data_file(FirmCountsFile, path)
    return [
        Target(
            city=entry.city,
            industry_class=entry.industry_class,
            firms=entry.firms,
            above_scale=entry.above_scale,
            large=entry.large,
            revenue_total_wan=entry.revenue_total_wan,
            above_scale_revenue_wan=entry.above_scale_revenue_wan,
            source=f"{path.name} {entry.city}/{entry.industry_class}: {entry.kind}, "
            f"confidence {entry.confidence}",
        )
        for entry in parsed.firm_counts
        if entry.city in cities
    ]


def load_county_weights(path: Path) -> dict[tuple[str, str], dict[str, float]]:
    """(city, class) -> {county id: weight}, normalised to add up to 1."""
    parsed = read_data_file(CountyWeightsFile, path)
    weights: dict[tuple[str, str], dict[str, float]] = {}
    for entry in parsed.county_weights:
        total = sum(w.weight for w in entry.weights)
        table = {w.unit: w.weight / total for w in entry.weights}
        for code in entry.classes:
            weights[(entry.city, code)] = table
    return weights


def load_known(path: Path) -> dict[tuple[str, str], Known]:
    """(city, class) -> its named firms and upper bound, from large_firms.yaml."""
    data = read_data_file(LargeFirmsFile, path)
    names: dict[tuple[str, str], list[tuple[str, float]]] = {}
    bounds: dict[tuple[str, str], float] = {}
    for firm in data.known_firms:
        names.setdefault((firm.city, firm.industry_class), []).append((firm.name, firm.revenue_wan))
    for bound in data.segment_bounds:
        for code in bound.classes:
            bounds[(bound.city, code)] = bound.upper_bound_wan
    known: dict[tuple[str, str], Known] = {}
    for key in set(names) | set(bounds):
        firms = names.get(key, [])
        known[key] = Known(
            names=tuple(n for n, _ in firms),
            revenue_wan=tuple(r for _, r in firms),
            upper_bound_wan=bounds.get(key),
        )
    return known


def calibrated_segments(
    spec: Calibrated, base: Path, above_scale_wan: float, scenario_file: Path | str | None = None
) -> list[Segment]:
    """Segments for every (city, class) with firms, fitted to the counts and totals.
    `scenario_file` is named when the scenario's own settings (the spread) cannot fit."""
    targets = load_targets((base / spec.firm_counts).resolve(), spec.cities)
    weights = load_county_weights((base / spec.county_weights).resolve())
    known_path = (base / spec.known_firms).resolve() if spec.known_firms else None
    known_by_segment = load_known(known_path) if known_path else {}
    fitted = {(t.city, t.industry_class) for t in targets if t.firms > 0}
    for key, known in known_by_segment.items():
        if known.names and key[0] in spec.cities and key not in fitted:
            where = f"known_firms {'/'.join(key)}"
            raise InputError(known_path or spec.firm_counts, where, "no such segment with firms")
    segments: list[Segment] = []
    for target in targets:
        if target.firms <= 0:
            continue
        key = (target.city, target.industry_class)
        if key not in weights:
            raise InputError(
                spec.county_weights, f"{target.city}/{target.industry_class}", "no county weights"
            )
        rd = spec.rd_by_class[target.industry_class]
        known = known_by_segment.get(key, Known())
        bound = known.upper_bound_wan or spec.max_wan
        if any(r > bound for r in known.revenue_wan) or len(known.revenue_wan) > target.firms:
            raise InputError(
                known_path or spec.firm_counts, "/".join(key), "named firms do not fit"
            )
        try:
            size = fit_size(target, spec, above_scale_wan, known)
        except ValidationError as exc:  # the counts and the calibration settings do not fit
            problem = exc.errors()[0]["msg"]
            raise InputError(
                spec.firm_counts,
                "/".join(key),
                f"no size distribution fits the counts with the scenario's population settings "
                f"(above_scale_wan, calibrated): {problem}",
            ) from None
        except SpreadError:  # no body log mean in [-20, 30] gives the above-scale share
            raise InputError(
                scenario_file or spec.firm_counts,
                "population.calibrated.log_sd",
                f"{spec.log_sd:g} is a spread with which no size distribution gives "
                f"{target.city}/{target.industry_class}'s share of above-scale firms "
                "(the baseline uses 1.2)",
            ) from None
        segments.append(
            Segment(
                city=target.city,
                industry_class=target.industry_class,
                firms=target.firms,
                size=size,
                revenue_total_wan=(
                    target.above_scale_revenue_wan
                    if target.above_scale_revenue_wan is not None
                    else target.revenue_total_wan
                ),
                total_from_wan=above_scale_wan if target.above_scale_revenue_wan is not None else 0,
                total_tolerance=spec.total_tolerance,
                total_attempts=spec.total_attempts,
                known_revenue_wan=list(known.revenue_wan),
                known_names=list(known.names),
                county_weights=weights[key],
                rd_share_of_revenue=rd.median_share,
                rd_share_log_sd=rd.log_sd,
                rd_performing_share=rd.performing_share,
                source=target.source,
            )
        )
    return segments


def draw_sizes(size: SizeDistribution, n: int, rng: np.random.Generator) -> np.ndarray:
    """Revenues (万元): lognormal truncated below at the floor, Pareto above the tail start."""
    u = rng.random(n)
    v = rng.random(n) if size.tail_from_wan is not None and size.tail_alpha is not None else None
    return sizes_from_uniforms(size, u, v)


def sizes_from_uniforms(
    size: SizeDistribution, u: np.ndarray, v: np.ndarray | None = None
) -> np.ndarray:
    """`draw_sizes` by inverse CDF from uniforms: u for the body, v for the Pareto tail (needed
    only when the size has a tail)."""
    low = (
        float(special.ndtr((math.log(size.floor_wan) - size.log_mean) / size.log_sd))
        if size.floor_wan > 0
        else 0.0
    )
    u = np.minimum(low + (1.0 - low) * u, 1 - 1e-12)
    revenue = np.exp(size.log_mean + size.log_sd * special.ndtri(u))
    if size.tail_from_wan is not None and size.tail_alpha is not None:
        assert v is not None, "a size with a Pareto tail needs the tail's uniforms"
        tail = revenue > size.tail_from_wan
        # Pareto above the tail start, truncated at the bound (inverse CDF), not piled on it
        reach = (
            1.0
            if size.max_wan is None
            else 1.0 - (size.tail_from_wan / size.max_wan) ** size.tail_alpha
        )
        pareto = size.tail_from_wan * np.power(1.0 - v * reach, -1.0 / size.tail_alpha)
        revenue = np.where(tail, pareto, revenue)
    if size.max_wan is not None:
        revenue = np.minimum(revenue, size.max_wan)
    return np.asarray(revenue)
