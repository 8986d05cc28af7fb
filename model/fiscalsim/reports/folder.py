"""Read an output folder of `run`, `compare`, `sweep`, `target` or `butfor`: which it is, and its tables.

The kind is found from the files present (and summary.json's "kind" where written), so a report
never needs the simulation: it reads only what the commands wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
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
# What a report reads in each table: the key columns, then the columns that must hold numbers
# (checked when the folder is read, so a damaged table is one line naming its row).
KEYS = ("jurisdiction", "payer_level", "year", "basis")
QUANTILES_WAN = ("mean_wan", "p05_wan", "p50_wan", "p95_wan")
DIFFERENCES_WAN = ("mean_wan", "diff_mean_wan", "diff_p05_wan", "diff_p95_wan")
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "spending.csv": (KEYS, QUANTILES_WAN),
    "spending_by_clause.csv": (("clause_id", "payer", *KEYS[1:]), QUANTILES_WAN),
    "readings.csv": (KEYS, ("mean_wan",)),
    "cumulative.csv": (("document", "jurisdiction"), ("mean_wan", "p05_wan", "p95_wan")),
    "differences.csv": (("scenario", *KEYS), DIFFERENCES_WAN),
    "differences_by_clause.csv": (("scenario", "clause_id", "payer", *KEYS[1:]), DIFFERENCES_WAN),
    "sweep.csv": (("param", "value", *KEYS), ("mean_wan",)),
    "curve.csv": (("param",), ("value", "cost_at_quantile_wan", "mean_wan")),
    "butfor.csv": (KEYS, ("spending_mean_wan",)),
    "calibration.csv": (
        ("block", "target_id", "city", "metric"),
        ("target", "synthesized_mean", "synthesized_p5", "synthesized_p95"),
    ),
}
WORDS = {
    "basis": ("obligation", "cash", "arrears"),
    "payer_level": ("province", "city", "county", "all"),  # all: butfor's sum over the levels
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
    _check_columns(path, frame)
    return frame


def _allowed(column: str, value: Any) -> bool:
    """A year is a year or `total`; a basis or budget level is one of fiscalsim's words."""
    if column == "year":
        return isinstance(value, int) or value == "total"
    return value in WORDS[column]


def _check_columns(path: Path, frame: pd.DataFrame) -> None:
    """The columns the report reads are there, numbers are numbers, years are years or
    `total`, and bases and budget levels are words fiscalsim writes."""
    keys, numbers = COLUMNS.get(path.name, ((), ()))
    missing = [c for c in (*keys, *numbers) if c not in frame.columns]
    if missing:
        raise InputError(
            path, None, f"no column {missing[0]!r}: not a table as fiscalsim writes it"
        )
    for column in numbers:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        bad = pd.to_numeric(values, errors="coerce").isna() & values.notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            problem = f"{values.iloc[row]!r} is not a number"
            raise InputError(path, f"line {row + 2}, {column}", problem)
    for column in ("year", *WORDS):
        if column in frame.columns:
            wrong = ~frame[column].map(partial(_allowed, column)).astype(bool)
            if wrong.any():
                row = int(wrong.to_numpy().argmax())
                value = frame[column].iloc[row]
                raise InputError(path, f"line {row + 2}, {column}", f"{value!r} is not allowed")


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
