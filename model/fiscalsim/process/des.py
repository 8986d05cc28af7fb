"""The discrete-event model (SimPy): reviewing bureaus and paying budgets, month by month.

One environment holds every replicate of a run. Each reviewing bureau (the government that
issued a clause) is one process and each paying budget is one process; both handle all
replicates at once with array operations, and sleep through months with nothing to do, so the
number of events grows with bureaus, budgets and months, not with firms.

Time is counted in months since year 0 (month index = year x 12 + calendar month - 1). Within
month m: filings arrive during [m, m+1); the bureau decides at m + 0.5 (in order of filing, at
most its capacity per replicate, quotas by calendar year of decision); each budget pays at
m + 0.75 what is due (decision month + delay, never before January of the clause's payment year),
in order of decision and filing, out of what is left of the year's appropriation. An award that
does not fit is paid in part and the rest is carried over as arrears.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import simpy
from numba import njit

from fiscalsim.process.claims import Applications
from fiscalsim.process.params import ProcessParams

PENDING, APPROVED, REJECTED, QUOTA = 0, 1, 2, 3
STATUS = {PENDING: "pending", APPROVED: "approved", REJECTED: "not approved", QUOTA: "quota"}
REVIEW_AT, PAY_AT = 0.5, 0.75


@dataclass(frozen=True)
class ProcessRun:
    """What the bureaus decided and what the budgets paid, per application row."""

    status: np.ndarray  # (applications,) PENDING/APPROVED/REJECTED/QUOTA
    decided: np.ndarray  # (applications,) month of decision, -1 if never decided
    items: dict[str, np.ndarray]  # approved shares: row, level, payer, due, amount_wan
    payments: dict[str, np.ndarray]  # row, level, payer, month, amount_wan
    end_month: int  # last month simulated; what is unpaid then is the final arrears


@njit(cache=True)
def owed_before(groups: np.ndarray, owed: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """What is owed ahead of each row within its run of equal `groups` (a replicate).

    Summed replicate by replicate: a running sum over all replicates minus its value at the
    replicate's start rounds differently with other replicates' amounts, which made a
    replicate's payments depend on what else was in the run (a payment of 1e-10 万元 more)."""
    before = np.empty(owed.size)
    total = 0.0
    for i in range(owed.size):
        if i == 0 or groups[i] != groups[i - 1]:
            total = 0.0
        before[i] = total
        total += owed[i]
    return before


