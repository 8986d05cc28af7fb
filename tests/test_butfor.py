"""What the money buys (issue 12): windfall share and induced counts against the no-policy world."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import fiscalsim
from fiscalsim.dynamics import responses as rs
from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.responses_schema import BunchingResponse
from tests.helpers import run_cli

BENCHMARK = SCENARIOS_DIR / "benchmark.yaml"
BASELINE = SCENARIOS_DIR / "baseline.yaml"

# Firms at known revenues that never change (no growth, exit or entry): tiers 1000/5000/10000.
KNOWN = [900, 948, 951, 960, 999, 1000, 1001, 4700, 4760, 4999, 9600, 20000]  # none on a band edge
IN_BAND = sum(1 for r in KNOWN if any(0.95 * t <= r < t for t in (1000, 5000, 10000)))
STILL = """
base: {benchmark}
name: bunching_case
title: 合成聚集测试
description: Twelve firms at known revenues that never change.
author: tests
sources: [synthetic]
replicates: 3
changes:
  population.segments[0].firms: {n}
  population.segments[0].known_revenue_wan: {known}
  dynamics.growth.sigma0: 1.0e-9
  dynamics.growth.drift_by_class.03: 0.0
  dynamics.exit.hazard_by_age: [0.0]
  dynamics.entry.per_year.ganzhou.03: 0
"""


def responses_file(path: Path, blocks: str, grid: str = "bunching.share: [1.0]") -> Path:
    path.write_text(
        "schema_version: 1\nresponses:\n"
        + blocks
        + f"\nsensitivity:\n  values:\n    {grid}\n  source: tests\n",
        encoding="utf-8",
    )
    return path


EVERY_FIRM_BUNCHES = """
  bunching: {band: 0.05, share: 1.0, source: "tests: every firm in the band", assumption: true}
"""
ZERO = """
  entry: {semi_elasticity: 0.0, max_uplift: 0.5, source: tests, assumption: true}
  growth: {award_to_growth: 0.0, max_step: 0.1, source: tests, assumption: true}
  bunching: {band: 0.05, share: 0.0, source: tests, assumption: true}
"""
ENTRY_ONLY = """
  entry: {semi_elasticity: 50.0, max_uplift: 2.0, source: tests, assumption: true}
