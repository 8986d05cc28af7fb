"""Small helpers shared by the tests: write a panel, run the calculator, run the CLI."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from fiscalsim.calculator import CalculatorResult, calculate
from fiscalsim.paths import POLICIES_DIR, REPO_DIR


def write_panel(path: Path, rows: Sequence[Mapping[str, object]]) -> Path:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    return path


def awards_for(
    tmp_path: Path,
    rows: Sequence[Mapping[str, object]],
    readings: Mapping[str, str] | None = None,
    policies: Sequence[Path] | None = None,
) -> CalculatorResult:
    panel = write_panel(tmp_path / "panel.csv", rows)
    return calculate(panel, list(policies or [POLICIES_DIR]), readings)


def firm_year(
    firm_id: str, location: str, year: int, industry_class: str, revenue_wan: float, **facts: object
) -> dict[str, object]:
    return {
        "firm_id": firm_id,
        "location": location,
        "year": year,
        "industry_class": industry_class,
        "revenue_wan": revenue_wan,
        **facts,
    }


def paid(
    ledger: pd.DataFrame, clause_id: str | None = None, firm_id: str | None = None
) -> pd.DataFrame:
    selected = ledger
    if clause_id is not None:
        selected = selected[selected["clause_id"] == clause_id]
    if firm_id is not None:
        selected = selected[selected["firm_id"] == firm_id]
    return selected


def run_cli(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fiscalsim", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO_DIR,
        check=False,
        env={**os.environ, **env} if env else None,
    )


def report_html(folder: Path, lang: str = "zh", jurisdiction: str | None = None) -> str:
    """A report's HTML as `fiscalsim report` writes it, without the PDF (which WeasyPrint takes
    seconds to lay out): for the tests that read the report's content."""
    from fiscalsim.reports.folder import load_folder
    from fiscalsim.reports.render import context, render_html

    return render_html(context(load_folder(folder), lang, jurisdiction))  # type: ignore[arg-type]
