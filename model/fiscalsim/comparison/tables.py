"""Tables of several variants: levels and differences from the first, with bands.

The band of a difference is taken over the per-replicate differences (the same firms and shocks
in both scenarios), so it is far narrower than the gap between the two scenarios' own bands.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fiscalsim.series import Series, statistics


def aligned(
    series: Sequence[Series], key_columns: Sequence[str]
) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Every series on the union of their rows (zeros where a variant has no such row)."""
    columns = list(key_columns)
    first = series[0].keys[columns].reset_index(drop=True) if series else None
    if first is not None and all(
        s.keys[columns].reset_index(drop=True).equals(first) for s in series
    ):
        # the usual case (every variant has the same rows): no row-by-row matching, which took
        # 0.6 s of a --readings all band's 4.2 s at 2 replicates
        return first, [np.array(s.amount_wan, dtype=float) for s in series]
    position: dict[tuple[object, ...], int] = {}
    for s in series:
        for row in s.keys[columns].itertuples(index=False, name=None):
            position.setdefault(row, len(position))
    union = pd.DataFrame(list(position), columns=columns)
    matrices = []
    for s in series:
        matrix = np.zeros((len(position), s.amount_wan.shape[1]))
        rows = [position[r] for r in s.keys[columns].itertuples(index=False, name=None)]
        matrix[rows] = s.amount_wan
        matrices.append(matrix)
    return union, matrices


def differences(
    names: Sequence[str], series: Sequence[Series], key_columns: Sequence[str]
) -> pd.DataFrame:
    """One row per variant and key: its mean and band, and its difference from the first."""
    keys, matrices = aligned(series, key_columns)
    frames = []
    for position, (name, matrix) in enumerate(zip(names, matrices, strict=True)):
        frame = keys.copy()
        frame.insert(0, "scenario", name)
        difference = matrix - matrices[0]
        # an alternative's matrix is not read again once its difference is made, nor is the
        # difference: the percentiles reorder them in place instead of copying each (series.py)
        for key, values in statistics(matrix, scratch=position > 0).items():
            frame[f"{key}_wan"] = values
        for key, values in statistics(difference, scratch=True).items():
            frame[f"diff_{key}_wan"] = values
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def levels(
    labels: pd.DataFrame, series: Sequence[Series], key_columns: Sequence[str]
) -> pd.DataFrame:
    """Each variant's mean and band, one block of rows per variant, labelled by `labels` rows."""
    keys, matrices = aligned(series, key_columns)
    frames = []
    for (_, label), matrix in zip(labels.iterrows(), matrices, strict=True):
        frame = keys.copy()
        for position, (column, value) in enumerate(label.items()):
            frame.insert(position, str(column), value)
        for key, values in statistics(matrix).items():
            frame[f"{key}_wan"] = values
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
