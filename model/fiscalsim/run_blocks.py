"""What a block of replicates gives `fiscalsim run`: compact per-replicate totals, where it ran.

A run's replicates are simulated in blocks (in-process batches, or Dask tasks). Each block is
reduced where it was simulated (RunReducer): the spending series per budget and per clause, the
cumulative and cash cubes, the budget process of its replicates, and its share of the award
ledger, written there as one Parquet part of the `ledger.parquet` folder. The process that
writes the tables (the client of a Dask cluster) joins the blocks (join_run_blocks) and never
holds every award of every replicate. In-process and on a cluster the same blocks are reduced by
the same code, so the files are the same to the byte.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fiscalsim.budget import cumulative_cube
from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import LEVELS
from fiscalsim.output import umask
from fiscalsim.process.outcome import ProcessBlock, join_blocks, process_block
from fiscalsim.process.params import ProcessParams
from fiscalsim.rules.book import RuleBook
from fiscalsim.series import (
    Series,
    clause_series,
    join_clause_series,
    join_replicates,
    payer_series,
    year_axis,
)
from fiscalsim.simulation.model import Model
from fiscalsim.uncertainty import cash_by_payer

# The ledger's columns and types, whatever a block booked (an empty block has no types of its own).
LEDGER_TYPES = {
    "replicate": np.int32,
    "firm_key": np.int64,
    "rule": np.int32,
    "location": np.int32,
    "performance_year": np.int32,
    "payment_year": np.int32,
    "amount_wan": np.float64,
    **{f"{level}_wan": np.float64 for level in LEVELS},
    **{f"{level}_payer": np.int32 for level in LEVELS},
}
PART_DIGITS = 6  # part files sort by name in replicate order up to a million replicates


@dataclass(frozen=True)
class RunBlock:
    """One block of replicates, reduced: every value per replicate of the block."""

    replicates: list[int]
    payer: Series  # series.payer_series
    clause: Series  # series.clause_series (only the clause-budget pairs the block paid)
    cumulative: np.ndarray  # budget.cumulative_cube
    cash: np.ndarray  # uncertainty.cash_by_payer
    paid_rules: frozenset[int]
    sample: pd.DataFrame | None  # the awards of the sample replicate, if in this block
    process: ProcessBlock | None


@dataclass(frozen=True)
class RunReducer:
    """montecarlo's `reduce` for a run: a block's ledger to a RunBlock (picklable for workers).

    `ledger_dir`, if given, is where the block writes its awards as one Parquet part; on a
    multi-machine cluster it must be a folder every worker sees at the same path."""

    locations: tuple[int, ...]
    first_year: int
    horizon: int
    seed: int
    process: ProcessParams | None
    process_years: range
    ledger_dir: str | None
    sample_replicate: int = 0

    def __call__(
        self, model: Model, variant: int, replicates: list[int], ledger: dict[str, np.ndarray]
    ) -> RunBlock:
        book = model.variants[variant].book
        ledger = sorted_ledger(ledger)
        local = {**ledger, "replicate": ledger["replicate"] - replicates[0]}
        n = len(replicates)
        first, horizon = self.first_year, self.horizon
        awards: pd.DataFrame | None = None
        if self.ledger_dir is not None or self.sample_replicate in replicates:
            awards = award_table(book, ledger)
        if self.ledger_dir is not None and awards is not None:
            write_part(Path(self.ledger_dir), replicates, awards)
        sample = None
        if awards is not None and self.sample_replicate in replicates:
            keep = (ledger["replicate"] == self.sample_replicate).nonzero()[0]
            sample = awards.iloc[keep].reset_index(drop=True)
        process = None
        if self.process is not None:
            process = process_block(
                book,
                ledger,
                self.process,
                self.seed,
                self.locations,
                self.process_years,
                replicates,
            )
        return RunBlock(
            replicates=list(replicates),
            payer=payer_series(book, local, n, self.locations, first, horizon),
            clause=clause_series(book, local, n, first, horizon),
            cumulative=cumulative_cube(book, local, n),
            cash=cash_by_payer(local, book.registry, n, year_axis(book, first, horizon)),
            paid_rules=frozenset(int(r) for r in np.unique(ledger["rule"])),
            sample=sample,
            process=process,
        )


def sorted_ledger(ledger: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The block's awards with the run's types, by replicate, year, clause and firm: the order
    of the whole run's ledger, whatever the blocks."""
    typed = {name: ledger[name].astype(kind, copy=False) for name, kind in LEDGER_TYPES.items()}
    order = np.lexsort(
        (typed["firm_key"], typed["rule"], typed["performance_year"], typed["replicate"])
    )
    return {name: values[order] for name, values in typed.items()}


