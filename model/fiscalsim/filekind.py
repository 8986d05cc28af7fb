"""Tell a policy file, a scenario, an events file and a panel apart by what they hold.

`fiscalsim validate` is given files by users who name them as they like (a panel saved as .txt, a
scenario called policy.yaml); reading the content rather than the extension checks each file
against the right schema, and says plainly when a file is none of them. The data files (budgets,
firm counts, the process defaults, ...) are told by their top-level keys (datacheck.py checks
them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fiscalsim.errors import InputError
from fiscalsim.yamlfile import read_yaml_mapping

DataKind = Literal[
    "budgets",
    "firm_counts",
    "county_weights",
    "large_firms",
    "calibration_checks",
    "responses",
    "process_defaults",
    "jurisdictions",
    "panel_columns",
    "matters",
    "reference",
]
FileKind = Literal["policy", "scenario", "events", "panel"] | DataKind

# The files under data/, each kind told by a top-level key no other kind has, tried in this
# order: data/calibration/events.yaml (the anchors of the event rates, read by no command) has
# `events:` as an events file has, so the reference files' keys come first.
DATA_MARKERS: tuple[tuple[str, DataKind], ...] = (
    ("anchors", "reference"),
    ("model_form", "reference"),
    ("facts", "reference"),
    ("provincial_awards", "reference"),
    ("budgets", "budgets"),
    ("firm_counts", "firm_counts"),
    ("county_weights", "county_weights"),
    ("known_firms", "large_firms"),
    ("segment_bounds", "large_firms"),
    ("checks", "calibration_checks"),
    ("responses", "responses"),
    ("application", "process_defaults"),
    ("jurisdictions", "jurisdictions"),
    ("panel_columns", "panel_columns"),
    ("matters", "matters"),
)


def _looks_like_panel(path: Path) -> bool:
    """A CSV whose header names firm_id (in UTF-8 or the GB18030 of Chinese Excel)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            first = head.decode(encoding).lstrip().splitlines()[0] if head.strip() else ""
        except UnicodeDecodeError:
            continue
        cells = [cell.strip().strip('"') for cell in first.split(",")]
        return "firm_id" in cells
    return False


def detect_kind(path: Path) -> FileKind:
    """The kind of input `path` holds, judged by content; an InputError if it is none of them."""
    if path.is_dir():
        raise InputError(path, None, "is a folder; give a file")
    if not path.exists():
        raise InputError(path, None, "no such file")
    if _looks_like_panel(path):
        return "panel"
    if path.suffix.lower() in {".csv", ".txt", ".tsv"}:
        raise InputError(path, None, "is not a panel: its header has no firm_id column")
    raw = read_yaml_mapping(path)
    if "rules" in raw or "document" in raw:
        return "policy"
    if "population" in raw or "dynamics" in raw or "horizon" in raw or "base" in raw:
        return "scenario"  # a reform names a `base` scenario and lists `changes`
    for marker, kind in DATA_MARKERS:
        if marker in raw:
            return kind
    if "events" in raw:
        return "events"
    raise InputError(
        path,
        None,
        "is none of policy, scenario, events file, panel or data file: a policy file has "
        "`rules:`, a scenario `population:` (or a `base:` it changes), an events file "
        "`events:`, a panel a CSV header with firm_id, a data file one of the keys of "
        "data/'s files (budgets:, firm_counts:, responses:, ...)",
    )
