"""Chinese reports read Chinese: every note a report shows has its Chinese beside the English.

The policy files' assumption notes, notes and reading reasons, and the event processes'
assumptions, were English only until stop 25, so the default (Chinese) report's assumption,
reading and not-costed sections were English. A note added without its Chinese fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from fiscalsim.paths import POLICIES_DIR, SCENARIOS_DIR
from tests.test_hardening import assert_one_line, write

CJK = re.compile(r"[\u4e00-\u9fff]")
POLICY_FILES = sorted(POLICIES_DIR.glob("*.yaml"))
EVENT_FILES = sorted((SCENARIOS_DIR / "events").glob("*.yaml"))


def load(path: Path) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_every_policy_note_has_its_chinese(path: Path) -> None:
    policy = load(path)
    missing: list[str] = []
    for rule in policy["rules"]:
        english = rule.get("assumption_notes", [])
        chinese = rule.get("assumption_notes_zh", [])
        if len(chinese) != len(english) or not all(CJK.search(z) for z in chinese):
            missing.append(f"{rule['id']}.assumption_notes_zh")
        if rule.get("notes") and not CJK.search(rule.get("notes_zh") or ""):
            missing.append(f"{rule['id']}.notes_zh")
    why, why_zh = policy["readings"].get("why", {}), policy["readings"].get("why_zh", {})
    missing += [f"readings.why_zh.{k}" for k in why if not CJK.search(why_zh.get(k, ""))]
    assert missing == []


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name)
def test_every_event_assumption_has_its_chinese(path: Path) -> None:
    missing = [
        e["name"] for e in load(path)["events"] if not CJK.search(e.get("assumption_zh") or "")
    ]
    assert missing == []


def test_chinese_notes_go_one_for_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = load(POLICIES_DIR / "xunwu.yaml")
    rule = next(r for r in policy["rules"] if len(r.get("assumption_notes", [])) >= 1)
    rule["assumption_notes_zh"] = ["一条", *rule["assumption_notes"]]  # one too many
    path = write(tmp_path / "xunwu.yaml", yaml.safe_dump(policy, allow_unicode=True))
    assert_one_line(
        capsys, tmp_path, ["validate", str(path)], "xunwu.yaml", "give them one for one"
    )


def test_a_chinese_report_shows_the_chinese_notes(tmp_path: Path) -> None:
    """The calculator's summary carries both; the Chinese of the first assumption of a clause
    the demo panel pays is what a Chinese reader gets (explanations.jsonl, assumptions_zh)."""
    import json

    from fiscalsim.paths import DATA_DIR
    from tests.helpers import run_cli

    completed = run_cli(
        "awards", "--panel", str(DATA_DIR / "demo_panel.csv"), "--out", str(tmp_path)
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["assumptions"] and all(CJK.search(a["note_zh"]) for a in summary["assumptions"])
    lines = (tmp_path / "explanations.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert all(len(r["assumptions_zh"]) == len(r["assumptions"]) for r in records)


def test_a_reform_with_its_own_description_does_not_keep_the_bases_chinese(
    tmp_path: Path,
) -> None:
    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.run_summary import scenario_header
    from fiscalsim.scenario_load import load_scenario

    own = write(
        tmp_path / "own.yaml",
        f"base: {SCENARIOS_DIR / 'baseline.yaml'}\nname: own\ndescription: a reform of mine\n",
    )
    same = write(tmp_path / "same.yaml", f"base: {SCENARIOS_DIR / 'baseline.yaml'}\nname: same\n")
    registry = load_registry()
    assert scenario_header(load_scenario(own, registry))["description_zh"] == ""
    assert CJK.search(scenario_header(load_scenario(same, registry))["description_zh"])


@pytest.mark.parametrize(
    "path",
    [SCENARIOS_DIR / "baseline.yaml", *sorted((SCENARIOS_DIR / "examples").glob("*.yaml"))],
    ids=lambda p: p.name,
)
def test_every_shipped_scenario_describes_itself_in_chinese(path: Path) -> None:
    assert CJK.search(load(path).get("description_zh") or "")


def test_every_shipped_response_source_has_its_chinese() -> None:
    """`butfor`'s report shows the responses' sources; the default set's are in Chinese too."""
    from fiscalsim.comparison.butfor import UNITS, UNITS_ZH, elasticity_rows, read_responses
    from fiscalsim.paths import DATA_DIR

    responses = read_responses(DATA_DIR / "calibration" / "responses.yaml").responses
    rows = elasticity_rows(responses)
    assert len(rows) == 6 and set(UNITS_ZH) == set(UNITS)
    assert all(CJK.search(text) for text in rows["source_zh"])
    assert all(CJK.search(text) for text in rows["unit_zh"])


def test_every_column_a_clause_reads_is_described() -> None:
    """Calculator explanations showed event_cost_wan, rented_area_sqm ...: every column a shipped
    clause reads now has its meaning in data/panel_columns.yaml, with the clauses reading it."""
    from fiscalsim.calculator import load_book
    from fiscalsim.facts import CORE_FACTS, DERIVED_FACTS, panel_columns
    from fiscalsim.rules.book import rule_facts

    book = load_book([POLICIES_DIR])
    readers: dict[str, set[str]] = {}
    for compiled in book.rules:
        for name in rule_facts(compiled.rule) - set(CORE_FACTS) - set(DERIVED_FACTS):
            readers.setdefault(name, set()).add(compiled.id)
    catalogue = load(POLICIES_DIR.parent.parent / "data" / "panel_columns.yaml")["panel_columns"]
    assert set(catalogue) == set(readers)
    wrong = [n for n, c in catalogue.items() if set(c["clauses"]) != readers[n]]
    assert wrong == []
    assert all(CJK.search(f.meaning_zh) for f in panel_columns().values())


