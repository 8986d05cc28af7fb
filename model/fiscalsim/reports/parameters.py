"""A change's dotted path as a Chinese reader names it.

A sweep, a target or a reform names what it changes by a path of the scenario format
(`policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan`). A Chinese report shows
what the path means, 赣州市 赣市发〔2022〕5号 GZ-2c「…」：第1档门槛（万元）, and keeps the path beside it
for whoever reruns the analysis. Words for fields the table below does not know are left as
they are, so a new field is shown, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from fiscalsim.reports.labels import Names
from fiscalsim.reports.texts import TEXTS

FIELDS_ZH = {
    "threshold_wan": "门槛（万元）",
    "amount_wan": "金额（万元）",
    "amount_wan_per_person": "每人金额（万元）",
    "cap_wan": "封顶（万元）",
    "rate": "比例",
    "share": "比例",
    "base_rate": "基础部分比例",
    "increment_rate": "增量部分比例",
    "assumed_base_wan": "假设基数（万元）",
    "up_to": "分档上限",
    "at_least": "不低于",
    "more_than": "高于",
    "at_most": "不高于",
    "less_than": "低于",
    "equals": "等于",
    "payers": "承担比例",
    "province": "省级",
    "city": "市级",
    "county": "县（区）级",
    "years": "适用年度",
    "first": "首年",
    "last": "末年",
    "payment_lag_years": "兑付滞后年数",
    "quota": "名额",
    "per_year": "每年",
    "max_firm_age_years": "企业成立年限上限",
    "max_awards_per_firm": "每家企业最多奖励次数",
    "period_years": "期限（年）",
    "amount": "",
    "eligibility": "",
    "conditions": "条件",
    "trigger": "触发条件",
    "variants": "情形",
    "bands": "分档",
    "tiers": "档",
    "dynamics": "企业动态",
    "growth": "增长",
    "exit": "退出",
    "entry": "新进入企业",
    "population": "起始企业群体",
    "sigma0": "波动（sigma0）",
    "drift_by_class": "按行业的平均增长率",
    "hazard_by_age": "按企业年龄的退出率",
    "replicates": "重复模拟次数",
    "horizon": "测算末年",
}
_INDEX = re.compile(r"^(.*)\[(\d+)\]$")


def _word(part: str, names: Names) -> str:
    """One part of a path: a field's Chinese name, an industry class, a place, or itself."""
    match = _INDEX.match(part)
    if match:
        field, number = match.group(1), int(match.group(2)) + 1
        return f"第{number}档" if field == "tiers" else f"第{number}项{FIELDS_ZH.get(field, field)}"
    if part in FIELDS_ZH:
        return FIELDS_ZH[part]
    if re.fullmatch(r"0\d", part):
        return f"{part}类"
    return names.place(part)


def _words(parts: list[str], names: Names) -> str:
    """`amount.tiers[0].threshold_wan` -> 第1档·门槛（万元）."""
    return "·".join(w for w in (_word(p, names) for p in parts) if w)


def parameter_zh(path: str, names: Names) -> str:
    """What a change's path means, in Chinese; the path itself where no part is known."""
    parts = path.split(".")
    if len(parts) >= 4 and parts[0] == "policies" and parts[2] == "rules":
        rule_id = parts[3]
        return f"{rule_id}「{names.clause_title(rule_id)}」：{_words(parts[4:], names)}"
    if len(parts) >= 3 and parts[0] == "policies":
        return f"{names.document(parts[1])}：{_words(parts[2:], names)}"
    if len(parts) == 2 and parts[0] == "readings":
        name = TEXTS["zh"].get(f"reading_{parts[1]}", parts[1])
        return f"解读：{name}"
    if len(parts) >= 2 and parts[0] == "events":
        return f"事件过程 {parts[1]}：{_words(parts[2:], names)}"
    return _words(parts, names)


def parameter_short(path: str, names: Names) -> str:
    """The meaning alone in a Chinese report (for a chart's heading or legend), else the path
    (and the path where no part of it is known)."""
    if names.lang != "zh" or not path:
        return path
    meaning = parameter_zh(path, names)
    return path if meaning.replace("·", ".") == path else meaning


def parameter(path: str, names: Names) -> str:
    """A change's path as the report's reader names it: the Chinese meaning with the path in
    brackets in a Chinese report, the path alone in an English one (or where no part of it is
    known)."""
    meaning = parameter_short(path, names)
    return path if meaning == path else f"{meaning}（{path}）"


def value_label(path: str, value: object, names: Names) -> str:
    """A swept value as shown: a reading's choice by its Chinese name in a Chinese report
    (逐档奖励（every_tier）), any other value as written."""
    from fiscalsim.rules.readings import READING_VALUES_ZH

    parts = path.split(".")
    if names.lang == "zh" and len(parts) == 2 and parts[0] == "readings":
        chinese = READING_VALUES_ZH.get(parts[1], {}).get(str(value))
        if chinese:
            return f"{chinese}（{value}）"
    return str(value)


def named_parameters(frame: pd.DataFrame, policies: Sequence[Any] = ()) -> pd.DataFrame:
    """A sweep's or target's table for the workbook: each parameter's meaning beside its path
    (GZ-2c「…」：第1档·门槛（万元）), a reading's choice by its Chinese name. The CSV keeps the
    paths; a finance bureau could not read `policies.ganzhou_2022.rules.GZ-2c...`. Clauses
    are named from `policies`, the scenario's own files, before the shipped ones."""
    names = Names("zh", policies=policies)
    table = frame.copy()
    for param, value in (("param", "value"), ("param2", "value2")):
        if param not in table.columns:
            continue
        paths = table[param].astype(str)
        table.insert(
            list(table.columns).index(param) + 1,
            f"{param}_label",
            [parameter_zh(path, names) for path in paths],
        )
        if value in table.columns and paths.str.startswith("readings.").any():
            table[value] = [
                value_label(path, v, names) for path, v in zip(paths, table[value], strict=True)
            ]
    return table
