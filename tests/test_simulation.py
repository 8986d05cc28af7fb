"""The simulation: reproducible, consistent with its ledger, and re-checkable with the calculator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.run import run_scenario
from fiscalsim.simulation.montecarlo import prepare
from tests.helpers import run_cli

BASELINE = SCENARIOS_DIR / "baseline.yaml"
OUTPUTS = (
    "spending.csv",
    "spending_by_clause.csv",
    "cumulative.csv",
    "population.csv",
    "first_crossings.csv",
)


def simulate(
    out: Path, workers: int, panel: bool = False, seed: int | None = None, **kw: Any
) -> dict[str, Any]:
    prepared = prepare(BASELINE, replicates=4, seed=seed, batch_replicates=2, **kw)
    return run_scenario(prepared, out, out / "panel.csv" if panel else None, workers=workers)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    simulate(out, workers=1, panel=True)
    return out


def test_same_seed_same_files_in_one_process_or_two(serial: Path, tmp_path: Path) -> None:
    simulate(tmp_path, workers=2)
    for name in OUTPUTS:
        assert (serial / name).read_bytes() == (tmp_path / name).read_bytes(), name
    a = pd.read_parquet(serial / "ledger.parquet")
    b = pd.read_parquet(tmp_path / "ledger.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert len(a) > 100


def test_a_different_seed_gives_different_results(serial: Path, tmp_path: Path) -> None:
    simulate(tmp_path, workers=1, seed=7)
    assert (serial / "spending.csv").read_bytes() != (tmp_path / "spending.csv").read_bytes()


def test_replicate_is_the_same_alone_or_in_a_batch(serial: Path, tmp_path: Path) -> None:
    """Replicate 3 run in a batch of one gives the same awards as in the batch [2, 3]."""
    from fiscalsim.simulation.montecarlo import run_batch

    model = prepare(BASELINE, replicates=4).model
    alone = run_batch(model, [3], None)["ledgers"][0]
    ledger = pd.read_parquet(serial / "ledger.parquet")
    batch = ledger[ledger["replicate"] == 3]
    assert np.allclose(np.sort(alone["amount_wan"]), np.sort(batch["amount_wan"].to_numpy()))


def test_ledger_adds_up_to_the_spending_table(serial: Path) -> None:
    ledger = pd.read_parquet(serial / "ledger.parquet")
    spending = pd.read_csv(serial / "spending.csv")
    for basis, year_column in (("obligation", "performance_year"), ("cash", "payment_year")):
        for level in ("province", "city", "county"):
            paid = ledger[ledger[f"{level}_wan"] > 0]
            sums = (
                paid.groupby([f"{level}_payer", year_column], observed=True)[f"{level}_wan"].sum()
                / 4
            )
            table = spending[(spending["basis"] == basis) & (spending["payer_level"] == level)]
            means = table.set_index(["jurisdiction", "year"])["mean_wan"]
            # The CSV rounds amounts to 0.01 万元 (the Parquet ledger keeps full precision).
            for (payer, year), total in sums.items():
                assert means.loc[(payer, year)] == pytest.approx(total, abs=0.005 + 1e-9)
            assert means.sum() == pytest.approx(sums.sum(), abs=0.005 * len(means) + 1e-9)
    shares = ledger["province_wan"] + ledger["city_wan"] + ledger["county_wan"]
    assert np.allclose(shares, ledger["amount_wan"])


def test_spending_table_has_every_payer_year_and_basis(serial: Path) -> None:
    spending = pd.read_csv(serial / "spending.csv")
    for column in (
        "jurisdiction",
        "payer_level",
        "year",
        "basis",
        "mean_wan",
        "p05_wan",
        "p50_wan",
        "p95_wan",
    ):
        assert column in spending.columns
    assert {
        "ganzhou",
        "xunwu",
        "rongjiang",
        "zhanggong",
        "shanxi",
        "shuozhou",
        "shuangyashan",
    } <= set(spending["jurisdiction"])
    assert set(spending[spending["jurisdiction"] == "shanxi"]["payer_level"]) == {"province"}
    obligation = spending[
        (spending["basis"] == "obligation") & (spending["jurisdiction"] == "xunwu")
    ]
    assert sorted(obligation["year"]) == list(range(2022, 2031))  # zeros included
    assert (spending["p05_wan"] <= spending["p50_wan"] + 1e-9).all()
    assert (spending["p50_wan"] <= spending["p95_wan"] + 1e-9).all()


def test_population_table_covers_counties_and_cities(serial: Path) -> None:
    population = pd.read_csv(serial / "population.csv", dtype={"industry_class": str})
    for column in (
        "jurisdiction",
        "year",
        "industry_class",
        "firms_mean",
        "revenue_wan_mean",
        "revenue_wan_p05",
        "revenue_wan_p95",
    ):
        assert column in population.columns
    places = set(population["jurisdiction"])
    assert {
        "ganzhou",
        "shuozhou",
        "shuangyashan",
        "xunwu",
        "rongjiang",
        "zhanggong",
        "jianshan",
    } <= places
    city = population[
        (population["jurisdiction"] == "shuozhou") & (population["industry_class"] == "all")
    ]
    counties = population[
        population["jurisdiction"].isin(
            ["shuocheng", "pinglu", "shanyin", "yingxian", "youyu", "huairen", "shuozhou_etdz"]
        )
        & (population["industry_class"] == "all")
    ]
    assert city["firms_mean"].sum() == pytest.approx(counties["firms_mean"].sum())


def test_simulated_panel_rechecks_with_the_calculator(serial: Path, tmp_path: Path) -> None:
    """Replicate 0's firm-year panel run through `fiscalsim awards` gives replicate 0's ledger."""
    completed = run_cli("awards", "--panel", str(serial / "panel.csv"), "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    calculator = pd.read_csv(tmp_path / "ledger.csv")
    simulated = pd.read_parquet(serial / "ledger.parquet")
    simulated = simulated[simulated["replicate"] == 0]
    key = ["firm_id", "clause_id", "performance_year"]
    left = calculator[[*key, "amount_wan", "county_wan"]].sort_values(key).reset_index(drop=True)
    right = (
        simulated[[*key, "amount_wan", "county_wan"]]
        .astype({"clause_id": str, "firm_id": str})
        .sort_values(key)
        .reset_index(drop=True)
    )
    assert len(left) == len(right) > 20
    # ledger.csv rounds amounts to 0.01 万元; the simulated Parquet ledger keeps full precision.
    pd.testing.assert_frame_equal(left, right, check_dtype=False, rtol=0, atol=0.005 + 1e-9)
    panel = pd.read_csv(serial / "panel.csv", nrows=5)
    assert {"firm_id", "location", "year", "industry_class", "revenue_wan", "founded_year"} <= set(
        panel.columns
    )


def test_common_random_numbers_across_readings(serial: Path, tmp_path: Path) -> None:
    """A scenario differing only in a reading sees the same firms: same population table."""
    prepared = prepare(
        BASELINE, replicates=4, batch_replicates=2, readings={"tier_jump": "highest_only"}
    )
    run_scenario(prepared, tmp_path, workers=1)
    assert (serial / "population.csv").read_bytes() == (tmp_path / "population.csv").read_bytes()
    base = pd.read_csv(serial / "spending.csv")["mean_wan"].sum()
    highest = pd.read_csv(tmp_path / "spending.csv")["mean_wan"].sum()
    assert highest <= base


def test_summary_names_seed_version_hash_readings_and_assumptions(serial: Path) -> None:
    import json

    summary = json.loads((serial / "summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 20221 and summary["replicates"] == 4
    assert len(summary["scenario"]["sha256"]) == 64
    assert summary["readings"]["ganzhou_2022"]["tier_jump"]["value"] == "every_tier"
    assert summary["assumptions"]["events"] and summary["assumptions"]["population"]
    assert any(item["clause_id"] == "GZ-8" for item in summary["not_costed"])


def test_bad_scenario_is_one_line_and_exit_2(tmp_path: Path) -> None:
    text = BASELINE.read_text(encoding="utf-8").replace(
        "horizon: 2030", "horizon: 2030\ncolour: blue", 1
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    completed = run_cli("run", str(bad), "--out", str(tmp_path / "out"))
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and "colour" in completed.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("firm_counts.yaml", "population.calibrated.firm_counts"),
        ("budgets.yaml", "budget.file"),
        ("budget_process.yaml", "process.file"),
    ],
)
def test_the_scenario_hash_covers_the_data_files_it_reads(
    tmp_path: Path, name: str, path: str
) -> None:
    """Ganzhou's firm count changed in firm_counts.yaml gave other results under the same
    hash: it covered the scenario, policy and event files only."""
    import shutil

    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.paths import DATA_DIR
    from fiscalsim.scenario_load import load_scenario

    original = next(DATA_DIR.rglob(name))
    copy = tmp_path / name
    shutil.copy(original, copy)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"base: {SCENARIOS_DIR / 'baseline.yaml'}\nname: s\nchanges:\n  {path}: {copy}\n",
        encoding="utf-8",
    )
    registry = load_registry()
    before = load_scenario(scenario, registry).digest
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert load_scenario(scenario, registry).digest != before


def test_the_panel_is_the_same_file_in_any_batching(serial: Path, tmp_path: Path) -> None:
    """Replicate 0's panel had a column for every event fact of any replicate of its batch, so
    a batch of 50 wrote ten more (empty) columns than a batch of 3."""
    prepared = prepare(BASELINE, replicates=4, batch_replicates=1)
    run_scenario(prepared, tmp_path, tmp_path / "panel.csv", workers=1)
    assert (tmp_path / "panel.csv").read_bytes() == (serial / "panel.csv").read_bytes()


def test_a_scenario_without_a_budgets_file_hashes_the_shipped_one() -> None:
    """The benchmark names no budgets file, and a run reads the shipped one for the shares of
    expenditure: the hash left it out."""
    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.paths import DATA_DIR
    from fiscalsim.scenario_load import data_files, load_scenario

    path = SCENARIOS_DIR / "benchmark.yaml"
    loaded = load_scenario(path, load_registry())
    assert loaded.scenario.budget.file is None
    assert DATA_DIR / "calibration" / "budgets.yaml" in data_files(loaded.scenario, path)
