"""Hold each replicate's start population to what is published about it.

The start year is data, not forecast. Named firms are placed at their published sizes; the
segment's other firms are redrawn until their total lies within the tolerance of what the
published total leaves for them (rejection sampling: the draw is then one from the fitted
distribution *given* the total). A published 规上 total counts only firms at or above the
规上 line (`total_from_wan`). If no draw within `total_attempts` comes close enough, the
closest is rescaled to the nearest edge of the tolerance band and noted as such in the
calibration report. A segment without a total keeps its count-based draw.
"""

from __future__ import annotations

import numpy as np

from fiscalsim.population.fit import draw_sizes
from fiscalsim.scenario import Segment

CHUNK_VALUES = 200_000  # values drawn at once while redrawing (memory, not results)


def start_revenue(segment: Segment, first_draw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Revenues of the segment's firms: named firms first, then the conditioned unknown part."""
    revenue = np.array(first_draw, dtype=np.float64)
    k = min(len(segment.known_revenue_wan), revenue.size)
    revenue[:k] = segment.known_revenue_wan[:k]
    if segment.revenue_total_wan is None or revenue.size == k:
        return revenue
    known = revenue[:k]
    wanted = segment.revenue_total_wan - float(np.sum(known[known >= segment.total_from_wan]))
    tolerance = segment.total_tolerance
    floor = segment.total_from_wan
    best = revenue[k:]
    best_gap = abs(_counted(best, floor).sum() / wanted - 1.0)
    attempts = 1
    m = revenue.size - k
    chunk = 1
    while best_gap > tolerance and attempts < segment.total_attempts:
        chunk = max(1, min(2 * chunk, segment.total_attempts - attempts, CHUNK_VALUES // m))
        trials = draw_sizes(segment.size, chunk * m, rng).reshape(chunk, m)
        gaps = np.abs(_counted(trials, floor).sum(axis=1) / wanted - 1.0)
        inside = np.flatnonzero(gaps <= tolerance)
        pick = int(inside[0]) if inside.size else int(np.argmin(gaps))
        if gaps[pick] < best_gap:
            best, best_gap = trials[pick], float(gaps[pick])
        attempts += chunk
    if best_gap > tolerance and best[best >= floor].sum() > 0:
        counted = best >= floor
        total = best[counted].sum()
        edge = wanted * (1 + tolerance if total > wanted else 1 - tolerance)
        bound = segment.size.max_wan if segment.size.max_wan is not None else np.inf
        scaled = np.clip(best * (edge / total), floor, bound)  # counted firms stay counted
        best = np.where(counted, scaled, best)
    revenue[k:] = best
    return revenue


def _counted(values: np.ndarray, floor: float) -> np.ndarray:
    """The revenues a total counts: all, or those at or above the 规上 line."""
    return np.where(values >= floor, values, 0.0) if floor > 0 else values
