"""Write zh and en reports for each example folder and save small PNGs of their first pages.

Usage: python reports/examples/screenshots.py OUTPUTS_DIR EXAMPLES_DIR (see `make examples`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from fiscalsim.reports.render import write_report


def first_page_png(pdf: Path, target: Path, page: int = 1) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        stem = Path(scratch) / "page"
        subprocess.run(
            ["pdftoppm", "-png", "-f", str(page), "-l", str(page), "-scale-to", "1100", pdf, stem],
            check=True,
        )
        image = Image.open(next(Path(scratch).glob("page*.png"))).convert("RGB")
    image.thumbnail((900, 900))
    image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main(outputs: Path, examples: Path) -> None:
    for kind in ("run", "compare", "sweep", "target"):
        for lang in ("zh", "en"):
            _html, pdf = write_report(outputs / kind, lang)  # type: ignore[arg-type]
            first_page_png(pdf, examples / f"{kind}-{lang}.png")
            if kind == "run" and lang == "zh":
                first_page_png(pdf, examples / "run-fan-zh.png", page=3)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