def firm_ids(keys: np.ndarray) -> pd.Series:
    """Firm ids ("f" and the firm key) as pandas strings, built in Arrow (a Python loop took
    most of the ledger table's time)."""
    text = pc.binary_join_element_wise("f", pc.cast(pa.array(keys), pa.string()), "")
    return pd.Series(text, dtype="string")


def award_table(book: RuleBook, ledger: dict[str, np.ndarray]) -> pd.DataFrame:
    """The awards with names: clause, issuing government, location and payers.

    The categories are the rule book's and the registry's in full, so every part of a
    partitioned ledger has the same dictionary and the parts read back as one table."""
    names = [j.id for j in book.registry.items] + [""]  # "": no payer at that level (-1)
    ids = [c.id for c in book.rules]
    issuers = list(dict.fromkeys(c.policy.jurisdiction for c in book.rules))
    issuer_code = np.array([issuers.index(c.policy.jurisdiction) for c in book.rules] or [0])

    def named(codes: np.ndarray, categories: list[str]) -> Any:
        codes = np.where(codes < 0, len(categories) - 1, codes).astype(np.int64)
        return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))

    return pd.DataFrame(
        {
            "replicate": ledger["replicate"],
            "firm_id": firm_ids(ledger["firm_key"]),
            "clause_id": named(ledger["rule"], ids),
            "jurisdiction": named(issuer_code[ledger["rule"]], issuers),
            "location": named(ledger["location"], names),
            "performance_year": ledger["performance_year"],
            "payment_year": ledger["payment_year"],
            "amount_wan": ledger["amount_wan"],
            **{f"{level}_wan": ledger[f"{level}_wan"] for level in LEVELS},
            **{f"{level}_payer": named(ledger[f"{level}_payer"], names) for level in LEVELS},
        }
    )


def part_name(replicates: Sequence[int]) -> str:
    return f"replicates-{replicates[0]:0{PART_DIGITS}d}-{replicates[-1]:0{PART_DIGITS}d}.parquet"


def write_part(folder: Path, replicates: Sequence[int], awards: pd.DataFrame) -> None:
    """The block's awards as one Parquet file, written whole or not at all: a task run again
    (after a lost worker) replaces its own file with the same bytes."""
    target = folder / part_name(replicates)
    try:
        handle, raw = tempfile.mkstemp(prefix=f".{target.name}-", dir=folder)
        os.close(handle)
        try:
            pq.write_table(pa.Table.from_pandas(awards, preserve_index=False), raw)
            os.chmod(raw, 0o666 & ~umask())  # mkstemp makes it private; it is an output
            os.replace(raw, target)
        finally:
            Path(raw).unlink(missing_ok=True)
    except OSError as error:
        raise InputError(
            folder,
            "ledger",
            f"a worker could not write the ledger ({error.strerror or error}); on a cluster the "
            "output folder must be on a file system every worker sees, or pass --no-ledger",
        ) from None


@dataclass(frozen=True)
class RunTotals:
    """The joined blocks: what the run's tables are taken from."""

    payer: Series
    clause: Series
    cumulative: np.ndarray
    cash: np.ndarray
    paid_rules: frozenset[int]
    sample: pd.DataFrame
    process: ProcessBlock | None


def join_run_blocks(blocks: Sequence[RunBlock], book: RuleBook) -> RunTotals:
    """The blocks (in replicate order) as the totals of the whole run."""
    samples = [b.sample for b in blocks if b.sample is not None]
    processes = [b.process for b in blocks if b.process is not None]
    empty = {name: np.zeros(0, dtype=kind) for name, kind in LEDGER_TYPES.items()}
    return RunTotals(
        payer=join_replicates([b.payer for b in blocks]),
        clause=join_clause_series([b.clause for b in blocks]),
        cumulative=np.concatenate([b.cumulative for b in blocks]),
        cash=np.concatenate([b.cash for b in blocks]),
        paid_rules=frozenset().union(*(b.paid_rules for b in blocks)),
        sample=samples[0] if samples else award_table(book, empty),
        process=join_blocks(processes) if processes else None,
    )
