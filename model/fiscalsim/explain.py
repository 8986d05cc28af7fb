"""Explanations of awards in plain Chinese: the clause, its quote, the arithmetic, the rivals.

Built only from what the engine returned (its amounts and their basis), never by recomputing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fiscalsim.engine.amounts import AmountResult
from fiscalsim.engine.evaluate import DROP_REASONS, YearAwards
from fiscalsim.facts import describe_fact
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.rules.book import CompiledRule, RuleBook
from fiscalsim.rules.readings import READING_MEANINGS
from fiscalsim.rules.schema import (
    BandedQuantity,
    BaseAndIncrement,
    Flat,
    PerPerson,
    Rate,
    ShareOfHigherAward,
    TieredFirstReach,
)

REASON_ZH = {
    "stacked": "就高不重复：同一事项只享受最高一项",
    "quota": "超出本条款年度名额",
    "already_paid": "本条款对该主体只兑现一次（或次数已满）",
}
# 就高不重复 between equal amounts: the winner decides who pays, so say how it was chosen.
TIE_ZH = "就高不重复：金额相同，写明承担财政的文件优先于承担方为假设的文件，其次上级文件优先"
DIGITS = 6  # amounts rounded to 1e-6 万元, as in summary.json (33.599999999999994 is 33.6)


def _fact_label(name: str) -> str:
    fact = describe_fact(name)
    return fact.meaning_zh if fact else name


def _money(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def computation_zh(compiled: CompiledRule, basis: AmountResult, i: int) -> str:
    """One line of arithmetic for award i of the basis arrays."""
    amount = compiled.rule.amount
    paid = float(basis.amount_wan[i])
    if isinstance(amount, TieredFirstReach):
        before, now = int(basis.tier_from[i]), int(basis.tier_to[i])
        crossed = "、".join(f"{_money(t)}万元" for t in compiled.thresholds_wan[before:now])
        reading = compiled.readings.tier_jump
        return (
            f"{_fact_label(amount.fact)} {_money(float(basis.base[i]))} 万元，首次达到 {crossed} 档"
            f"（跳档读法 {reading}）：{_money(paid)} 万元"
        )
    variant = int(basis.variant[i])
    label = ""
    if variant >= 0:
        label = f"[{amount.variants[variant].label}] "  # type: ignore[union-attr]
    if isinstance(amount, Flat):  # 一次性 only where the award is once per firm
        kind = "一次性" if compiled.rule.once_per_firm else "定额"
        return f"{label}{kind} {_money(paid)} 万元"
    uncapped = float(basis.uncapped_wan[i])
    capped = f"，封顶 {_money(paid)} 万元" if paid < uncapped - 1e-9 else ""
    if isinstance(amount, Rate):
        return (
            f"{label}{_fact_label(amount.base)} {_money(float(basis.base[i]))} 万元 × "
            f"{float(basis.factor[i]):.0%} = {_money(uncapped)} 万元{capped}"
        )
    if isinstance(amount, ShareOfHigherAward):
        assumed = "（上级奖励金额未提供，按政策文件假设值）" if basis.base_assumed[i] else ""
        return (
            f"{label}上级奖励 {_money(float(basis.base[i]))} 万元{assumed} × "
            f"{float(basis.factor[i]):.0%} = {_money(uncapped)} 万元{capped}"
        )
    if isinstance(amount, PerPerson):
        return (
            f"{_money(float(basis.base[i]))} 人 × {_money(amount.amount_wan_per_person)} 万元/人 = "
            f"{_money(uncapped)} 万元{capped}"
        )
    if isinstance(amount, BaseAndIncrement):
        last_year = (
            "上年数据缺失，全部按基础部分"
            if basis.base_assumed[i]
            else f"上年 {_money(float(basis.factor[i]))} 万元"
        )
        return (
            f"{_fact_label(amount.fact)} {_money(float(basis.base[i]))} 万元，{last_year}；"
            f"基础 {amount.base_rate:.0%}、增量 "
            f"{amount.increment_rate:.0%}（读法 {compiled.readings.base_increment}）= {_money(uncapped)} 万元{capped}"
        )
    if isinstance(amount, BandedQuantity):
        return (
            f"{_fact_label(amount.quantity)} {_money(float(basis.base[i]))}，单价 "
            f"{_money(float(basis.factor[i]))} 万元，分段补贴 = {_money(uncapped)} 万元{capped}"
        )
    return f"{_money(paid)} 万元"


def tie_zh(book: RuleBook, winner: CompiledRule, rival_id: str) -> str:
    """Which step of the 就高不重复 tie-break decided (it gave the whole rule, not the step)."""
    rival = next(c for c in book.rules if c.id == rival_id)
    named = book.payers_named_table
    if named[winner.index] != named[rival.index]:
        step = f"{winner.id}的条文写明承担财政，{rival.id}的承担方为假设"
    elif winner.policy.policy_id != rival.policy.policy_id and _level(book, winner) != _level(
        book, rival
    ):
        both = "均写明承担财政" if named[winner.index] else "承担方均为假设"
        step = f"两条款{both}，{winner.id}所在文件级别较高"
    else:
        step = f"两条款承担方写法相同、文件同级，按规则顺序由{winner.id}支付"
    return f"{TIE_ZH}。本例：{step}"


def _level(book: RuleBook, compiled: CompiledRule) -> int:
    return LEVELS.index(book.registry[compiled.policy.jurisdiction].level)


def explanations(
    book: RuleBook,
    year_awards: Sequence[YearAwards],
    row_firm: Sequence[np.ndarray],
    firm_ids: Sequence[str],
) -> list[dict[str, object]]:
    """One record per granted award, with the candidates stacking or quotas dropped."""
    names = [j.id for j in book.registry.items]
    records: list[dict[str, object]] = []
    for awards, firms in zip(year_awards, row_firm, strict=True):
        rivals: dict[int, list[dict[str, object]]] = {}
        for k in range(awards.dropped_row.size):
            firm = int(firms[awards.dropped_row[k]])
            rival = book.rules[int(awards.dropped_rule[k])]
            reason = DROP_REASONS[int(awards.dropped_reason[k])]
            rivals.setdefault(firm, []).append(
                {
                    "clause_id": rival.id,
                    "document": rival.policy.document.number or rival.policy.document.title_zh,
                    "amount_wan": round(float(awards.dropped_amount_wan[k]), DIGITS),
                    "reason": reason,
                    "why_zh": REASON_ZH[reason],
                    "paid_instead": book.rules[int(awards.dropped_winner[k])].id
                    if awards.dropped_winner[k] >= 0
                    else None,
                }
            )
        for i in range(awards.n):
            compiled = book.rules[int(awards.rule[i])]
            rule = compiled.rule
            firm = int(firms[awards.row[i]])
            payers = {
                names[int(awards.payer[i, j])]: round(float(awards.payer_wan[i, j]), DIGITS)
                for j in range(len(LEVELS))
                if awards.payer[i, j] >= 0
            }
            amount = round(float(awards.amount_wan[i]), DIGITS)
            competing = [
                {**r, "why_zh": tie_zh(book, compiled, str(r["clause_id"]))}
                if r["amount_wan"] == amount
                else r
                for r in rivals.get(firm, [])
                if r["reason"] != "stacked" or r["paid_instead"] == compiled.id
            ]
            records.append(
                {
                    "firm_id": firm_ids[firm],
                    "clause_id": rule.id,
                    "performance_year": awards.year,
                    "payment_year": int(awards.payment_year[i]),
                    "amount_wan": amount,
                    "payers_wan": payers,
                    "document": compiled.policy.document.number
                    or compiled.policy.document.title_zh,
                    "clause": rule.clause,
                    "title_zh": rule.title_zh,
                    "quote_zh": rule.quote,
                    "computation_zh": computation_zh(compiled, awards.basis, i),
                    "readings": _readings_used(compiled),
                    "assumptions": list(rule.assumption_notes),
                    "assumptions_zh": list(rule.assumption_notes_zh),
                    "competing": [r for r in competing if r["reason"] == "stacked"],
                }
            )
    return records


def _readings_used(compiled: CompiledRule) -> dict[str, str]:
    amount = compiled.rule.amount
    used: dict[str, str] = {"stacking": compiled.readings.stacking}
    if isinstance(amount, TieredFirstReach):
        used["tier_jump"] = compiled.readings.tier_jump
        used["first_reach"] = compiled.readings.first_reach
    if isinstance(amount, BaseAndIncrement):
        used["base_increment"] = compiled.readings.base_increment
    return {key: f"{value}: {READING_MEANINGS[key][value]}" for key, value in used.items()}
