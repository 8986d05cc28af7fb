"""Hand-worked cases for Rongjiang New District (2022-04-07 plan), stacked on Ganzhou's."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import awards_for, firm_year, paid


def rd_rows(rd_2022: float, rd_2023: float) -> list[dict[str, object]]:
    return [
        firm_year("r", "rongjiang", 2022, "03", 3000, rd_expense_wan=rd_2022),
        firm_year("r", "rongjiang", 2023, "03", 3200, rd_expense_wan=rd_2023),
    ]


def test_rd_subsidy_split_reading(tmp_path: Path) -> None:
    """RJ-8, default reading: 2023 R&D 500 over 400 -> 10% x 400 + 12% x 100 = 52万."""
    ledger = paid(awards_for(tmp_path, rd_rows(400, 500)).ledger, "RJ-8")
    assert ledger["amount_wan"].tolist() == [pytest.approx(40), pytest.approx(52)]
    assert set(ledger["county_payer"]) == {"rongjiang"}


def test_rd_subsidy_explanation_does_not_invent_last_year(tmp_path: Path) -> None:
    """The first year has no 上年 figure: the whole 400 is base. The explanation said "上年 400
    万元", which an auditor reads as a real 2021 figure."""
    result = awards_for(tmp_path, rd_rows(400, 500))
    texts = [
        str(e["computation_zh"]) for e in result.explanations if e["clause_id"] == "RJ-8"
    ]  # in year order
    assert "上年数据缺失，全部按基础部分" in texts[0] and "上年 400" not in texts[0]
    assert "上年 400 万元" in texts[1]


def test_rd_subsidy_whole_plus_rise_reading(tmp_path: Path) -> None:
    """Second reading: 10% x 500 + 12% x 100 = 62万."""
    result = awards_for(tmp_path, rd_rows(400, 500), readings={"base_increment": "whole_plus_rise"})
    assert paid(result.ledger, "RJ-8")["amount_wan"].tolist() == [
        pytest.approx(40),
        pytest.approx(62),
    ]
    assert (
        result.summary["readings"]["rongjiang_2022"]["base_increment"]["value"] == "whole_plus_rise"
    )


def test_rd_subsidy_cap_is_100(tmp_path: Path) -> None:
    """1200 over 900: split gives 90 + 36 = 126, capped at 单个企业最高限额为100万元."""
    result = awards_for(tmp_path, rd_rows(900, 1200))
    assert paid(result.ledger, "RJ-8")["amount_wan"].tolist() == [
        pytest.approx(90),
        pytest.approx(100),
    ]


def test_rd_subsidy_needs_1000_revenue_and_50_rd(tmp_path: Path) -> None:
    rows = [firm_year("s", "rongjiang", 2022, "03", 990, rd_expense_wan=80)]
    assert awards_for(tmp_path, rows).ledger.empty
    rows = [firm_year("t", "rongjiang", 2022, "03", 5000, rd_expense_wan=49)]
    assert awards_for(tmp_path, rows).ledger.empty


def test_rongjiang_award_continues_after_city_document_expires(tmp_path: Path) -> None:
    """RJ-2c runs to 2025 (assumed); in 2024 only the district text pays, still 市区各50%."""
    result = awards_for(
        tmp_path,
        [
            firm_year("u", "rongjiang", 2023, "03", 800),
            firm_year("u", "rongjiang", 2024, "03", 1100),
        ],
    )
    award = result.ledger.iloc[0]
    assert (award["clause_id"], award["amount_wan"], award["city_wan"]) == ("RJ-2c", 20, 10)
    assert any("2022–2025" in note for note in result.explanations[0]["assumptions"])  # type: ignore[union-attr]


def test_mirror_clause_in_force_pays_once(tmp_path: Path) -> None:
    """In 2022 GZ-2c and RJ-2c are the same matter and amount: the city document's clause is paid."""
    result = awards_for(
        tmp_path,
        [
            firm_year("v", "rongjiang", 2021, "03", 800),
            firm_year("v", "rongjiang", 2022, "03", 1100),
        ],
    )
    assert result.ledger["clause_id"].tolist() == ["GZ-2c"]
    assert result.ledger["amount_wan"].sum() == 20
    assert result.dropped["clause_id"].tolist() == ["RJ-2c"]


