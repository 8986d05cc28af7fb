"""Bad input found by the hunts of stop 24: options, reforms, responses, events and report folders.

Each case was a traceback, a silent replacement of a file, an error naming the wrong change, or
nonsense run without a word before this stop. Every one is one line, exit 2, nothing written.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fiscalsim.output import MARKER
from fiscalsim.paths import DATA_DIR, REPO_DIR, SCENARIOS_DIR
from tests.test_hardening import assert_one_line, run_main, scenario_copy, write

BENCHMARK = str(SCENARIOS_DIR / "benchmark.yaml")
BASELINE = SCENARIOS_DIR / "baseline.yaml"
THRESHOLD = "policies.benchmark_ladder.rules.BM-1.amount.tiers[0].threshold_wan"
GZ = "policies.ganzhou_2022.rules.GZ-2c"


# ---------------------------------------------------------------- target and sweep options


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--ceiling", "inf", "finite"),
        ("--ceiling", "nan", "finite"),
        ("--ceiling", "-5", "0 or more"),
        ("--bracket", "500,inf", "finite"),
        ("--bracket", "-inf,500", "finite"),
    ],
)
def test_target_needs_finite_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str, value: str, expected: str
) -> None:
    args = ["target", BENCHMARK, "--param", THRESHOLD, "--jurisdiction", "xunwu"]
    args += ["--payer", "county", "--replicates", "2", "--out", str(tmp_path / "t")]
    args += ["--ceiling", "30000", "--bracket", "500,4900"]
    args[args.index(option) + 1] = value
    assert_one_line(capsys, tmp_path, args, option, expected)


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ([f"{THRESHOLD}=500,1000", f"{THRESHOLD}=600,700"], "the same parameter twice"),
        (["replicates=1,2"], "a run option"),
        ([f"{THRESHOLD}=500,500"], "listed twice"),
        ([f"{THRESHOLD}=500,,1000"], "empty value"),
        ([f"{THRESHOLD}=500,"], "empty value"),
    ],
)
def test_sweep_grid_that_would_mislabel_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sets: list[str], expected: str
) -> None:
    args = ["sweep", BENCHMARK, "--replicates", "2", "--out", str(tmp_path / "s")]
    for one in sets:
        args += ["--set", one]
    assert_one_line(capsys, tmp_path, args, "--set", expected)


def test_target_for_a_year_outside_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["target", BENCHMARK, "--param", THRESHOLD, "--jurisdiction", "xunwu", "--payer"]
    args += ["county", "--ceiling", "100", "--bracket", "500,4900", "--year", "1900"]
    args += ["--replicates", "2", "--out", str(tmp_path / "t")]
    assert_one_line(capsys, tmp_path, args, "--year: 1900", "not a year")


def test_target_over_a_run_option_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["target", BENCHMARK, "--param", "seed", "--jurisdiction", "xunwu", "--payer"]
    args += ["county", "--ceiling", "100", "--replicates", "2", "--out", str(tmp_path / "t")]
    assert_one_line(capsys, tmp_path, args, "--param", "a run option")


# ---------------------------------------------------------------- where a run writes


@pytest.mark.parametrize("name", ["spending.csv", "summary.json", "ledger.parquet", MARKER])
def test_panel_out_cannot_take_a_file_of_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    out = tmp_path / "out"
    args = ["run", BENCHMARK, "--replicates", "2", "--out", str(out)]
    assert_one_line(capsys, tmp_path, [*args, "--panel-out", str(out / name)], "--panel-out", name)


def test_force_replaces_an_existing_panel_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    panel = write(tmp_path / "panel.csv", "mine\n")
    args = ["run", BENCHMARK, "--replicates", "2", "--out", str(tmp_path / "out")]
    code, _out, err = run_main(capsys, *args, "--panel-out", str(panel), "--force")
    assert code == 0, err
    assert panel.read_text(encoding="utf-8-sig").startswith("firm_id,")


def test_out_below_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path / "file", "x")
    args = ["run", BENCHMARK, "--replicates", "2", "--out", str(tmp_path / "file" / "sub")]
    assert_one_line(capsys, tmp_path, args, "is a file, not a folder")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_file_system_that_refuses_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(capsys, "run", BENCHMARK, "--replicates", "2", "--out", "/proc/x")
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err


# ---------------------------------------------------------------- reforms and data files


def reform(tmp_path: Path, changes: dict[str, object], name: str = "reform.yaml") -> Path:
    """A reform of the baseline (base given by its absolute path)."""
    text = {
        "base": str(BASELINE),
        "name": "r",
        "title": "r",
        "description": "r",
        "changes": changes,
    }
    return write(tmp_path / name, json.dumps(text, ensure_ascii=False))


def test_error_names_the_change_that_broke_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    changes = {f"{GZ}.amount.tiers[0].threshold_wan": 500, f"{GZ}.payers": {"city": 0.7}}
    line = assert_one_line(capsys, tmp_path, ["validate", str(reform(tmp_path, changes))], "0.7")
    assert f"changes.{GZ}.payers:" in line, line


def test_error_names_the_event_process_changed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    changes = {
        "events.gz_municipal_cluster_target_rest.per_year": 1.0,
        "events.gz_municipal_cluster_target_xunwu.per_year": -3,
    }
    line = assert_one_line(capsys, tmp_path, ["validate", str(reform(tmp_path, changes))])
    assert "changes.events.gz_municipal_cluster_target_xunwu.per_year" in line, line


def test_a_bad_change_in_a_base_names_the_base(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reform(tmp_path, {f"{GZ}.payers": {"city": 0.7}}, name="b.yaml")
    top = write(tmp_path / "top.yaml", "base: b.yaml\nname: t\ntitle: t\ndescription: t\n")
    line = assert_one_line(capsys, tmp_path, ["validate", str(top)], "b.yaml: changes.")
    assert "top.yaml" not in line, line


def test_a_bad_sweep_value_names_the_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = ["sweep", BENCHMARK, "--set", f"{THRESHOLD}=500,99999", "--replicates", "2"]
    line = assert_one_line(capsys, tmp_path, [*args, "--out", str(tmp_path / "s")], "--set: ")
    assert "increasing" in line, line


def test_a_change_cannot_give_two_policies_one_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = reform(tmp_path, {"policies.ganzhou_2022.policy_id": "xunwu_2022"})
    assert_one_line(capsys, tmp_path, ["validate", str(path)], "changes.", "also used by")


def test_compare_reads_a_reforms_budget_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = reform(tmp_path, {"budget.file": str(tmp_path / "none.yaml")})
    args = ["compare", str(BASELINE), str(path), "--replicates", "2", "--out", str(tmp_path / "c")]
    assert_one_line(capsys, tmp_path, args, "none.yaml", "no such file")


def test_sensitivity_values_keep_the_responses_bounds(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (DATA_DIR / "calibration" / "responses.yaml").read_text(encoding="utf-8")
    raw = __import__("yaml").safe_load(text)
    raw["sensitivity"]["values"]["bunching.share"] = [0.2, 5.0]
    path = write(tmp_path / "responses.yaml", json.dumps(raw, ensure_ascii=False))
    args = ["butfor", str(BASELINE), "--responses", str(path), "--replicates", "2"]
    args += ["--out", str(tmp_path / "b")]
    assert_one_line(capsys, tmp_path, args, "bunching.share[1]", "less than or equal to 1")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("max_firm_age_years: 2", "max_firm_age_years: -5", ("greater than or equal to 0",)),
        ("    per_year:", "    years: [3000, 3001]\n    per_year:", ("1990–2100",)),
        # an events file alone is checked against the registry, as a scenario checks it
        (
            "city: shuozhou",
            "city: atlantis",
            ("event sz_", "'atlantis' is not a city in the registry"),
        ),
        (
            'industry_classes: ["03", "04"]',
            "locations: [nowhere]",
            ("event sz_", "not a place of shuozhou"),
        ),
    ],
)
def test_event_process_nonsense(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    old: str,
    new: str,
    expected: tuple[str, ...],
) -> None:
    text = (SCENARIOS_DIR / "events" / "shuozhou.yaml").read_text(encoding="utf-8")
    assert old in text, old
    path = write(tmp_path / "events.yaml", text.replace(old, new, 1))
    assert_one_line(capsys, tmp_path, ["validate", str(path)], *expected)


def test_drawn_amount_bounds_in_order(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    events = (SCENARIOS_DIR / "events" / "shuozhou.yaml").read_text(encoding="utf-8")
    raw = __import__("yaml").safe_load(events)
    process = next(p for p in raw["events"] if p.get("draws"))
    amount = next(iter(process["draws"].values()))
    amount.update({"minimum": 10, "maximum": 2})
    bad = write(tmp_path / "events.yaml", json.dumps(raw, ensure_ascii=False))
    assert_one_line(capsys, tmp_path, ["validate", str(bad)], "minimum 10 is above maximum 2")


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        (
            "{1800: 1500}",
            "appropriation_wan[1800]: the key: Input should be greater than or equal to 1990",
        ),
        ("{2025: -1}", "appropriation_wan[2025]: Input should be greater than or equal to 0"),
    ],
)
def test_a_year_keyed_amount_names_the_year(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, amounts: str, expected: str
) -> None:
    """A mapping by year where a number is also allowed: the error is about the mapping."""
    governments = f"  governments: {{ganzhou: {{appropriation_wan: {amounts}}}}}\n"
    path = scenario_copy(tmp_path, "budget:\n", "budget:\n" + governments)
    assert_one_line(capsys, tmp_path, ["validate", str(path)], expected)


def test_validate_an_empty_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert_one_line(capsys, tmp_path, ["validate", str(tmp_path / "empty")], "no YAML files")


def test_validate_a_folder_of_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "validate", str(SCENARIOS_DIR / "examples"))
    assert code == 0, err
    assert out.count("ok  ") == len(list((SCENARIOS_DIR / "examples").glob("*.yaml")))


# ---------------------------------------------------------------- report folders


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A run folder (benchmark, 2 replicates) and a sweep folder, made once."""
    root = tmp_path_factory.mktemp("made")
    commands = {
        "run": ["run", BENCHMARK, "--replicates", "2"],
        "sweep": ["sweep", BENCHMARK, "--set", f"{THRESHOLD}=500,1000", "--replicates", "2"],
    }
    for name, args in commands.items():
        done = subprocess.run(
            [sys.executable, "-m", "fiscalsim", *args, "--out", str(root / name)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    return {name: root / name for name in commands}


def copy_of(made: dict[str, Path], kind: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(made[kind], tmp_path / kind))


def report(capsys: pytest.CaptureFixture[str], folder: Path, *extra: str) -> tuple[int, str]:
    code, _out, err = run_main(capsys, "report", str(folder), *extra)
    return code, err


def test_report_for_a_place_not_in_a_sweep(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, made: dict[str, Path]
) -> None:
    folder = copy_of(made, "sweep", tmp_path)
    args = ["report", str(folder), "--jurisdiction", "ganzhou"]
    assert_one_line(capsys, tmp_path, args, "sweep.csv", "no budget lines for 'ganzhou'")


def damage_cell(path: Path, column: str, row: int, value: str) -> None:
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    cells = lines[row].split(",")
    cells[header.index(column)] = value
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("columns", "no column 'jurisdiction'"),
        ("number", "line 3, mean_wan: 'abc' is not a number"),
        ("year", "line 3, year: '20x5' is not allowed"),
        ("basis", "line 3, basis: 'kash' is not allowed"),
        ("summary", "summary.json or a table is not as fiscalsim writes it"),
    ],
)
def test_report_on_damaged_tables(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    made: dict[str, Path],
    damage: str,
    expected: str,
) -> None:
    folder = copy_of(made, "run", tmp_path)
    spending = folder / "spending.csv"
    if damage == "columns":
        write(spending, "a,b\n1,2\n")
    elif damage == "summary":
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        write(folder / "summary.json", json.dumps({key: "x" for key in summary}))
    else:
        column, value = {"number": ("mean_wan", "abc"), "year": ("year", "20x5")}.get(
            damage, ("basis", "kash")
        )
        damage_cell(spending, column, 2, value)
    assert_one_line(capsys, tmp_path, ["report", str(folder)], expected)


