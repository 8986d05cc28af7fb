"""The report's calibration section: calibration.csv, one row per published figure, readable.

Its own module since the table changed shape (long, one row per figure) and the section went on
reading the old one's columns: every value showed as "—" (tests/test_report_render.py).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from fiscalsim.population.calibration_report import tolerance_zh
from fiscalsim.reports.labels import (
    UNITS,
    Lang,
    Names,
    amount_unit,
    confidence,
    fmt_amount,
    fmt_count,
)


def calibration_rows(
    calibration: pd.DataFrame | None, names: Names, texts: dict[str, str]
) -> list[dict[str, str]]:
    """One row per published figure of calibration.csv: what it is, the target, the synthesized
    start population (mean, P5–P95 over replicates), the error, the tolerance and the verdict.
    Revenues are in 亿元 when the largest reaches 10 亿, as every other table."""
    if calibration is None:
        return []
    money_rows = calibration[calibration["metric"].astype(str).str.endswith("_wan")]
    largest = [_number(money_rows[c].max()) for c in ("target", "synthesized_p95")]
    divisor, unit = amount_unit([v for v in largest if v is not None], names.lang)
    rows = []
    for r in calibration.to_dict("records"):
        metric = str(r.get("metric", ""))
        money = metric.endswith("_wan")

        def show(key: str, row: dict[Any, Any] = r, money: bool = money) -> str:
            value = _number(row.get(key))
            return fmt_amount(value, divisor) if money else fmt_count(value)

        places = str(r.get("places") or "")
        where = names.place(r.get("city"))
        if places and places != "nan":
            where += f" {'、'.join(names.place(p) for p in places.split('+'))}"
        error = _number(r.get("error_share"))
        label = texts.get(f"metric_{metric}", metric)
        rows.append(
            {
                "use": texts.get(f"calibration_{r.get('block')}", str(r.get("block", ""))),
                "where": where,
                "industry": str(r.get("industry_class", "")),
                "metric": label.replace(UNITS[names.lang][0], unit) if money else label,
                "target": show("target"),
                "synthesized": show("synthesized_mean"),
                "band": f"{show('synthesized_p5')}–{show('synthesized_p95')}",
                "error": "—" if error is None else f"{100 * error:+.1f}%".replace("-", "−"),
                "tolerance": _tolerance(str(r.get("tolerance", "")), names.lang),
                "pass": texts["yes"] if str(r.get("pass")) == "True" else texts["no"],
                "confidence": str(r.get("confidence") or confidence(str(r.get("source", "")))),
                "source": str(r.get("source", "")),
            }
        )
    return rows


def _tolerance(text: str, lang: Lang) -> str:
    """calibration.csv's tolerance in the report's language."""
    return tolerance_zh(text) if lang == "zh" else text


def _number(value: object) -> float | None:
    """A table cell as a float; None where it is empty or not a number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number else None
