"""The README's examples run, and its assumption tables match the policy files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.helpers import run_cli
from tests.readme_tables import END, README, START, expected_readme


def test_readme_lists_every_assumption() -> None:
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text
    assert text == expected_readme(), "run `make readme` and review the diff"


def test_readme_calculator_example_runs(tmp_path: Path) -> None:
    """The README's calculator command on the demo panel gives the ledger rows it shows."""
    completed = run_cli("awards", "--panel", "data/demo_panel.csv", "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    ledger = pd.read_csv(tmp_path / "ledger.csv")
    first = ledger.iloc[0]
    assert (first["firm_id"], first["clause_id"], first["amount_wan"]) == (
        "xw-soft-01",
        "GZ-2c",
        20,
    )
    shown = README.read_text(encoding="utf-8")
    assert "xw-soft-01,GZ-2c,ganzhou,xunwu,2022,2023,20,0,10,10,,ganzhou,xunwu" in shown
    for name in ("ledger.csv", "dropped.csv", "explanations.jsonl", "summary.json"):
        assert (tmp_path / name).exists()
