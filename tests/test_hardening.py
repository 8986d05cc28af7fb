"""Nothing silently wrong (issue 11): every bad input is one line, exit 2, no traceback, no output.

The command line runs in-process through `cli.main`, the same entry point as the installed
`fiscalsim` script, so an exception that escaped the error handler would fail the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fiscalsim import cli
from fiscalsim.output import MARKER
from fiscalsim.paths import DATA_DIR, POLICIES_DIR, SCENARIOS_DIR

HEADER = "firm_id,location,year,industry_class,revenue_wan"
DEMO = DATA_DIR / "demo_panel.csv"


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `fiscalsim ARGS`, run in this process."""
    code = 0
    try:
        cli.main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], *expected: str
) -> str:
    """Exit 2, exactly one line on stderr containing `expected`, nothing new on disk."""
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, _out, err = run_main(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("fiscalsim: error: ")
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before, "something was written"
    return lines[0]


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- command-line arguments


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--replicatez", "3", "x.yaml"], ("No such option", "--replicatez")),
        (["run"], ("Missing argument",)),
        (["awards", "--panel"], ("requires an argument",)),
        (["run", "x.yaml", "--workers", "abc"], ("--workers", "integer")),
        (["run", "x.yaml", "--replicates", "0"], ("--replicates",)),
        (["frobnicate"], ("No such command",)),
    ],
)
def test_usage_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], expected: tuple[str, ...]
) -> None:
    assert_one_line(capsys, tmp_path, args, *expected)


def test_cli_replicates_held_to_the_scenario_limit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["run", str(SCENARIOS_DIR / "benchmark.yaml"), "--replicates", "1000000"]
    assert_one_line(
        capsys, tmp_path, [*args, "--out", str(tmp_path / "o")], "--replicates", "100000"
    )


