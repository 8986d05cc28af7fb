"""Tables for Excel: one sheet per table, Chinese headers, numbers stored as numbers.

A finance bureau opens the workbook, not the CSVs: headers and codes are translated, each
jurisdiction id gets its Chinese name beside it, amounts keep a `#,##0.00` format (万元, rounded to
0.01 as in the CSVs) and the header row stays frozen. Any stage can call `write_tables_xlsx`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from xlsxwriter import Workbook
from xlsxwriter.format import Format

from fiscalsim.excel_labels import (
    ABOUT_TEXTS_ZH,
    HEADERS_ZH,
    JURISDICTION_COLUMNS,
    KIND_ZH,
    METRICS_ZH,
    READING_VALUES,
    SHEET_COLUMNS,
    SHEET_VALUES_ZH,
    SHEETS_ZH,
    STATS_ZH,
    UNIT_LEVELS_ZH,
    VALUE_RULES,
    VALUES_ZH,
)
from fiscalsim.output import Writer, human_table, is_amount_column
from fiscalsim.rules.readings import READING_NAMES_ZH


@cache
def _registry_zh() -> tuple[dict[str, str], dict[str, str]]:
    """Each jurisdiction id's Chinese name, and its level."""
    from fiscalsim.jurisdictions import load_registry

    items = load_registry().items
    return {j.id: j.name_zh for j in items}, {j.id: j.level for j in items}


def header_zh(column: str) -> str:
    """The Chinese header of a column; unknown columns keep their name."""
    if column in HEADERS_ZH:
        return HEADERS_ZH[column]
    if column in JURISDICTION_COLUMNS:
        return f"{JURISDICTION_COLUMNS[column]}代码"
    if column in READING_NAMES_ZH:
        return f"解读：{READING_NAMES_ZH[column]}（{column}）"
    reading = column.removeprefix("swing_").removesuffix("_wan")
    if column.startswith("swing_") and reading in READING_NAMES_ZH:
        return f"{READING_NAMES_ZH[reading]}：最大影响幅度（现金口径，未计审核与拨款限额，各年合计，万元）"
    if column.endswith("_name") and column[:-5] in JURISDICTION_COLUMNS:
        return JURISDICTION_COLUMNS[column[:-5]]
    stem = column.removesuffix("_wan")
    metric, _, stat = stem.rpartition("_")
    if stat in STATS_ZH and metric in METRICS_ZH:
        unit = "（万元）" if column.endswith("_wan") or metric.endswith("_wan") else ""
        return METRICS_ZH[metric] + STATS_ZH[stat] + unit
    return column


def sheet_title(name: str) -> str:
    """A sheet title Excel accepts: translated if known, at most 31 characters, no []:*?/\\."""
    title = SHEETS_ZH.get(name, name)
    for bad in "[]:*?/\\":
        title = title.replace(bad, "_")
    return title[:31] or "Sheet"


def excel_frame(frame: pd.DataFrame, sheet: str = "") -> pd.DataFrame:
    """Rounded as in the CSVs, codes translated, each jurisdiction id followed by its name."""
    table = human_table(frame).rename(columns=SHEET_COLUMNS.get(sheet, {}))
    names_zh, levels = _registry_zh()
    names = {**names_zh, "all": "全部"}
    for column, mapping in {
        **VALUES_ZH,
        **READING_VALUES,
        **SHEET_VALUES_ZH.get(sheet, {}),
    }.items():
        if column in table.columns:
            table[column] = table[column].map(lambda v, m=mapping: m.get(str(v), v))
    for column, rule in VALUE_RULES.items():
        if column in table.columns:
            table[column] = table[column].map(lambda v, f=rule: v if pd.isna(v) else f(str(v)))
    if sheet == "population" and "jurisdiction" in table.columns:
        # a city's rows are the sum of its counties' rows: say which a row is
        table.insert(
            list(table.columns).index("jurisdiction") + 1,
            "unit_level",
            table["jurisdiction"].map(lambda v: UNIT_LEVELS_ZH.get(levels.get(str(v), ""), "")),
        )
    for column in [c for c in table.columns if c in JURISDICTION_COLUMNS]:
        position = list(table.columns).index(column) + 1
        labels = table[column].map(lambda v: names.get(str(v), "" if pd.isna(v) else str(v)))
        table.insert(position, f"{column}_name", labels)
    return table


