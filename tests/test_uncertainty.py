"""The split of a budget's variance between the start population and the dynamics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.population.calibration_report import start_statistics
from fiscalsim.run import run_scenario
from fiscalsim.simulation.montecarlo import prepare
from fiscalsim.uncertainty import split_variance


@pytest.mark.parametrize(("start_sd", "dynamics_sd"), [(2.0, 1.0), (0.0, 1.0), (1.0, 3.0)])
def test_split_recovers_known_components(start_sd: float, dynamics_sd: float) -> None:
    rng = np.random.default_rng(7)
    k, m = 2000, 5
    values = np.repeat(start_sd * rng.standard_normal(k), m) + dynamics_sd * rng.standard_normal(
        k * m
    )
    split = split_variance(values, m)
    expected = start_sd**2 / (start_sd**2 + dynamics_sd**2)
    assert split["start_population_share"] == pytest.approx(expected, abs=0.03)
    assert split["dynamics_share"] == pytest.approx(1 - expected, abs=0.03)


def test_split_needs_shared_start_populations() -> None:
    assert split_variance(np.arange(10.0), 1)["start_population_share"] is None


def test_replicates_of_one_start_population_start_alike() -> None:
    prepared = prepare(SCENARIOS_DIR / "baseline.yaml", replicates=10)
    model = prepared.model
    per_start = model.scenario.population.replicates_per_start
    assert per_start > 1
    stats = start_statistics(
        model.scenario, list(model.plans), model.book.registry, [0, 1, per_start]
    )
    totals = stats.groupby("replicate")["revenue_wan"].sum()
    assert totals[0] == totals[1]
    assert totals[0] != totals[per_start]


def test_summary_reports_the_split(tmp_path: Path) -> None:
    prepared = prepare(SCENARIOS_DIR / "baseline.yaml", replicates=10, batch_replicates=10)
    run_scenario(prepared, tmp_path, workers=1)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    spread = summary["uncertainty"]
    assert spread["replicates_per_start_population"] == 5
    first = spread["budgets"][0]
    assert first["jurisdiction"] == "all budgets"
    assert first["start_population_share"] + first["dynamics_share"] == pytest.approx(1.0)


def test_the_spread_counts_the_cash_paid_after_the_horizon(tmp_path: Path) -> None:
    """A window running to the horizon pays its last year's awards the year after; the
    summary's cash totals stopped at the horizon and left that year out (8,313 against 9,641
    for Rongjiang with its window to 2030). They now equal spending.csv's cash, every year."""
    import pandas as pd

    scenario = tmp_path / "late.yaml"
    scenario.write_text(
        f"base: {SCENARIOS_DIR / 'baseline.yaml'}\nname: late\n"
        "changes:\n  policies.rongjiang_2022.years.last: 2030\n",
        encoding="utf-8",
    )
    prepared = prepare(scenario, replicates=3, batch_replicates=3)
    run_scenario(prepared, tmp_path / "out", workers=1)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    spending = pd.read_csv(tmp_path / "out" / "spending.csv")
    cash = spending[(spending["basis"] == "cash") & (spending["jurisdiction"] == "rongjiang")]
    assert cash["year"].astype(int).max() == 2031 and cash["mean_wan"].iloc[-1] > 0
    spread = {b["jurisdiction"]: b for b in summary["uncertainty"]["budgets"]}
    assert spread["rongjiang"]["cash_total_mean_wan"] == pytest.approx(cash["mean_wan"].sum())
    assert summary["uncertainty"]["years"] == [2022, 2031]