# ---------------------------------------------------------------- panels


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"{HEADER},revenue_wan\na,xunwu,2022,03,1,2\n", ("column revenue_wan", "twice")),
        (f"{HEADER}\na,xunwu,2022,03,1200,7\n", ("line 2", "6 cells", "more than")),
        (f"{HEADER}\na,xunwu,2022,03\n", ("line 2", "4 cells", "fewer than")),
        (f"{HEADER}\na,xunwo,2022,03,1200\n", ("line 2", "'xunwo'", "did you mean xunwu")),
        (f"{HEADER}\na,赣州市,2022,03,1200\n", ("line 2", "is a city")),
        (f"{HEADER}\na,xunwu,2022,3.5,1200\n", ("line 2", "industry_class")),
        (f"{HEADER}\na,xunwu,2022,03,inf\n", ("line 2", "revenue_wan", "not finite")),
        (b"firm_id,location\n\xff\xfe\xff,x\n", ("neither UTF-8 nor GBK", "CSV UTF-8")),
    ],
)
def test_bad_panel(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, body: str | bytes, expected: tuple[str, ...]
) -> None:
    path = write(tmp_path / "panel.csv", body)
    args = ["awards", "--panel", str(path), "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, "panel.csv", *expected)


def test_folder_given_as_panel(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    args = ["awards", "--panel", str(tmp_path / "folder"), "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, "is a folder")


def test_validate_a_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_one_line(capsys, tmp_path, ["validate", str(tmp_path / "nothing.csv")], "no such file")


def panel_rows(tmp_path: Path, body: str, encoding: str = "utf-8") -> dict[str, object]:
    """Run the calculator on a panel; return its summary."""
    path = tmp_path / "panel.csv"
    path.write_bytes(body.encode(encoding))
    from fiscalsim.calculator import calculate

    return calculate(path, [POLICIES_DIR]).summary


def test_chinese_excel_panel_is_read(tmp_path: Path) -> None:
    """GBK bytes, a Chinese place name, another case and a class without its zero all read."""
    body = f"{HEADER}\na,寻乌县,2021,3,800\na,XunWu,2022,03,1200\n"
    summary = panel_rows(tmp_path, body, "gbk")
    notes = " ".join(summary["inputs"]["panel_notes"])  # type: ignore[index]
    assert "GB18030" in notes
    assert "寻乌县 -> xunwu" in notes and "XunWu -> xunwu" in notes
    assert "industry_class" in notes
    # GZ-2c: class-03 firm first reaching 1000万 in 2022 (赣市发〔2022〕5号), as in UTF-8.
    assert summary["totals"]["awards"] == 1  # type: ignore[index]
    assert summary == panel_rows(tmp_path, body.replace("寻乌县", "xunwu"), "utf-8") | {
        "inputs": summary["inputs"]
    }


def test_blank_event_cell_is_zero_like_a_missing_column(tmp_path: Path) -> None:
    with_blank = f"{HEADER},above_scale\na,xunwu,2021,03,800,\na,xunwu,2022,03,1200,\n"
    without = f"{HEADER}\na,xunwu,2021,03,800\na,xunwu,2022,03,1200\n"
    assert (
        panel_rows(tmp_path, with_blank)["totals"] == panel_rows(tmp_path, without)["totals"]  # type: ignore[index]
    )


def test_panel_warnings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "panel.csv", f"{HEADER}\na,xunwu,2015,03,80000000000\n")
    code, _out, err = run_main(capsys, "awards", "--panel", str(path), "--out", str(tmp_path / "o"))
    assert code == 0
    assert "no panel year (2015-2015) lies in any policy window" in err
    assert "looks like 元" in err


# ---------------------------------------------------------------- YAML files


def policy_copy(tmp_path: Path, old: str, new: str, name: str = "ganzhou.yaml") -> Path:
    folder = tmp_path / "policies"
    folder.mkdir(exist_ok=True)
    text = (POLICIES_DIR / name).read_text(encoding="utf-8")
    assert old in text, old
    write(folder / name, text.replace(old, new, 1))
    return folder / name


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(7)
)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("rules:\n", "rules: []\nrules:\n", ("line", "duplicate key 'rules'")),
        (
            "payers: {city: 0.5, county: 0.5}",
            "payers: {city: 0.5, county: 0.5, city: 1.0}",
            ("duplicate key 'city'",),
        ),
        ("amount_wan: 50}", "amount_wan: 50, amount_wan: 5000}", ("duplicate key 'amount_wan'",)),
        ("amount_wan: 50}", "amount_wan: .inf}", ("'.inf' is not a finite number",)),
        ("amount_wan: 50}", "amount_wan: 1e308}", ("out of range",)),
        ("amount_wan: 50}", "amount_wan: true}", ("amount_wan", "valid number")),
        ("rate: 0.02,", "rate: .nan,", ("not a finite number",)),
    ],
)
def test_bad_policy_yaml(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old: str,
    new: str,
    expected: tuple[str, ...],
) -> None:
    path = policy_copy(tmp_path, old, new)
    assert_one_line(capsys, tmp_path, ["validate", str(path)], "ganzhou.yaml", *expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ALIAS_BOMB, ("aliases expand to more than",)),
        ("a: " + "[" * 200 + "]" * 200 + "\n", ("nested more than",)),
        ("a: &a\n  b: *a\n", ("refers to the node that contains it",)),
        ("a: 1\n" + "".join(f"k{i}: *x\n" for i in range(600)), ("alias",)),
    ],
)
def test_yaml_that_would_eat_the_machine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, expected: tuple[str, ...]
) -> None:
    path = write(tmp_path / "bomb.yaml", text)
    assert_one_line(capsys, tmp_path, ["validate", str(path)], "bomb.yaml", *expected)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    from fiscalsim.errors import InputError
    from fiscalsim.yamlfile import load_yaml

    path = write(tmp_path / "loop.yaml", "a: &a [1, *a]\n")
    with pytest.raises(InputError, match="refers to the node that contains it"):
        load_yaml(path)


def test_xunwu_second_rules_block_is_an_error_not_a_replacement(tmp_path: Path) -> None:
    """The issue's example: a second `rules:` used to leave Xunwu with 1 costed rule of 8."""
    from fiscalsim.errors import InputError
    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.rules.loader import load_policy_file

    text = (POLICIES_DIR / "xunwu.yaml").read_text(encoding="utf-8")
    first_rule = text.index("\n  - id:", text.index("rules:"))
    second = text.index("\n  - id:", first_rule + 1)
    duplicated = text + "rules:" + text[first_rule:second] + "\n"
    path = write(tmp_path / "xunwu.yaml", duplicated)
    line = duplicated[: duplicated.rindex("rules:")].count("\n") + 1
    with pytest.raises(InputError, match=f"line {line}: duplicate key 'rules'"):
        load_policy_file(path, load_registry())


