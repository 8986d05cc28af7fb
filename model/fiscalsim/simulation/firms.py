"""Firms as arrays, not objects: one row per living firm of every replicate in a batch.

Rows are kept sorted by (city, replicate) so each city is one block (one engine call a year)
and each replicate of a city is a contiguous run. Exits compact the rows; entrants are merged
into place. A firm's identity (its key) and its row in the engine's memory (its slot) never
change, so the engine's memory is never moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


@dataclass
class FirmArrays:
    key: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # stable firm id
    replicate: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    city: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    location: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    industry_class: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    revenue_wan: np.ndarray = field(default_factory=lambda: np.zeros(0))
    max_revenue_wan: np.ndarray = field(default_factory=lambda: np.zeros(0))  # before this year
    founded_year: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    rd_share: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # The firm's row in its city's engine memory, for life: exits leave a hole, never a move.
    slot: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n(self) -> int:
        return int(self.key.size)

    @staticmethod
    def block(
        replicate: int,
        city_index: int,
        industry_class: int,
        location: np.ndarray,
        revenue_wan: np.ndarray,
        max_revenue_wan: np.ndarray,
        founded_year: np.ndarray,
        rd_share: np.ndarray,
    ) -> FirmArrays:
        """New firms of one replicate, city and class (keys are set by the caller)."""
        n = revenue_wan.size
        return FirmArrays(
            key=np.zeros(n, dtype=np.int64),
            replicate=np.full(n, replicate, dtype=np.int32),
            city=np.full(n, city_index, dtype=np.int16),
            location=location.astype(np.int32),
            industry_class=np.full(n, industry_class, dtype=np.int8),
            revenue_wan=revenue_wan,
            max_revenue_wan=max_revenue_wan,
            founded_year=founded_year.astype(np.int32),
            rd_share=rd_share,
            slot=np.zeros(n, dtype=np.int64),
        )

    def copy_for(self, replicate: int) -> FirmArrays:
        """The same firms as another replicate's (a shared start population)."""
        copy = FirmArrays(**{f.name: getattr(self, f.name).copy() for f in fields(self)})
        copy.replicate[:] = replicate
        return copy

    def take(self, index: np.ndarray) -> FirmArrays:
        return FirmArrays(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @staticmethod
    def concat(parts: list[FirmArrays]) -> FirmArrays:
        return FirmArrays(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(FirmArrays)
            }
        )
