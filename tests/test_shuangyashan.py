"""Hand-worked cases for Shuangyashan (2022-06-28): the city matching provincial awards."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import awards_for, firm_year, paid


def test_matching_uses_the_given_provincial_award(tmp_path: Path) -> None:
    """SYS-1: 20% of a 150万 provincial award = 30 (under the 40 cap), city budget."""
    rows = [
        firm_year(
            "a",
            "jianshan",
            2023,
            "05",
            8000,
            provincial_iiot_new_mode_demo=1,
            provincial_iiot_new_mode_award_wan=150,
        )
    ]
    result = awards_for(tmp_path, rows)
    award = paid(result.ledger, "SYS-1").iloc[0]
    assert (award["amount_wan"], award["city_wan"], award["city_payer"]) == (
        pytest.approx(30),
        pytest.approx(30),
        "shuangyashan",
    )
    assert "上级奖励 150" in str(result.explanations[0]["computation_zh"])


def test_matching_falls_back_to_the_stated_assumption(tmp_path: Path) -> None:
    """Without the provincial figure, the policy file's assumed base (100万) applies: 20."""
    rows = [firm_year("b", "jianshan", 2023, "05", 8000, provincial_iiot_new_mode_demo=1)]
    result = awards_for(tmp_path, rows)
    assert paid(result.ledger, "SYS-1")["amount_wan"].tolist() == [pytest.approx(20)]
    assert "假设" in str(result.explanations[0]["computation_zh"])


def test_cloud_subsidy_caps_by_scale_and_quota_by_application_day(tmp_path: Path) -> None:
    """SYS-3: 50% of cloud spend, cap 5 above-scale / 3 below; only 30 firms a year, first come."""
    rows = [
        firm_year(
            f"m{i:02d}",
            "baoshan",
            2023,
            "05",
            3000 if i % 2 else 1500,
            cloud_rated_three_star=1,
            cloud_spend_wan=12,
            above_scale=i % 2,
            application_day=100 - i,
        )
        for i in range(35)
    ]
    ledger = paid(awards_for(tmp_path, rows).ledger, "SYS-3")
    assert len(ledger) == 30
    # The five latest applicants (smallest i -> latest day) miss out.
    assert set(ledger["firm_id"]) == {f"m{i:02d}" for i in range(5, 35)}
    amounts = dict(zip(ledger["firm_id"], ledger["amount_wan"], strict=True))
    assert amounts["m05"] == 5 and amounts["m06"] == 3


def test_newly_above_scale_software_firm(tmp_path: Path) -> None:
    """SYS-14: above-scale this year and not last year; 20% of the provincial 50万, capped at 10."""
    result = awards_for(
        tmp_path,
        [
            firm_year("c", "jianshan", 2022, "03", 1800, above_scale=0),
            firm_year("c", "jianshan", 2023, "03", 2300, above_scale=1),
            firm_year("c", "jianshan", 2024, "03", 2600, above_scale=1),
        ],
    )
    assert paid(result.ledger, "SYS-14")[["performance_year", "amount_wan"]].values.tolist() == [
        [2023, 10]
    ]


def test_first_reaching_10_yi_pays_the_core_team(tmp_path: Path) -> None:
    result = awards_for(
        tmp_path,
        [
            firm_year("d", "jixian", 2022, "01", 90000, above_scale=1),
            firm_year("d", "jixian", 2023, "01", 105000, above_scale=1),
        ],
    )
    award = paid(result.ledger, "SYS-9").iloc[0]
    assert (award["amount_wan"], award["recipient"]) == (50, "core_team")
