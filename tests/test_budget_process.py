"""The budget process (issue 10): applications, reviews, quotas, appropriations, arrears, cash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from fiscalsim.cli import main
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.process.claims import Applications
from fiscalsim.process.des import APPROVED, QUOTA, run_process
from fiscalsim.process.outcome import ProcessOutcome, run_budget_process
from fiscalsim.process.params import ProcessParams, params_for_run
from fiscalsim.process.schema import Government, ProcessSettings, Review
from fiscalsim.process.tables import rejected_table
from fiscalsim.series import payer_series
from fiscalsim.simulation.montecarlo import Prepared, prepare, simulate

REPLICATES = 6
BASELINE = SCENARIOS_DIR / "baseline.yaml"


@pytest.fixture(scope="module")
def simulated() -> tuple[Prepared, dict[str, Any]]:
    prepared = prepare(BASELINE, replicates=REPLICATES, batch_replicates=REPLICATES)
    return prepared, simulate(prepared.model, workers=1)


def _locations(prepared: Prepared) -> list[int]:
    model = prepared.model
    index = model.book.registry.index
    return sorted(
        {index[c] for plan in model.plans for s in plan.segments for c in s.county_weights}
    )


def _run(
    prepared: Prepared,
    ledger: dict[str, np.ndarray],
    settings: ProcessSettings,
    governments: dict[str, Government] | None = None,
) -> tuple[ProcessOutcome, ProcessParams]:
    scenario = prepared.model.scenario
    params = params_for_run(settings, governments or {}, prepared.model.book, BASELINE, True)
    assert params is not None
    first_year = scenario.population.start_year + 1
    outcome = run_budget_process(
        prepared.model.book,
        ledger,
        params,
        scenario.seed,
        _locations(prepared),
        first_year,
        scenario.horizon,
        REPLICATES,
    )
    return outcome, params


def _by_basis(outcome: ProcessOutcome, basis: str) -> tuple[pd.DataFrame, np.ndarray]:
    keep = (outcome.series.keys["basis"] == basis).to_numpy()
    return outcome.series.keys[keep].reset_index(drop=True), outcome.series.amount_wan[keep]


def test_without_limits_cash_is_the_obligation_shifted_by_the_lag(
    simulated: tuple[Prepared, dict[str, Any]],
) -> None:
    prepared, results = simulated
    ledger = results["ledger"]
    unlimited = ProcessSettings(review=Review(capacity_per_month=1_000_000, source="test"))
    outcome, _ = _run(prepared, ledger, unlimited)
    scenario = prepared.model.scenario
    first_year = scenario.population.start_year + 1
    shifted = payer_series(
        prepared.model.book,
        ledger,
        REPLICATES,
        _locations(prepared),
        first_year,
        scenario.horizon,
    )
    cash_rows = (shifted.keys["basis"] == "cash").to_numpy()
    expected = shifted.keys[cash_rows].assign(row=np.flatnonzero(cash_rows))
    keys, cash = _by_basis(outcome, "cash")
    merged = keys.assign(process_row=range(len(keys))).merge(
        expected, on=["jurisdiction", "payer_level", "year"], how="outer"
    )
    assert merged["row"].notna().all() and merged["process_row"].notna().all()
    process_cash = cash[merged["process_row"].astype(int)]
    lag_cash = shifted.amount_wan[merged["row"].astype(int)]
    assert process_cash.sum() > 0
    np.testing.assert_allclose(process_cash, lag_cash, atol=1e-6)  # every replicate
    _, arrears = _by_basis(outcome, "arrears")
    assert np.all(arrears == 0)
    assert outcome.summary["applications"]["approved"] == ledger["rule"].size


def test_a_binding_appropriation_is_never_exceeded_and_nothing_approved_is_lost(
    simulated: tuple[Prepared, dict[str, Any]],
) -> None:
    prepared, results = simulated
    limits = {"ganzhou": 500.0, "shanxi": 2000.0, "xunwu": 40.0}
    governments = {
        name: Government(appropriation_wan=wan, source="test") for name, wan in limits.items()
    }
    outcome, _ = _run(prepared, results["ledger"], ProcessSettings(), governments)
    keys, cash = _by_basis(outcome, "cash")
    arrears_keys, arrears = _by_basis(outcome, "arrears")
    assert (arrears_keys[["jurisdiction", "year"]] == keys[["jurisdiction", "year"]]).all().all()
    limited = keys["jurisdiction"].isin(list(limits)).to_numpy()
    caps = keys["jurisdiction"].map(limits).to_numpy()
    assert np.all(cash[limited] <= caps[limited, None] + 1e-6)  # every replicate, every year
    assert arrears[limited].max() > 0  # the limit binds
    book = prepared.model.book
    ledger = results["ledger"]
    for jurisdiction in limits:
        place = book.registry.index[jurisdiction]
        approved = np.zeros(REPLICATES)
        for level in LEVELS:
            mine = ledger[f"{level}_payer"] == place
            np.add.at(approved, ledger["replicate"][mine], ledger[f"{level}_wan"][mine])
        rows = np.flatnonzero(keys["jurisdiction"] == jurisdiction)
        last = rows[keys.loc[rows, "year"].to_numpy().argmax()]
        paid = cash[rows].sum(axis=0)
        np.testing.assert_allclose(paid + arrears[last], approved, atol=1e-6)


def test_a_replicate_without_awards_counts_as_zero_not_as_missing(
    simulated: tuple[Prepared, dict[str, Any]],
) -> None:
    prepared, results = simulated
    ledger = results["ledger"]
    keep = ledger["replicate"] != REPLICATES - 1
    outcome, _ = _run(prepared, {k: v[keep] for k, v in ledger.items()}, ProcessSettings())
    assert outcome.series.amount_wan.shape[1] == REPLICATES
    assert np.all(outcome.series.amount_wan[:, -1] == 0)
    assert outcome.series.amount_wan[:, :-1].sum() > 0


def _hand_made(filed: list[float], replicate: list[int]) -> Applications:
    n = len(filed)
    share = np.zeros((n, 3))
    share[:, 1] = 4.0
    payer = np.full((n, 3), -1, dtype=np.int64)
    payer[:, 1] = 7
    return Applications(
        replicate=np.array(replicate, dtype=np.int64),
        rule=np.zeros(n, dtype=np.int64),
        bureau=np.full(n, 7, dtype=np.int64),
        performance_year=np.full(n, 2023, dtype=np.int64),
        payment_year=np.full(n, 2024, dtype=np.int64),
        filed=np.array(filed),
        approve=np.ones(n, dtype=bool),
        share_wan=share,
        payer=payer,
    )


def test_a_quota_grants_exactly_its_quota_in_order_of_application_and_lists_the_rejected(
    simulated: tuple[Prepared, dict[str, Any]],
) -> None:
    rng = np.random.default_rng(5)
    # 35 applications in replicate 0 and 10 in replicate 1, filed in a shuffled order over
    # April–June 2024; the quota is 30 a year.
    filed = list(2024 * 12 + 3 + rng.permutation(45) / 15.0)
    replicate = [0] * 35 + [1] * 10
    apps = _hand_made(filed, replicate)
    params = ProcessParams(
        month_weights=np.full(12, 1 / 12),
        capacity=np.full(8, 1000, dtype=np.int64),
        approval=np.ones(1),
        quota=np.array([30]),
        delay_months=1,
    )
    run = run_process(apps, params, 2025)
    first = np.array(filed[:35])
    earliest = np.argsort(first)[:30]
    assert set(np.flatnonzero(run.status[:35] == APPROVED)) == set(earliest.tolist())
    assert (run.status[:35] == QUOTA).sum() == 5
    assert (run.status[35:] == APPROVED).all()  # each replicate has its own quota
    book = simulated[0].model.book
    listed = rejected_table(book, apps, run, np.arange(45))
    assert listed["firm_id"].tolist() == [f"f{k}" for k in np.argsort(first)[30:]]
    assert set(listed["reason"]) == {"quota"}
    # each level's share and payer, as in the ledger: a bureau finds its own rejections
    assert (listed["city_wan"] == 4.0).all() and (listed["county_wan"] == 0.0).all()
    assert set(listed["city_payer"]) == {book.registry.items[7].id}
    assert set(listed["province_payer"]) == {""}
    assert run.payments["amount_wan"].sum() == pytest.approx(4.0 * 40)


def _one_clause_params(
    capacity: int = 1000,
    quota: int = -1,
    delay_months: int = 0,
    appropriation: dict[int, dict[int | None, float]] | None = None,
) -> ProcessParams:
    """Parameters for `_hand_made` applications: one clause, bureaus of 8 places, every month
    alike, everything approved."""
    return ProcessParams(
        month_weights=np.full(12, 1 / 12),
        capacity=np.full(8, capacity, dtype=np.int64),
        approval=np.ones(1),
        quota=np.array([quota]),
        delay_months=delay_months,
        appropriation=appropriation or {},
    )


def test_a_quota_counts_decisions_of_a_calendar_year_across_performance_years() -> None:
    """A backlog decided in one year shares that year's quota (the bureau grants 30 a year)."""
    apps = _hand_made([2024 * 12 + 4.0 + i / 100 for i in range(6)], [0] * 6)
    apps = Applications(**{**apps.__dict__, "performance_year": np.array([2022] * 3 + [2023] * 3)})
    run = run_process(apps, _one_clause_params(quota=4), 2025)
    assert run.status.tolist() == [APPROVED] * 4 + [QUOTA] * 2


