"""The workbook written while its tables are still being made: order, failure, nothing left."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import fiscalsim.run
from fiscalsim.output import StreamedFile
from fiscalsim.paths import SCENARIOS_DIR
from fiscalsim.run import SheetFeed, run_scenario
from fiscalsim.simulation.montecarlo import prepare


def _lines(items: Iterable[Any], path: Path) -> None:
    path.write_text("".join(f"{item}\n" for item in items), encoding="utf-8")


def _fails_on_second(items: Iterable[Any], path: Path) -> None:
    for position, _ in enumerate(items):
        if position == 1:
            raise ValueError("bad item")
    path.write_text("never", encoding="utf-8")


def test_sheet_feed_passes_tables_on_in_sheet_order() -> None:
    sent: list[str] = []
    feed = SheetFeed(lambda item: sent.append(item[0]), ["a", "b", "c", "d"])
    table = pd.DataFrame({"x": [1]})
    feed("c", table)
    feed("other", table)  # not a sheet: never sent
    assert sent == []
    feed("a", table)
    assert sent == ["a"]
    feed("b", table)
    assert sent == ["a", "b", "c"]
    feed.close()  # "d" was never made: skipped
    assert sent == ["a", "b", "c"]


@pytest.mark.parametrize("cpus", [1, 2])
def test_streamed_file_holds_what_was_sent_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpus: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cpus)
    file = StreamedFile(_lines, tmp_path, "out.txt")
    for item in ["一", 2, "three"]:
        file.send(item)
    target = tmp_path / "moved.txt"
    file.writer()(target)
    file.close()
    assert target.read_text(encoding="utf-8") == "一\n2\nthree\n"
    assert not (tmp_path / "out.txt").exists()
    assert multiprocessing.active_children() == []


def test_a_failing_streamed_writer_is_reported(tmp_path: Path) -> None:
    file = StreamedFile(_fails_on_second, tmp_path, "out.txt")
    for item in range(3):
        file.send(item)
    with pytest.raises(RuntimeError, match="writing out.txt failed"):
        file.finish()
    file.close()
    assert not (tmp_path / "out.txt").exists()


def test_close_stops_an_unfinished_writer(tmp_path: Path) -> None:
    file = StreamedFile(_lines, tmp_path, "out.txt")
    file.send("waiting for more")
    file.close()
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "out.txt").exists()


def test_a_run_failing_while_its_workbook_is_written_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []

    def fail(*_args: object, **_kwargs: object) -> pd.DataFrame:
        made.append("population")
        raise ValueError("table failed")

    monkeypatch.setattr(fiscalsim.run, "population_table", fail)
    prepared = prepare(SCENARIOS_DIR / "baseline.yaml", replicates=2, batch_replicates=2)
    with pytest.raises(ValueError, match="table failed"):
        run_scenario(prepared, tmp_path / "out", workers=1)
    assert made == ["population"]  # the workbook had its first sheets when the run failed
    assert list(tmp_path.iterdir()) == []
    assert multiprocessing.active_children() == []