def test_cluster_award_city_beats_district(tmp_path: Path) -> None:
    """GZ-1a (50, city) and RJ-1a (20, district) are one matter in 2022; RJ-1a alone in 2024."""
    rows = [firm_year("w", "rongjiang", 2022, "04", 100, municipal_cluster_target_met=1)]
    assert awards_for(tmp_path, rows).ledger["clause_id"].tolist() == ["GZ-1a"]
    rows = [firm_year("x", "rongjiang", 2024, "04", 100, municipal_cluster_target_met=1)]
    award = awards_for(tmp_path, rows).ledger.iloc[0]
    assert (award["clause_id"], award["amount_wan"], award["county_wan"]) == ("RJ-1a", 20, 20)


def test_talent_tax_reward_only_in_first_five_years(tmp_path: Path) -> None:
    """RJ-9b: 90% of the district's income-tax share, from the founding year to year 5."""
    rows = [
        firm_year(
            "y", "rongjiang", 2023, "03", 800, founded_year=2019, talent_iit_district_share_wan=10
        )
    ]
    assert paid(awards_for(tmp_path, rows).ledger, "RJ-9b")["amount_wan"].tolist() == [
        pytest.approx(9)
    ]
    rows = [
        firm_year(
            "z", "rongjiang", 2023, "03", 800, founded_year=2018, talent_iit_district_share_wan=10
        )
    ]
    assert awards_for(tmp_path, rows).ledger.empty


def test_cluster_award_once_per_matter_across_documents(tmp_path: Path) -> None:
    """GZ-1a (50万, city) pays the cluster operator in 2022; RJ-1a (20万, district) may not pay it
    again in 2023 for the same 集聚区创建 matter (就高不重复, once per firm and matter)."""
    result = awards_for(
        tmp_path,
        [
            firm_year("k", "rongjiang", 2022, "03", 500, municipal_cluster_target_met=1),
            firm_year("k", "rongjiang", 2023, "03", 500, municipal_cluster_target_met=1),
        ],
    )
    cluster = result.ledger[result.ledger["clause_id"].isin(["GZ-1a", "RJ-1a"])]
    assert cluster[["clause_id", "performance_year", "amount_wan"]].values.tolist() == [
        ["GZ-1a", 2022, 50]
    ]


def test_summary_sums_carry_no_float_noise(tmp_path: Path) -> None:
    """The demo panel's RJ-8 awards (8 + 16.4 + 25.8 + 31.2) summed to 81.39999999999999 in
    summary.json; sums are rounded to 1e-6 万元."""
    import json
    import re

    from fiscalsim.paths import DATA_DIR
    from tests.helpers import run_cli

    completed = run_cli(
        "awards", "--panel", str(DATA_DIR / "demo_panel.csv"), "--out", str(tmp_path)
    )
    assert completed.returncode == 0, completed.stderr
    text = (tmp_path / "summary.json").read_text(encoding="utf-8")
    assert re.findall(r"\d\.\d{7,}", text) == []
    by_clause = {c["clause_id"]: c for c in json.loads(text)["by_clause"]}
    assert by_clause["RJ-8"]["amount_wan"] == 81.4
    lines = (tmp_path / "explanations.jsonl").read_text(encoding="utf-8")
    assert re.findall(r"\d\.\d{7,}", lines) == []  # 33.599999999999994 beside a ledger's 33.6
    rivals = [r for line in lines.splitlines() for r in json.loads(line)["competing"]]
    assert rivals and all(r["document"] for r in rivals)  # a rival without a 文号 had null


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        # reached every tier in Zhanggong in 2021: Rongjiang's first-reach ladder pays nothing
        ([("zhanggong", 2021, 12000), ("zhanggong", 2022, 12500), ("rongjiang", 2023, 13000)], []),
        # paid GZ-2c's 1000万 tier in Xunwu; in Rongjiang only the 5000万 tier is new (2024)
        (
            [("xunwu", 2021, 800), ("xunwu", 2022, 1200), ("rongjiang", 2023, 3000),
             ("rongjiang", 2024, 6000)],
            [("RJ-2c", 2024, 50.0)],
        ),
    ],
)  # fmt: skip
def test_a_firm_that_moves_keeps_what_it_reached(
    tmp_path: Path, moves: list[tuple[str, int, float]], expected: list[tuple[str, int, float]]
) -> None:
    """A ladder remembered only the firms of the places it covers: a firm moving in was new to
    it, and was paid again (170万 for tiers reached years before) unless other firms of its
    new county were in the panel in the earlier years."""
    rows = [firm_year("m", place, year, "03", revenue) for place, year, revenue in moves]
    ledger = awards_for(tmp_path, rows).ledger
    moved = ledger[ledger["location"] == "rongjiang"]
    columns = (moved["clause_id"], moved["performance_year"], moved["amount_wan"])
    found = list(zip(*columns, strict=True))
    assert found == expected
