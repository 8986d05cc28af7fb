"""Named random streams spawned from one seed.

Every stochastic component of every replicate and city draws from its own stream, keyed by
stable names (CRC-32 of the name, never Python's salted `hash()`). Replicate k is therefore the
same alone or in a batch, in one process or many, and two scenarios run on the same seed see
the same firms and shocks wherever their inputs agree (common random numbers).
"""

from __future__ import annotations

import functools
import zlib

import numpy as np

from fiscalsim.dynamics import numerics


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


# -- draws keyed by firm -------------------------------------------------------------------
# A firm's own draws (exit, growth) come from a counter-based generator: SplitMix64 with a state
# set by (seed, city, year, component) and the firm's (replicate, serial number) as the counter.
# A firm therefore sees the same numbers whatever other firms exist, in whatever row order, batch
# or process (Starsim gives each agent a slot for the same reason). Adding entrants to one city
# leaves every existing firm's path unchanged.
_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def _mix_int(x: int) -> int:
    x &= _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@functools.lru_cache(maxsize=1 << 16)
def stream_state(seed: int, *names: str | int) -> int:
    """A 64-bit state from the seed and stable names or numbers (remembered: the same names
    recur every block and year, and hashing them in Python costs 30 µs)."""
    state = _mix_int(seed)
    for name in names:
        value = name if isinstance(name, int) else name_key(name)
        state = _mix_int(state ^ (value & _MASK))
    return state


def keyed_uniforms(states: np.ndarray, counters: np.ndarray) -> np.ndarray:
    """Uniforms in (0, 1), one per (state, counter) pair, both uint64 arrays."""
    with np.errstate(over="ignore"):
        h = _mix(states + counters * np.uint64(_GOLDEN))
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def firm_counter(replicate: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """A firm's counter: its replicate and its serial number within its replicate and city."""
    return (replicate.astype(np.uint64) << np.uint64(40)) | serial.astype(np.uint64)


def named_uniforms(seed: int, names: tuple[str | int, ...], counters: np.ndarray) -> np.ndarray:
    """Uniforms of one named component, one per counter (a replicate, or a firm's counter):
    e.g. named_uniforms(seed, ("ganzhou", 2024, "entry", "03"), replicates)."""
    state = np.uint64(stream_state(seed, *names))
    flat = np.ascontiguousarray(counters, dtype=np.uint64).reshape(-1)
    return numerics.keyed_uniforms_of(state, flat).reshape(counters.shape)
