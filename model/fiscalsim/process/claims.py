"""Applications drawn from the award ledger: when each award is filed, and whether it passes.

One application per ledger row (an award a firm qualified for). Its two draws (filing time,
approval) are keyed by the run's seed, the stream name `budget_process`, the clause, the
performance year and the firm's (replicate, key): the same award gets the same draws whatever
else is in the ledger, and the simulated firms never see these streams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fiscalsim.jurisdictions import LEVELS
from fiscalsim.process.params import ProcessParams
from fiscalsim.rules.book import RuleBook
from fiscalsim.simulation.streams import firm_counter, keyed_uniforms, stream_state

STREAM = "budget_process"


@dataclass(frozen=True)
class Applications:
    """One row per award in the ledger (same order); times in months since year 0."""

    replicate: np.ndarray  # int64
    rule: np.ndarray  # int64
    bureau: np.ndarray  # int64: registry index of the issuing (reviewing) government
    performance_year: np.ndarray  # int64
    payment_year: np.ndarray  # int64: the policy's payment year (performance year + lag)
    filed: np.ndarray  # float64: month of filing (fraction = position within the month)
    approve: np.ndarray  # bool: passes review (before any quota)
    share_wan: np.ndarray  # (rows, 3) each level's share
    payer: np.ndarray  # (rows, 3) registry index of each level's payer
    n_replicates: int = 0  # replicates of the run: some may have no award at all

    @property
    def n(self) -> int:
        return int(self.replicate.size)

    @property
    def replicates(self) -> int:
        """Replicates to report: the run's, and never fewer than the rows name."""
        return max(self.n_replicates, int(self.replicate.max()) + 1 if self.n else 0)


def keyed_draw(seed: int, stage: str, book: RuleBook, ledger: dict[str, np.ndarray]) -> np.ndarray:
    """One uniform per ledger row from the stream (seed, budget_process, stage, clause, year)."""
    rule = ledger["rule"].astype(np.int64)
    year = ledger["performance_year"].astype(np.int64)
    pairs, inverse = np.unique(rule * 10_000 + year, return_inverse=True)
    states = np.array(
        [
            stream_state(seed, STREAM, stage, book.rules[int(p // 10_000)].id, int(p % 10_000))
            for p in pairs
        ],
        dtype=np.uint64,
    )
    counters = firm_counter(
        ledger["replicate"].astype(np.int64), ledger["firm_key"].astype(np.int64)
    )
    return keyed_uniforms(states[inverse.reshape(-1)], counters)


def applications(
    book: RuleBook,
    ledger: dict[str, np.ndarray],
    params: ProcessParams,
    seed: int,
    n_replicates: int = 0,
    first_replicate: int = 0,
) -> Applications:
    """Filing month and approval of every award, from the month weights and approval rates.

    The draws are keyed by the ledger's replicate numbers; the applications number replicates
    from `first_replicate` (a block's first), so a block's arrays start at 0."""
    rule = ledger["rule"].astype(np.int64)
    performance_year = ledger["performance_year"].astype(np.int64)
    u_file = keyed_draw(seed, "filing", book, ledger)
    u_approve = keyed_draw(seed, "approval", book, ledger)
    cdf = np.cumsum(params.month_weights)
    cdf[-1] = 1.0
    month = np.minimum(np.searchsorted(cdf, u_file, side="right"), 11)
    low = np.where(month > 0, cdf[month - 1], 0.0)
    width = np.maximum(params.month_weights[month], 1e-12)
    within = np.clip((u_file - low) / width, 0.0, 0.999999)
    issuer = np.array(
        [book.registry.index[c.policy.jurisdiction] for c in book.rules] or [0], dtype=np.int64
    )
    return Applications(
        replicate=ledger["replicate"].astype(np.int64) - first_replicate,
        rule=rule,
        bureau=issuer[rule],
        performance_year=performance_year,
        payment_year=ledger["payment_year"].astype(np.int64),
        filed=(performance_year + 1) * 12 + month + within,
        approve=u_approve < params.approval[rule],
        share_wan=np.stack([ledger[f"{level}_wan"] for level in LEVELS], axis=1),
        payer=np.stack([ledger[f"{level}_payer"] for level in LEVELS], axis=1).astype(np.int64),
        n_replicates=n_replicates,
    )
