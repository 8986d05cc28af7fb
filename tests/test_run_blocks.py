"""`fiscalsim run` reduces each block of replicates where it ran: the files do not depend on the
blocks (even with a binding appropriation, where the budget process pays in part), the ledger is
a folder of Parquet parts that reads back as one table, and --no-ledger leaves it out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fiscalsim.paths import REPO_DIR
from fiscalsim.run import run_scenario
from fiscalsim.series import clause_series, join_clause_series
from fiscalsim.simulation.montecarlo import prepare, run_batch
from tests.helpers import run_cli

BASELINE = REPO_DIR / "scenarios" / "baseline.yaml"
REPLICATES = 12
# Binding appropriations: Ganzhou's city budget and Xunwu's county budget pay awards in part
# and carry arrears, so the budget process's partial payments are exercised. 12 replicates in
# blocks of 3: with one running sum over all replicates (the bug fixed in des.owed_before) this
# test fails; with 6 replicates in blocks of 2 it did not.
TIGHT = {"ganzhou": 300.0, "xunwu": 50.0}


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and p.name != "run.json" and not p.name.endswith(".xlsx")
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    out = tmp_path_factory.mktemp("blocks")
    for batch in (3, REPLICATES):
        prepared = prepare(BASELINE, replicates=REPLICATES, batch_replicates=batch)
        run_scenario(prepared, out / str(batch), workers=1, appropriation=TIGHT)
    return {batch: out / str(batch) for batch in (3, REPLICATES)}


def test_files_do_not_depend_on_the_blocks(runs: dict[int, Path]) -> None:
    small, whole = _files(runs[3]), _files(runs[REPLICATES])
    tables = sorted(n for n in small if not n.startswith("ledger.parquet/"))
    assert tables == sorted(n for n in whole if not n.startswith("ledger.parquet/"))
    for name in tables:
        assert small[name] == whole[name], name
    summary = (runs[3] / "summary.json").read_text(encoding="utf-8")
    assert '"ganzhou (city)": 0.0' not in summary  # the appropriation did bind: arrears remain


def test_ledger_is_one_part_per_block_and_reads_back_whole(runs: dict[int, Path]) -> None:
    parts = sorted(p.name for p in (runs[3] / "ledger.parquet").iterdir())
    assert parts == [f"replicates-{r:06d}-{r + 2:06d}.parquet" for r in range(0, REPLICATES, 3)]
    small = pd.read_parquet(runs[3] / "ledger.parquet")
    whole = pd.read_parquet(runs[REPLICATES] / "ledger.parquet")
    pd.testing.assert_frame_equal(small, whole)
    assert list(small["replicate"].unique()) == list(range(REPLICATES))
    assert small["replicate"].is_monotonic_increasing
    spending = pd.read_csv(runs[3] / "spending.csv")
    obligation = spending[(spending["basis"] == "obligation") & (spending["year"] <= 2030)]
    assert np.isclose(  # the ledger holds every award the tables count
        obligation["mean_wan"].sum(), small["amount_wan"].sum() / REPLICATES, rtol=1e-3
    )


def test_clause_series_of_blocks_equals_that_of_the_whole() -> None:
    prepared = prepare(BASELINE, replicates=6)
    book = prepared.model.book
    blocks = ([0, 1, 2], [3, 4, 5])
    ledgers = [run_batch(prepared.model, block, None)["ledgers"][0] for block in blocks]
    scenario = prepared.model.scenario
    first, horizon = scenario.population.start_year + 1, scenario.horizon
    whole = {k: np.concatenate([ledgers[0][k], ledgers[1][k]]) for k in ledgers[0]}
    expected = clause_series(book, whole, 6, first, horizon)
    local = [
        {**led, "replicate": led["replicate"] - block[0]}
        for led, block in zip(ledgers, blocks, strict=True)
    ]
    got = join_clause_series([clause_series(book, led, 3, first, horizon) for led in local])
    pd.testing.assert_frame_equal(expected.keys, got.keys)
    assert expected.amount_wan.tobytes() == got.amount_wan.tobytes()
    assert expected.awards.tobytes() == got.awards.tobytes()


def test_no_ledger_leaves_it_out(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = run_cli("run", str(BASELINE), "--replicates", "2", "--no-ledger", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert not (out / "ledger.parquet").exists() and (out / "spending.csv").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run-ledger-")]
