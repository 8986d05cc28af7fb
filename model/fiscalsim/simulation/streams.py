"""Named random streams spawned from one seed.

Every stochastic component of every replicate and city draws from its own stream, keyed by
stable names (CRC-32 of the name, never Python's salted `hash()`). Replicate k is therefore the
same alone or in a batch, in one process or many, and two scenarios run on the same seed see
the same firms and shocks wherever their inputs agree (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np


def name_key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replicate: int, *names: str) -> np.random.Generator:
    """The generator of one component, e.g. stream(seed, 7, "ganzhou", "growth")."""
    key = (replicate, *(name_key(n) for n in names))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


class Streams:
    """Lazily created generators of one batch, kept so each stream continues across years."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._cache: dict[tuple[object, ...], np.random.Generator] = {}

    def get(self, replicate: int, *names: str) -> np.random.Generator:
        key = (replicate, *names)
        generator = self._cache.get(key)
        if generator is None:
            generator = stream(self.seed, replicate, *names)
            self._cache[key] = generator
        return generator