def test_arrears_are_paid_before_a_share_that_falls_due_later() -> None:
    """Share 0 is decided in April 2024 but due only in January 2025 (paid two years after
    its performance year); share 1, decided in May, fell due in June 2024 and is unpaid at the
    end of 2024 (nothing appropriated). January 2025's 4万 must settle share 1's arrears first:
    the queue went by decision month and paid share 0."""
    apps = _hand_made([2024 * 12 + 3.0, 2024 * 12 + 4.0], [0, 0])
    apps = Applications(**{**apps.__dict__, "payment_year": np.array([2025, 2024])})
    params = _one_clause_params(delay_months=1, appropriation={7: {2024: 0.0, 2025: 4.0}})
    run = run_process(apps, params, 2026)
    paid = {
        int(r): int(m) - 2024 * 12
        for r, m in zip(run.payments["row"], run.payments["month"], strict=True)
    }
    assert paid == {1: 12, 0: 24}  # share 1 in January 2025, share 0 in January 2026


def test_limited_review_capacity_delays_decisions_in_order_of_filing() -> None:
    apps = _hand_made([2024 * 12 + 3.0 + i / 10 for i in range(5)], [0] * 5)
    run = run_process(apps, _one_clause_params(capacity=2, delay_months=1), 2025)
    assert (run.decided - 2024 * 12).tolist() == [3, 3, 4, 4, 5]
    assert sorted(run.payments["month"] - 2024 * 12) == [4, 4, 5, 5, 6]


