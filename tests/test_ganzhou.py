"""Hand-worked cases for Ganzhou city (赣市发〔2022〕5号), in a district with no county text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import awards_for, firm_year, paid


def test_zhanggong_firm_is_covered_by_ganzhou_alone(tmp_path: Path) -> None:
    """GZ-2c: 20万 split between Ganzhou city and Zhanggong district."""
    result = awards_for(
        tmp_path,
        [
            firm_year("a", "zhanggong", 2022, "03", 900),
            firm_year("a", "zhanggong", 2023, "03", 1050),
        ],
    )
    award = result.ledger.iloc[0]
    assert (award["clause_id"], award["amount_wan"]) == ("GZ-2c", 20)
    assert (award["city_payer"], award["county_payer"]) == ("ganzhou", "zhanggong")
    assert result.dropped.empty


def test_jump_over_two_tiers_pays_both_by_default(tmp_path: Path) -> None:
    """800万 -> 6000万 crosses 1000万 and 5000万: 分别给予 20 + 50 under the default reading."""
    result = awards_for(
        tmp_path,
        [firm_year("b", "nankang", 2021, "03", 800), firm_year("b", "nankang", 2022, "03", 6000)],
    )
    assert paid(result.ledger, "GZ-2c")["amount_wan"].tolist() == [70]
    assert "1,000万元、5,000万元" in str(result.explanations[0]["computation_zh"])


def test_class_01_ladder_starts_at_1_yi(tmp_path: Path) -> None:
    result = awards_for(
        tmp_path,
        [firm_year("c", "longnan", 2021, "01", 4000), firm_year("c", "longnan", 2022, "01", 60000)],
    )
    assert paid(result.ledger, "GZ-2b")["amount_wan"].tolist() == [70]


def test_pilot_rebate_is_capped_at_100(tmp_path: Path) -> None:
    """GZ-4a: 10% of 3000万 is 300万, capped at 100万."""
    result = awards_for(
        tmp_path,
        [firm_year("d", "xinfeng", 2023, "05", 20000, miit_pilot_project=1, investment_wan=3000)],
    )
    award = result.ledger.iloc[0]
    assert (award["clause_id"], award["amount_wan"]) == ("GZ-4a", 100)
    assert "封顶" in str(result.explanations[0]["computation_zh"])


def test_national_cloud_case_pays_the_higher_level_once(tmp_path: Path) -> None:
    result = awards_for(
        tmp_path,
        [
            firm_year(
                "e",
                "ganxian",
                2022,
                "05",
                5000,
                national_enterprise_cloud_case=1,
                provincial_enterprise_cloud_case=1,
            )
        ],
    )
    assert paid(result.ledger)[["clause_id", "amount_wan"]].values.tolist() == [["GZ-4d", 50]]


def test_event_subsidy_only_in_the_central_districts(tmp_path: Path) -> None:
    """GZ-9: 在赣州市区举办 — 50% of an international event's cost, cap 100, city pays all."""
    rows = [
        firm_year("f", "zhanggong", 2022, "03", 500, international_event_held=1, event_cost_wan=120)
    ]
    award = awards_for(tmp_path, rows).ledger.iloc[0]
    assert (award["clause_id"], award["amount_wan"], award["city_wan"]) == ("GZ-9", 60, 60)
    rows = [
        firm_year("g", "ningdu", 2022, "03", 500, international_event_held=1, event_cost_wan=120)
    ]
    assert awards_for(tmp_path, rows).ledger.empty


def test_top100_entry_is_paid_once(tmp_path: Path) -> None:
    result = awards_for(
        tmp_path,
        [
            firm_year("h", "zhanggong", 2022, "03", 90000, top100_first_entry=1),
            firm_year("h", "zhanggong", 2023, "03", 95000, top100_first_entry=1),
        ],
    )
    assert paid(result.ledger, "GZ-2a")["performance_year"].tolist() == [2022]
    assert result.dropped["reason"].tolist() == ["already_paid"]


def test_apprentices_at_the_assumed_midpoint(tmp_path: Path) -> None:
    """GZ-7a: 4000—6000元 per apprentice; the midpoint 0.5万 is the stated assumption."""
    rows = [firm_year("i", "zhanggong", 2022, "03", 3000, above_scale=1, apprentices=12)]
    award = awards_for(tmp_path, rows).ledger.iloc[0]
    assert award["amount_wan"] == pytest.approx(6.0)
    rows = [firm_year("j", "zhanggong", 2022, "03", 3000, above_scale=0, apprentices=12)]
    assert awards_for(tmp_path, rows).ledger.empty


def test_a_firm_founded_in_its_first_panel_year_reached_nothing_before(tmp_path: Path) -> None:
    """A firm's first panel year counts its tiers as reached before (its past is unknown); a
    firm founded that year has no past, so reaching 1000万 or 5000万 then is a first reach. It
    was paid nothing, and warned about as if it had a past."""
    rows = [
        firm_year("n1", "xunwu", 2022, "03", 1200, founded_year=2022),
        firm_year("n3", "zhanggong", 2023, "03", 6000, founded_year=2023),
        firm_year("old", "zhanggong", 2023, "03", 6000, founded_year=2015),
    ]
    result = awards_for(tmp_path, rows)
    ledger = paid(result.ledger).set_index("firm_id")
    assert ledger.loc["n1", "clause_id"] == "GZ-2c" and ledger.loc["n1", "amount_wan"] == 20
    assert ledger.loc["n1", "city_wan"] == 10 and ledger.loc["n1", "county_wan"] == 10
    assert ledger.loc["n3", "amount_wan"] == 70  # 1000万 and 5000万 in its founding year
    assert "old" not in ledger.index  # a firm with a past: its first year's tiers were reached
    warned = " ".join(result.summary["warnings"])
    assert "(old)" in warned and "n1" not in warned and "n3" not in warned
