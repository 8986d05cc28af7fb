"""Work shared between the variants of a comparison gives what each variant's own work gives."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from fiscalsim.comparison.tables import aligned
from fiscalsim.memo import PerObject
from fiscalsim.series import Series, with_totals_all

BY = ["jurisdiction", "payer_level", "basis"]


def _series(years: list[int], seed: int, place: str = "xunwu") -> Series:
    keys = pd.DataFrame(
        [
            {"jurisdiction": place, "payer_level": "county", "year": y, "basis": b}
            for b in ("obligation", "cash")
            for y in years
        ]
    )
    rng = np.random.default_rng(seed)
    return Series(keys, rng.random((len(keys), 3)) * 100, rng.integers(0, 5, (len(keys), 3)) * 1.0)


def _same(a: Series, b: Series) -> None:
    pd.testing.assert_frame_equal(a.keys, b.keys)
    assert np.array_equal(a.amount_wan, b.amount_wan)
    assert np.array_equal(a.awards, b.awards)


def test_totals_of_many_series_equal_each_ones_own() -> None:
    # the third series has other rows: it is totalled on its own, not with the first's groups
    series = [_series([2022, 2023], 1), _series([2022, 2023], 2), _series([2022, 2024], 3)]
    shared = with_totals_all(series, BY)
    for one, own in zip(shared, series, strict=True):
        _same(one, own.with_totals(BY))
    assert with_totals_all([], BY) == []


def test_aligned_series_with_the_same_rows_are_copies_not_views() -> None:
    series = with_totals_all([_series([2022, 2023], 1), _series([2022, 2023], 2)], BY)
    keys, matrices = aligned(series, [*BY, "year"])
    assert len(keys) == len(series[0].keys)
    for matrix, one in zip(matrices, series, strict=True):
        assert np.array_equal(matrix, one.amount_wan)
        assert not np.shares_memory(matrix, one.amount_wan)  # differences() reorders in place
    # rows that differ are matched row by row, zeros where a series has none
    other = _series([2022, 2023], 4, place="ganzhou")
    keys, matrices = aligned([series[0], other], ["jurisdiction", "payer_level", "year", "basis"])
    assert len(keys) == len(series[0].keys) + len(other.keys)
    assert (matrices[1][: len(series[0].keys)] == 0).all()


def test_a_value_is_kept_per_living_object_and_dropped_with_it() -> None:
    calls: list[int] = []

    class Thing:
        def __init__(self, n: int) -> None:
            self.n = n

    @PerObject
    def doubled(thing: Thing) -> int:
        calls.append(thing.n)
        return thing.n * 2

    first, second = Thing(1), Thing(2)
    assert (doubled(first), doubled(first), doubled(second)) == (2, 2, 4)
    assert calls == [1, 2]
    del first
    gc.collect()
    assert len(doubled.values) == 1  # the dead object's value went with it
    third = Thing(3)  # may reuse the dead object's id: it must not get its value
    assert doubled(third) == 6


def test_an_engine_pass_keeps_memory_for_its_own_ladders_only() -> None:
    from fiscalsim.engine.state import EngineState

    state = EngineState(8, track_ladder_paid=True, track_previous=False, ladders=(2, 5))
    state.ensure(10)
    assert state.reached_tiers.shape[0] == 2 and state.ladder_paid_wan.shape[0] == 2
    state.reached(5)[3] = 2  # a view: the write goes to the memory
    state.paid(2)[4] = 20.0
    assert state.reached_tiers[1, 3] == 2 and state.ladder_paid_wan[0, 4] == 20.0
    assert state.reached(2)[3] == 0
    with pytest.raises(KeyError):
        state.reached(0)  # a ladder of another pass: never read from this one
    whole = EngineState(8)  # the calculator's: every ladder of the book
    whole.ensure(10)
    assert whole.reached_tiers.shape[0] == 8