"""


def totals(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[(frame["year"].astype(str) == "total") & (frame["basis"] == "cash")]


def assert_no_response(table: pd.DataFrame) -> None:
    paid = table[table["spending_mean_wan"] > 0]
    assert len(paid) > 0
    for column in ("windfall_share_mean", "windfall_share_p05", "windfall_share_p95"):
        assert (paid[column] == 1.0).all(), column  # exactly, not approximately
    np.testing.assert_array_equal(paid["windfall_mean_wan"], paid["spending_mean_wan"])
    for name in ("induced_crossings", "induced_firms", "induced_revenue"):
        columns = [c for c in table.columns if c.startswith(name)]
        assert (table[columns].to_numpy() == 0).all(), name
    assert table["cost_per_induced_crossing_mean_wan"].isna().all()


def test_without_responses_windfall_is_exactly_all_and_nothing_is_induced() -> None:
    """The baseline (several payers, events, lags): every award is paid for what happens anyway."""
    result = fiscalsim.butfor(BASELINE, no_responses=True, replicates=3, workers=1)
    assert_no_response(result["butfor"])
    assert result["sensitivity"] is None and result["elasticities"].empty
    assert result["summary"]["responses"] is None


def test_zero_responses_in_a_separate_simulation_change_nothing(tmp_path: Path) -> None:
    """Responses set to zero run as their own simulation: the same keyed draws give the same
    firms, so the windfall is still exactly 100%."""
    file = responses_file(tmp_path / "zero.yaml", ZERO)
    result = fiscalsim.butfor(BENCHMARK, responses=file, replicates=3, workers=1)
    assert_no_response(result["butfor"])
    assert set(result["elasticities"]["response"]) == {"entry", "growth", "bunching"}


def test_every_firm_within_five_percent_below_a_tier_bunches(tmp_path: Path) -> None:
    """Known firms that never grow: the induced crossings are the firms in a 5% band below a tier
    they have not reached, every award paid is induced, and the cost per crossing is known."""
    scenario = tmp_path / "still.yaml"
    scenario.write_text(STILL.format(benchmark=BENCHMARK, n=len(KNOWN), known=KNOWN), "utf-8")
    file = responses_file(tmp_path / "bunch.yaml", EVERY_FIRM_BUNCHES)
    result = fiscalsim.butfor(scenario, responses=file, sensitivity=False, workers=1)
    table = result["butfor"]
    row = totals(table)[totals(table)["jurisdiction"] == "all"].iloc[0]
    assert IN_BAND == 6
    assert row["induced_crossings_mean"] == IN_BAND
    assert row["induced_crossings_p05"] == row["induced_crossings_p95"] == IN_BAND
    amounts = {1000: 20, 5000: 50, 10000: 100}
    expected = sum(a for t, a in amounts.items() for r in KNOWN if 0.95 * t <= r < t)
    assert row["spending_mean_wan"] == pytest.approx(expected)
    assert row["windfall_share_mean"] == 0.0  # no firm crosses without the policy
    assert row["cost_per_induced_crossing_mean_wan"] == pytest.approx(expected / IN_BAND)
    assert row["induced_firms_mean"] == 0
    first = table[(table["year"].astype(str) == "2022") & (table["jurisdiction"] == "all")]
    assert (first["induced_crossings_mean"] == IN_BAND).all()  # all in the first year


def test_entry_response_leaves_every_other_firm_unchanged(tmp_path: Path) -> None:
    """Induced entrants take their own serial numbers and stream: the firms already there see the
    same draws, so the windfall money is the whole spending of the world without responses."""
    file = responses_file(tmp_path / "entry.yaml", ENTRY_ONLY, "entry.semi_elasticity: [50.0]")
    on = totals(fiscalsim.butfor(BENCHMARK, responses=file, replicates=4, workers=1)["butfor"])
    off = totals(fiscalsim.butfor(BENCHMARK, no_responses=True, replicates=4, workers=1)["butfor"])
    on_all, off_all = (t[t["jurisdiction"] == "all"].iloc[0] for t in (on, off))
    assert on_all["windfall_mean_wan"] == pytest.approx(off_all["spending_mean_wan"], abs=1e-9)
    assert on_all["induced_firms_mean"] > 0 and on_all["induced_crossings_mean"] > 0
    assert on_all["spending_mean_wan"] > off_all["spending_mean_wan"]
    assert 0 < on_all["windfall_share_mean"] < 1


def test_bunching_shift_is_the_gap_to_the_lowest_unreached_paying_tier() -> None:
    spec = BunchingResponse(band=0.05, share=1.0, source="tests", assumption=True)
    tiers = np.array([1000.0, 5000.0])
    revenue = np.array([949.0, 950.0, 999.0, 4800.0, 4800.0, 990.0])
    prior = np.array([949.0, 950.0, 999.0, 4800.0, 5100.0, 1200.0])  # 5th and 6th reached before
    applies = np.ones((revenue.size, tiers.size), dtype=bool)
    shift = rs.bunching_shift(spec, revenue, prior, tiers, applies, np.full(revenue.size, 0.5))
    np.testing.assert_allclose(shift, [0.0, 50.0, 1.0, 200.0, 0.0, 0.0])
    applies[:, 1] = False  # a tier that pays this firm nothing draws no bunching
    shift = rs.bunching_shift(spec, revenue, prior, tiers, applies, np.full(revenue.size, 0.5))
    assert shift[3] == 0.0
    assert rs.pay_back(np.array([1000.0]), np.array([50.0]))[0] == 950.0


def test_butfor_command_writes_its_tables_and_says_which_responses(tmp_path: Path) -> None:
    file = responses_file(tmp_path / "r.yaml", ZERO)
    out = tmp_path / "out"
    done = run_cli(
        "butfor", str(BENCHMARK), "--out", str(out), "--replicates", "2", "--workers", "1",
        "--responses", str(file),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for name in ("butfor.csv", "elasticities.csv", "sensitivity.csv", "summary.json"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["kind"] == "butfor" and summary["responses_from"].endswith("r.yaml")
    grid = pd.read_csv(out / "sensitivity.csv")
    assert set(grid["param"]) == {"bunching.share"} and set(grid["value"]) == {1.0}
    report = run_cli("report", str(out))
    assert report.returncode == 0, report.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "奖补资金买到了什么" in html and "全部预算合计" in html
    # a Chinese reader sees the responses named and explained in Chinese (they were English)
    assert "集中确认·概率 = 1" in html and "bunching.share" not in html
    assert "区间内企业集中确认收入的概率" in html
    english = run_cli("report", str(out), "--lang", "en")
    assert english.returncode == 0, english.stderr
    assert "bunching.share = 1" in (out / "report.en.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ZERO.replace("source: tests, ", "", 1), "responses.entry.source"),
        (ZERO.replace("share: 0.0", "share: 1.5"), "responses.bunching.share"),
    ],
)
def test_bad_responses_file_is_one_line_exit_2_nothing_written(
    tmp_path: Path, text: str, expected: str
) -> None:
    file = responses_file(tmp_path / "bad.yaml", text)
    out = tmp_path / "out"
    done = run_cli("butfor", str(BENCHMARK), "--out", str(out), "--responses", str(file))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert expected in lines[0] and "bad.yaml" in lines[0]
    assert not out.exists()


def test_responses_and_no_responses_together_are_refused(tmp_path: Path) -> None:
    file = responses_file(tmp_path / "r.yaml", ZERO)
    out = tmp_path / "out"
    done = run_cli(
        "butfor", str(BENCHMARK), "--out", str(out), "--responses", str(file), "--no-responses"
    )
    assert done.returncode == 2 and "not both" in done.stderr and not out.exists()


ALL_THREE = """
  entry: {semi_elasticity: 50.0, max_uplift: 2.0, source: tests, assumption: true}
  growth: {award_to_growth: 3.0, max_step: 0.2, source: tests, assumption: true}
  bunching: {band: 0.05, share: 0.5, source: tests, assumption: true}
