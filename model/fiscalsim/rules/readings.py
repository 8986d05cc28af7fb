"""Readings of ambiguous policy text, kept as options rather than buried in code.

Each policy file states its defaults; a scenario or the command line may override any of them
for every rule at once. The resolved readings are printed with every result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import get_args

from fiscalsim.errors import InputError
from fiscalsim.rules.schema import (
    BaseIncrement,
    CapPeriod,
    Designations,
    FirstReach,
    PolicyFile,
    ReadingDefaults,
    SignedYear,
    Stacking,
    TierJump,
)

READING_CHOICES: dict[str, tuple[str, ...]] = {
    "tier_jump": get_args(TierJump),
    "first_reach": get_args(FirstReach),
    "base_increment": get_args(BaseIncrement),
    "stacking": get_args(Stacking),
    "signed_year": get_args(SignedYear),
    "cap_period": get_args(CapPeriod),
    "designations": get_args(Designations),
}

# Readings that apply only where a document (`contested:` at its top) or a rule (`contested:`
# in the rule) says its text is ambiguous on that point; the others apply to every rule.
DOCUMENT_READINGS = frozenset({"signed_year"})
RULE_READINGS = frozenset({"cap_period", "designations"})

READING_MEANINGS: dict[str, dict[str, str]] = {
    "tier_jump": {
        "every_tier": "a jump over several tiers in one year pays every tier crossed (分别给予)",
        "highest_only": "a jump over several tiers pays only the highest tier crossed",
        "top_up": "a jump pays the highest tier crossed less what the clause paid the firm before",
    },
    "first_reach": {
        "ever": "首次达到 means the first time ever: a tier reached before, even years ago, never pays",
        "since_policy": "首次达到 means the first time since the policy took effect: history before "
        "the first performance year is forgotten",
    },
    "base_increment": {
        "split": "R&D up to last year's level is the base (10%), the rise above it the increment (12%)",
        "whole_plus_rise": "the whole R&D amount at the base rate plus the rise at the increment rate",
    },
    "stacking": {
        "highest": "就高不重复: for one firm, one matter and one year only the highest award is paid",
        "cumulative": "awards for the same matter from different documents are all paid (upper bound)",
    },
    "signed_year": {
        "counts": "the performance year in which the document was signed is in force",
        "excluded": "the first performance year in force is the year after the document was signed",
    },
    "cap_period": {
        "per_year": "a cap with no stated period (单个企业最高限额) applies per firm and year",
        "per_window": "a cap with no stated period applies per firm over the document's whole window",
    },
    "designations": {
        "highest": "a clause listing several designations pays a firm only the highest it holds",
        "each": "a clause listing several designations pays each designation the firm holds",
    },
}


READING_MEANINGS_ZH: dict[str, dict[str, str]] = {
    "tier_jump": {
        "every_tier": "一年内跨越多档的，所跨各档分别给予奖励（分别给予）",
        "highest_only": "一年内跨越多档的，只按所跨最高一档给予奖励",
        "top_up": "一年内跨越多档的，按所跨最高一档奖励扣除该条款此前已付金额后补足",
    },
    "first_reach": {
        "ever": "首次达到指企业历史上第一次达到：以前达到过的档次（即使多年前）不再奖励",
        "since_policy": "首次达到指政策施行以来第一次达到：首个考核年度之前的经营历史不计",
    },
    "base_increment": {
        "split": "不超过上年水平的研发投入为基础部分（10%），超过部分为增量部分（12%）",
        "whole_plus_rise": "全部研发投入按基础比例，另加增长部分按增量比例",
    },
    "stacking": {
        "highest": "就高不重复：同一企业、同一事项、同一年度只按最高一项奖励",
        "cumulative": "不同文件对同一事项的奖励全部兑现（上限估计）",
    },
    "signed_year": {
        "counts": "文件签发当年的考核年度适用",
        "excluded": "文件签发次年起为首个适用的考核年度",
    },
    "cap_period": {
        "per_year": "未写明期限的封顶（单个企业最高限额）按每家企业每年计",
        "per_window": "未写明期限的封顶按每家企业在文件整个有效期内累计计",
    },
    "designations": {
        "highest": "条款列举多种认定的，同一单位只按其持有的最高一种奖励",
        "each": "条款列举多种认定的，同一单位持有的每种认定分别奖励",
    },
}


# Each reading's short Chinese name (the reports' and the workbook's).
READING_NAMES_ZH: dict[str, str] = {
    "tier_jump": "一年跨越多档",
    "first_reach": "“首次达到”",
    "base_increment": "研发补助的基础与增量",
    "stacking": "就高不重复的范围",
    "signed_year": "签发当年是否适用",
    "cap_period": "封顶的期限",
    "designations": "多项认定",
}

# Each choice's short Chinese name, shown beside its id in a Chinese report.
READING_VALUES_ZH: dict[str, dict[str, str]] = {
    "tier_jump": {"every_tier": "逐档奖励", "highest_only": "只奖最高档", "top_up": "补足差额"},
    "first_reach": {"ever": "历史首次", "since_policy": "政策施行以来首次"},
    "base_increment": {"split": "基础与增量分计", "whole_plus_rise": "全额加增量"},
    "stacking": {"highest": "就高不重复", "cumulative": "累加"},
    "signed_year": {"counts": "签发当年适用", "excluded": "签发次年起适用"},
    "cap_period": {"per_year": "按年封顶", "per_window": "按有效期封顶"},
    "designations": {"highest": "只奖最高认定", "each": "逐项奖励"},
}


def applies(key: str, policy: PolicyFile) -> bool:
    """Whether a reading can change anything in this document."""
    if key in DOCUMENT_READINGS:
        return key in policy.contested
    if key in RULE_READINGS:
        return any(key in rule.contested for rule in policy.rules)
    return True


def parse_overrides(pairs: list[str], source: str) -> dict[str, str]:
    """Turn `key=value` strings from the command line or a scenario into checked overrides."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        check_reading(key, value, source)
        overrides[key] = value
    return overrides


def check_reading(key: str, value: str, source: str) -> None:
    if key not in READING_CHOICES:
        raise InputError(
            source, f"reading '{key}'", f"unknown reading; choose from {sorted(READING_CHOICES)}"
        )
    if value not in READING_CHOICES[key]:
        raise InputError(
            source, f"reading {key}", f"'{value}' is not one of {list(READING_CHOICES[key])}"
        )


def resolve(defaults: ReadingDefaults, overrides: Mapping[str, str]) -> ReadingDefaults:
    """A policy's readings with the overrides applied."""
    if not overrides:
        return defaults
    return defaults.model_copy(update=dict(overrides))


def describe(
    policies: list[PolicyFile], overrides: Mapping[str, str]
) -> dict[str, dict[str, object]]:
    """The readings in force per policy, with what each one means, for summaries and reports."""
    described: dict[str, dict[str, object]] = {}
    for policy in policies:
        readings = resolve(policy.readings, overrides)
        entry: dict[str, object] = {}
        for key in READING_CHOICES:
            if not applies(key, policy):
                continue
            value = getattr(readings, key)
            entry[key] = {
                "value": value,
                "meaning": READING_MEANINGS[key][value],
                "meaning_zh": READING_MEANINGS_ZH[key][value],
                "source": "override" if key in overrides else "policy file default",
                "why_default": policy.readings.why.get(key, ""),
                "why_default_zh": policy.readings.why_zh.get(key, ""),
            }
        described[policy.policy_id] = entry
    return described
