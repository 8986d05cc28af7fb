"""All-or-nothing output: every file is written to a scratch folder first and moved in at the end.

A failure half-way leaves the output folder as it was, never half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from fiscalsim.errors import InputError

Writer = Callable[[Path], None]


def write_all(out_dir: Path, writers: Mapping[str, Writer]) -> list[Path]:
    """Run each writer into a scratch folder beside `out_dir`, then move every file in."""
    out_dir = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, None, "the output path exists and is not a folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        for name, writer in writers.items():
            writer(scratch / name)
        out_dir.mkdir(exist_ok=True)
        written = []
        for name in writers:
            os.replace(scratch / name, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def is_amount_column(name: object) -> bool:
    """Amounts in 万元 carry `_wan` in their name (`mean_wan`, `revenue_wan_p95`, `diff_p05_wan`)."""
    text = str(name)
    return text.endswith("_wan") or "_wan_" in text


def _significant(values: pd.Series, digits: int) -> pd.Series:
    """Round to `digits` significant digits (shares and counts are read, not summed)."""
    return values.map(lambda x: float(f"{x:.{digits}g}") if pd.notna(x) else x)


def human_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as people read it: amounts to 0.01 万元, other decimals to 6 significant digits."""
    rounded = frame.copy()
    for column in rounded.columns:
        if not pd.api.types.is_float_dtype(rounded[column]):
            continue
        if is_amount_column(column):
            rounded[column] = rounded[column].round(2) + 0.0  # + 0.0 turns -0.0 into 0.0
        else:
            rounded[column] = _significant(rounded[column], 6)
    return rounded


def csv_writer(frame: pd.DataFrame, exact: bool = False) -> Writer:
    """UTF-8 with a BOM (so Chinese Excel reads it), `\\n` line ends, rounded unless `exact`.

    `exact` keeps full precision for files a program reads back (a simulated panel).
    """

    def write(path: Path) -> None:
        table = frame if exact else human_table(frame)
        table.to_csv(
            path,
            index=False,
            float_format=None if exact else "%.15g",
            lineterminator="\n",
            encoding="utf-8-sig",
        )

    return write


def json_writer(payload: Mapping[str, Any]) -> Writer:
    def write(path: Path) -> None:
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    return write


def jsonl_writer(records: list[dict[str, Any]]) -> Writer:
    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    return write