"""


def test_responses_give_the_same_numbers_in_any_batching(tmp_path: Path) -> None:
    """Every response draws from keyed numbers or per-replicate streams: batches of 1 or 4
    replicates, in one process or two, give identical tables."""
    file = responses_file(tmp_path / "all.yaml", ALL_THREE)
    tables = []
    for batch, workers in ((4, 1), (1, 2)):
        scenario = tmp_path / f"batch{batch}.yaml"
        scenario.write_text(
            f"base: {BENCHMARK}\nname: batch_case\ntitle: 分批\ndescription: batches\n"
            f"author: tests\nsources: [synthetic]\nbatch_replicates: {batch}\n",
            encoding="utf-8",
        )
        result = fiscalsim.butfor(
            scenario, responses=file, sensitivity=False, replicates=4, workers=workers
        )
        tables.append(result["butfor"])
    pd.testing.assert_frame_equal(tables[0], tables[1])
    row = totals(tables[0])[totals(tables[0])["jurisdiction"] == "all"].iloc[0]
    assert row["induced_crossings_mean"] > 0 and row["windfall_share_mean"] < 1


def test_a_scenario_that_sets_its_own_responses_is_used_as_written(tmp_path: Path) -> None:
    scenario = tmp_path / "own.yaml"
    scenario.write_text(
        f"base: {BENCHMARK}\nname: own_case\ntitle: 自带反应\ndescription: own responses\n"
        "author: tests\nsources: [synthetic]\nchanges:\n  dynamics.responses:\n"
        "    growth: {award_to_growth: 2.0, max_step: 0.1, source: tests, assumption: true}\n",
        encoding="utf-8",
    )
    result = fiscalsim.butfor(scenario, sensitivity=False, replicates=2, workers=1)
    assert "own.yaml dynamics.responses" in result["summary"]["responses_from"]
    assert list(result["elasticities"]["parameter"]) == ["award_to_growth", "max_step"]
    assert result["summary"]["responses"]["growth"]["award_to_growth"] == 2.0
    done = run_cli("run", str(scenario), "--out", str(tmp_path / "run"), "--replicates", "2")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))
    assert summary["assumptions"]["dynamics"]["response_growth"] == "tests"  # listed as used


def test_with_responses_the_rows_of_many_cities_stay_in_run_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With responses on, a year's entrants join the rows at the end; the next step must merge
    them into (city, replicate) order, or each city's block of rows is cut in the wrong place.
    Before stop 25 it did not: on the baseline (three cities) the engine then read other cities'
    firms, and total spending fell by 18% with an entry response that adds a handful of firms.
    The benchmark's one city could not show it."""
    import fiscalsim.simulation.world as world_module

    original = world_module.World.evaluate_awards
    ordered: list[bool] = []

    def checked(self: world_module.World, year: int, events_on: bool) -> None:
        code = self.firms.city.astype(np.int64) * self.model.n_replicates_total
        ordered.append(bool(np.all(np.diff(code + self.firms.replicate) >= 0)))
        original(self, year, events_on)

    monkeypatch.setattr(world_module.World, "evaluate_awards", checked)
    file = responses_file(tmp_path / "entry.yaml", ENTRY_ONLY, "entry.semi_elasticity: [50.0]")
    on = fiscalsim.butfor(BASELINE, responses=file, sensitivity=False, replicates=2, workers=1)
    assert len(ordered) > 10 and all(ordered)
    off = fiscalsim.butfor(BASELINE, no_responses=True, replicates=2, workers=1)
    on_all, off_all = (
        totals(t)[totals(t)["jurisdiction"] == "all"].iloc[0] for t in (on["butfor"], off["butfor"])
    )
    # the firms already there see the same draws, and more firms come: at least the spending
    # without responses, but for events that fall on other firms (never 18% below it)
    assert on_all["spending_mean_wan"] > 0.99 * off_all["spending_mean_wan"]


