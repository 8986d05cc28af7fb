"""The catalogue of firm-year facts a rule can test or pay on.

Core facts are panel columns with a fixed meaning; derived facts are computed by the award
engine from a firm's own previous year; every other fact a rule names (designations, project
investments, event costs ...) is an optional panel column of non-negative numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fiscalsim.paths import DATA_DIR


@dataclass(frozen=True)
class Fact:
    name: str
    unit: str
    meaning_zh: str
    meaning_en: str


REQUIRED_COLUMNS: tuple[str, ...] = ("firm_id", "location", "year", "industry_class", "revenue_wan")

CORE_FACTS: dict[str, Fact] = {
    f.name: f
    for f in (
        Fact("revenue_wan", "万元", "年度营业收入", "annual operating revenue"),
        Fact(
            "rd_expense_wan",
            "万元",
            "享受加计扣除的研发费用",
            "R&D expense eligible for the super-deduction",
        ),
        Fact(
            "investment_wan", "万元", "项目建设投资额", "investment of the project a clause pays on"
        ),
        Fact(
            "vc_funds_wan",
            "万元",
            "股权投资实际到位资金",
            "equity funds actually received from angel/VC/PE funds",
        ),
        Fact(
            "contract_value_wan",
            "万元",
            "服务本地企业合同实际执行金额",
            "executed value of service contracts with local firms",
        ),
        Fact("local_clients", "家", "年度服务本地企业数", "local firms served in the year"),
        Fact("cloud_spend_wan", "万元", "上云实际支出", "actual cloud-service spending"),
        Fact("above_scale", "0/1", "规模以上企业", "above-scale (规上) status, 1 = yes"),
        Fact("employees", "人", "从业人员", "employees"),
        Fact(
            "prior_max_revenue_wan",
            "万元",
            "此前历史最高营业收入",
            "highest revenue before the firm's first panel year",
        ),
        Fact("founded_year", "年", "企业设立年度", "year the firm was founded"),
        Fact(
            "application_day",
            "日",
            "申报日序",
            "day of the year the firm applied (orders first-come quotas)",
        ),
    )
}

DERIVED_FACTS: dict[str, Fact] = {
    f.name: f
    for f in (
        Fact("revenue_prev_wan", "万元", "上年营业收入", "revenue of the previous year"),
        Fact("revenue_increase_wan", "万元", "营业收入增量", "revenue less the previous year's"),
        Fact(
            "revenue_growth",
            "比率",
            "营业收入同比增幅",
            "revenue growth over the previous year (0.3 = 30%)",
        ),
        Fact("rd_expense_prev_wan", "万元", "上年研发费用", "R&D expense of the previous year"),
        Fact(
            "newly_above_scale",
            "0/1",
            "新纳入规上统计",
            "above-scale this year and not the year before",
        ),
        Fact(
            "firm_age_years", "年", "企业设立年限", "years since founding (0 in the founding year)"
        ),
    )
}


def describe_fact(name: str) -> Fact | None:
    """What a fact means: a core or derived fact, else a clause's own column as
    data/panel_columns.yaml describes it (None for a name no catalogue knows)."""
    return CORE_FACTS.get(name) or DERIVED_FACTS.get(name) or panel_columns().get(name)


class _Column(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    unit: str = Field(min_length=1)
    meaning_zh: str = Field(min_length=2)
    meaning_en: str = Field(min_length=2)
    clauses: list[str] = Field(min_length=1)


class PanelColumnsFile(BaseModel):
    """data/panel_columns.yaml: the clauses' own columns, with their meaning."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    schema_version: Literal[1]
    panel_columns: dict[str, _Column]


PANEL_COLUMNS_FILE = DATA_DIR / "panel_columns.yaml"


@cache
def panel_columns() -> dict[str, Fact]:
    """The clauses' own columns (designations, projects, event costs ...) with their meaning,
    so an explanation or `fiscalsim facts` says 举办活动的实际支出 where it said event_cost_wan."""
    from fiscalsim.rules.loader import parse_model
    from fiscalsim.yamlfile import read_yaml_mapping

    parsed = parse_model(
        PanelColumnsFile, read_yaml_mapping(PANEL_COLUMNS_FILE), PANEL_COLUMNS_FILE
    )
    return {
        name: Fact(name, column.unit, column.meaning_zh, column.meaning_en)
        for name, column in parsed.panel_columns.items()
    }


# Derived facts computed from the firm's previous year: the engine remembers last year's figures
# only for rule books that read one of them.
PREVIOUS_YEAR_FACTS = frozenset(
    {
        "revenue_prev_wan",
        "rd_expense_prev_wan",
        "revenue_increase_wan",
        "revenue_growth",
        "newly_above_scale",
    }
)
