"""The readings of ambiguous text are options: each one changes results as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from fiscalsim.errors import InputError
from fiscalsim.rules.readings import parse_overrides
from tests.helpers import awards_for, firm_year, paid

JUMP = [
    firm_year("a", "zhanggong", 2021, "03", 800),
    firm_year("a", "zhanggong", 2022, "03", 1200),  # reaches 1000 (20)
    firm_year("a", "zhanggong", 2023, "03", 12000),  # jumps 5000 and 1亿 (50 and 100)
]


@pytest.mark.parametrize(
    ("reading", "expected"),
    [("every_tier", [20, 150]), ("highest_only", [20, 100]), ("top_up", [20, 80])],
)
def test_tier_jump_readings(tmp_path: Path, reading: str, expected: list[float]) -> None:
    result = awards_for(tmp_path, JUMP, readings={"tier_jump": reading})
    assert paid(result.ledger, "GZ-2c")["amount_wan"].tolist() == expected
    assert result.summary["readings"]["ganzhou_2022"]["tier_jump"]["value"] == reading


def test_first_reach_since_policy_pays_firms_already_above(tmp_path: Path) -> None:
    """Above 1000万 in 2021 and still in 2022: nothing if 'ever', 20 if 'since the policy'."""
    rows = [
        firm_year("b", "zhanggong", 2021, "03", 1500),
        firm_year("b", "zhanggong", 2022, "03", 1600),
    ]
    assert awards_for(tmp_path, rows).ledger.empty
    result = awards_for(tmp_path, rows, readings={"first_reach": "since_policy"})
    assert paid(result.ledger, "GZ-2c")[["performance_year", "amount_wan"]].values.tolist() == [
        [2022, 20]
    ]


def test_cumulative_stacking_pays_both_documents(tmp_path: Path) -> None:
    rows = [firm_year("c", "xunwu", 2021, "03", 800), firm_year("c", "xunwu", 2022, "03", 1200)]
    result = awards_for(tmp_path, rows, readings={"stacking": "cumulative"})
    assert sorted(result.ledger["clause_id"]) == ["GZ-2c", "XW-2c"]
    assert result.ledger["amount_wan"].sum() == 30


def test_readings_are_printed_with_results(tmp_path: Path) -> None:
    result = awards_for(tmp_path, JUMP)
    described = result.summary["readings"]["ganzhou_2022"]
    assert described["tier_jump"]["value"] == "every_tier"
    assert described["tier_jump"]["source"] == "policy file default"
    assert "分别给予" in described["tier_jump"]["why_default"]


def test_unknown_reading_is_rejected() -> None:
    with pytest.raises(InputError, match="tier_jump"):
        parse_overrides(["tier_jump=sometimes"], "--reading")
    with pytest.raises(InputError, match="unknown reading"):
        parse_overrides(["colour=blue"], "--reading")


def test_capped_cash_gets_no_readings_band() -> None:
    """The readings band runs without the budget process, so it brackets cash as it falls due;
    beside cash paid under an appropriation (68 under 80) it read 129–261. A budget with an
    appropriation keeps the band on its obligations only; every other budget keeps both."""
    import pandas as pd

    from fiscalsim.run import with_band

    rows = [
        (place, basis, mean)
        for place in ("xunwu", "ganzhou")
        for basis, mean in (("obligation", 120.0), ("cash", 68.0), ("arrears", 52.0))
    ]
    spending = pd.DataFrame(
        [
            {"jurisdiction": j, "payer_level": "county", "year": 2023, "basis": b, "mean_wan": m}
            for j, b, m in rows
        ]
    )
    low_high = pd.DataFrame(
        [
            {"jurisdiction": j, "payer_level": "county", "year": y, "basis": b,
             "readings_low_wan": 129.0, "readings_high_wan": 261.0}
            for j in ("xunwu", "ganzhou") for b in ("obligation", "cash") for y in ("2023", "total")
        ]
    )  # fmt: skip
    banded = with_band(spending, low_high, frozenset({"xunwu"})).set_index(
        ["jurisdiction", "basis"]
    )
    assert pd.isna(banded.loc[("xunwu", "cash"), "readings_low_wan"])
    assert banded.loc[("xunwu", "obligation"), "readings_high_wan"] == 261.0
    assert banded.loc[("ganzhou", "cash"), "readings_low_wan"] == 129.0
    assert pd.isna(banded.loc[("ganzhou", "arrears"), "readings_low_wan"])


def test_reading_swings_do_not_carry_the_batchings_last_bits() -> None:
    """The means are summed batch by batch, so a swing read 181.0 in one batching and
    180.9999999999999 in another, and summary.json differed with the batch size."""
    import numpy as np
    import pandas as pd

    from fiscalsim.comparison.readings_band import _influence

    keys = pd.DataFrame(
        [{"jurisdiction": "longnan", "payer_level": "county", "year": "total", "basis": "cash"}]
    )
    combinations = [("every_tier",), ("highest_only",)]
    swings = [
        _influence(None, ["tier_jump"], combinations, keys, np.array([[100.0, top]])).iloc[0][  # type: ignore[arg-type]
            "swing_tier_jump_wan"
        ]
        for top in (281.0, 280.9999999999999)
    ]
    assert swings[0] == swings[1] == 181.0
