"""The source documents ship in data/documents/ with their provenance, and are the ones cited."""

from __future__ import annotations

import hashlib
import re

from fiscalsim.jurisdictions import load_registry
from fiscalsim.paths import DOCUMENTS_DIR, POLICIES_DIR
from fiscalsim.rules.loader import load_policies


def provenance() -> dict[str, str]:
    """file name -> sha256, from the table in data/documents/README.md."""
    table: dict[str, str] = {}
    for line in (DOCUMENTS_DIR / "README.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| (\S+\.(?:txt|md)) \|.*\| ([0-9a-f]{64}) \|$", line)
        if match:
            table[match.group(1)] = match.group(2)
    return table


def test_every_shipped_document_matches_its_recorded_hash() -> None:
    table = provenance()
    assert len(table) == 6
    shipped = {p.name for p in DOCUMENTS_DIR.iterdir() if p.name != "README.md"}
    assert shipped == set(table)
    for name, digest in table.items():
        assert hashlib.sha256((DOCUMENTS_DIR / name).read_bytes()).hexdigest() == digest, name


def test_every_policy_file_cites_a_shipped_document() -> None:
    table = provenance()
    for policy in load_policies([POLICIES_DIR], load_registry()):
        assert policy.document.source_file in table
