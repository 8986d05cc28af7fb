"""Hand-worked cases for Xunwu county (寻府办字〔2022〕51号) stacked on Ganzhou's document."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import awards_for, firm_year, paid


def test_first_reaching_1000_pays_20_split_city_and_county_not_30(tmp_path: Path) -> None:
    """GZ-2c (20万, 市县各50%) and XW-2c (10万) are one matter: 就高不重复 pays 20, not 30."""
    result = awards_for(
        tmp_path,
        [
            firm_year("a", "xunwu", 2021, "03", 800),
            firm_year("a", "xunwu", 2022, "03", 1200),
        ],
    )
    ledger = result.ledger
    assert len(ledger) == 1
    award = ledger.iloc[0]
    assert award["clause_id"] == "GZ-2c"
    assert award["amount_wan"] == 20
    assert award["city_wan"] == 10 and award["city_payer"] == "ganzhou"
    assert award["county_wan"] == 10 and award["county_payer"] == "xunwu"
    assert award["province_wan"] == 0
    assert (award["performance_year"], award["payment_year"]) == (2022, 2023)
    dropped = result.dropped
    assert dropped[["clause_id", "reason", "paid_instead"]].values.tolist() == [
        ["XW-2c", "stacked", "GZ-2c"]
    ]
    explanation = result.explanations[0]
    assert explanation["competing"][0]["clause_id"] == "XW-2c"
    assert "首次达到" in str(explanation["quote_zh"])


def test_firm_above_a_tier_before_gets_nothing_when_it_returns(tmp_path: Path) -> None:
    """首次达到: above 1000万 in 2020, below in 2021, above again in 2022 — no award (GZ-2c/XW-2c)."""
    result = awards_for(
        tmp_path,
        [
            firm_year("b", "xunwu", 2020, "03", 1500),
            firm_year("b", "xunwu", 2021, "03", 700),
            firm_year("b", "xunwu", 2022, "03", 1300),
        ],
    )
    assert result.ledger.empty


def test_prior_max_column_gives_the_history(tmp_path: Path) -> None:
    rows = [firm_year("c", "xunwu", 2022, "03", 1300, prior_max_revenue_wan=1100)]
    assert awards_for(tmp_path, rows).ledger.empty
    rows = [firm_year("c", "xunwu", 2022, "03", 1300, prior_max_revenue_wan=600)]
    assert paid(awards_for(tmp_path, rows).ledger, "GZ-2c")["amount_wan"].tolist() == [20]


def test_first_panel_year_is_the_starting_point(tmp_path: Path) -> None:
    """Without history, tiers at or below the first year's revenue count as reached before."""
    result = awards_for(
        tmp_path,
        [
            firm_year("d", "xunwu", 2022, "03", 1300),
            firm_year("d", "xunwu", 2023, "03", 1600),
        ],
    )
    assert result.ledger.empty


def test_year_outside_the_window_gets_nothing(tmp_path: Path) -> None:
    """Both documents run 2022–2023: reaching 1000万 in 2024 pays nothing in Xunwu."""
    result = awards_for(
        tmp_path,
        [
            firm_year("e", "xunwu", 2023, "03", 900),
            firm_year("e", "xunwu", 2024, "03", 1400),
        ],
    )
    assert result.ledger.empty


def test_manufacturer_first_reaching_1_yi_gets_city_award(tmp_path: Path) -> None:
    """GZ-2b 20万 beats XW-2b 10万 for a class-01 firm crossing 1亿."""
    result = awards_for(
        tmp_path,
        [
            firm_year("f", "xunwu", 2022, "01", 9000),
            firm_year("f", "xunwu", 2023, "01", 11000),
        ],
    )
    assert paid(result.ledger)[
        ["clause_id", "amount_wan", "city_wan", "county_wan"]
    ].values.tolist() == [["GZ-2b", 20, 10, 10]]


def test_vc_round_pays_the_fund_and_the_firm(tmp_path: Path) -> None:
    """GZ-6 (fund, 受益财政 = county) and XW-7 (firm, county) are different recipients: both paid."""
    result = awards_for(tmp_path, [firm_year("g", "xunwu", 2022, "03", 500, vc_funds_wan=1000)])
    ledger = result.ledger.set_index("clause_id")
    assert ledger.loc["GZ-6", "amount_wan"] == pytest.approx(50)
    assert ledger.loc["GZ-6", "recipient"] == "fund"
    assert ledger.loc["XW-7", "amount_wan"] == pytest.approx(50)
    assert ledger["county_wan"].sum() == pytest.approx(100)


