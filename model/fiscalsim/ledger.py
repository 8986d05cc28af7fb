"""The award ledger: one row per award granted, with its shares and paying governments.

The ledger is the single record every total is summed from, in the calculator and in the
simulation, so the budget tables always add up to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from fiscalsim.engine.evaluate import DROP_REASONS, YearAwards
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.rules.book import RuleBook

LEDGER_COLUMNS: tuple[str, ...] = (
    "firm_id",
    "clause_id",
    "jurisdiction",
    "location",
    "performance_year",
    "payment_year",
    "amount_wan",
    "province_wan",
    "city_wan",
    "county_wan",
    "province_payer",
    "city_payer",
    "county_payer",
    "recipient",
    "matter",
)


def payer_columns(
    shares_wan: np.ndarray, payers: np.ndarray, names: np.ndarray
) -> dict[str, np.ndarray]:
    """Each level's share (万元) and paying government, the ledger's payer columns. `payers`
    holds registry indices (-1: none at that level); `names` the registry's ids and "" last."""
    return {
        **{f"{level}_wan": shares_wan[:, i] for i, level in enumerate(LEVELS)},
        **{f"{level}_payer": names[payers[:, i]] for i, level in enumerate(LEVELS)},
    }


def ledger_frame(
    book: RuleBook,
    year_awards: Sequence[YearAwards],
    row_firm: Sequence[np.ndarray],
    firm_ids: Sequence[str],
    row_location: Sequence[np.ndarray],
) -> pd.DataFrame:
    """Turn the engine's yearly awards into ledger rows (file order: year, then firm order)."""
    ids = np.array([c.id for c in book.rules] or [""], dtype=object)
    issuer = np.array([c.policy.jurisdiction for c in book.rules] or [""], dtype=object)
    recipient = np.array([str(c.rule.recipient) for c in book.rules] or [""], dtype=object)
    matter = np.array([str(c.rule.matter) for c in book.rules] or [""], dtype=object)
    names = np.array([j.id for j in book.registry.items] + [""], dtype=object)
    firm_names = np.array(list(firm_ids) or [""], dtype=object)
    frames: list[pd.DataFrame] = []
    for awards, firms, places in zip(year_awards, row_firm, row_location, strict=True):
        if awards.n == 0:
            continue
        firm = firms[awards.row]
        frame = pd.DataFrame(
            {
                "firm_id": firm_names[firm],
                "clause_id": ids[awards.rule],
                "jurisdiction": issuer[awards.rule],
                "location": names[places[awards.row]],
                "performance_year": awards.year,
                "payment_year": awards.payment_year,
                "amount_wan": awards.amount_wan,
                **payer_columns(awards.payer_wan, awards.payer, names),
                "recipient": recipient[awards.rule],
                "matter": matter[awards.rule],
                "_firm": firm,
            }
        )
        frames.append(frame.sort_values(["_firm", "clause_id"], kind="stable"))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in LEDGER_COLUMNS})
    ledger = pd.concat(frames, ignore_index=True).drop(columns="_firm")
    return ledger[list(LEDGER_COLUMNS)]


def dropped_frame(
    book: RuleBook,
    year_awards: Sequence[YearAwards],
    row_firm: Sequence[np.ndarray],
    firm_ids: Sequence[str],
) -> pd.DataFrame:
    """Candidates the engine did not pay, and why (stacked, quota, already paid)."""
    ids = [c.id for c in book.rules]
    records: list[dict[str, object]] = []
    for awards, firms in zip(year_awards, row_firm, strict=True):
        for i in range(awards.dropped_row.size):
            winner = int(awards.dropped_winner[i])
            records.append(
                {
                    "firm_id": firm_ids[int(firms[awards.dropped_row[i]])],
                    "clause_id": ids[int(awards.dropped_rule[i])],
                    "performance_year": awards.year,
                    "amount_wan": float(awards.dropped_amount_wan[i]),
                    "reason": DROP_REASONS[int(awards.dropped_reason[i])],
                    "paid_instead": ids[winner] if winner >= 0 else "",
                }
            )
    columns = ["firm_id", "clause_id", "performance_year", "amount_wan", "reason", "paid_instead"]
    return pd.DataFrame.from_records(records, columns=columns)


def _dtype(column: str) -> str:
    if column.endswith("_wan"):
        return "float64"
    if column.endswith("_year"):
        return "int64"
    return "object"


def payer_totals(ledger: pd.DataFrame, basis: str) -> pd.DataFrame:
    """Spending per paying government and year, on the obligation or cash basis."""
    year_column = {"obligation": "performance_year", "cash": "payment_year"}[basis]
    parts: list[pd.DataFrame] = []
    for level in LEVELS:
        part = ledger.loc[
            ledger[f"{level}_wan"] > 0, [f"{level}_payer", year_column, f"{level}_wan"]
        ]
        part = part.set_axis(["jurisdiction", "year", "amount_wan"], axis=1)
        part.insert(1, "payer_level", level)
        parts.append(part)
    stacked = pd.concat(parts, ignore_index=True)
    totals: pd.DataFrame = stacked.groupby(
        ["jurisdiction", "payer_level", "year"], as_index=False
    ).agg(amount_wan=("amount_wan", "sum"))
    totals.insert(3, "basis", basis)
    return totals.sort_values(["payer_level", "jurisdiction", "year"], kind="stable").reset_index(
        drop=True
    )