def test_report_keeps_a_users_file_unless_forced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, made: dict[str, Path]
) -> None:
    folder = copy_of(made, "run", tmp_path)
    write(folder / "report.html", "mine")
    assert_one_line(capsys, tmp_path, ["report", str(folder)], "report.html", "--force")
    assert (folder / "report.html").read_text(encoding="utf-8") == "mine"
    code, err = report(capsys, folder, "--force")
    assert code == 0, err
    assert (folder / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    listed = json.loads((folder / MARKER).read_text(encoding="utf-8"))["files"]
    assert {"report.html", "report.pdf"} <= set(listed)
    code, err = report(capsys, folder)  # now fiscalsim's own: replaced without --force
    assert code == 0, err
    code, _out, err = run_main(capsys, "run", BENCHMARK, "--replicates", "2", "--out", str(folder))
    assert code == 0, err  # a new run may replace a folder holding its report
    assert not (folder / "report.html").exists()


def test_report_where_a_folder_has_its_name(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, made: dict[str, Path]
) -> None:
    folder = copy_of(made, "run", tmp_path)
    (folder / "report.pdf").mkdir()
    assert_one_line(capsys, tmp_path, ["report", str(folder)], "report.pdf", "is a folder")
    assert not (folder / "report.html").exists()


# ---------------------------------------------------------------- kill


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_terminate_is_like_an_interrupt(tmp_path: Path) -> None:
    """`kill` (SIGTERM) stops a run as Ctrl-C does: one line on stderr, no scratch folder."""
    out = tmp_path / "out"
    args = ["run", BENCHMARK, "--replicates", "3000", "--workers", "2", "--out", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-m", "fiscalsim", *args],
        cwd=REPO_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not any(tmp_path.glob(".out-ledger-*")) and time.monotonic() < deadline:
        time.sleep(0.2)  # under way: its ledger's scratch folder exists
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.strip().splitlines() == ["fiscalsim: error: interrupted; no output was written"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["compare", "sweep", "butfor"])
def test_workers_have_runs_limit_everywhere(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    args = [command, BENCHMARK, "--workers", "100000", "--out", str(tmp_path / "o")]
    if command == "sweep":
        args += ["--set", f"{THRESHOLD}=500,1000"]
    assert_one_line(capsys, tmp_path, args, "--workers", "less than or equal to 256")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["ganzhou=1e20"], "less than or equal to 10000000000"),
        (["ganzhou=1500", "ganzhou=100"], "ganzhou is given twice"),
    ],
)
def test_appropriation_option_bounds_and_repeats(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, values: list[str], expected: str
) -> None:
    args = ["run", str(BASELINE), "--replicates", "2", "--out", str(tmp_path / "o")]
    for value in values:
        args += ["--appropriation", value]
    assert_one_line(capsys, tmp_path, args, "--appropriation", expected)


def test_run_json_counts_the_readings_band_and_names_the_scheduler(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A --readings all run took 22.6 s and run.json said 1.61 (the first simulation)."""
    out = tmp_path / "out"
    args = ["run", BENCHMARK, "--replicates", "2", "--readings", "all", "--out", str(out)]
    code, _, err = run_main(capsys, *args)
    assert code == 0, err
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["seconds"] >= info["simulation_seconds"] > 0
    assert info["scheduler"] == "inprocess"
    import numpy

    assert info["libraries"]["numpy"] == numpy.__version__  # what the numbers went through


def test_a_sweep_value_that_breaks_a_policy_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Of 500 and 6000, the error did not say which made the tiers non-increasing."""
    path = "policies.benchmark_ladder.rules.BM-1.amount.tiers[0].threshold_wan"
    args = ["sweep", BENCHMARK, "--set", f"{path}=500,6000", "--replicates", "2"]
    args += ["--out", str(tmp_path / "s")]
    assert_one_line(capsys, tmp_path, args, f"{path} = 6000", "strictly increasing")
