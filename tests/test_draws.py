"""Poisson counts from keyed uniforms (dynamics/draws.py) are SciPy's inverse CDF exactly, on
both paths: the summed CDF below a mean of 200 and the special functions above it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fiscalsim.dynamics import draws
from fiscalsim.simulation.streams import named_uniforms


@pytest.mark.parametrize("mean", [0.3, 12.0, 150.5, 199.99, 200.0, 600.0, 4321.5])
def test_poisson_counts_are_scipys_inverse_cdf(mean: float) -> None:
    uniforms = named_uniforms(7, ("test", "poisson"), np.arange(100_000, dtype=np.int64))
    tails = np.array([1e-300, 1e-12, 0.5, 1 - 1e-12])
    u = np.concatenate([uniforms, tails])
    expected = np.asarray(stats.poisson.ppf(u, mean), dtype=np.int64)
    assert np.array_equal(draws.poisson(u, mean), expected)


def test_zero_mean_gives_no_firms() -> None:
    assert not draws.poisson(np.array([0.2, 0.9]), 0.0).any()


def test_one_age_band_takes_the_draws_choice_takes() -> None:
    """synthesis._ages skips the band draw when there is one band, yet moves the population
    stream as Generator.choice would: same ages, and the next draws are the same."""
    from fiscalsim.population.synthesis import _ages

    lows, highs = np.array([3]), np.array([9])
    fast, general = np.random.default_rng(11), np.random.default_rng(11)
    ages = _ages(fast, 5_000, lows, highs, np.array([1.0]))
    band = general.choice(1, size=5_000, p=np.array([1.0]))
    expected = lows[band] + np.floor(general.uniform(size=5_000) * (highs - lows + 1)[band])
    assert np.array_equal(ages, expected.astype(int)) and ages.min() == 3 and ages.max() == 9
    assert np.array_equal(fast.standard_normal(50), general.standard_normal(50))


def test_the_declined_draws_left_out_of_a_stream_change_no_firm() -> None:
    """With no firm declined, synthesis._draw_city leaves out its last two draws of a city's
    population stream, but only after the city's last segment: a city of two segments gets the
    same firms as when the draws are made (a share of 1e-300 declines no firm, and draws)."""
    from pathlib import Path

    from fiscalsim.population.synthesis import initial_population
    from fiscalsim.simulation.montecarlo import prepare
    from fiscalsim.simulation.streams import Streams

    prepared = prepare(Path(__file__).parent.parent / "scenarios" / "baseline.yaml", replicates=2)
    model = prepared.model
    plan = next(p for p in model.plans if len(p.segments) >= 2)  # a city of several classes
    history = model.scenario.population.history

    def firms(share: float) -> dict[str, np.ndarray]:
        drawn, _ = initial_population(
            [plan],
            history.model_copy(update={"declined_share": share}),
            model.scenario.population.start_year,
            [0, 1],
            Streams(model.scenario.seed),
            model.book.registry,
        )
        return {name: getattr(drawn, name) for name in ("revenue_wan", "max_revenue_wan")}

    left_out, drawn = firms(0.0), firms(1e-300)
    for name in left_out:
        assert np.array_equal(left_out[name], drawn[name], equal_nan=True), name
