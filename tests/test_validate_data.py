"""`fiscalsim validate` of the files under data/ (each read as a run reads it, names checked), and
the appropriations a run cannot use.

Before stop 25 `validate` refused every one of them ("is none of policy, scenario, ..."), read
data/calibration/events.yaml as an events file (and failed on it), and a misspelt government
in a budgets file was unused by a run without a word.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fiscalsim.paths import DATA_DIR
from tests.test_hardening import assert_one_line, run_main, scenario_copy, write

DATA_FILES = sorted(DATA_DIR.glob("calibration/*.yaml")) + [
    DATA_DIR / "process" / "budget_process.yaml",
    DATA_DIR / "jurisdictions.yaml",
    DATA_DIR / "panel_columns.yaml",
    DATA_DIR / "matters.yaml",
]
EXPECTED = {
    "budgets.yaml": "budgets file, ",
    "calibration_checks.yaml": "calibration checks, ",
    "county_weights.yaml": "county weights, ",
    "dynamics.yaml": "reference data",
    "events.yaml": "reference data",
    "facts.yaml": "reference data",
    "firm_counts.yaml": "firm counts, ",
    "heilongjiang_awards.yaml": "reference data",
    "jiangxi_county_weights.yaml": "county weights, ",
    "jiangxi_firm_counts.yaml": "firm counts, ",
    "large_firms.yaml": "large firms, ",
    "responses.yaml": "responses file, ",
    "budget_process.yaml": "budget process defaults, ",
    "jurisdictions.yaml": "jurisdictions registry, ",
    "panel_columns.yaml": "panel columns of the clauses, ",
    "matters.yaml": "names of the 就高不重复 matters, 73 named",
}


def test_every_shipped_data_file_is_known(capsys: pytest.CaptureFixture[str]) -> None:
    assert sorted(p.name for p in DATA_FILES) == sorted(EXPECTED)
    code, out, err = run_main(capsys, "validate", *map(str, DATA_FILES))
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == len(DATA_FILES)
    for path, line in zip(DATA_FILES, lines, strict=True):
        assert line.startswith(f"ok  {path}: {EXPECTED[path.name]}"), line


def edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    return write(tmp_path / source.name, text.replace(old, new, 1))


CALIBRATION = DATA_DIR / "calibration"
PROCESS = DATA_DIR / "process" / "budget_process.yaml"


@pytest.mark.parametrize(
    ("source", "old", "new", "expected"),
    [
        (
            CALIBRATION / "budgets.yaml",
            "government: xunwu",
            "government: xunwoo",
            ("government: 'xunwoo' is not a jurisdiction", "did you mean xunwu"),
        ),
        (
            CALIBRATION / "firm_counts.yaml",
            "- city: ganzhou",
            "- city: ganzou",
            ("firm_counts[0].city: 'ganzou' is not a city",),
        ),
        (
            CALIBRATION / "county_weights.yaml",
            "unit: xunwu",
            "unit: shuocheng",
            (".unit: 'shuocheng' is not a place of ganzhou",),
        ),
        (
            CALIBRATION / "calibration_checks.yaml",
            "city: ganzhou",
            "city: xunwu",
            ("checks[0]", "'xunwu' is not a city"),
        ),
        (
            CALIBRATION / "responses.yaml",
            "entry.semi_elasticity: [0.0, 5.0, 10.0, 20.0]",
            "entry.semi_elasticity: [0.0, -5.0]",
            ("sensitivity",),
        ),
        (PROCESS, "  SZ-14:", "  SZ-99:", ("quotas.SZ-99: 'SZ-99' is not a clause",)),
        (
            PROCESS,
            "by_bureau: {}",
            "by_bureau: {xunwoo: 20}",
            ("review.by_bureau.xunwoo", "did you mean xunwu"),
        ),
        (PROCESS, "probability: 1.0", "probability: 1.5", ("approval.probability",)),
        (
            DATA_DIR / "panel_columns.yaml",
            "clauses: [GZ-7a]",
            "clauses: [GZ-77a]",
            ("panel_columns.apprentices.clauses[0]: 'GZ-77a' is not a clause",),
        ),
        (
            DATA_DIR / "matters.yaml",
            "  rd_subsidy:",
            "  rd_subsidies:",
            ("matters.rd_subsidies: 'rd_subsidies' is not a matter of the policy files",),
        ),
        (
            DATA_DIR / "matters.yaml",
            "  rd_subsidy: 研发投入补助",
            "  rd_subsidy: 3",
            ("matters.rd_subsidy",),
        ),
    ],
)
def test_a_bad_data_file_is_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    source: Path,
    old: str,
    new: str,
    expected: tuple[str, ...],
) -> None:
    path = edited(tmp_path, source, old, new)
    assert_one_line(capsys, tmp_path, ["validate", str(path)], source.name, *expected)


def test_a_run_refuses_a_misspelt_government_in_its_budgets_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The run looks its figures up by id: the misspelt one was unused, without a word."""
    budgets = edited(tmp_path, CALIBRATION / "budgets.yaml", "government: xunwu", "government: x")
    scenario = scenario_copy(tmp_path, "../data/calibration/budgets.yaml", str(budgets))
    args = ["run", str(scenario), "--replicates", "2", "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, "budgets.yaml: budgets[", ".government: 'x'")


def test_an_appropriation_that_limits_nothing_is_said(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Shuozhou pays nothing in the benchmark (Xunwu's firms only), and 2040 is after the
    process's years: both appropriations were unused without a word."""
    scenario = scenario_copy(
        tmp_path,
        "replicates: 300\n",
        "replicates: 300\nbudget:\n  governments:\n"
        "    xunwu: {appropriation_wan: {2025: 100, 2040: 50}, source: a test}\n",
        name="benchmark.yaml",
    )
    out = tmp_path / "out"
    args = ["run", str(scenario), "--replicates", "2", "--out", str(out)]
    code, _out, err = run_main(capsys, *args, "--appropriation", "shuozhou=100")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("fiscalsim: warning: ")]
    assert len(warnings) == 2, err
    assert "appropriation of shuozhou: no clause of this scenario pays from its budget" in err
    assert "appropriation of xunwu for 2040: the budget process pays cash in 2022–" in err
    assert len(json.loads((out / "run.json").read_text(encoding="utf-8"))["warnings"]) == 2
