"""Fit a lognormal body with a Pareto tail to three counts: firms, above-scale, and large.

The body's log mean is solved so the share above the above-scale line matches; the tail index
is then set so the share of large firms among above-scale ones matches. Both are closed-form or
a one-dimensional root, so the fit is exact and repeatable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import optimize, special, stats

from fiscalsim.datafiles import CountyWeightsFile, FirmCountsFile, read_data_file
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


def fit_size(target: Target, spec: Calibrated, tail_from_wan: float) -> SizeDistribution:
    """The size distribution whose shares above `tail_from_wan` and `large_wan` match the target."""
    log_sd, floor_wan, large_wan = spec.log_sd, spec.floor_wan, spec.large_wan
    share_above = min(max(target.above_scale / max(target.firms, 1), 1e-4), 0.95)

    def gap(log_mean: float) -> float:
        above = stats.norm.sf((math.log(tail_from_wan) - log_mean) / log_sd)
        base = stats.norm.sf((math.log(floor_wan) - log_mean) / log_sd)
        return float(above / base - share_above)

    log_mean = float(optimize.brentq(gap, -20.0, 30.0, xtol=1e-10))
    if target.above_scale > 0 and target.large > 0:
        alpha = math.log(target.large / target.above_scale) / math.log(tail_from_wan / large_wan)
    else:
        alpha = spec.tail_alpha_bounds[1]
    alpha = min(max(alpha, spec.tail_alpha_bounds[0]), spec.tail_alpha_bounds[1])
    return SizeDistribution(
        log_mean=log_mean,
        log_sd=log_sd,
        floor_wan=floor_wan,
        tail_from_wan=tail_from_wan,
        tail_alpha=alpha,
        max_wan=spec.max_wan,
    )


def load_targets(path: Path, cities: list[str]) -> list[Target]:
    """Firm counts of the simulated cities, from a validated firm_counts file."""
    parsed = read_data_file(FirmCountsFile, path)
    return [
        Target(
            city=entry.city,
            industry_class=entry.industry_class,
            firms=entry.firms,
            above_scale=entry.above_scale,
            large=entry.large,
            source=f"{path.name} {entry.city}/{entry.industry_class}: {entry.kind}, confidence {entry.confidence}",
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


def calibrated_segments(spec: Calibrated, base: Path, above_scale_wan: float) -> list[Segment]:
    """Segments for every (city, class) with firms, fitted to the counts."""
    targets = load_targets((base / spec.firm_counts).resolve(), spec.cities)
    weights = load_county_weights((base / spec.county_weights).resolve())
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
        segments.append(
            Segment(
                city=target.city,
                industry_class=target.industry_class,
                firms=target.firms,
                size=fit_size(target, spec, above_scale_wan),
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
    low = (
        float(special.ndtr((math.log(size.floor_wan) - size.log_mean) / size.log_sd))
        if size.floor_wan > 0
        else 0.0
    )
    u = rng.uniform(low, 1.0, n)
    u = np.minimum(u, 1 - 1e-12)
    revenue = np.exp(size.log_mean + size.log_sd * special.ndtri(u))
    if size.tail_from_wan is not None and size.tail_alpha is not None:
        tail = revenue > size.tail_from_wan
        v = rng.uniform(0.0, 1.0, n)
        pareto = size.tail_from_wan * np.power(1.0 - v, -1.0 / size.tail_alpha)
        revenue = np.where(tail, pareto, revenue)
    if size.max_wan is not None:
        revenue = np.minimum(revenue, size.max_wan)
    return np.asarray(revenue)