def _scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(f"base: {BASELINE}\nname: process_test\n{body}", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "options", "expected"),
    [
        (
            "process:\n  review: {capacity_per_month: -5, source: test}\n",
            [],
            "process.review.capacity_per_month",
        ),
        (
            "process:\n  approval: {probability: 1.5, source: test}\n",
            [],
            "process.approval.probability",
        ),
        ("", ["--appropriation", "atlantis=100"], "'atlantis' is not a jurisdiction"),
        (
            "budget:\n  file: "
            + str(BASELINE.parent.parent / "data/calibration/budgets.yaml")
            + "\n  governments: {atlantis: {appropriation_wan: 10}}\n",
            [],
            "budget.governments.atlantis",
        ),
        ("", ["--appropriation", "ganzhou=-3"], "--appropriation"),
    ],
)
def test_bad_process_parameters_are_one_line_errors_and_nothing_is_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    body: str,
    options: list[str],
    expected: str,
) -> None:
    scenario = _scenario(tmp_path, body)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(scenario), "--replicates", "2", "--out", str(out), *options])
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("fiscalsim: error:")
    assert expected in error
    assert not out.exists()


def test_run_writes_arrears_cashflow_and_budget_at_risk(tmp_path: Path) -> None:
    out = tmp_path / "out"
    main(
        [
            "run",
            str(BASELINE),
            "--replicates",
            "3",
            "--appropriation",
            "ganzhou=300",
            "--out",
            str(out),
        ]
    )
    spending = pd.read_csv(out / "spending.csv")
    assert set(spending["basis"]) == {"obligation", "cash", "arrears"}
    ganzhou_cash = spending[(spending["jurisdiction"] == "ganzhou") & (spending["basis"] == "cash")]
    assert ganzhou_cash["p95_wan"].max() <= 300 + 0.01
    cashflow = pd.read_csv(out / "cashflow.csv")
    yearly = cashflow.groupby(["jurisdiction", "payer_level", "year"], as_index=False)["mean_wan"]
    merged = yearly.sum().merge(
        spending[spending["basis"] == "cash"], on=["jurisdiction", "payer_level", "year"]
    )
    np.testing.assert_allclose(merged["mean_wan_x"], merged["mean_wan_y"], atol=0.05)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    risk = pd.DataFrame(summary["budget_process"]["budget_at_risk"]["rows"])
    assert (risk["p95_wan"] >= risk["p90_wan"] - 1e-9).all()
    ganzhou = risk[risk["jurisdiction"] == "ganzhou"]
    assert (ganzhou["appropriation_wan"] == 300).all()
    assert summary["budget_process"]["wait_months"]["all"]["shares"] > 0
    assert not (out / "rejected.csv").exists()  # approval 1 and no binding quota: none


