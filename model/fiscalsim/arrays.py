"""Scatter-add into a dense array by an index tuple: np.add.at's job, done with one bincount."""

from __future__ import annotations

import numpy as np


def scatter_add(
    target: np.ndarray, index: tuple[np.ndarray | int, ...], values: np.ndarray | float
) -> None:
    """target[index] += values, accumulating repeated indices (target must be C-contiguous)."""
    parts = np.broadcast_arrays(*[np.asarray(i, dtype=np.int64) for i in index])
    if parts[0].size == 0:
        return
    flat = np.ravel_multi_index(tuple(parts), target.shape)
    weights = np.broadcast_to(np.asarray(values, dtype=np.float64), flat.shape)
    target += np.bincount(flat.ravel(), weights=weights.ravel(), minlength=target.size).reshape(
        target.shape
    )
