"""Charts with Chinese text that renders: the Noto Sans CJK SC font shipped by mplfonts."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

# No screen on a server or in CI; but a notebook's inline backend (MPLBACKEND) is kept, or its
# chart cells would show nothing.
if not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

LEVEL_ZH = {"province": "省级", "city": "市级", "county": "县（区）级"}


def cjk_font() -> str:
    """Register the bundled Noto Sans CJK SC font and return its family name."""
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams["font.family"] = [name, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    return name


def spending_chart(spending: pd.DataFrame, basis: str = "cash", top: int = 8) -> Figure:
    """Mean spending per paying budget and year with its P5–P95 band, in 万元."""
    cjk_font()
    rows = spending[spending["basis"] == basis]
    totals = rows.groupby(["jurisdiction", "payer_level"])["mean_wan"].sum().nlargest(top)
    figure, axes = plt.subplots(figsize=(9, 5))
    for key in totals.index:
        name, level = str(key[0]), str(key[1])
        series = rows[(rows["jurisdiction"] == name) & (rows["payer_level"] == level)].sort_values(
            "year"
        )
        label = f"{name}（{LEVEL_ZH.get(level, level)}）"
        axes.plot(series["year"], series["mean_wan"], marker="o", label=label)
        axes.fill_between(series["year"], series["p05_wan"], series["p95_wan"], alpha=0.15)
    basis_zh = "兑付年度（现金口径）" if basis == "cash" else "考核年度（责任口径）"
    axes.set_title(f"各级财政奖补支出预测：{basis_zh}，均值与5%–95%区间")
    axes.set_xlabel("年度")
    axes.set_ylabel("支出（万元）")
    axes.legend(fontsize=8)
    figure.tight_layout()
    return figure
