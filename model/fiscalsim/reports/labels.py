"""Words and numbers as a reader sees them: jurisdiction and clause names, 万元 / 亿元, zh or en.

Names come from the data files (data/jurisdictions.yaml, the policy files), never from ids, so a
Chinese report shows 寻乌县, not `xunwu`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from fiscalsim.jurisdictions import Registry, load_registry
from fiscalsim.paths import POLICIES_DIR

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

LEVELS_TEXT = {
    "zh": {"province": "省级", "city": "市级", "county": "县（区）级"},
    "en": {"province": "provincial", "city": "city", "county": "county"},
}
BASIS_TEXT = {
    "zh": {"cash": "现金口径（兑付年度）", "obligation": "责任口径（考核年度）"},
    "en": {"cash": "cash (payment year)", "obligation": "obligation (performance year)"},
}
# Amounts from this size on are shown in 亿元 (1 亿元 = 10,000 万元).
YI_FROM_WAN = 100_000.0
UNITS = {"zh": ("万元", "亿元"), "en": ("10k yuan", "100m yuan")}


@dataclass(frozen=True)
class Clause:
    """A clause as a reader names it: title, document number, issuing jurisdiction."""

    clause_id: str
    title_zh: str
    title_en: str
    document_number: str
    document_title_zh: str
    jurisdiction: str


def _load_clauses(
    registry: Registry, folders: list[Path], given: Sequence[Any] = ()
) -> tuple[dict[str, Clause], dict[str, tuple[str, str]]]:
    """Clauses by id, and (issuing jurisdiction, document number) by policy id: from the
    policy files `given` (a run's own, which win), then those found in `folders`."""
    from fiscalsim.rules.loader import load_policy_file, policy_paths

    def loaded() -> Iterator[Any]:
        yield from given
        for folder in folders:
            if not folder.exists():
                continue
            for path in policy_paths([folder]):
                try:
                    yield load_policy_file(path, registry)
                except Exception:  # a report still renders if one policy file no longer loads
                    continue

    clauses: dict[str, Clause] = {}
    documents: dict[str, tuple[str, str]] = {}
    for policy in loaded():
        number = policy.document.number or ""
        documents.setdefault(policy.policy_id, (policy.jurisdiction, number))
        for rule in policy.rules:
            clauses.setdefault(
                rule.id,
                Clause(
                    rule.id,
                    rule.title_zh or rule.id,
                    rule.title_en or rule.title_zh or rule.id,
                    number,
                    policy.document.title_zh or "",
                    policy.jurisdiction,
                ),
            )
    return clauses, documents


@dataclass
class Names:
    """Names in one language, for jurisdictions, payer levels, bases and clauses."""

    lang: Lang
    registry: Registry = field(default_factory=load_registry)
    policy_folders: list[Path] = field(default_factory=lambda: [POLICIES_DIR])
    policies: Sequence[Any] = ()  # a run's own policy files, named before the folders' ones
    _catalogue: tuple[dict[str, Clause], dict[str, tuple[str, str]]] | None = None

    def place(self, jurisdiction_id: object) -> str:
        key = str(jurisdiction_id)
        if key not in self.registry:
            return key
        item = self.registry[key]
        return item.name_zh if self.lang == "zh" else item.name_en

    def level(self, level: object) -> str:
        return LEVELS_TEXT[self.lang].get(str(level), str(level))

    def budget(self, jurisdiction_id: object, level: object) -> str:
        """A paying budget: 赣州市（市级） / Ganzhou City (city)."""
        if self.lang == "zh":
            return f"{self.place(jurisdiction_id)}（{self.level(level)}）"
        return f"{self.place(jurisdiction_id)} ({self.level(level)})"

    def document_of(self, clause_id: object) -> str:
        """The clause's document number, or, for a document issued without one (Rongjiang's,
        Shuangyashan's), its issuer and that it has none: a blank cell left RJ-2c and GZ-2c,
        whose titles are the same, indistinguishable."""
        found = self.clause(clause_id)
        if found is None:
            return ""
        if found.document_number:
            return found.document_number
        issuer = self.place(found.jurisdiction)
        return f"{issuer}文件（无文号）" if self.lang == "zh" else f"{issuer} (no number)"

    def basis(self, basis: object) -> str:
        return BASIS_TEXT[self.lang].get(str(basis), str(basis))

    def _load(self) -> tuple[dict[str, Clause], dict[str, tuple[str, str]]]:
        if self._catalogue is None:
            self._catalogue = _load_clauses(self.registry, self.policy_folders, self.policies)
        return self._catalogue

    def clause(self, clause_id: object) -> Clause | None:
        return self._load()[0].get(str(clause_id))

    def document(self, policy_id: object) -> str:
        """A policy document as readers name it: 赣州市 赣市发〔2022〕5号 (the id if unknown)."""
        found = self._load()[1].get(str(policy_id))
        if found is None:
            return str(policy_id)
        place, number = found
        return f"{self.place(place)} {number}".strip()

    def issuer(self, policy_id: object) -> str | None:
        """The jurisdiction that issued a policy document (None if unknown)."""
        found = self._load()[1].get(str(policy_id))
        return found[0] if found else None

    def clause_title(self, clause_id: object) -> str:
        found = self.clause(clause_id)
        if found is None:
            return str(clause_id)
        return found.title_zh if self.lang == "zh" else found.title_en


def in_language(item: Mapping[str, Any], key: str, lang: Lang) -> str:
    """item[key + "_zh"] in a Chinese report where it is given, else item[key]."""
    translated = item.get(f"{key}_zh") if lang == "zh" else None
    return str(translated or item.get(key) or "")


def amount_unit(values: list[float], lang: Lang) -> tuple[float, str]:
    """One unit for a whole table: 亿元 when its largest amount is 10 亿 or more, else 万元."""
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    big = bool(finite) and max(finite) >= YI_FROM_WAN
    wan, yi = UNITS[lang]
    return (10_000.0, yi) if big else (1.0, wan)


def fmt_amount(value: float | None, divisor: float = 1.0) -> str:
    """Rounded sensibly: whole numbers from 100 on, one decimal from 1, two below."""
    if value is None or not math.isfinite(value):
        return "—"
    shown = value / divisor
    size = abs(shown)
    if size == 0:
        return "0"
    if size >= 100:
        return f"{shown:,.0f}"
    if size >= 1:
        return f"{shown:,.1f}"
    return f"{shown:,.2f}"


def fmt_signed(value: float | None, divisor: float = 1.0) -> str:
    """A difference with its sign: +758, −35.0."""
    text = fmt_amount(value, divisor)
    if value is None or text in ("—", "0"):
        return text
    return f"+{text}" if value > 0 else text.replace("-", "−", 1)


def fmt_band(low: float | None, high: float | None, divisor: float = 1.0) -> str:
    return f"{fmt_amount(low, divisor)}–{fmt_amount(high, divisor)}"


def fmt_signed_band(low: float | None, high: float | None, divisor: float = 1.0) -> str:
    """A band of differences, each end with its sign as fmt_signed writes it: −130 to −9.5 is
    "−130 – −9.5", not "-130–-9.5"."""
    return f"{fmt_signed(low, divisor)} – {fmt_signed(high, divisor)}"


def fmt_count(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if abs(value) >= 10:
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 1 else f"{value:,.2f}"


_CONFIDENCE = re.compile(r"confidence\s+([HML])\b|[(,]\s*([HML])\s*\)|\b([HML])\)")


def confidence(text: str) -> str:
    """The H / M / L confidence a source string states (`estimate, M)`, `confidence L`), or —."""
    match = _CONFIDENCE.search(text or "")
    if not match:
        return "—"
    return next(g for g in match.groups() if g)
