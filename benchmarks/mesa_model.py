"""Per-agent Mesa implementation of the award-ladder benchmark.

Why this exists: the project's engine is vectorized NumPy. To show what that buys, the same
model is written here the way a typical Mesa user would write it (one ``mesa.Agent`` per firm,
activated each year through Mesa's ``AgentSet.shuffle_do``) and timed in firm-years per second.

Model (amounts in 万元 = 10,000 yuan): one jurisdiction, one payer, payment lag 0 (cash equals
obligation). Firms start with ln(revenue) ~ N(5.0, 1.2). A one-time award of 20 / 50 / 100 is paid
the first year revenue is at or above 1000 / 5000 / 10000; tiers already reached on entry pay
nothing; crossing several tiers in one year pays each of them. Each year: (1) exit with
probability 0.06, (2) ln revenue += ln(1.05) - 0.35^2/2 + 0.35 * N(0, 1) (expected simple growth
5%, as the scenario's drift means since issue 9), (3) awards for newly reached tiers,
(4) Poisson(600) entrants drawn from the start distribution (their tiers count as reached).

Run ``python benchmarks/mesa_model.py`` for three seeded replicates printed as JSON.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import numpy as np

try:
    import mesa
except ImportError as exc:  # pragma: no cover - exercised only without the bench extra
    raise ImportError(
        "benchmarks/mesa_model.py needs the Mesa agent-based modelling library: "
        "run `pip install mesa` (or `pip install -e .[bench]`)."
    ) from exc

START_YEAR = 2022
LN_REV_MEAN = 5.0
LN_REV_SD = 1.2
EXIT_PROB = 0.06
GROWTH_DRIFT = 0.05
GROWTH_SD = 0.35
GROWTH_LOCATION = math.log1p(GROWTH_DRIFT) - GROWTH_SD**2 / 2  # E[S_t / S_t-1] = 1.05
TIER_THRESHOLDS_WAN: tuple[float, ...] = (1000.0, 5000.0, 10000.0)
TIER_AWARDS_WAN: tuple[float, ...] = (20.0, 50.0, 100.0)
# Compare in log space so a firm never needs exp() in its hot path.
_LN_THRESHOLDS: tuple[float, ...] = tuple(math.log(t) for t in TIER_THRESHOLDS_WAN)
_N_TIERS = len(TIER_THRESHOLDS_WAN)


def _tiers_at(ln_revenue: float) -> int:
    """Number of tiers at or below this revenue; thresholds ascend, so tiers are a prefix."""
    n = 0
    while n < _N_TIERS and ln_revenue >= _LN_THRESHOLDS[n]:
        n += 1
    return n


class Firm(mesa.Agent):  # type: ignore[misc]  # mesa ships no type hints
    """One firm: its log revenue and how many award tiers it has already reached."""

    model: AwardLadderModel

    def __init__(self, model: AwardLadderModel, ln_revenue: float) -> None:
        super().__init__(model)
        self.ln_revenue = ln_revenue
        # Tiers at or below revenue on entry count as reached before: no award for them.
        self.tiers_reached = _tiers_at(ln_revenue)

    def step(self) -> None:
        """One performance year for this firm: exit, else grow and collect newly reached awards."""
        model = self.model
        rng = model.rng
        if rng.random() < EXIT_PROB:
            self.remove()
            return
        model.year_survivors += 1
        self.ln_revenue += GROWTH_LOCATION + GROWTH_SD * rng.standard_normal()
        k = self.tiers_reached
        if k < _N_TIERS and self.ln_revenue >= _LN_THRESHOLDS[k]:
            # Pay every tier crossed this year, not just the highest.
            while k < _N_TIERS and self.ln_revenue >= _LN_THRESHOLDS[k]:
                model.year_award_counts[k] += 1
                model.year_awards_wan += TIER_AWARDS_WAN[k]
                k += 1
            self.tiers_reached = k


class AwardLadderModel(mesa.Model):  # type: ignore[misc]  # mesa ships no type hints
    """The jurisdiction: holds the firms, adds entrants and records yearly cash paid."""

    def __init__(self, n_firms: int = 10_000, entrants_mean: float = 600.0, seed: int = 0) -> None:
        # Mesa builds self.rng = np.random.default_rng(seed) and a seeded self.random (used by
        # shuffle_do), so no global random state is touched.
        super().__init__(rng=seed)
        self.entrants_mean = entrants_mean
        self.year = START_YEAR - 1
        self.year_survivors = 0
        self.year_awards_wan = 0.0
        self.year_award_counts = [0] * _N_TIERS
        self.awards_wan_by_year: list[float] = []
        self.award_counts_by_year: list[list[int]] = []
        self.firms_by_year: list[int] = []
        self.firm_years = 0
        self._add_firms(n_firms)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": "year",
                "awards_wan": "year_awards_wan",
                "firms": lambda m: len(m.agents),
                "firm_years": "year_survivors",
            }
        )

    def _add_firms(self, n: int) -> None:
        """Create n firms from the start distribution (draws vectorized, agents one by one)."""
        ln_rev = self.rng.normal(LN_REV_MEAN, LN_REV_SD, size=n)
        Firm.create_agents(self, n, ln_revenue=ln_rev.tolist())  # floats, not np.float64

    def step(self) -> None:
        """One performance year: firms act in random order, then entrants join."""
        self.year += 1
        self.year_survivors = 0
        self.year_awards_wan = 0.0
        self.year_award_counts = [0] * _N_TIERS
        self.agents.shuffle_do("step")
        self.firm_years += self.year_survivors
        self._add_firms(int(self.rng.poisson(self.entrants_mean)))
        self.awards_wan_by_year.append(self.year_awards_wan)
        self.award_counts_by_year.append(self.year_award_counts)
        self.firms_by_year.append(len(self.agents))
        self.datacollector.collect(self)


def run_mesa(
    seed: int = 0, n_firms: int = 10_000, years: int = 9, entrants_mean: float = 600.0
) -> dict[str, Any]:
    """Build and run the Mesa model once; time covers model construction plus all years."""
    t0 = time.perf_counter()
    model = AwardLadderModel(n_firms=n_firms, entrants_mean=entrants_mean, seed=seed)
    t1 = time.perf_counter()
    for _ in range(years):
        model.step()
    t2 = time.perf_counter()
    seconds = t2 - t0
    counts_by_tier = [sum(year[k] for year in model.award_counts_by_year) for k in range(_N_TIERS)]
    return {
        "seed": seed,
        "years": list(range(START_YEAR, START_YEAR + years)),
        "firm_years": model.firm_years,
        "seconds": seconds,
        "setup_seconds": t1 - t0,
        "firm_years_per_second": model.firm_years / seconds if seconds > 0 else float("inf"),
        "awards_wan_by_year": model.awards_wan_by_year,
        "awards_wan_total": sum(model.awards_wan_by_year),
        "award_counts_by_tier": counts_by_tier,
        "award_counts_by_year": model.award_counts_by_year,
        "firms_by_year": model.firms_by_year,
        "firms_end": len(model.agents),
        "mesa_version": mesa.__version__,
    }


_SUMMARY_KEYS = (
    "seed",
    "firm_years",
    "seconds",
    "firm_years_per_second",
    "awards_wan_total",
    "award_counts_by_tier",
    "firms_end",
)

if __name__ == "__main__":
    runs = [run_mesa(seed=s) for s in (0, 1, 2)]
    fyps = [r["firm_years_per_second"] for r in runs]
    summary = {
        "mesa_version": mesa.__version__,
        "numpy_version": np.__version__,
        "replicates": [{k: r[k] for k in _SUMMARY_KEYS} for r in runs],
        "median_firm_years_per_second": float(np.median(fyps)),
        "seed0_awards_wan_by_year": runs[0]["awards_wan_by_year"],
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
