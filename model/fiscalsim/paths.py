"""Where the repository's data lives, found from the package so the CLI works from any folder."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = Path(os.environ.get("FISCALSIM_HOME", _PACKAGE_DIR.parent.parent))
DATA_DIR = REPO_DIR / "data"
SCENARIOS_DIR = REPO_DIR / "scenarios"
POLICIES_DIR = SCENARIOS_DIR / "policies"
DOCUMENTS_DIR = DATA_DIR / "documents"  # the source texts and the clause register, with provenance


def portable(path: Path) -> str:
    """A path as a summary records it: relative to the repository, else the file name alone.

    The same inputs then give a byte-identical summary from any working folder; the sha256
    recorded beside it identifies the content.
    """
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(REPO_DIR.resolve()).as_posix()
    except ValueError:
        return resolved.name
