"""Simulated firms reproduce the documented regularities of firm growth and survival, and the
start population meets its calibration targets (data/calibration/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fiscalsim import diagnostics
from fiscalsim.paths import DATA_DIR, SCENARIOS_DIR
from fiscalsim.run import run_scenario
from fiscalsim.simulation.montecarlo import prepare
from fiscalsim.yamlfile import load_yaml

REGULARITIES = {
    r["name"]: r for r in load_yaml(DATA_DIR / "calibration" / "dynamics.yaml")["regularities"]
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("dynamics")
    prepared = prepare(SCENARIOS_DIR / "baseline.yaml", replicates=3, batch_replicates=3)
    run_scenario(prepared, out, out / "panel.csv", workers=1)
    panel = pd.read_csv(out / "panel.csv", dtype={"industry_class": str})
    return out, panel


@pytest.fixture(scope="module")
def pairs(run: tuple[Path, pd.DataFrame]) -> pd.DataFrame:
    return diagnostics.growth_pairs(run[1])


def test_volatility_falls_with_size(pairs: pd.DataFrame) -> None:
    rule = REGULARITIES["volatility_size_scaling"]
    assert diagnostics.volatility_slope(pairs) == pytest.approx(
        rule["target"], abs=rule["tolerance"]
    )


def test_growth_rates_are_tent_shaped(pairs: pd.DataFrame) -> None:
    rule = REGULARITIES["growth_shape_laplace"]
    assert diagnostics.standardised_kurtosis(pairs) == pytest.approx(
        rule["target"], abs=rule["tolerance"]
    )


def test_gibrat_in_the_mean_for_large_firms(pairs: pd.DataFrame) -> None:
    rule = REGULARITIES["gibrat_in_mean"]
    assert diagnostics.gibrat_slope(pairs) == pytest.approx(rule["target"], abs=rule["tolerance"])


def test_growth_has_no_memory(pairs: pd.DataFrame) -> None:
    rule = REGULARITIES["growth_unit_root"]
    assert diagnostics.growth_autocorrelation(pairs) == pytest.approx(
        rule["target"], abs=rule["tolerance"]
    )


def test_exit_hazard_rises_then_falls_with_age(run: tuple[Path, pd.DataFrame]) -> None:
    """Ages as the model draws them (age-0 exits happen before entrants join the panel): the
    peak at ages 2-4 (the third to fifth year) is above age 1 and clearly above age 10+."""
    hazard = diagnostics.exit_hazard_by_age(run[1], 2030)
    assert 0 not in hazard.index
    peak = hazard.loc[2:4].max()
    assert peak >= hazard.loc[1] + 0.01
    assert hazard.loc[10] <= peak - 0.02


def test_larger_firms_exit_less(run: tuple[Path, pd.DataFrame]) -> None:
    panel = run[1]
    seen = set(zip(panel["firm_id"], panel["year"], strict=True))
    early = panel[panel["year"] < 2030]
    gone = np.array(
        [(f, y + 1) not in seen for f, y in zip(early["firm_id"], early["year"], strict=True)]
    )
    small = gone[early["revenue_wan"].to_numpy() < 500].mean()
    large = gone[early["revenue_wan"].to_numpy() >= 5000].mean()
    assert large < small


def test_size_tail_index(run: tuple[Path, pd.DataFrame]) -> None:
    rule = REGULARITIES["size_tail_index"]["target"]
    start = run[1]
    start = start[
        (start["year"] == 2021)
        & start["location"].isin(["zhanggong", "ganzhou_etdz", "longnan", "xinfeng", "nankang"])
    ]
    assert (
        rule["min"] <= diagnostics.hill_tail_index(start["revenue_wan"].to_numpy()) <= rule["max"]
    )


def test_calibration_targets_are_met(run: tuple[Path, pd.DataFrame]) -> None:
    """Every run writes calibration.csv: firm counts exactly; above-scale counts within 10% or
    three binomial standard errors (3 replicates here; tests/test_calibration.py checks totals)."""
    table = pd.read_csv(run[0] / "calibration.csv", dtype={"industry_class": str})
    counts = load_yaml(DATA_DIR / "calibration" / "firm_counts.yaml")["firm_counts"]
    assert set(table["block"]) == {"fitted", "validation"}
    for target in counts:
        prefix = f"{target['city']}/{target['class']}"
        rows = table.set_index("target_id")
        assert rows.loc[f"{prefix}/firms", "synthesized_mean"] == pytest.approx(target["firms"])
        expected = target["above_scale"]
        share = expected / target["firms"]
        noise = 3 * np.sqrt(target["firms"] * share * (1 - share) / 3)
        got = rows.loc[f"{prefix}/above_scale_firms", "synthesized_mean"]
        assert abs(got - expected) <= max(0.10 * expected, noise) + 1