def test_a_bureaus_own_expenditure_replaces_the_estimate_year_by_year() -> None:
    from fiscalsim.budget import expenditure_in, load_expenditure
    from fiscalsim.paths import DATA_DIR

    budgets = DATA_DIR / "calibration" / "budgets.yaml"
    estimated = load_expenditure(budgets)
    assert len(estimated["jiangxi"]) > 1  # one figure per year, not the latest for every year
    assert expenditure_in(estimated["jiangxi"], 2023) == (
        75006000,
        "2023 all levels (全辖) (fact, M)",
    )
    assert expenditure_in(estimated["jiangxi"], 2029)[1].startswith("2024 ")  # nearest earlier
    own = {
        "ganzhou": Government(
            expenditure_wan={2023: 5_000_000, 2025: 6_000_000}, source="预算报告"
        ),
        "xunwu": Government(expenditure_wan=300_000),
    }
    figures = load_expenditure(budgets, own)
    assert expenditure_in(figures["ganzhou"], 2024) == (5_000_000, "2023 scenario: 预算报告")
    assert expenditure_in(figures["ganzhou"], 2026) == (6_000_000, "2025 scenario: 预算报告")
    assert expenditure_in(figures["xunwu"], 2030) == (
        300_000,
        "scenario, every year: no source given",
    )
    assert figures["jiangxi"] == estimated["jiangxi"]


def test_the_report_shows_the_budget_at_risk_in_chinese() -> None:
    from fiscalsim.reports.budget_risk import budget_risk_section
    from fiscalsim.reports.labels import Names
    from fiscalsim.reports.texts import TEXTS

    row = {"payer_level": "city", "need_mean_wan": 10.0, "p90_wan": 1234.4, "p95_wan": 1500.0}
    summary = {
        "budget_process": {
            "budget_at_risk": {
                "rows": [
                    {**row, "jurisdiction": "ganzhou", "year": 2024, "appropriation_wan": 1200.0},
                    {**row, "jurisdiction": "ganzhou", "year": 2025, "appropriation_wan": None},
                    {**row, "jurisdiction": "shuozhou", "year": 2024, "need_mean_wan": 0.0},
                ]
            },
            "wait_months": {
                "all": {
                    "mean_months": 6.3,
                    "p50_months": 6.0,
                    "p95_months": 8.0,
                    "within_12_months": 1.0,
                    "unpaid_share": 0.0,
                }
            },
        }
    }
    section = budget_risk_section(summary, Names("zh"), TEXTS["zh"], None)
    assert section is not None
    assert section["years"] == [2024, 2025]
    assert [r["budget"] for r in section["rows"]] == ["赣州市（市级）"]  # shuozhou needs nothing
    assert section["rows"][0]["cells"][0] == {"risk": "1,234 / 1,500", "limit": "1,200"}
    assert "平均6.3个月" in section["wait"]
    assert budget_risk_section({}, Names("zh"), TEXTS["zh"], None) is None


