"""Golden results: the demo ledger and a small baseline projection must not change by accident.

On a difference the test writes `<name>.actual.csv` beside the golden file and fails; after a
deliberate change of results run `make golden` (FISCALSIM_UPDATE_GOLDEN=1) and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from fiscalsim.calculator import calculate
from fiscalsim.paths import DATA_DIR, POLICIES_DIR, SCENARIOS_DIR
from fiscalsim.run import run_scenario
from fiscalsim.simulation.montecarlo import prepare

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("FISCALSIM_UPDATE_GOLDEN") == "1"


def check(frame: pd.DataFrame, name: str) -> None:
    expected_path = GOLDEN / f"{name}.csv"
    actual_path = GOLDEN / f"{name}.actual.csv"
    frame.to_csv(actual_path, index=False, float_format="%.9g", lineterminator="\n")
    if UPDATE:
        actual_path.replace(expected_path)
        return
    assert expected_path.exists(), (
        f"no golden file: run `make golden` to create {expected_path.name}"
    )
    if actual_path.read_bytes() == expected_path.read_bytes():
        actual_path.unlink()
        return
    pytest.fail(
        f"{name} changed: compare {actual_path} with {expected_path}; `make golden` accepts it"
    )


def test_demo_ledger_is_golden() -> None:
    result = calculate(DATA_DIR / "demo_panel.csv", [POLICIES_DIR])
    check(result.ledger, "demo_ledger")


def test_small_baseline_projection_is_golden(tmp_path: Path) -> None:
    prepared = prepare(SCENARIOS_DIR / "baseline.yaml", replicates=3, batch_replicates=3)
    result = run_scenario(prepared, tmp_path, workers=1)
    spending = result["spending"]
    check(
        spending[spending["basis"] == "cash"].drop(columns=["expenditure_basis"]),
        "baseline_3_replicates_cash",
    )
