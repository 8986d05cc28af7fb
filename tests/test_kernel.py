"""The compiled yearly step (dynamics/kernel.py) does what exit.hazard and growth.log_step say,
on the same keyed uniforms, for every form of the exit and growth specifications; and the
shared numerics agree with SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from fiscalsim.dynamics import growth as growths
from fiscalsim.dynamics import numerics
from fiscalsim.dynamics.exit import hazard
from fiscalsim.dynamics.kernel import StepParameters, exit_and_grow
from fiscalsim.dynamics.tallies import Tally
from fiscalsim.scenario import Exit, Growth
from fiscalsim.simulation.collect import add_population
from fiscalsim.simulation.firms import Columns
from fiscalsim.simulation.streams import firm_counter, keyed_uniforms

GROWTHS = {
    "normal, one spread": Growth(drift_by_class={"03": 0.05}, sigma0=0.35, s0_wan=1000, source="t"),
    "laplace, size and age, clipped": Growth(
        drift_by_class={"03": 0.05},
        sigma0=0.5,
        s0_wan=1000,
        beta=0.2,
        sigma_min=0.05,
        sigma_max=1.2,
        young_age_multiplier={"0-2": 1.5, "3-5": 1.2},
        shape="laplace",
        tail_clip_sigmas=4.0,
        source="t",
    ),
    "normal, size, clipped": Growth(
        drift_by_class={"03": 0.0}, sigma0=0.3, s0_wan=500, beta=0.1, tail_clip_sigmas=3, source="t"
    ),
}
EXITS = {
    "flat": Exit(hazard_by_age=[0.06], source="t"),
    "by age and size": Exit(
        hazard_by_age=[0.05, 0.08, 0.1, 0.07, 0.04],
        size_reference_wan=100,
        size_gamma=0.15,
        size_multiplier_min=0.3,
        source="t",
    ),
}


def _run_order(city: np.ndarray, replicate: np.ndarray, split: int, n_rep: int) -> np.ndarray:
    """Rows in run order, built another way than the pass: each entrant (rows from `split` on)
    inserted after the old rows of its (city, replicate) code and the entrants of that code
    before it (searchsorted of the codes)."""
    code = city.astype(np.int64) * n_rep + replicate
    old_code, new_code = code[:split], code[split:]
    new_order = np.argsort(new_code, kind="stable")
    at = np.searchsorted(old_code, new_code[new_order], side="right") + np.arange(new_code.size)
    order = np.empty(code.size, dtype=np.int64)
    is_new = np.zeros(code.size, dtype=bool)
    is_new[at] = True
    order[at] = split + new_order
    order[~is_new] = np.arange(split)
    return order


@pytest.mark.parametrize("growth_name", list(GROWTHS))
@pytest.mark.parametrize("exit_name", list(EXITS))
def test_compiled_step_equals_the_numpy_formulas(growth_name: str, exit_name: str) -> None:
    growth, exit_spec = GROWTHS[growth_name], EXITS[exit_name]
    rng = np.random.default_rng(5)
    n, n_rep = 20_000, 4
    split = n - 3_000  # rows from here on are read from the second set (last year's entrants)
    replicate = rng.integers(0, n_rep, n).astype(np.int32)
    serial = rng.permutation(n).astype(np.int64)
    city = rng.integers(0, 2, n).astype(np.int16)
    code = city.astype(np.int64) * n_rep + replicate
    sort_old = np.argsort(code[:split], kind="stable")  # old rows are in run order
    replicate[:split], city[:split] = replicate[:split][sort_old], city[:split][sort_old]
    klass = rng.integers(1, 6, n).astype(np.int8)
    age = rng.integers(0, 30, n)
    revenue = np.exp(rng.normal(6, 1.5, n))
    states = np.array([11, 2**63 + 5], dtype=np.uint64), np.array([7, 99], dtype=np.uint64)
    location = rng.normal(0.03, 0.01, (2, 6))
    national, by_class = rng.normal(0, 0.02, 4), rng.normal(0, 0.05, (2, 4, 6))
    order = _run_order(city, replicate, split, n_rep)
    counter = firm_counter(replicate, serial)
    year, key_city = 2030, 10**7  # the pass makes the counter from the key, the age from the year
    key = replicate.astype(np.int64) * 10**9 + city.astype(np.int64) * key_city + serial
    columns = Columns(
        key=key,
        replicate=replicate,
        city=city,
        location=rng.integers(0, 9, n).astype(np.int32),
        industry_class=klass,
        revenue_wan=revenue,
        max_revenue_wan=np.where(rng.random(n) < 0.05, np.nan, revenue * rng.uniform(0.5, 2, n)),
        founded_year=(year - age).astype(np.int32),
        rd_share=rng.uniform(0, 0.1, n),
        slot=rng.permutation(n).astype(np.int64),
    )
    counted = np.zeros((n_rep, 2, 9, 6, 3))  # the old rows' population, counted by the pass
    stepped = exit_and_grow(
        StepParameters.of(exit_spec, growth),
        year,
        Columns(*(c[:split] for c in columns)),
        Columns(*(c[split:] for c in columns)),
        n_rep,
        *states,
        location,
        national,
        by_class,
        raise_max=True,
        tally=Tally(counted, 1, np.arange(n_rep), np.arange(9), 500.0),
        watch_wan=800.0,
    )
    keep, survivors = stepped.keep, stepped.survivors
    # the rows the engine reads from the pass: at or above the watched revenue, and entrants
    assert np.array_equal(stepped.high, np.flatnonzero(survivors.revenue_wan >= 800.0))
    assert 0 < stepped.high.size < keep.size
    assert np.array_equal(stepped.fresh, np.flatnonzero(keep >= split)) and stepped.fresh.size
    u_exit = keyed_uniforms(states[0][city], counter)
    survives = u_exit >= hazard(exit_spec, age, revenue)
    expected = order[survives[order]]
    assert np.array_equal(keep, expected)
    for name, column in survivors._asdict().items():  # every other column carried, dtype kept
        assert column.dtype == getattr(columns, name).dtype, name
        if name not in ("revenue_wan", "max_revenue_wan"):
            assert np.array_equal(column, getattr(columns, name)[expected]), name
    # the highest revenue takes in last year's, NaN kept, for the old rows; entrants' as is
    raised = np.r_[
        np.maximum(columns.max_revenue_wan, revenue)[:split], columns.max_revenue_wan[split:]
    ]
    assert np.array_equal(survivors.max_revenue_wan, raised[expected], equal_nan=True)
    grown = survivors.revenue_wan
    expected_counts = np.zeros_like(counted)  # as the collector counts them, in the same order
    old = Columns(*(c[:split] for c in columns))
    add_population(
        expected_counts, 1, np.arange(n_rep), old.replicate, np.arange(9), old.location,
        old.industry_class, old.revenue_wan, 500.0,
    )  # fmt: skip
    assert np.array_equal(counted, expected_counts) and counted[..., 0].sum() == split
    own = growths.unit_shocks_from_uniform(growth, keyed_uniforms(states[1][city], counter))
    step = growths.log_step(
        growth,
        location[city, klass],
        revenue,
        age,
        own,
        national[replicate] + by_class[city, replicate, klass],
    )
    # the kernel interpolates the log mgf in a table (kernel.MGF_STEP): 1e-8 of ln growth
    np.testing.assert_allclose(np.log(grown), np.log(revenue * np.exp(step))[expected], atol=1e-8)


def test_inverse_normal_matches_scipy() -> None:
    u = np.concatenate([np.linspace(1e-15, 1 - 1e-15, 100_001), [1e-300, 0.5, 0.975]])
    np.testing.assert_allclose(numerics.ndtri_array(u), special.ndtri(u), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "laplace, clip", [(False, np.inf), (False, 2.5), (True, np.inf), (True, 4.0)]
)
def test_array_forms_are_the_scalar_ones_bit_for_bit(laplace: bool, clip: float) -> None:
    """ndtri_into and unit_shocks_into (the central formula on SIMD lanes, then the tails)
    give exactly what ndtri and unit_shock give one by one, at the seams 1/2 +- 0.425 too."""
    u = keyed_uniforms(np.full(50_000, 12345, dtype=np.uint64), np.arange(50_000, dtype=np.uint64))
    seams = [0.075, 0.925, np.nextafter(0.075, 0), np.nextafter(0.925, 1), 0.5, 2.0**-53]
    u = np.concatenate([u, seams, 1 - np.array(seams)])
    normal = np.empty(u.size)
    numerics.ndtri_into(u, normal)
    assert np.array_equal(normal, [numerics.ndtri(x) for x in u])
    shocks = np.empty(u.size)
    numerics.unit_shocks_into(laplace, clip, u, shocks)
    assert np.array_equal(shocks, [numerics.unit_shock(laplace, clip, x) for x in u])


def test_keyed_uniform_matches_the_numpy_generator() -> None:
    states = np.array([0, 1, 2**64 - 1, 12345678901234567], dtype=np.uint64)
    counters = np.array([0, 2**40 + 3, 17, 2**63], dtype=np.uint64)
    expected = keyed_uniforms(states, counters)
    got = [numerics.keyed_uniform(s, c) for s, c in zip(states, counters, strict=True)]
    assert np.array_equal(np.array(got), expected)
    # the array form the pass calls on a chunk (on SIMD lanes): the same bits
    rng = np.random.default_rng(4)
    states = np.r_[states, rng.integers(0, 2**63, 1000, dtype=np.uint64) * np.uint64(2)]
    counters = np.r_[counters, rng.integers(0, 2**63, 1000, dtype=np.uint64) + np.uint64(1)]
    into = np.empty(counters.size)
    numerics.keyed_uniforms_into(states, counters, into)
    assert np.array_equal(into, keyed_uniforms(states, counters))


def test_the_pass_writes_its_columns_on_64_byte_boundaries() -> None:
    """Where the heap put the columns moved the compiled pass by 5% (0.95-1.00 s against
    0.87-0.92 s aligned, in the benchmark); every column now starts on a cache line."""
    from fiscalsim.dynamics.kernel import ALIGN_BYTES, aligned_empty

    for n in (1, 7, 1000):  # (an empty array has no data to align)
        for dtype in (np.float64, np.int64, np.int32, np.int16, np.int8):
            array = aligned_empty(n, np.dtype(dtype))
            assert array.shape == (n,) and array.dtype == dtype
            assert array.ctypes.data % ALIGN_BYTES == 0
            array[:] = 1  # writable, and its own memory
            assert array.sum() == n
