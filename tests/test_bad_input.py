"""Bad input: one line naming file, row or field and the problem; exit 2; no traceback; no output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fiscalsim.paths import POLICIES_DIR
from tests.helpers import run_cli

GOOD_ROW = "a,xunwu,2022,03,1200"
HEADER = "firm_id,location,year,industry_class,revenue_wan"


def assert_one_line_error(tmp_path: Path, args: list[str], *expected: str) -> None:
    out = tmp_path / "out"
    completed = run_cli(*args, "--out", str(out)) if args[0] == "awards" else run_cli(*args)
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    for text in expected:
        assert text in lines[0]
    assert not out.exists()


def panel(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "panel.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            f"{HEADER}\na,atlantis,2022,03,1200\n",
            ("line 2", "location", "unknown jurisdiction 'atlantis'"),
        ),
        (f"{HEADER}\na,ganzhou,2022,03,1200\n", ("line 2", "location", "is a city")),
        (f"{HEADER}\na,xunwu,2022,6,1200\n", ("line 2", "industry_class", "'6'")),
        (f"{HEADER}\na,xunwu,2022,07,1200\n", ("line 2", "industry_class", "'07'")),
        (f"{HEADER}\n{GOOD_ROW}\nb,xunwu,2022,03,-5\n", ("line 3", "revenue_wan", "negative")),
        (
            f"{HEADER}\n{GOOD_ROW}\nb,xunwu,2022,03,lots\n",
            ("line 3", "revenue_wan", "'lots' is not a number"),
        ),
        (f"{HEADER}\n{GOOD_ROW}\nb,xunwu,2022,03,\n", ("line 3", "revenue_wan", "missing")),
        (f"{HEADER}\n{GOOD_ROW}\n{GOOD_ROW}\n", ("line 3", "already has a row for 2022")),
        (
            "firm_id,location,year,revenue_wan\na,xunwu,2022,1200\n",
            ("column industry_class", "required column is missing"),
        ),
        (f"{HEADER},rd_expence_wan\n{GOOD_ROW},5\n", ("column rd_expence_wan", "unknown column")),
        (f"{HEADER}\na,xunwu,20x2,03,1200\n", ("line 2", "year")),
        (f"{HEADER},above_scale\n{GOOD_ROW},2\n", ("line 2", "above_scale", "0 or 1")),
        ("", ("the file is empty",)),
        (f"{HEADER}\n", ("no rows",)),
    ],
)
def test_bad_panel(tmp_path: Path, body: str, expected: tuple[str, ...]) -> None:
    path = panel(tmp_path, body)
    assert_one_line_error(tmp_path, ["awards", "--panel", str(path)], str(path), *expected)


def test_missing_panel_file(tmp_path: Path) -> None:
    assert_one_line_error(
        tmp_path, ["awards", "--panel", str(tmp_path / "nope.csv")], "no such file"
    )


def policy_copy(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    text = (POLICIES_DIR / "ganzhou.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "ganzhou.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "payers: {city: 0.5, county: 0.5}",
            "payers: {city: 0.5, county: 0.4}",
            ("rules[2] (GZ-2a).payers", "add up to 0.9"),
        ),
        (
            "amount: {kind: flat, amount_wan: 50}",
            "amount: {kind: lump, amount_wan: 50}",
            ("rules[0] (GZ-1a).amount", "unknown kind 'lump'"),
        ),
        (
            "once_per_firm: true",
            "once_per_firm: true\n    colour: red",
            ("rules[0] (GZ-1a).colour", "unknown key"),
        ),
        (
            "rate: 0.10, cap_wan: 100}",
            "rate: 0.10, cap_wan: -100}",
            ("(GZ-4a).amount.cap_wan", "greater than or equal to 0"),
        ),
        ("rate: 0.02,", "rate: 1.5,", ("(GZ-3).amount.rate", "less than or equal to 1")),
        (
            "years: {first: 2022, last: 2023}\ndocument:",
            "years: {first: 2024, last: 2023}\ndocument:",
            ("ganzhou.yaml: years:", "before `first`"),
        ),
        ("schema_version: 1", "schema_version: 7", ("schema_version",)),
        (
            "locations: [zhanggong,",
            "locations: [shuocheng,",
            ("(GZ-9).eligibility.locations", "outside ganzhou"),
        ),
    ],
)
def test_bad_policy_file(tmp_path: Path, old: str, new: str, expected: tuple[str, ...]) -> None:
    folder = policy_copy(tmp_path, old, new)
    demo = Path(__file__).parent.parent / "data" / "demo_panel.csv"
    args = ["awards", "--panel", str(demo), "--policies", str(folder)]
    assert_one_line_error(tmp_path, args, "ganzhou.yaml", *expected)
    assert_one_line_error(tmp_path, ["validate", str(folder)], "ganzhou.yaml", *expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty"),
        ("- just\n- a list\n", "must be a mapping, found list"),
        ("plain text\n", "must be a mapping, found str"),
        ("rules: [unclosed\n", "invalid YAML"),
    ],
)
def test_policy_file_that_is_not_a_mapping(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    assert_one_line_error(tmp_path, ["validate", str(path)], "bad.yaml", expected)


def test_failure_leaves_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "ledger.csv").write_text("earlier results\n", encoding="utf-8")
    bad = panel(tmp_path, f"{HEADER}\na,atlantis,2022,03,1200\n")
    completed = run_cli("awards", "--panel", str(bad), "--out", str(out))
    assert completed.returncode == 2
    assert (out / "ledger.csv").read_text(encoding="utf-8") == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "panel.csv"]


def test_unknown_reading_on_the_command_line(tmp_path: Path) -> None:
    demo = Path(__file__).parent.parent / "data" / "demo_panel.csv"
    assert_one_line_error(
        tmp_path,
        ["awards", "--panel", str(demo), "--reading", "tier_jump=maybe"],
        "tier_jump",
        "'maybe'",
    )


def test_good_input_still_works(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, folder)
    path = panel(tmp_path, f"{HEADER}\na,xunwu,2021,03,800\n{GOOD_ROW}\n")
    completed = run_cli(
        "awards", "--panel", str(path), "--policies", str(folder), "--out", str(tmp_path / "out")
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "out" / "ledger.csv").read_text(encoding="utf-8").count("GZ-2c") == 1
