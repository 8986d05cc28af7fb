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


def rent_year(firm: str, year: int, founded: int, area: float = 200) -> dict[str, object]:
    return firm_year(
        firm,
        "shuocheng",
        year,
        "03",
        300,
        founded_year=founded,
        startup_in_government_building=1,
        rented_area_sqm=area,
        rent_wan_per_sqm=0.03,
    )


def test_startup_rent_is_paid_for_three_years_from_moving_in(tmp_path: Path) -> None:
    """SZ-31: 鼓励初创大数据企业入驻…300平方米(含)房租全额补贴…补贴期不超过3年.

    Founded 2021, moves in 2023 at age 2 (a start-up then): 200 m² x 0.03万 = 6万 a year, paid
    in 2023, 2024 and 2025 although the firm is 3 and 4 years old in the later two years.
    """
    rows = [rent_year("r", year, 2021) for year in (2023, 2024, 2025)]
    rent = paid(awards_for(tmp_path, rows).ledger, "SZ-31")
    assert rent["performance_year"].tolist() == [2023, 2024, 2025]
    assert rent["amount_wan"].tolist() == pytest.approx([6, 6, 6])
    assert (rent["province_payer"] == "shanxi").all()


def test_startup_rent_age_is_tested_at_moving_in(tmp_path: Path) -> None:
    """Founded 2020, moving in 2023 at age 3: not a start-up (the reading: ≤2 years), no rent."""
    rows = [rent_year("s", year, 2020) for year in (2023, 2024)]
    assert paid(awards_for(tmp_path, rows).ledger, "SZ-31").empty


def test_startup_rent_period_counts_from_the_first_payment(tmp_path: Path) -> None:
    """补贴期不超过3年 is a period, not a count: moved in 2023, out in 2024, back 2025-2026 — paid
    2023 and 2025, not 2026 (a policy copy whose window runs to 2027 shows the period)."""
    from fiscalsim.paths import POLICIES_DIR

    text = (POLICIES_DIR / "shuozhou.yaml").read_text(encoding="utf-8")
    old = "    period_years: 3\n"
    assert old in text
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "shuozhou.yaml").write_text(
        text.replace(old, "    period_years: 3\n    years: {first: 2023, last: 2027}\n"),
        encoding="utf-8",
    )
    rows = [rent_year("u", year, 2022) for year in (2023, 2025, 2026)]
    result = awards_for(tmp_path, rows, policies=[folder])
    assert paid(result.ledger, "SZ-31")["performance_year"].tolist() == [2023, 2025]
    late = result.dropped[result.dropped["clause_id"] == "SZ-31"]
    assert late[["performance_year", "reason"]].values.tolist() == [[2026, "already_paid"]]


def test_growth_of_exactly_twenty_percent_counts(tmp_path: Path) -> None:
    """增幅达到20%以上: 6000 -> 7200 is +20% and pays 5% x 1200 = 60. It was computed as
    7200 / 6000 - 1 = 0.19999999999999996 and missed, for every exact +20% from 5000万."""
    rows = [
        firm_year("g", "huairen", 2023, "03", 6000),
        firm_year("g", "huairen", 2024, "03", 7200),
    ]
    award = paid(awards_for(tmp_path, rows).ledger, "SZ-4c")
    assert award["amount_wan"].tolist() == [pytest.approx(60.0)]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [(4170.1, 5004.12, 41.701), (3333.3, 4333.29, 49.9995), (2000.4, 2600.52, 30.006)],
)
def test_growth_of_exactly_the_rate_counts_with_decimals(
    tmp_path: Path, before: float, after: float, expected: float
) -> None:
    """+20% from 5000万 and +30% from 2000万, in 万元 with decimals: (now - before) / before is
    0.19999999999999987 or 0.29999999999999993 in floating point, and missed. Growth is now
    rounded to 12 decimals, far finer than any revenue figure's precision."""
    rows = [
        firm_year("g", "shuocheng", 2023, "03", before),
        firm_year("g", "shuocheng", 2024, "03", after),
    ]
    award = paid(awards_for(tmp_path, rows).ledger, "SZ-4c")
    assert award["amount_wan"].tolist() == [pytest.approx(expected)]


def test_a_flat_award_that_can_recur_is_not_called_one_off(tmp_path: Path) -> None:
    """SZ-8c writes no 一次性 and pays again in a later year; its explanation said 一次性 200."""
    rows = [
        firm_year("p", "shuocheng", year, "04", 30000, ecommerce_platform_firm=1,
                  platform_gmv_wan=60000, platform_gmv_growth=0.6,
                  provincial_digital_commerce_firm=1)
        for year in (2023, 2024)
    ]  # fmt: skip
    result = awards_for(tmp_path, rows)
    lines = [str(e["computation_zh"]) for e in result.explanations if e["clause_id"] == "SZ-8c"]
    assert lines == ["定额 200 万元", "定额 200 万元"]
    once = [str(e["computation_zh"]) for e in result.explanations if e["clause_id"] == "SZ-8b"]
    assert once == ["一次性 25 万元"]  # SZ-8b is once per firm