def test_a_cost_per_induced_needs_one_induced_on_average() -> None:
    """Spending over 0.05 induced crossings (one in twenty replicates) read 13,533万 a crossing
    beside a band of 750–750; a cost is now shown from one induced on average, with its band."""
    from fiscalsim.reports.butfor_section import _cost, _share

    few = {
        "induced_crossings_mean": 0.05,
        "cost_per_induced_crossing_mean_wan": 13533.0,
        "cost_per_induced_crossing_p05_wan": 750.5,
        "cost_per_induced_crossing_p95_wan": 750.5,
    }
    assert _cost(few, "crossing") == {
        "per_crossing": "—",
        "per_crossing_band": "",
        "per_crossing_few": "1",
    }
    enough = {**few, "induced_crossings_mean": 2.0, "induced_crossings_p05": 1.0,
              "cost_per_induced_crossing_mean_wan": 8169.0,
              "cost_per_induced_crossing_p05_wan": 3732.0, "cost_per_induced_crossing_p95_wan": 21180.0}  # fmt: skip
    assert _cost(enough, "crossing")["per_crossing"] == "8,169"
    assert _cost(enough, "crossing")["per_crossing_band"] == "3,732–21,180"
    # some replicates induce none: the band counts the others only (14,937 beside 8,070–8,070)
    some = {**enough, "induced_crossings_p05": 0.0}
    assert _cost(some, "crossing") == {
        "per_crossing": "8,169",
        "per_crossing_band": "",
        "per_crossing_few": "partial",
    }
    assert [_share(x) for x in (0.9968, 1.0, 0.004, 0.0, 0.93)] == [
        "99.7%",
        "100%",
        "0.4%",
        "0%",
        "93%",
    ]


def test_butfor_says_it_does_not_apply_appropriations(tmp_path: Path) -> None:
    """butfor works on cash as it falls due; a scenario's appropriation was ignored silently."""
    capped = tmp_path / "capped.yaml"
    capped.write_text(
        f"base: {BENCHMARK}\nname: capped\nbudget:\n  governments:\n"
        "    xunwu: {appropriation_wan: 100, source: test}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = run_cli(
        "butfor", str(capped), "--out", str(out), "--replicates", "1", "--workers", "1",
        "--no-responses", "--no-sensitivity",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "capped: the appropriations of xunwu are not applied here" in done.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["appropriations_not_applied"] == {"capped": ["xunwu"]}
