"""Chinese text renders: no glyph is missing from the chart font."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from fiscalsim.reports.charts import cjk_font, spending_chart


def test_cjk_font_is_noto_sans_cjk() -> None:
    assert "CJK" in cjk_font()


def test_spending_chart_renders_chinese_without_missing_glyphs(tmp_path: Path) -> None:
    spending = pd.DataFrame(
        {
            "jurisdiction": ["ganzhou", "ganzhou", "xunwu", "xunwu"],
            "payer_level": ["city", "city", "county", "county"],
            "year": [2023, 2024, 2023, 2024],
            "basis": "cash",
            "mean_wan": [10.0, 12.0, 5.0, 6.0],
            "p05_wan": [8.0, 9.0, 3.0, 4.0],
            "p95_wan": [12.0, 15.0, 7.0, 8.0],
        }
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        figure = spending_chart(spending)
        figure.savefig(tmp_path / "chart.png", dpi=60)
    assert (tmp_path / "chart.png").stat().st_size > 5000
    assert "财政" in figure.axes[0].get_title()
