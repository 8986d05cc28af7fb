"""Charts for the report, as PNG data URIs: fan charts in small multiples, curves with bands.

Each paying budget gets its own panel and its own y-axis (a province's 6,000 万元 a year must not
flatten a county's 20 万元), at most 12 panels to a figure so a figure fits one PDF page.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from fiscalsim.reports.charts import cjk_font

PANELS_PER_FIGURE = 12
COLUMNS = 4
COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d68910", "#17a2b8")


@dataclass
class Series:
    """One line with its bands: the median (or mean) and the P5–P95 / P25–P75 intervals."""

    label: str
    x: Sequence[float]
    mid: Sequence[float]
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None
    inner_low: Sequence[float] | None = None
    inner_high: Sequence[float] | None = None
    mean: Sequence[float] | None = None


@dataclass
class Panel:
    title: str
    series: list[Series]
    hline: float | None = None
    vline: float | None = None


def to_data_uri(figure: Figure, dpi: int = 110) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _thousands(value: float, _position: int) -> str:
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"


def _draw(axes: Axes, panel: Panel, colour_index: int, labels: dict[str, str]) -> None:
    for i, series in enumerate(panel.series):
        colour = COLOURS[(colour_index + i) % len(COLOURS)]
        if series.low is not None and series.high is not None:
            axes.fill_between(
                series.x, series.low, series.high, color=colour, alpha=0.18, linewidth=0,
                label=labels["outer"] if i == 0 else None,
            )  # fmt: skip
        if series.inner_low is not None and series.inner_high is not None:
            axes.fill_between(
                series.x, series.inner_low, series.inner_high, color=colour, alpha=0.35,
                linewidth=0, label=labels["inner"] if i == 0 else None,
            )  # fmt: skip
        axes.plot(series.x, series.mid, color=colour, linewidth=1.6, label=series.label)
        if series.mean is not None:
            axes.plot(
                series.x, series.mean, color=colour, linestyle="none", marker="o", markersize=2.5,
                label=labels["mean"] if i == 0 else None,
            )  # fmt: skip
    if panel.hline is not None:
        axes.axhline(panel.hline, color="#555555", linestyle="--", linewidth=1)
    if panel.vline is not None:
        axes.axvline(panel.vline, color="#555555", linestyle=":", linewidth=1)
    axes.set_title(panel.title, fontsize=9)
    axes.yaxis.set_major_formatter(FuncFormatter(_thousands))
    axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    axes.tick_params(labelsize=7)
    axes.set_ylim(bottom=min(0.0, axes.get_ylim()[0]))
    axes.grid(alpha=0.25)


def grid(
    panels: Sequence[Panel],
    heading: str,
    unit: str,
    labels: dict[str, str],
    columns: int = COLUMNS,
    integer_x: bool = True,
    panel_size: tuple[float, float] = (2.9, 2.15),
    ticks: Sequence[float] | None = None,
) -> list[str]:
    """Small multiples, each with its own y-axis; one data URI per figure of <= 12 panels."""
    figures = make_figures(panels, heading, unit, labels, columns, integer_x, panel_size, ticks)
    return [to_data_uri(figure) for figure in figures]


def make_figures(
    panels: Sequence[Panel],
    heading: str,
    unit: str,
    labels: dict[str, str],
    columns: int = COLUMNS,
    integer_x: bool = True,
    panel_size: tuple[float, float] = (2.9, 2.15),
    ticks: Sequence[float] | None = None,
) -> list[Figure]:
    """The figures of `grid`, for a notebook to show inline; `ticks` marks the x values given
    (a sweep's grid), not values a locator picks between them."""
    cjk_font()
    figures = []
    chunks = [panels[i : i + PANELS_PER_FIGURE] for i in range(0, len(panels), PANELS_PER_FIGURE)]
    for number, chunk in enumerate(chunks, start=1):
        ncols = min(columns, len(chunk))
        nrows = math.ceil(len(chunk) / ncols)
        figure, axes_grid = plt.subplots(
            nrows,
            ncols,
            figsize=(panel_size[0] * ncols + 0.6, panel_size[1] * nrows + 0.7),
            squeeze=False,
        )
        flat = list(np.ravel(axes_grid))
        for axes, panel in zip(flat, chunk, strict=False):
            _draw(axes, panel, 0, labels)
            if ticks is not None:
                axes.set_xticks(list(ticks))
                axes.tick_params(axis="x", labelrotation=45 if len(ticks) > 5 else 0)
            elif not integer_x:
                axes.xaxis.set_major_locator(MaxNLocator(nbins=5))
        for axes in flat[len(chunk) :]:
            axes.set_visible(False)
        suffix = f"（{number}/{len(chunks)}）" if len(chunks) > 1 else ""
        figure.suptitle(f"{heading}{suffix}　{unit}", fontsize=11)
        handles, names = flat[0].get_legend_handles_labels()
        if handles:
            figure.legend(
                handles, names, loc="lower center", ncol=min(len(handles), 6), fontsize=8,
                frameon=False, bbox_to_anchor=(0.5, -0.01),
            )  # fmt: skip
        figure.tight_layout(rect=(0, 0.05, 1, 0.97))
        figures.append(figure)
    return figures