def test_transformation_service_is_split_by_xunwu_text(tmp_path: Path) -> None:
    """XW-3 (2%, cap 50, 由市、县（区）两级财政各承担50%) ties GZ-3 (2%, cap 50, no payer named).

    1500万 of contracts x 2% = 30万 under both. The tie goes to the text that names the payers,
    so Ganzhou and Xunwu pay 15万 each, not the city 30万 as GZ-3's assumed payer would have it.
    """
    result = awards_for(
        tmp_path,
        [firm_year("h", "xunwu", 2022, "03", 3000, contract_value_wan=1500, local_clients=12)],
    )
    award = result.ledger.iloc[0]
    assert (award["clause_id"], award["amount_wan"]) == ("XW-3", pytest.approx(30))
    assert award["city_wan"] == pytest.approx(15) and award["city_payer"] == "ganzhou"
    assert award["county_wan"] == pytest.approx(15) and award["county_payer"] == "xunwu"
    assert result.dropped[["clause_id", "reason", "paid_instead"]].values.tolist() == [
        ["GZ-3", "stacked", "XW-3"]
    ]
    # the explanation says how a tie was decided: it decides who pays (it said only 就高)
    [rival] = result.explanations[0]["competing"]  # type: ignore[misc]
    assert rival["clause_id"] == "GZ-3" and "金额相同" in rival["why_zh"]
    assert "本例：XW-3的条文写明承担财政，GZ-3的承担方为假设" in rival["why_zh"]
    rows = [firm_year("i", "xunwu", 2022, "03", 3000, contract_value_wan=1500, local_clients=9)]
    assert awards_for(tmp_path, rows).ledger.empty  # fewer than 10 local clients


def test_county_cluster_award_is_paid_the_next_year(tmp_path: Path) -> None:
    """XW-1: 由县财政在次年给予 … 50万元."""
    result = awards_for(
        tmp_path, [firm_year("j", "xunwu", 2023, "04", 100, county_cluster_target_met=1)]
    )
    award = result.ledger.iloc[0]
    assert (award["clause_id"], award["amount_wan"], award["payment_year"]) == ("XW-1", 50, 2024)
    assert award["county_payer"] == "xunwu"


def test_one_off_award_is_once_per_matter_not_per_clause(tmp_path: Path) -> None:
    """首次入围 top-100: GZ-2a pays 100万 (市县各50%) in 2022; XW-2a (100万, county) may not pay
    the same firm for the same matter in 2023 (就高不重复 is per matter, once per firm)."""
    result = awards_for(
        tmp_path,
        [
            firm_year("t", "xunwu", 2022, "01", 90000, top100_first_entry=1),
            firm_year("t", "xunwu", 2023, "01", 95000, top100_first_entry=1),
        ],
    )
    top100 = result.ledger[result.ledger["clause_id"].isin(["GZ-2a", "XW-2a", "RJ-2a"])]
    assert top100[["clause_id", "performance_year", "amount_wan"]].values.tolist() == [
        ["GZ-2a", 2022, 100]
    ]
    later = result.dropped[result.dropped["clause_id"] == "XW-2a"]
    assert set(zip(later["performance_year"], later["reason"], strict=True)) >= {
        (2023, "already_paid")
    }


def test_a_late_start_and_a_gap_are_said(tmp_path: Path) -> None:
    """A firm already at 1200万 in its first panel year gets nothing for 1000万, and a missing
    year hides last year's figures: both lowered the awards without a word."""
    rows = [
        firm_year("late", "xunwu", 2022, "03", 1200),
        firm_year("gap", "xunwu", 2021, "03", 800),
        firm_year("gap", "xunwu", 2023, "03", 900),
        firm_year("fine", "xunwu", 2021, "03", 800),
    ]
    warnings = awards_for(tmp_path, rows).summary["warnings"]
    assert len(warnings) == 2, warnings
    assert (
        "1 firm is at or above the lowest revenue tier" in warnings[0] and "(late)" in warnings[0]
    )
    assert "1 firm has a year missing" in warnings[1] and "(gap)" in warnings[1]
    # RJ-8 still pays after a gap, all of it at the base rate (it said increments cannot pay)
    assert "RJ-8 counts the whole amount as base" in warnings[1]


def test_a_tie_between_two_named_payers_goes_to_the_higher_document(tmp_path: Path) -> None:
    """GZ-4a (10%, cap 100, its clause closes 由市县两级财政各承担50%) ties XW-4 (由县财政给予 10%,
    cap 100): both texts name their payers, so the city document's award is paid, and the
    explanation says that this step decided (it gave the whole rule)."""
    rows = [firm_year("b", "xunwu", 2022, "03", 500, miit_pilot_project=1, investment_wan=1500)]
    result = awards_for(tmp_path, rows)
    award = result.ledger.iloc[0]
    assert (award["clause_id"], award["amount_wan"]) == ("GZ-4a", pytest.approx(100))
    [rival] = result.explanations[0]["competing"]  # type: ignore[misc]
    assert rival["clause_id"] == "XW-4"
    assert "本例：两条款均写明承担财政，GZ-4a所在文件级别较高" in rival["why_zh"]


def test_the_late_start_warning_uses_the_ladders_that_cover_the_firm(tmp_path: Path) -> None:
    """A class-01 firm at 9000万 (its ladder starts at 1亿) and a Shuangyashan firm (no revenue
    ladder) were warned about against the lowest tier of any ladder, 1000万."""
    rows = [
        firm_year("c01", "xunwu", 2022, "01", 9000),
        firm_year("sys", "jianshan", 2022, "03", 9000),
        firm_year("c03", "xunwu", 2022, "03", 1200),
        firm_year("big01", "xunwu", 2022, "01", 12000),
    ]
    [warning] = awards_for(tmp_path, rows).summary["warnings"]
    assert "2 firms are" in warning and "(c03, big01)" in warning
