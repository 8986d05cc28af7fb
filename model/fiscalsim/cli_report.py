"""`fiscalsim report DIR`: an HTML and a PDF report of a run, compare, sweep or target folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from fiscalsim.cli import app, console


@app.command()
def report(
    directory: Annotated[
        Path, typer.Argument(help="Output folder of run, compare, sweep or target.")
    ],
    lang: Annotated[
        Literal["zh", "en"],
        typer.Option("--lang", help="Language of the report (default Chinese)."),
    ] = "zh",
    jurisdiction: Annotated[
        str | None,
        typer.Option("--jurisdiction", help="One jurisdiction's own budget lines, e.g. xunwu."),
    ] = None,
) -> None:
    """Write DIR/report.html (self-contained) and DIR/report.pdf from the folder's tables."""
    from fiscalsim.reports.render import write_report

    html, pdf = write_report(directory, lang, jurisdiction)
    console.print(f"{html}\n{pdf}")
