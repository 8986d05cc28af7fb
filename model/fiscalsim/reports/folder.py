"""Read an output folder of `run`, `compare`, `sweep`, `target` or `butfor`: which it is, and its tables.

The kind is found from the files present (and summary.json's "kind" where written), so a report
never needs the simulation: it reads only what the commands wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from fiscalsim.errors import InputError

Kind = Literal["run", "compare", "sweep", "target", "butfor"]

# Files that identify each kind, and the tables a report reads (all optional but the first).
TABLES: dict[Kind, tuple[str, ...]] = {
    "run": (
        "spending.csv",
        "spending_by_clause.csv",
        "calibration.csv",
        "readings.csv",
        "cumulative.csv",
    ),
    "compare": ("differences.csv", "differences_by_clause.csv"),
    "sweep": ("sweep.csv",),
    "target": ("curve.csv",),
    "butfor": ("butfor.csv", "elasticities.csv", "sensitivity.csv"),
}
REQUIRED: dict[Kind, str] = {
    "run": "spending.csv",
    "compare": "differences.csv",
    "sweep": "sweep.csv",
    "target": "target.json",
    "butfor": "butfor.csv",
}
STRING_COLUMNS = {
    "jurisdiction": str,
    "payer": str,
    "document_jurisdiction": str,
    "industry_class": str,
    "clause_id": str,
    "scenario": str,
    "param": str,
    "param2": str,
    "year": str,
}


@dataclass
class Folder:
    """One output folder: its kind, summary.json and the tables present (by file stem)."""

    path: Path
    kind: Kind
    summary: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    target: dict[str, Any] | None = None

    def table(self, stem: str) -> pd.DataFrame | None:
        return self.tables.get(stem)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype=STRING_COLUMNS, keep_default_na=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, None, f"not a readable CSV: {str(exc).splitlines()[0]}") from None
    if "year" in frame.columns:
        # Years are integers; window totals are the string `total`.
        frame["year"] = frame["year"].map(lambda v: int(v) if str(v).lstrip("-").isdigit() else v)
    return frame


def _read_json(path: Path) -> dict[str, Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, None, f"not readable JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InputError(path, None, "expected a JSON object")
    return payload


def detect_kind(path: Path, summary: dict[str, Any]) -> Kind:
    declared = summary.get("kind")
    if declared in TABLES:
        return declared
    for kind, files in (
        ("target", ("target.json",)),
        ("butfor", ("butfor.csv",)),
        ("compare", ("differences.csv",)),
        ("sweep", ("sweep.csv",)),
        ("run", ("spending.csv",)),
    ):
        if all((path / name).exists() for name in files):
            return kind  # type: ignore[return-value]
    raise InputError(
        path,
        None,
        "not an output folder of fiscalsim run, compare, sweep, target or butfor "
        "(expected spending.csv, differences.csv, sweep.csv, target.json or butfor.csv)",
    )


def load_folder(path: Path) -> Folder:
    """Read the folder; a missing or malformed required file is one InputError."""
    if not path.is_dir():
        raise InputError(path, None, "no such folder")
    summary_path = path / "summary.json"
    summary = _read_json(summary_path) if summary_path.exists() else {}
    kind = detect_kind(path, summary)
    required = REQUIRED[kind]
    if not (path / required).exists():
        raise InputError(path / required, None, f"missing: a {kind} folder holds {required}")
    folder = Folder(path=path, kind=kind, summary=summary)
    for name in TABLES[kind]:
        if (path / name).exists():
            folder.tables[name.removesuffix(".csv")] = _read_csv(path / name)
    if kind == "target":
        folder.target = _read_json(path / "target.json")
    return folder
