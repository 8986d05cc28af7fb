"""`fiscalsim report DIR`: an HTML and a PDF report of a run, compare, sweep or target folder."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fiscalsim.cli import app, console


class Language(StrEnum):
    """Report languages (an Enum: typer's Literal support is newer than our lower bound)."""

    zh = "zh"
    en = "en"


@app.command()
def report(
    directory: Annotated[
        Path, typer.Argument(help="Output folder of run, compare, sweep, target or butfor.")
    ],
    lang: Annotated[
        Language, typer.Option("--lang", help="Language of the report (default Chinese).")
    ] = Language.zh,
    jurisdiction: Annotated[
        str | None,
        typer.Option("--jurisdiction", help="One jurisdiction's own budget lines, e.g. xunwu."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace report files fiscalsim did not write."),
    ] = False,
) -> None:
    """Write DIR/report.html (self-contained) and DIR/report.pdf from the folder's tables."""
    from fiscalsim.reports.labels import Lang
    from fiscalsim.reports.render import write_report

    language: Lang = "en" if lang is Language.en else "zh"
    if jurisdiction is not None:  # 寻乌县 or Xunwu as panels take them (it refused them)
        from fiscalsim.jurisdictions import load_registry

        jurisdiction = load_registry().resolve(jurisdiction) or jurisdiction
    html, pdf = write_report(directory, language, jurisdiction, force=force)
    console.print(f"{html}\n{pdf}")
