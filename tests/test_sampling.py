"""Sampling without replacement by groups (dynamics/sampling.py): counts, distinctness, zero
weights, and the successive-sampling probabilities NumPy's choice defines."""

from __future__ import annotations

import numpy as np

from fiscalsim.dynamics.sampling import sample_groups
from fiscalsim.simulation.streams import named_uniforms


def _uniforms(seed: int):  # type: ignore[no-untyped-def]
    return lambda part, counter: named_uniforms(seed, ("test", part), counter)


def test_each_group_gets_its_count_of_distinct_candidates() -> None:
    group = np.repeat(np.arange(4), [10, 3, 0 + 5, 50])
    counts = np.array([4, 3, 9, 1])  # group 1 wants all, group 2 more than it has
    chosen = sample_groups(group, counts, None, _uniforms(1), np.arange(4))
    assert np.all(np.diff(chosen) > 0)
    assert np.bincount(group[chosen], minlength=4).tolist() == [4, 3, 5, 1]


def test_zero_weights_are_never_drawn() -> None:
    group = np.zeros(6, dtype=np.int64)
    weights = np.array([0.0, 1.0, 0.0, 5.0, 2.0, 0.0])
    for seed in range(50):
        chosen = sample_groups(group, np.array([2]), weights, _uniforms(seed), np.arange(1))
        assert chosen.size == 2 and np.all(weights[chosen] > 0)


def test_weighted_draws_have_successive_sampling_probabilities() -> None:
    """P(a firm among 2 of 3 drawn) for weights 1, 2, 7, against the exact formula."""
    weights = np.array([1.0, 2.0, 7.0])
    total = weights.sum()
    exact = [
        sum(
            weights[a] / total * weights[b] / (total - weights[a])
            for a in range(3)
            for b in range(3)
            if a != b and i in (a, b)
        )
        for i in range(3)
    ]
    groups = 20_000
    group = np.repeat(np.arange(groups), 3)
    chosen = sample_groups(
        group, np.full(groups, 2), np.tile(weights, groups), _uniforms(7), np.arange(groups)
    )
    share = np.bincount(chosen % 3, minlength=3) / groups
    assert np.allclose(share, exact, atol=0.015)


def test_the_same_keys_give_the_same_sample() -> None:
    group = np.repeat(np.arange(3), 100)
    weights = np.linspace(1, 50, 300)
    first = sample_groups(group, np.array([5, 7, 9]), weights, _uniforms(3), np.array([4, 8, 9]))
    again = sample_groups(group, np.array([5, 7, 9]), weights, _uniforms(3), np.array([4, 8, 9]))
    assert np.array_equal(first, again)
