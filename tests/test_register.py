"""Every money clause of the register is encoded (or listed as not costed) with a true quote."""

from __future__ import annotations

import re

import pytest

from fiscalsim.jurisdictions import load_registry
from fiscalsim.paths import DOCUMENTS_DIR, POLICIES_DIR
from fiscalsim.rules.loader import load_policies

REGISTER = DOCUMENTS_DIR / "clauses.md"
SEEDS = DOCUMENTS_DIR


def register_ids() -> list[str]:
    """Rule ids in the first column of the register's tables, ranges expanded."""
    ids: list[str] = []
    for line in REGISTER.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*([A-Z]{2,3})-(\d+)([a-z]?)(?:[–-](\d+))?\s*\|", line)
        if not match:
            continue
        prefix, first, letter, last = match.groups()
        if last:
            ids.extend(f"{prefix}-{n}" for n in range(int(first), int(last) + 1))
        else:
            ids.append(f"{prefix}-{first}{letter}")
    return ids


@pytest.fixture(scope="module")
def policies():  # type: ignore[no-untyped-def]
    return load_policies([POLICIES_DIR], load_registry())


def test_register_is_parsed() -> None:
    ids = register_ids()
    assert len(ids) > 80
    assert {"GZ-2c", "XW-4", "RJ-8", "SZ-4b", "SZ-19", "SZ-21", "SYS-15"} <= set(ids)


def test_every_register_id_is_encoded(policies) -> None:  # type: ignore[no-untyped-def]
    encoded = {rule.id for policy in policies for rule in policy.rules}
    missing = []
    for clause_id in register_ids():
        # A register id may be split into lettered items (RJ-3 -> RJ-3a ... RJ-3e).
        if clause_id in encoded or any(re.fullmatch(rf"{clause_id}[a-z]", e) for e in encoded):
            continue
        missing.append(clause_id)
    assert missing == []


def _normalise(text: str) -> str:
    text = re.sub(r"\s+", "", text)
    for wide, narrow in (("，", ","), ("（", "("), ("）", ")"), ("：", ":"), ("；", ";")):
        text = text.replace(wide, narrow)
    return text


def test_every_quote_is_in_its_document(policies) -> None:  # type: ignore[no-untyped-def]
    """A quote may skip text with ……, but each piece must appear verbatim in the source."""
    wrong = []
    for policy in policies:
        source = _normalise((SEEDS / policy.document.source_file).read_text(encoding="utf-8"))
        for rule in policy.rules:
            for piece in rule.quote.split("……"):
                if _normalise(piece) not in source:
                    wrong.append(f"{rule.id}: {piece[:40]}")
    assert wrong == []


def test_every_costed_rule_cites_a_document(policies) -> None:  # type: ignore[no-untyped-def]
    for policy in policies:
        assert (SEEDS / policy.document.source_file).exists()
        for rule in policy.rules:
            assert rule.clause and rule.quote
            if rule.costed:
                assert rule.payers is not None and rule.years is not None and rule.matter