def rank_in_groups(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal values of a sorted array."""
    if groups.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    counts = np.diff(np.r_[starts, groups.size])
    return np.arange(groups.size) - np.repeat(starts, counts)


class BudgetProcess:
    """Builds the SimPy environment for one run and collects its decisions and payments."""

    def __init__(self, apps: Applications, params: ProcessParams, end_month: int) -> None:
        self.apps = apps
        self.params = params
        self.end_month = end_month
        self.env = simpy.Environment()
        self.status = np.zeros(apps.n, dtype=np.int8)
        self.decided = np.full(apps.n, -1, dtype=np.int64)
        self.n_replicates = apps.replicates
        self.quota_used: dict[tuple[int, int], np.ndarray] = {}
        payers = np.unique(apps.payer[apps.share_wan > 0]) if apps.n else np.zeros(0, np.int64)
        self.stores = {int(p): simpy.Store(self.env) for p in payers}
        self.items: list[dict[str, np.ndarray]] = []
        self.payments: list[dict[str, np.ndarray]] = []

    def run(self) -> ProcessRun:
        for bureau in np.unique(self.apps.bureau):
            rows = np.flatnonzero(self.apps.bureau == bureau)
            self.env.process(self._bureau(int(bureau), rows[np.argsort(self.apps.filed[rows])]))
        for payer, store in self.stores.items():
            self.env.process(self._budget(payer, store))
        self.env.run(until=self.end_month + 1)
        return ProcessRun(
            status=self.status,
            decided=self.decided,
            items=_stack(self.items, ("row", "level", "payer", "due", "amount_wan")),
            payments=_stack(self.payments, ("row", "level", "payer", "month", "amount_wan")),
            end_month=self.end_month,
        )

    # -- the reviewing bureau ---------------------------------------------------------------
    def _bureau(self, bureau: int, by_filing: np.ndarray) -> simpy.events.ProcessGenerator:
        apps = self.apps
        filed = apps.filed[by_filing]
        capacity = int(self.params.capacity[bureau])
        arrived = 0
        pending = np.zeros(0, dtype=np.int64)
        month = int(math.floor(filed[0]))
        if month > self.end_month:
            return
        yield self.env.timeout(month + REVIEW_AT - self.env.now)
        while True:
            now_in = int(np.searchsorted(filed, month + 1, side="left"))
            pending = np.concatenate([pending, by_filing[arrived:now_in]])
            arrived = now_in
            if pending.size:
                pending = pending[np.lexsort((apps.filed[pending], apps.replicate[pending]))]
                rank = rank_in_groups(apps.replicate[pending])
                self._decide(pending[rank < capacity], month)
                pending = pending[rank >= capacity]
            if pending.size:
                following = month + 1
            elif arrived < by_filing.size:
                following = int(math.floor(filed[arrived]))
            else:
                return
            if following > self.end_month:
                return
            yield self.env.timeout(following - month)
            month = following

    def _decide(self, rows: np.ndarray, month: int) -> None:
        """Approve or reject `rows` (sorted by replicate, then filing), quotas in that order."""
        apps = self.apps
        approved = apps.approve[rows]
        status = np.where(approved, APPROVED, REJECTED).astype(np.int8)
        quota = self.params.quota[apps.rule[rows]]
        for rule in np.unique(apps.rule[rows][approved & (quota >= 0)]):
            mine = np.flatnonzero(approved & (apps.rule[rows] == rule))
            reps = apps.replicate[rows[mine]]
            used = self.quota_used.setdefault(
                (int(rule), month // 12), np.zeros(self.n_replicates, dtype=np.int64)
            )
            granted = used[reps] + rank_in_groups(reps) < self.params.quota[rule]
            status[mine[~granted]] = QUOTA
            used += np.bincount(reps[granted], minlength=self.n_replicates)
        self.status[rows] = status
        self.decided[rows] = month
        self._send(rows[status == APPROVED], month)

    def _send(self, rows: np.ndarray, month: int) -> None:
        """Hand each approved award's shares to the budgets that pay them."""
        apps = self.apps
        due = np.maximum(month + self.params.delay_months, apps.payment_year[rows] * 12)
        for level in range(apps.share_wan.shape[1]):
            paid = apps.share_wan[rows, level] > 0
            for payer in np.unique(apps.payer[rows[paid], level]):
                mine = paid & (apps.payer[rows, level] == payer)
                batch = {
                    "row": rows[mine],
                    "level": np.full(int(mine.sum()), level, dtype=np.int64),
                    "payer": np.full(int(mine.sum()), payer, dtype=np.int64),
                    "due": due[mine],
                    "amount_wan": apps.share_wan[rows[mine], level],
                }
                self.items.append(batch)
                self.stores[int(payer)].put(batch)

    # -- the paying budget ------------------------------------------------------------------
    def _budget(self, payer: int, store: simpy.Store) -> simpy.events.ProcessGenerator:
        apps = self.apps
        queue = {k: np.zeros(0, dtype=np.int64) for k in ("row", "level", "due")}
        remaining = np.zeros(0)
        left = np.zeros(self.n_replicates)
        year = None
        paid_through = -1  # the last month paid
        while True:
            get = store.get()
            wake = self._next_payment(queue["due"], remaining, paid_through)
            if wake is None:
                batch = yield get
            else:
                fired = yield get | self.env.timeout(wake + PAY_AT - self.env.now)
                if get not in fired:
                    get.cancel()
                    batch = None
                else:
                    batch = fired[get]
            if batch is not None:
                for key in queue:
                    queue[key] = np.concatenate([queue[key], batch[key]])
                remaining = np.concatenate([remaining, batch["amount_wan"]])
                rows = queue["row"]
                # Oldest debt first: by the month each share fell due, then as decided. By the
                # decision alone, a share decided early but due a year later (a clause paid two
                # years after its performance year) went ahead of arrears already owed.
                order = np.lexsort(
                    (apps.filed[rows], self.decided[rows], queue["due"], apps.replicate[rows])
                )
                queue = {k: v[order] for k, v in queue.items()}
                remaining = remaining[order]
                continue
            assert wake is not None
            if year != wake // 12:
                year = wake // 12
                left[:] = self.params.appropriation_of(payer, year)
            remaining = self._pay(payer, wake, queue, remaining, left)
            keep = remaining > 1e-9
            queue = {k: v[keep] for k, v in queue.items()}
            remaining = remaining[keep]
            paid_through = wake

    def _next_payment(
        self, due: np.ndarray, remaining: np.ndarray, paid_through: int
    ) -> int | None:
        """The next month with something to pay: a new due date, or January for arrears."""
        if due.size == 0:
            return None
        later = due[due > paid_through]
        candidates = [int(later.min())] if later.size else []
        if (due <= paid_through).any():
            candidates.append((paid_through // 12 + 1) * 12)
        following = min(candidates)
        return following if following <= self.end_month else None

    def _pay(
        self,
        payer: int,
        month: int,
        queue: dict[str, np.ndarray],
        remaining: np.ndarray,
        left: np.ndarray,
    ) -> np.ndarray:
        """Pay what is due in queue order, out of each replicate's appropriation left."""
        due = np.flatnonzero(queue["due"] <= month)
        if due.size == 0:
            return remaining
        reps = self.apps.replicate[queue["row"][due]]
        owed = remaining[due]
        before = owed_before(reps, owed)
        paid = np.clip(left[reps] - before, 0.0, owed)
        left -= np.bincount(reps, weights=paid, minlength=left.size)
        left[left < 1e-9] = 0.0
        remaining = remaining.copy()
        remaining[due] -= paid
        some = paid > 0
        self.payments.append(
            {
                "row": queue["row"][due][some],
                "level": queue["level"][due][some],
                "payer": np.full(int(some.sum()), payer, dtype=np.int64),
                "month": np.full(int(some.sum()), month, dtype=np.int64),
                "amount_wan": paid[some],
            }
        )
        return remaining


def _stack(parts: list[dict[str, np.ndarray]], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {
        k: np.concatenate([p[k] for p in parts])
        if parts
        else np.zeros(0, dtype=np.float64 if k == "amount_wan" else np.int64)
        for k in keys
    }


def run_process(apps: Applications, params: ProcessParams, end_year: int) -> ProcessRun:
    """Run the process up to December of `end_year`."""
    return BudgetProcess(apps, params, end_year * 12 + 11).run()