def number_format(column: str, values: pd.Series) -> str | None:
    """Excel format by what the column holds: amounts, shares, years, counts, other decimals."""
    if is_amount_column(column):
        return "#,##0.00"
    if "share" in column:
        return "0.000%"
    if "probability" in column:
        return "0.0%"
    if "year" in column or column in ("replicate", "row"):
        return "0"
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    if pd.api.types.is_float_dtype(values):
        return "#,##0.0###"
    return None


def _cell(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalar -> Python number, stored as a number
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _cells(values: pd.Series) -> list[Any]:
    """The column's cells as Python values, None where empty (as `_cell` makes each one).

    A column of numbers is converted in one call (`tolist`), not cell by cell: the baseline's
    workbook (~190,000 cells) took 1.55 s to write instead of 1.78 s."""
    exact = pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype)
    if exact and not values.hasnans:
        return values.to_numpy().tolist()
    if pd.api.types.is_float_dtype(values.dtype) and isinstance(values.dtype, np.dtype):
        return [None if math.isnan(v) else v for v in values.to_numpy().tolist()]
    return [_cell(v) for v in values.tolist()]


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


class _Formats:
    """The workbook's cell formats, made once each (XlsxWriter keeps one record per format)."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDE6F0", "text_wrap": True, "valign": "vcenter"}
        )
        self.numbers: dict[str, Format] = {}

    def number(self, pattern: str | None) -> Format | None:
        if pattern is None:
            return None
        if pattern not in self.numbers:
            self.numbers[pattern] = self.book.add_format({"num_format": pattern})
        return self.numbers[pattern]


def _add_sheet(book: Workbook, formats: _Formats, name: str, frame: pd.DataFrame) -> None:
    """One sheet, streamed row by row (constant-memory mode: rows go to disk as written)."""
    sheet = book.add_worksheet(sheet_title(name))
    table = excel_frame(frame, name)
    headers = [header_zh(str(c)) for c in table.columns]
    cell_formats = [formats.number(number_format(str(c), table[c])) for c in table.columns]
    for index, column in enumerate(table.columns):
        sample = [headers[index], *(str(v) for v in table[column].head(200))]
        sheet.set_column(index, index, min(max(_width(s) for s in sample) + 2, 48))
    sheet.freeze_panes(1, 0)
    if len(table.columns):
        sheet.autofilter(0, 0, len(table), len(table.columns) - 1)
    sheet.write_row(0, 0, headers, formats.header)
    columns = [_cells(table[column]) for column in table.columns]
    for r, row in enumerate(zip(*columns, strict=True), start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if value.__class__ is float or value.__class__ is int:  # the bulk of the cells
                sheet.write_number(r, c, value, cell_formats[c])
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value, cell_formats[c])
            elif isinstance(value, (int, float)):
                sheet.write_number(r, c, value, cell_formats[c])
            else:
                sheet.write_string(r, c, str(value), cell_formats[c])


def write_tables_xlsx(path: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    """One sheet per table (keys are table names such as `spending`, or sheet titles)."""
    write_sheets(sheets.items(), path)


def write_sheets(sheets: Iterable[tuple[str, pd.DataFrame]], path: Path) -> None:
    """One sheet per (name, table), in the order given, each written as soon as it arrives:
    `sheets` may be a stream of tables still being computed (output.StreamedFile).

    XlsxWriter writes the cells as text is typed, never as formulas or links, and a number that
    Excel cannot hold (inf) as an error cell rather than failing."""
    options = {
        "constant_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "nan_inf_to_errors": True,
        "tmpdir": str(path.parent),
    }
    book = Workbook(str(path), options)
    formats = _Formats(book)
    for name, frame in sheets:
        _add_sheet(book, formats, name, frame)
    book.close()


def xlsx_writer(sheets: Mapping[str, pd.DataFrame]) -> Writer:
    """`write_tables_xlsx` as a writer for `write_all`."""

    def write(path: Path) -> None:
        write_tables_xlsx(path, sheets)

    return write


# Fewer replicates than a budget should rest on (the baseline's 1000): the sheet says so.
FEW_REPLICATES = 1000


def about_sheet(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The workbook's first sheet (说明): what it holds, on which scenario, how many replicates
    and which seed, what the statistics and bases mean, and the command that made it. The
    workbook said none of this: with 2 replicates, its P5 equalled the mean without a word."""
    kind = str(summary.get("kind", "awards"))
    rows: list[tuple[str, object]] = [("内容", KIND_ZH.get(kind, kind))]
    scenarios = summary.get("scenarios") or [summary.get("scenario")]
    for header in [h for h in scenarios if isinstance(h, Mapping)]:
        rows.append(
            ("情景", f"{header.get('title') or header.get('name')}（{header.get('path')}）")
        )
    if kind == "awards":
        rows.append(("说明", ABOUT_TEXTS_ZH["awards"]))
    else:
        replicates = summary.get("replicates")
        rows += [("模拟次数", replicates), ("随机数种子", summary.get("seed"))]
        years = summary.get("years")
        if isinstance(years, (list, tuple)) and len(years) == 2:
            rows.append(("考核年度", f"{years[0]}—{years[1]}（现金口径列至最后一笔兑付的年度）"))
        rows.append(("统计量", ABOUT_TEXTS_ZH["statistics"]))
        if isinstance(replicates, int) and replicates < FEW_REPLICATES:
            rows.append(("提示", ABOUT_TEXTS_ZH["few_replicates"].format(replicates=replicates)))
        bases = ABOUT_TEXTS_ZH["bases"] + (ABOUT_TEXTS_ZH["arrears"] if kind == "run" else "")
        rows += [("口径", bases), ("合计行", ABOUT_TEXTS_ZH["sum_rows"])]
    if kind in ("compare", "sweep", "target", "butfor"):
        rows.append(("现金口径", ABOUT_TEXTS_ZH["cash_before_process"]))
    rows.append(("单位", ABOUT_TEXTS_ZH["units"]))
    for key, label in (("command", "命令"), ("fiscalsim_version", "fiscalsim 版本")):
        if summary.get(key):
            rows.append((label, summary[key]))
    # numbers stay numbers (replicates, seed); everything else is text
    content = [r[1] if isinstance(r[1], int) else str(r[1]) for r in rows]
    return pd.DataFrame({"item": [r[0] for r in rows], "content": pd.Series(content, dtype=object)})


