"""Invariants of the award engine on random panels (hypothesis)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fiscalsim.calculator import CalculatorResult, calculate
from fiscalsim.paths import POLICIES_DIR
from fiscalsim.rules.schema import TieredFirstReach

PLACES = [
    "xunwu",
    "zhanggong",
    "rongjiang",
    "longnan",
    "shuocheng",
    "huairen",
    "jianshan",
    "baoqing",
]
EVENTS = [
    "top100_first_entry",
    "miit_pilot_project",
    "municipal_cluster_target_met",
    "national_enterprise_cloud_case",
    "provincial_iiot_new_mode_demo",
    "national_green_datacenter",
]
AMOUNTS = [
    "investment_wan",
    "vc_funds_wan",
    "contract_value_wan",
    "rd_expense_wan",
    "apprentices",
    "backbone_employees",
]


@st.composite
def firm_histories(draw: st.DrawFn, max_firms: int = 6) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for firm in range(draw(st.integers(1, max_firms))):
        place = draw(st.sampled_from(PLACES))
        industry_class = draw(st.sampled_from(["01", "02", "03", "04", "05"]))
        start = draw(st.integers(2019, 2025))
        length = draw(st.integers(1, 5))
        log_revenue = draw(st.floats(3.0, 12.5))
        above_scale = 0
        for year in range(start, min(start + length, 2027)):
            log_revenue += draw(st.floats(-1.0, 1.5))
            revenue = float(np.exp(np.clip(log_revenue, 0, 13)))
            above_scale = int(revenue >= 2000)
            row: dict[str, object] = {
                "firm_id": f"f{firm}",
                "location": place,
                "year": year,
                "industry_class": industry_class,
                "revenue_wan": round(revenue, 2),
                "above_scale": above_scale,
                "local_clients": draw(st.integers(0, 30)),
            }
            for event in EVENTS:
                row[event] = int(draw(st.booleans()) and draw(st.booleans()))
            for amount in AMOUNTS:
                row[amount] = round(draw(st.floats(0, 5000)), 1)
            rows.append(row)
    return rows


def run(rows: list[dict[str, object]]) -> CalculatorResult:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "panel.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        return calculate(path, [POLICIES_DIR])


SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(firm_histories())
def test_shares_add_up_to_each_amount(rows: list[dict[str, object]]) -> None:
    ledger = run(rows).ledger
    parts = ledger["province_wan"] + ledger["city_wan"] + ledger["county_wan"]
    assert np.allclose(parts, ledger["amount_wan"])
    assert (ledger["amount_wan"] > 0).all()
    assert (ledger["payment_year"] >= ledger["performance_year"]).all()


@SETTINGS
@given(firm_histories())
def test_no_award_exceeds_its_cap(rows: list[dict[str, object]]) -> None:
    result = run(rows)
    for rule_id, amounts in result.ledger.groupby("clause_id")["amount_wan"]:
        amount = result.book.by_id(str(rule_id)).rule.amount
        caps = [getattr(amount, "cap_wan", None)]
        caps += [v.cap_wan for v in getattr(amount, "variants", []) if v.cap_wan is not None]
        finite = [c for c in caps if c is not None]
        if finite:
            assert amounts.max() <= max(finite) + 1e-9


@SETTINGS
@given(firm_histories())
def test_each_tier_is_paid_at_most_once_per_firm(rows: list[dict[str, object]]) -> None:
    result = run(rows)
    for compiled in result.book.rules:
        if not isinstance(compiled.rule.amount, TieredFirstReach):
            continue
        totals = (
            result.ledger[result.ledger["clause_id"] == compiled.id]
            .groupby("firm_id")["amount_wan"]
            .sum()
        )
        assert (totals <= compiled.tier_amounts_wan.sum() + 1e-9).all()
    once = result.ledger.merge(
        pd.DataFrame({"clause_id": [c.id for c in result.book.rules if c.rule.once_per_firm]}),
        on="clause_id",
    )
    assert not once.duplicated(["firm_id", "clause_id"]).any()


@SETTINGS
@given(firm_histories(max_firms=1), firm_histories(max_firms=5))
def test_a_firms_awards_do_not_depend_on_other_firms(
    alone: list[dict[str, object]], others: list[dict[str, object]]
) -> None:
    """No clause with a quota is triggered here, so other firms cannot change firm f0's awards."""
    crowd = [dict(row, firm_id=f"other-{row['firm_id']}") for row in others]
    by_itself = run(alone).ledger
    together = run(alone + crowd).ledger
    mine = together[together["firm_id"] == "f0"].reset_index(drop=True)
    pd.testing.assert_frame_equal(by_itself.reset_index(drop=True), mine, check_dtype=False)