def test_every_default_parameter_names_its_source_or_says_it_is_an_assumption() -> None:
    from fiscalsim.process.params import DEFAULTS_FILE
    from fiscalsim.process.schema import ProcessFile
    from fiscalsim.rules.loader import parse_model
    from fiscalsim.yamlfile import read_yaml_mapping

    defaults = parse_model(ProcessFile, read_yaml_mapping(DEFAULTS_FILE), DEFAULTS_FILE)
    sources = [
        defaults.application.source,
        defaults.review.source,
        defaults.approval.source,
        defaults.payment.source,
        *(q.source for q in defaults.quotas.values()),
    ]
    for source in sources:
        assert source.startswith("assumption:") or "data/documents/" in source, source
    documents = {
        "SYS-3": ("004_237f9a542768c521.txt", "每年补助企业30户"),
        "SZ-14": ("003_84c3439b75763365.txt", "每年遴选1—2个"),
    }
    for clause, (file, quote) in documents.items():
        text = (DEFAULTS_FILE.parent.parent / "documents" / file).read_text(encoding="utf-8")
        assert quote in text and quote in defaults.quotas[clause].source


def test_validate_checks_the_process_parameters(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    scenario = _scenario(tmp_path, "process:\n  quotas: {NOPE-1: {per_year: 3, source: test}}\n")
    completed = run_cli("validate", str(scenario))
    assert completed.returncode == 2
    assert "no clause 'NOPE-1'" in completed.stderr and completed.stderr.count("\n") == 1


def test_a_run_refusing_its_process_writes_nothing_to_stdout(tmp_path: Path) -> None:
    """The error is found inside the run, under the progress display: stdout stays empty (rich's
    display left a blank line there), stderr has the one line."""
    from tests.helpers import run_cli

    scenario = _scenario(tmp_path, "process:\n  quotas: {NOPE-1: {per_year: 3, source: test}}\n")
    completed = run_cli("run", str(scenario), "--replicates", "1", "--out", str(tmp_path / "o"))
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "no clause 'NOPE-1'" in completed.stderr and completed.stderr.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_applications_left_undecided_are_said_with_their_amount(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A review capacity of 1 a month leaves thousands of applications undecided at the end:
    their money was in no table and the terminal said nothing of them."""
    scenario = _scenario(tmp_path, "process:\n  review: {capacity_per_month: 1, source: test}\n")
    out = tmp_path / "out"
    main(["run", str(scenario), "--replicates", "2", "--no-ledger", "--out", str(out)])
    applications = json.loads((out / "summary.json").read_text(encoding="utf-8"))["budget_process"][
        "applications"
    ]
    assert applications["undecided_at_end"] > 0 and applications["undecided_at_end_wan"] > 0
    printed = capsys.readouterr().out
    assert "still undecided at the end" in printed
    spending = pd.read_csv(out / "spending.csv")
    window = spending[spending["year"].astype(str) != "total"]
    by_basis = window.groupby("basis")["mean_wan"].sum()
    arrears_last = window[(window["basis"] == "arrears") & (window["year"] == window["year"].max())]
    accounted = by_basis["cash"] + arrears_last["mean_wan"].sum()
    missing = by_basis["obligation"] - accounted  # what only the undecided count accounts for
    assert missing == pytest.approx(applications["undecided_at_end_wan"] / 2, rel=0.02)


def test_the_budget_at_risk_is_rounded_up_to_the_cent() -> None:
    """Fed back as an appropriation, a P95 rounded down left the replicate it lands on with
    0.004万 of arrears: 9085.734 was given as 9085.73."""
    from fiscalsim.process.tables import _cent_up

    assert _cent_up(9085.734) == 9085.74
    assert _cent_up(269.04) == 269.04  # a whole cent stays (269.04 * 100 is 26903.999...)
    assert _cent_up(0.0) == 0.0


def test_the_process_sources_say_which_file_and_which_clauses(tmp_path: Path) -> None:
    """The report listed a review capacity the scenario set as coming from the defaults file,
    and the defaults' quotas for clauses the scenario does not load."""
    from fiscalsim.process.params import resolve_params

    scenario = tmp_path / "own_review.yaml"
    scenario.write_text(
        f"base: {SCENARIOS_DIR / 'benchmark.yaml'}\nname: own_review\n"
        "process:\n  enabled: true\n  review: {capacity_per_month: 50, source: test}\n",
        encoding="utf-8",
    )
    prepared = prepare(scenario, replicates=1)
    settings = prepared.model.scenario.process
    assert settings is not None
    sources = resolve_params(settings, {}, prepared.model.book, scenario).sources
    assert sources["review_from"] == "own_review.yaml"
    assert sources["payment_from"] == "data/process/budget_process.yaml"
    assert sources["quotas"] == {}  # SYS-3 and SZ-14 are not the benchmark's