TARGET_KEYS = ("param", "base_value", "value", "jurisdiction", "payer_level", "basis", "year")
TARGET_FIGURES = ("quantile", "ceiling_wan", "cost_wan", "converged", "evaluations")


def target_sheet(answer: Mapping[str, Any]) -> pd.DataFrame:
    """target.json as one row: the answer beside what it answers (the workbook had only the
    curve, with no budget, basis, quantile, ceiling or answer)."""
    row = {
        "answer" if key == "value" else key: answer[key]
        for key in (*TARGET_KEYS, *TARGET_FIGURES)
        if key in answer
    }
    return pd.DataFrame([row])


def clause_titles(policies: Iterable[Any]) -> dict[str, str]:
    """Each clause id's Chinese title, from the policy files a run read."""
    return {rule.id: rule.title_zh for policy in policies for rule in policy.rules}


def with_titles(
    frame: pd.DataFrame,
    clauses: Mapping[str, str] | None = None,
    scenarios: Mapping[str, str] | None = None,
    matters: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The table with each clause's, scenario's and 就高不重复 matter's name beside its id, for
    the workbook (the CSVs keep the ids): a sheet of GZ-2c, RJ-8, `ganzhou_extend_2025` or
    `revenue_threshold_digital_tech` told a finance bureau nothing about what was paid or
    compared."""
    # (id column, names, name column, whether an id without a name shows itself): a matter of
    # a user's own policy file has no name in data/matters.yaml, and shows its id
    wanted = [
        (column, titles, name, show_id)
        for column, titles, name, show_id in (
            ("clause_id", clauses, "clause_title", False),
            ("scenario", scenarios, "scenario_title", False),
            ("matter", matters, "matter_title", True),
        )
        if titles and column in frame.columns and name not in frame.columns
    ]
    if not wanted:
        return frame
    table = frame.copy()
    for column, titles, name, show_id in wanted:
        position = list(table.columns).index(column) + 1
        named = table[column].map(lambda v, t=titles, s=show_id: t.get(str(v), str(v) if s else ""))
        table.insert(position, name, named)
    return table