def test_every_matter_has_a_chinese_name(tmp_path: Path) -> None:
    """The calculator's workbook showed 就高不重复 matters by id (revenue_threshold_digital_tech):
    every matter of a shipped costed clause has its Chinese name in data/matters.yaml, shown
    beside the id in the ledger sheet."""
    import pandas as pd

    from fiscalsim.calculator import load_book
    from fiscalsim.cli import main
    from fiscalsim.rules.matters import matter_names

    used = {c.rule.matter for c in load_book([POLICIES_DIR]).rules if c.rule.costed}
    names = matter_names()
    assert set(names) == used
    assert all(CJK.search(name) for name in names.values())
    panel = POLICIES_DIR.parent.parent / "data" / "demo_panel.csv"
    try:
        main(["awards", "--panel", str(panel), "--out", str(tmp_path / "out")])
    except SystemExit as exit_:
        assert exit_.code in (0, None)
    ledger = pd.read_excel(tmp_path / "out" / "tables.xlsx", sheet_name="奖励明细")
    shown = ledger.dropna(subset=["事项代码（就高不重复）"])
    assert len(shown) > 0 and shown["事项代码（就高不重复）"].nunique() > 3
    for code, name in zip(
        shown["事项代码（就高不重复）"], shown["事项（就高不重复）"], strict=True
    ):
        assert name == names[code]


def test_an_explanation_names_a_clauses_column_in_chinese(tmp_path: Path) -> None:
    from tests.helpers import awards_for, firm_year

    rows = [
        firm_year("e", "zhanggong", 2022, "03", 800, international_event_held=1, event_cost_wan=40)
    ]
    [explained] = awards_for(tmp_path, rows).explanations
    assert "举办（承办）活动的费用总额" in str(explained["computation_zh"])
    assert "event_cost_wan" not in str(explained["computation_zh"])


def test_every_reading_choice_has_a_chinese_name() -> None:
    """The readings table showed every_tier, ever, split ... to a Chinese reader."""
    from fiscalsim.reports.assumptions import reading_rows
    from fiscalsim.reports.labels import Names
    from fiscalsim.rules.readings import READING_CHOICES, READING_VALUES_ZH

    assert {k: set(v) for k, v in READING_VALUES_ZH.items()} == {
        k: set(v) for k, v in READING_CHOICES.items()
    }
    summary = {"readings": {"ganzhou_2022": {"tier_jump": {"value": "every_tier"}}}}
    [row] = reading_rows(summary, Names("zh"))
    assert row["value"] == "逐档奖励（every_tier）"
    assert reading_rows(summary, Names("en"))[0]["value"] == "every_tier"


def test_every_budget_process_source_has_its_chinese() -> None:
    from fiscalsim.process.params import DEFAULTS_FILE

    defaults = load(DEFAULTS_FILE)
    parts = [defaults[k] for k in ("application", "review", "approval", "payment")]
    parts += list(defaults["quotas"].values())
    assert all(CJK.search(part.get("source_zh") or "") for part in parts)


@pytest.mark.parametrize("name", ["baseline.yaml", "benchmark.yaml", "province_scale.yaml"])
def test_every_shipped_scenario_cites_its_dynamics_in_chinese(name: str) -> None:
    """The report's dynamics rows showed the English source, among them the assumption that a
    quarter of firms were larger before."""
    from fiscalsim.jurisdictions import load_registry
    from fiscalsim.run_summary import _dynamics_sources
    from fiscalsim.scenario_load import load_scenario

    scenario = load_scenario(SCENARIOS_DIR / name, load_registry()).scenario
    english, chinese = _dynamics_sources(scenario, False), _dynamics_sources(scenario, True)
    assert set(chinese) == set(english) and all(CJK.search(text) for text in chinese.values())


def test_no_chinese_text_has_a_space_after_its_punctuation() -> None:
    """Folded YAML (>-) joined the lines of a Chinese text with spaces: 依据， 如寻乌县."""
    from fiscalsim.paths import DATA_DIR
    from fiscalsim.process.params import DEFAULTS_FILE

    texts: list[str] = []

    def collect(item: object) -> None:
        if isinstance(item, dict):
            for key, value in item.items():
                if str(key).endswith("_zh") and isinstance(value, str):
                    texts.append(value)
                collect(value)
        elif isinstance(item, list):
            for value in item:
                collect(value)

    for path in [DEFAULTS_FILE, DATA_DIR / "calibration" / "responses.yaml", *POLICY_FILES,
                 *EVENT_FILES, SCENARIOS_DIR / "baseline.yaml"]:  # fmt: skip
        collect(load(path))
    spaced = [t for t in texts if re.search(r"[，；。、：] ", t)]
    assert len(texts) > 300 and spaced == []
