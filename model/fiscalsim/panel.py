"""Read and check a firm-year panel, then cut it into one fact table per performance year.

Every check names the file, the CSV line and the column, so a finance-bureau analyst can fix
the row; nothing in the user's data is altered or dropped silently.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fiscalsim.engine.factview import UNKNOWN_WHEN_MISSING, FactTable
from fiscalsim.errors import InputError
from fiscalsim.facts import CORE_FACTS, DERIVED_FACTS, REQUIRED_COLUMNS
from fiscalsim.jurisdictions import Registry
from fiscalsim.rules.book import CLASS_CODES

FLAG_COLUMNS = frozenset({"above_scale"})
YEAR_COLUMNS = frozenset({"founded_year"})


@dataclass(frozen=True)
class Panel:
    """A checked panel: the original rows and the engine's view of them."""

    path: Path
    frame: pd.DataFrame  # as read, in file order, with parsed numeric columns
    firm_ids: tuple[str, ...]  # firm index -> firm_id, in order of first appearance
    firm_index: np.ndarray  # per row
    location_index: np.ndarray  # per row, registry index
    class_code: np.ndarray  # per row, 1..5
    fact_columns: tuple[str, ...]
    notes: tuple[str, ...] = ()  # how the file was read where it differs from the letter of it

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.frame["year"].unique())

    def table(self, year: int) -> FactTable:
        rows = np.flatnonzero(self.frame["year"].to_numpy() == year)
        dense = {
            name: self.frame[name].to_numpy(dtype=np.float64)[rows] for name in self.fact_columns
        }
        return FactTable(
            year=year,
            firm=self.firm_index[rows],
            location=self.location_index[rows],
            industry_class=self.class_code[rows],
            group=np.zeros(rows.size, dtype=np.int32),
            dense=dense,
        )

    def rows_of_year(self, year: int) -> np.ndarray:
        return np.flatnonzero(self.frame["year"].to_numpy() == year)


def _line(position: int) -> str:
    return f"line {position + 2}"  # the header is line 1


def _number(path: Path, frame: pd.DataFrame, column: str, *, required: bool) -> pd.Series:
    text = frame[column].fillna("").str.strip()
    values = pd.to_numeric(text.where(text != "", None), errors="coerce")
    bad = (text != "") & values.isna()
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            path, f"{_line(position)}, column {column}", f"'{text.iloc[position]}' is not a number"
        )
    if required and (text == "").any():
        position = int(np.flatnonzero((text == "").to_numpy())[0])
        raise InputError(path, f"{_line(position)}, column {column}", "value is missing")
    infinite = values.notna() & ~np.isfinite(values.astype(float))
    negative = values.notna() & (values < 0)
    for mask, problem in ((infinite, "is not finite"), (negative, "must not be negative")):
        if mask.any():
            position = int(np.flatnonzero(mask.to_numpy())[0])
            raise InputError(
                path, f"{_line(position)}, column {column}", f"{text.iloc[position]} {problem}"
            )
    return values.astype(float)


def known_columns(facts_used: set[str]) -> set[str]:
    return set(REQUIRED_COLUMNS) | set(CORE_FACTS) | (facts_used - set(DERIVED_FACTS))


MAX_PANEL_BYTES = 2_000_000_000


def _decode(path: Path) -> tuple[str, str]:
    """The panel's text and encoding: UTF-8 (with or without BOM), else GB18030 (Chinese Excel)."""
    try:
        if path.is_dir():
            raise InputError(path, None, "is a folder; give the panel's CSV file")
        if path.stat().st_size > MAX_PANEL_BYTES:
            raise InputError(path, None, f"is larger than {MAX_PANEL_BYTES:,} bytes")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, "no such file") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    raise InputError(
        path, None, "is neither UTF-8 nor GBK/GB18030 text; in Excel save it as 'CSV UTF-8'"
    )


def _check_shape(path: Path, text: str) -> None:
    """A duplicated header name, or a row with more or fewer cells than the header, by line."""
    rows = csv.reader(io.StringIO(text))
    header = [cell.strip() for cell in next(rows, [])]
    for position, name in enumerate(header):
        if name in header[:position]:
            raise InputError(path, f"column {name}", "appears twice in the header")
    for number, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise InputError(
                path, f"line {number}", f"has {len(row)} cells, more than the {len(header)} columns"
            )
        if len(row) < len(header):
            raise InputError(
                path,
                f"line {number}",
                f"has {len(row)} cells, fewer than the {len(header)} columns",
            )