# ---------------------------------------------------------------- scenarios


def scenario_copy(tmp_path: Path, old: str, new: str, name: str = "baseline.yaml") -> Path:
    """The scenario with one edit, its relative paths made absolute so it runs from tmp_path."""
    text = (SCENARIOS_DIR / name).read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    text = text.replace("policies: [policies]", f"policies: [{POLICIES_DIR}]")
    text = text.replace(
        "policies: [benchmark/policies]", f"policies: [{SCENARIOS_DIR}/benchmark/policies]"
    )
    text = text.replace("../data/", f"{DATA_DIR}/").replace(
        "events_files: [events/", f"events_files: [{SCENARIOS_DIR}/events/"
    )
    text = text.replace(", events/", f", {SCENARIOS_DIR}/events/")
    return write(tmp_path / "scenario.yaml", text)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("horizon: 2030\n", "horizon: 2030\nhorizon: 2024\n", ("line", "duplicate key 'horizon'")),
        ("max_wan: 5000000", "max_wan: 50", ("calibrated", "floor_wan < large_wan < max_wan")),
        ("sigma_max: 0.90", "sigma_max: 0.01", ("growth", "sigma_max is below sigma_min")),
        ('"10-30": 0.177', '"10-30": 0.5', ("age_shares add up to",)),
        ('"10-30": 0.177', '"4-0": 0.177', ("age band '4-0'",)),
        ('"10-30": 0.177', '"zero-30": 0.177', ("age band 'zero-30'",)),
        ("tail_alpha_bounds: [0.5, 3.0]", "tail_alpha_bounds: [3.0, 0.5]", ("low < high",)),
        (  # found by test_mutations: the fit tried 65 and a size distribution refused it
            "tail_alpha_bounds: [0.5, 3.0]",
            "tail_alpha_bounds: [0.5, 65]",
            ("calibrated", "at most 5"),
        ),
        ("tail_alpha_bounds: [0.5, 3.0]", "tail_alpha_bounds: [0.1, 3.0]", ("above 0.2",)),
        (  # the 规上 line above every bound: the fit's size distribution is refused
            "above_scale_wan: 2000 ",
            "above_scale_wan: 6000000 ",
            ("firm_counts.yaml", "ganzhou/01", "no size distribution fits", "above tail_from_wan"),
        ),
        ("start_year: 2021", "start_year: 1800", ("start_year 1800",)),
        ('"05": {2022: 0.050', '"05": {2022: 50.0', ("drift",)),
        (
            "cities: [ganzhou, shuozhou, shuangyashan]",
            "cities: [ganzhou, atlantis]",
            ("'atlantis' is not a city",),
        ),
        (
            "cities: [ganzhou, shuozhou, shuangyashan]",
            "cities: [赣州市, shuozhou]",
            ("write the id 'ganzhou'",),
        ),
        (
            "cities: [ganzhou, shuozhou, shuangyashan]",
            "cities: [ganzhou, ganzhou]",
            ("more than once",),
        ),
        ("cities: [ganzhou, shuozhou, shuangyashan]", "cities: [ganzhou, xunwu]", ("not a city",)),
        ('ganzhou: {"01": 69.0,', 'ganzhou: {"01": 1.0e12,', ("more than 100,000",)),
        (
            "file: ../data/calibration/budgets.yaml",
            "file: ../data/calibration/nope.yaml",
            ("no such file",),
        ),
        (
            "file: ../data/calibration/budgets.yaml",
            "file: ../data/calibration/firm_counts.yaml",
            ("firm_counts.yaml", "budgets"),
        ),
        ("replicates: 1000", "replicates: true", ("replicates", "valid integer")),
        ("seed: 20221", "seed: 20221\nsed: 1", ("sed", "unknown key")),
        (
            '      "05": {median_share: 0.015, log_sd: 0.8, performing_share: 0.4}\n',
            "",
            ("rd_by_class needs every class; 05 missing",),
        ),
    ],
)
def test_bad_scenario(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old: str,
    new: str,
    expected: tuple[str, ...],
) -> None:
    path = scenario_copy(tmp_path, old, new)
    args = ["run", str(path), "--replicates", "2", "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, *expected)


def test_misspelt_event_fact(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    events = tmp_path / "events.yaml"
    text = (SCENARIOS_DIR / "events" / "shuozhou.yaml").read_text(encoding="utf-8")
    facts = [
        line.split("sets: {")[1].split(":")[0] for line in text.splitlines() if "sets: {" in line
    ]
    assert facts, "the Shuozhou events set facts"
    write(events, text.replace(f"sets: {{{facts[0]}:", f"sets: {{{facts[0]}x:", 1))
    path = scenario_copy(tmp_path, "events/shuozhou.yaml", str(events))
    args = ["run", str(path), "--replicates", "2", "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, f"{facts[0]}x", "no loaded rule reads it")


# found by test_mutations: an unknown place was a KeyError, another city's drew no events
EVENT_DAMAGE = {
    "unknown place": (
        "locations: [xunwu]",
        "locations: [xunwuu]",
        ("event gz_", ".locations[0]", "'xunwuu' is not a place of ganzhou"),
    ),
    "another city's place": (
        "locations: [xunwu]",
        "locations: [shuocheng]",
        ("'shuocheng' is not a place of ganzhou",),
    ),
    "unknown city": ("    city: ganzhou\n", "    city: ganzhouu\n", ("'ganzhouu' is not a city",)),
}


@pytest.mark.parametrize("damage", list(EVENT_DAMAGE))
def test_bad_event_place(capsys: pytest.CaptureFixture[str], tmp_path: Path, damage: str) -> None:
    old, new, expected = EVENT_DAMAGE[damage]
    text = (SCENARIOS_DIR / "events" / "ganzhou.yaml").read_text(encoding="utf-8")
    assert old in text, old
    events = write(tmp_path / "events.yaml", text.replace(old, new, 1))
    path = scenario_copy(tmp_path, "events/ganzhou.yaml", str(events))
    args = ["run", str(path), "--replicates", "2", "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, *expected)


# ---------------------------------------------------------------- calibration files


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        (
            "budgets.yaml",
            "expenditure_wan: 66661000",
            "expenditure_wan: 6666100",
            ("expenditure_yi x 10000",),
        ),
        ("budgets.yaml", "  - 6850\n  - 7100", "  - 7100\n  - 6850", ("range_yi",)),
        (
            "budgets.yaml",
            "government: jiangxi\n  year: 2020",
            "government: jiangxi\n  year: 2020\n  yaer: 1",
            ("unknown key",),
        ),
        ("county_weights.yaml", "weight: 0.3\n", "weight: 0.9\n", ("weights add up to",)),
        ("firm_counts.yaml", "firms: 1150", "firms: 10", ("large <= above_scale <= firms",)),
        ("firm_counts.yaml", "firms: 1150", "firms: true", ("firms", "valid integer")),
        # a misspelt list used to read as no named firms at all, without a word
        ("large_firms.yaml", "known_firms:", "known_firm:", ("known_firm", "unknown key")),
        ("large_firms.yaml", "class: '05'", "class: 05", ("known_firms[1].class",)),
        ("large_firms.yaml", "upper_bound_wan: 1000000", "upper_bound_wan: -1", ("upper_bound",)),
        ("large_firms.yaml", "classes: ['01']", "classes: ['01', '02']", ("shuozhou/02 has two",)),
        # a misspelt place used to count no firms, and the check failed after the run
        (
            "calibration_checks.yaml",
            "places: [ningdu]",
            "places: [ningduu]",
            ("checks[3] (ningdu_above_scale_firms).places", "'ningduu' is not a place of ganzhou"),
        ),
        (
            "calibration_checks.yaml",
            "city: ganzhou\n  places: [ganzhou_etdz]",
            "city: atlantis\n  places: [ganzhou_etdz]",
            ("'atlantis' is not a city",),
        ),
        ("calibration_checks.yaml", "metric: above_scale_firms", "metric: firms", ("metric",)),
        (
            "calibration_checks.yaml",
            "id: gz_etdz_industry_revenue",
            "id: gz_electronics_above_scale_revenue",
            ("gz_electronics_above_scale_revenue appears twice",),
        ),
    ],
)
def test_bad_calibration_file(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    old: str,
    new: str,
    expected: tuple[str, ...],
) -> None:
    text = (DATA_DIR / "calibration" / name).read_text(encoding="utf-8")
    assert old in text, old
    write(tmp_path / name, text.replace(old, new, 1))
    path = scenario_copy(tmp_path, f"../data/calibration/{name}", str(tmp_path / name))
    args = ["run", str(path), "--replicates", "2", "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, name, *expected)


# ---------------------------------------------------------------- outputs


def awards(capsys: pytest.CaptureFixture[str], out: Path, *extra: str) -> tuple[int, str, str]:
    return run_main(capsys, "awards", "--panel", str(DEMO), "--out", str(out), *extra)


def test_out_folder_with_other_files_is_refused_unless_forced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write(out / "my notes.txt", "mine")
    assert_one_line(
        capsys,
        tmp_path,
        ["awards", "--panel", str(DEMO), "--out", str(out)],
        "did not write",
        "--force",
    )
    code, _out, err = awards(capsys, out, "--force")
    assert code == 0, err
    assert (out / "my notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "ledger.csv").exists()


def test_previous_output_is_replaced_whole(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert awards(capsys, out)[0] == 0
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    assert set(marker["files"]) == {
        "ledger.csv",
        "dropped.csv",
        "explanations.jsonl",
        "summary.json",
        "tables.xlsx",
    }
    first = (out / "summary.json").read_bytes()
    assert awards(capsys, out)[0] == 0
    assert (out / "summary.json").read_bytes() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no scratch left behind


def test_summary_is_byte_identical_from_another_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert awards(capsys, tmp_path / "a")[0] == 0
    monkeypatch.chdir(tmp_path)
    assert awards(capsys, Path("b"))[0] == 0
    assert (tmp_path / "a" / "summary.json").read_bytes() == (
        tmp_path / "b" / "summary.json"
    ).read_bytes()
    assert "Infinity" not in (tmp_path / "a" / "summary.json").read_text(encoding="utf-8")


def test_out_naming_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = write(tmp_path / "results", "precious")
    assert_one_line(
        capsys, tmp_path, ["awards", "--panel", str(DEMO), "--out", str(target)], "not a folder"
    )
    assert target.read_text(encoding="utf-8") == "precious"


@pytest.mark.parametrize(
    ("panel_out", "expected"),
    [
        ("out", "output folder itself"),
        ("existing.csv", "--force"),
        ("out/deep/p.csv", "directly in"),
    ],
)
def test_panel_out_checked_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, panel_out: str, expected: str
) -> None:
    write(tmp_path / "existing.csv", "firm_id\nmine\n")
    args = [
        "run",
        str(SCENARIOS_DIR / "benchmark.yaml"),
        "--replicates",
        "2",
        "--out",
        str(tmp_path / "out"),
        "--panel-out",
        str(tmp_path / panel_out),
    ]
    assert_one_line(capsys, tmp_path, args, "--panel-out", expected)
    assert (tmp_path / "existing.csv").read_text(encoding="utf-8") == "firm_id\nmine\n"


def test_interrupted_write_leaves_nothing(tmp_path: Path) -> None:
    from fiscalsim.output import write_all

    def interrupted(path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise KeyboardInterrupt

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        write_all(
            out, {"a.csv": lambda p: p.write_text("a", encoding="utf-8"), "b.csv": interrupted}
        )
    assert list(tmp_path.iterdir()) == []


def test_interrupt_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fiscalsim.calculator

    def stop(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fiscalsim.calculator, "calculate", stop)
    code, _out, err = awards(capsys, tmp_path / "out")
    assert code == 130
    assert err.strip().splitlines() == ["fiscalsim: error: interrupted; no output was written"]
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- validate by content


def test_detect_kind_by_content(tmp_path: Path) -> None:
    from fiscalsim.filekind import detect_kind

    panel = write(tmp_path / "panel.txt", DEMO.read_text(encoding="utf-8"))
    scenario = write(tmp_path / "policy.yaml", (SCENARIOS_DIR / "baseline.yaml").read_text("utf-8"))
    events = write(
        tmp_path / "x.yml", (SCENARIOS_DIR / "events" / "ganzhou.yaml").read_text("utf-8")
    )
    policy = write(tmp_path / "scenario.yaml", (POLICIES_DIR / "xunwu.yaml").read_text("utf-8"))
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(f"{HEADER}\na,寻乌县,2022,03,1\n".encode("gbk"))
    assert [detect_kind(p) for p in (panel, scenario, events, policy, gbk)] == [
        "panel",
        "scenario",
        "events",
        "policy",
        "panel",
    ]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("notes.yaml", "schema_version: 1\nnotes: []\n", "none of policy, scenario"),
        ("table.csv", "a,b\n1,2\n", "no firm_id column"),
    ],
)
def test_validate_names_what_a_file_is_not(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = write(tmp_path / name, text)
    assert_one_line(capsys, tmp_path, ["validate", str(path)], name, expected)


def test_validate_checks_a_scenario_and_an_events_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad_events = write(tmp_path / "events.yaml", "schema_version: 1\nevents:\n  - name: X\n")
    assert_one_line(capsys, tmp_path, ["validate", str(bad_events)], "events.yaml", "events[0]")
    code, out, err = run_main(capsys, "validate", str(SCENARIOS_DIR / "benchmark.yaml"))
    assert code == 0, err
    assert "scenario benchmark" in out


def test_scratch_needs_no_writable_parent_when_out_exists(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a read-only parent (simulated: the tests run as root) the scratch goes inside --out."""
    import fiscalsim.output

    out = tmp_path / "out"
    assert awards(capsys, out)[0] == 0
    real = fiscalsim.output._writable
    monkeypatch.setattr(fiscalsim.output, "_writable", lambda p: p != tmp_path and real(p))
    (out / "stale.csv").write_text("from an older run", encoding="utf-8")
    marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    marker["files"].append("stale.csv")
    (out / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    code, _out, err = awards(capsys, out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MARKER, "dropped.csv", "explanations.jsonl", "ledger.csv", "summary.json", "tables.xlsx"]
    )


def test_read_only_parent_is_refused_before_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fiscalsim.output

    monkeypatch.setattr(fiscalsim.output, "_writable", lambda p: False)
    args = ["awards", "--panel", str(DEMO), "--out", str(tmp_path / "new" / "out")]
    assert_one_line(capsys, tmp_path, args, "cannot be written")


def test_unreadable_panel_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permission denied (simulated: root reads every file) is one line, not a traceback."""
    path = write(tmp_path / "panel.csv", f"{HEADER}\na,xunwu,2022,03,1200\n")
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    args = ["awards", "--panel", str(path), "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, "cannot read: Permission denied")


def test_population_too_large_for_memory_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = scenario_copy(tmp_path, "firms: 10000", "firms: 2000000", name="benchmark.yaml")
    text = path.read_text(encoding="utf-8").replace(
        "batch_replicates: 10 ", "batch_replicates: 50 "
    )
    write(path, text)  # 2,000,000 firms x 50 replicates in one batch
    args = ["run", str(path), "--out", str(tmp_path / "out")]
    assert_one_line(capsys, tmp_path, args, "batch_replicates", "more than 50,000,000")


def test_run_summary_is_byte_identical(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same scenario, seed and replicates from two folders: the same summary.json bytes."""
    scenario = str(SCENARIOS_DIR / "benchmark.yaml")
    common = ["--replicates", "2", "--workers", "1"]
    assert run_main(capsys, "run", scenario, *common, "--out", str(tmp_path / "a"))[0] == 0
    monkeypatch.chdir(tmp_path)
    assert run_main(capsys, "run", scenario, *common, "--out", "b")[0] == 0
    first = (tmp_path / "a" / "summary.json").read_bytes()
    assert first == (tmp_path / "b" / "summary.json").read_bytes()
    assert b"seconds" not in first and b"/tmp" not in first
    assert json.loads((tmp_path / "a" / "run.json").read_text(encoding="utf-8"))["workers"] == 1


@pytest.mark.filterwarnings("error")  # a warning would be a second line on stderr
@pytest.mark.parametrize("spread", ["4957976825", "8"])
def test_an_impossible_calibration_spread_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spread: str
) -> None:
    """A spread no size distribution can meet the above-scale shares with (found by the
    mutation test: log_sd 4,957,976,825) ended in a traceback from SciPy's root finder."""
    text = f"base: {SCENARIOS_DIR / 'baseline.yaml'}\nname: spread\n"
    text += f"changes:\n  population.calibrated.log_sd: {spread}\n"
    scenario = write(tmp_path / "spread.yaml", text)
    line = assert_one_line(capsys, tmp_path, ["validate", str(scenario)], "spread.yaml")
    assert "population.calibrated.log_sd" in line and "share of above-scale firms" in line
