"""Hand-worked cases for Shuozhou (朔政办发〔2023〕44号): provincial money booked to Shanxi."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import awards_for, firm_year, paid


def test_revenue_ladder_is_booked_to_shanxi(tmp_path: Path) -> None:
    """SZ-4b: first reaching 1亿 and 2亿 in one year pays 100 + 200, all provincial."""
    result = awards_for(
        tmp_path,
        [
            firm_year("a", "shuocheng", 2023, "01", 9000),
            firm_year("a", "shuocheng", 2024, "01", 21000),
        ],
    )
    award = paid(result.ledger, "SZ-4b").iloc[0]
    assert award["amount_wan"] == 300
    assert award["province_wan"] == 300 and award["province_payer"] == "shanxi"
    assert award["city_wan"] == 0 and award["county_wan"] == 0


def test_growth_award_is_5_percent_of_the_increase(tmp_path: Path) -> None:
    """SZ-4c: 2400 -> 3200 (+33%, ≥2000万) pays 5% of 800 = 40, every qualifying year."""
    result = awards_for(
        tmp_path,
        [firm_year("b", "huairen", 2023, "03", 2400), firm_year("b", "huairen", 2024, "03", 3200)],
    )
    award = paid(result.ledger, "SZ-4c").iloc[0]
    assert award["amount_wan"] == pytest.approx(40)
    assert award["province_payer"] == "shanxi"


def test_growth_award_second_branch_and_cap(tmp_path: Path) -> None:
    """≥5000万 and ≥20%: 60000 -> 200000 would pay 7000, capped at 500."""
    result = awards_for(
        tmp_path,
        [firm_year("c", "pinglu", 2023, "03", 60000), firm_year("c", "pinglu", 2024, "03", 200000)],
    )
    assert paid(result.ledger, "SZ-4c")["amount_wan"].tolist() == [500]


def test_growth_below_threshold_pays_nothing(tmp_path: Path) -> None:
    """3000 -> 3600 is +20% but under 5000万: neither branch holds."""
    result = awards_for(
        tmp_path,
        [
            firm_year("d", "yingxian", 2023, "03", 3000),
            firm_year("d", "yingxian", 2024, "03", 3600),
        ],
    )
    assert paid(result.ledger, "SZ-4c").empty


def test_backbone_staff_subsidy_is_the_citys_own_outlay(tmp_path: Path) -> None:
    """SZ-36a: 1–3万 per person per year (midpoint 2 assumed), paid by the city."""
    rows = [firm_year("e", "shuocheng", 2024, "03", 3000, backbone_employees=5)]
    award = paid(awards_for(tmp_path, rows).ledger, "SZ-36a").iloc[0]
    assert (award["amount_wan"], award["city_wan"], award["city_payer"]) == (10, 10, "shuozhou")


def test_before_the_plan_nothing_is_paid(tmp_path: Path) -> None:
    result = awards_for(
        tmp_path,
        [
            firm_year("f", "shuocheng", 2021, "01", 9000),
            firm_year("f", "shuocheng", 2022, "01", 21000),
        ],
    )
    assert result.ledger.empty