def read_panel(path: Path, registry: Registry, facts_used: set[str]) -> Panel:
    """Read a panel CSV; any problem is an InputError naming the line and column."""
    text, encoding = _decode(path)
    if not text.strip():
        raise InputError(path, None, "the file is empty")
    _check_shape(path, text)
    notes: list[str] = []
    if encoding != "utf-8":
        notes.append(f"read as {encoding.upper()} text (saved by Chinese Excel)")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            index_col=False,
            skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise InputError(path, None, "the file is empty") from None
    except pd.errors.ParserError as exc:
        raise InputError(path, None, f"not a readable CSV: {str(exc).splitlines()[0]}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            raise InputError(path, f"column {column}", "required column is missing")
    allowed = known_columns(facts_used)
    for column in frame.columns:
        if column not in allowed:
            raise InputError(
                path,
                f"column {column}",
                "unknown column: no loaded rule uses it (run `fiscalsim facts` for the list)",
            )
    if frame.empty:
        raise InputError(path, None, "the panel has a header but no rows")

    firm_id = frame["firm_id"].str.strip()
    if (firm_id == "").any():
        position = int(np.flatnonzero((firm_id == "").to_numpy())[0])
        raise InputError(path, f"{_line(position)}, column firm_id", "value is missing")
    frame["firm_id"] = firm_id

    year = _number(path, frame, "year", required=True)
    not_whole = (year != np.floor(year)) | (year < 1990) | (year > 2100)
    if not_whole.any():
        position = int(np.flatnonzero(not_whole.to_numpy())[0])
        raise InputError(
            path,
            f"{_line(position)}, column year",
            f"'{frame['year'].iloc[position]}' is not a year between 1990 and 2100",
        )
    frame["year"] = year.astype(np.int64)

    location = frame["location"].str.strip()
    location_index = np.empty(len(frame), dtype=np.int32)
    renamed: dict[str, str] = {}
    for position, given in enumerate(location):
        place = registry.resolve(given)
        if place is None:
            near = registry.suggest(given, "county")
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise InputError(
                path,
                f"{_line(position)}, column location",
                f"unknown jurisdiction '{given}'{hint}",
            )
        if place != given:
            renamed[given] = place
        if registry[place].level != "county":
            raise InputError(
                path,
                f"{_line(position)}, column location",
                f"'{place}' is a {registry[place].level}; give the county-level unit where the firm sits",
            )
        location_index[position] = registry.index[place]
    if renamed:
        pairs = ", ".join(f"{given} -> {place}" for given, place in sorted(renamed.items()))
        notes.append(f"locations read through data/jurisdictions.yaml: {pairs}")
    frame["location"] = [registry.items[i].id for i in location_index]

    classes = frame["industry_class"].str.strip()
    unpadded = classes.str.fullmatch(r"[1-5]")
    if unpadded.any():  # Excel drops the leading zero of 03
        classes = classes.where(~unpadded, "0" + classes)
        notes.append(
            f"industry_class given without its leading zero on {int(unpadded.sum())} rows "
            "(e.g. 3) and read as 01-05"
        )
    frame["industry_class"] = classes
    bad_class = ~classes.isin(CLASS_CODES)
    if bad_class.any():
        position = int(np.flatnonzero(bad_class.to_numpy())[0])
        raise InputError(
            path,
            f"{_line(position)}, column industry_class",
            f"'{classes.iloc[position]}' is not an NBS digital-economy class (01, 02, 03, 04 or 05, as text)",
        )

    fact_columns = [c for c in frame.columns if c not in set(REQUIRED_COLUMNS) - {"revenue_wan"}]
    for column in fact_columns:
        values = _number(path, frame, column, required=column == "revenue_wan")
        if column != "revenue_wan" and column not in UNKNOWN_WHEN_MISSING:
            values = values.fillna(0.0)  # a blank cell means what a missing column means: 0
        if column in FLAG_COLUMNS and not values.dropna().isin([0, 1]).all():
            position = int(np.flatnonzero((values.notna() & ~values.isin([0, 1])).to_numpy())[0])
            raise InputError(path, f"{_line(position)}, column {column}", "must be 0 or 1")
        if column in YEAR_COLUMNS:
            bad_year = values.notna() & ((values < 1900) | (values > 2100))
            if bad_year.any():
                position = int(np.flatnonzero(bad_year.to_numpy())[0])
                raise InputError(
                    path, f"{_line(position)}, column {column}", "is not a plausible year"
                )
        frame[column] = values

    duplicate = frame.duplicated(["firm_id", "year"], keep="first")
    if duplicate.any():
        position = int(np.flatnonzero(duplicate.to_numpy())[0])
        raise InputError(
            path,
            f"{_line(position)}",
            f"firm {frame['firm_id'].iloc[position]} already has a row for {frame['year'].iloc[position]}",
        )

    codes, uniques = pd.factorize(frame["firm_id"], sort=False)
    return Panel(
        path=path,
        frame=frame,
        firm_ids=tuple(str(u) for u in uniques),
        firm_index=codes.astype(np.int64),
        location_index=location_index,
        class_code=classes.astype(int).to_numpy(dtype=np.int8),
        fact_columns=tuple(fact_columns),
        notes=tuple(notes),
    )
