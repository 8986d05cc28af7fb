"""All-or-nothing output that never destroys what fiscalsim did not write.

Every file is written to a scratch folder first and moved in at the end, so a failure or an
interrupt half-way leaves the output folder as it was. Every output folder carries a marker file
listing what fiscalsim wrote; a folder holding anything else is refused unless `--force`, and a
previous fiscalsim output is replaced whole. All checks run before any work (`check_targets`).
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.process
import os
import queue
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pandas as pd

from fiscalsim import __version__
from fiscalsim.errors import InputError

Writer = Callable[[Path], None]
MARKER = ".fiscalsim-output"


def _written_by_fiscalsim(folder: Path) -> set[str] | None:
    """The names fiscalsim wrote into `folder` (from its marker), or None if it did not."""
    marker = folder / MARKER
    if marker.is_file():
        try:
            names = json.loads(marker.read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError, AttributeError):
            return None
        return {str(n) for n in names} | {MARKER}
    summary = folder / "summary.json"  # output of a version before the marker
    try:
        if "fiscalsim_version" in json.loads(summary.read_text(encoding="utf-8")):
            return {p.name for p in folder.iterdir()}
    except (OSError, ValueError, TypeError):
        return None
    return None


def _writable(path: Path) -> bool:
    """Whether `path` could be created: its nearest existing ancestor is a writable folder (an
    existing file is replaced by one written beside it, so its folder must be writable)."""
    current = path.parent if path.is_file() else path
    while not current.exists():
        current = current.parent
    return current.is_dir() and os.access(current, os.W_OK | os.X_OK)


def check_targets(
    out_dir: Path,
    files: Mapping[Path, str] | None = None,
    *,
    force: bool = False,
    reserved: Collection[str] = (),
) -> None:
    """Refuse, before any work, an output that would overwrite or lose something not ours.

    `files` are single files written beside the folder (the `--panel-out` panel), keyed by path
    with the option that named them; `reserved` are the names the command itself writes in the
    folder, which such a file must not take.
    """
    out_dir = out_dir.resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, None, "the output path exists and is not a folder")
    ancestor = out_dir
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(out_dir, None, f"{ancestor} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        ours = _written_by_fiscalsim(out_dir)
        foreign = sorted(p.name for p in out_dir.iterdir() if ours is None or p.name not in ours)
        if foreign:
            raise InputError(
                out_dir,
                None,
                f"the output folder holds files fiscalsim did not write ({', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}); choose a new folder or pass --force",
            )
    if not (os.access(out_dir, os.W_OK | os.X_OK) if out_dir.is_dir() else _writable(out_dir)):
        raise InputError(out_dir, None, "the output folder cannot be written (permission denied)")
    for path, option in (files or {}).items():
        path = path.resolve()
        if path == out_dir:
            raise InputError(path, option, "is the output folder itself; give a file name")
        if out_dir in path.parents and path.parent != out_dir:
            raise InputError(path, option, "must be a file beside or directly in the --out folder")
        if path.parent == out_dir and (path.name in reserved or path.name == MARKER):
            raise InputError(path, option, f"{path.name} is a file this command writes in --out")
        if path.is_dir():
            raise InputError(path, option, "is a folder; give a file name")
        if path.exists() and not force and path.parent != out_dir:
            raise InputError(path, option, "the file exists; pass --force to replace it")
        if not _writable(path):
            raise InputError(path, option, "cannot be written (permission denied)")


def check_beside(folder: Path, names: Collection[str], *, force: bool = False) -> None:
    """Refuse, before any work, files to be added to an output folder (a report) that would
    replace a folder, or a file fiscalsim did not write unless `force`, or a folder that cannot
    be written."""
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(folder, None, "the folder cannot be written (permission denied)")
    ours = _written_by_fiscalsim(folder) or set()
    for name in names:
        path = folder / name
        if path.is_dir():
            raise InputError(path, None, "is a folder; it cannot be replaced by a file")
        if path.exists() and name not in ours and not force:
            raise InputError(
                path, None, "fiscalsim did not write this file; pass --force to replace it"
            )


def mark_written(folder: Path, names: Collection[str]) -> None:
    """Add `names` to the folder's marker, if it has one, so a later run may replace them."""
    marker = folder / MARKER
    try:
        payload = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(payload, dict) or not isinstance(payload.get("files"), list):
        return
    payload["files"] = sorted({*map(str, payload["files"]), *names})
    handle, raw = tempfile.mkstemp(prefix=f"{MARKER}-", dir=folder)
    os.close(handle)
    try:
        json_writer(payload)(Path(raw))
        os.chmod(raw, 0o666 & ~umask())
        os.replace(raw, marker)
    finally:
        Path(raw).unlink(missing_ok=True)


def umask() -> int:
    """The process's file-creation mask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _marker(names: list[str]) -> Writer:
    payload = {"written_by": "fiscalsim", "fiscalsim_version": __version__, "files": names}
    return json_writer(payload)


def _scratch_dir(out_dir: Path) -> Path:
    """A scratch folder on the same file system: beside `out_dir` if possible, else inside it."""
    parent = out_dir.parent
    if _writable(parent):
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=parent))
    return Path(tempfile.mkdtemp(prefix=".fiscalsim-scratch-", dir=out_dir))


def scratch_dir(out_dir: Path, label: str) -> Path:
    """A scratch folder for files made while a run is under way (the ledger's parts, written
    by the workers): beside `out_dir` on the same file system if possible, so that moving it in
    is a rename; else in the system's temporary folder. Never inside `out_dir`."""
    parent = out_dir.resolve().parent
    if _writable(parent):
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-{label}-", dir=parent))
    else:
        folder = Path(tempfile.mkdtemp(prefix=f"fiscalsim-{label}-"))
    os.chmod(folder, 0o777 & ~umask())  # it becomes part of the output
    return folder


def write_all(
    out_dir: Path,
    writers: Mapping[str, Writer],
    files: Mapping[Path, Writer] | None = None,
    *,
    force: bool = False,
) -> list[Path]:
    """Write `writers` into `out_dir` and each of `files` to its path, all or nothing.

    A previous fiscalsim output is replaced whole (files it wrote and this run does not are
    removed); with `force`, files fiscalsim did not write are left where they are.
    """
    out_dir = out_dir.resolve()
    extra = {path.resolve(): writer for path, writer in (files or {}).items()}
    inside = {p.name: w for p, w in extra.items() if p.parent == out_dir}
    beside = {p: w for p, w in extra.items() if p.parent != out_dir}
    tops = {Path(name).parts[0] for name in writers}
    check_targets(out_dir, {p: "output file" for p in extra}, force=force, reserved=tops)
    all_writers = {**writers, **inside}
    names = sorted({Path(name).parts[0] for name in all_writers})
    scratch = _scratch_dir(out_dir)
    os.chmod(scratch, 0o777 & ~umask())  # mkdtemp makes it private; it becomes out_dir
    temporaries: dict[Path, Path] = {}
    try:
        for name in all_writers:
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        slow = [
            n
            for n, w in all_writers.items()
            if n.endswith(".xlsx") and not isinstance(w, _MoveFinished)
        ]
        slow = slow if (os.cpu_count() or 1) > 1 else []
        pending = [(n, _in_background(all_writers[n], scratch / n)) for n in slow]
        for name, writer in all_writers.items():
            if name not in slow:
                writer(scratch / name)
        for name, process in pending:
            process.join()
            if process.exitcode != 0:
                raise RuntimeError(f"writing {name} failed (exit code {process.exitcode})")
        _marker(names)(scratch / MARKER)
        for path, writer in beside.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, raw_name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
            os.close(handle)
            temporaries[path] = Path(raw_name)
            writer(Path(raw_name))
            os.chmod(raw_name, 0o666 & ~umask())  # mkstemp makes it private
        _move_in(scratch, out_dir, [*names, MARKER], force=force)
        for path, written in temporaries.items():
            os.replace(written, path)
        return [out_dir / name for name in sorted(all_writers)] + list(temporaries)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for leftover in temporaries.values():
            leftover.unlink(missing_ok=True)


def _in_background(writer: Writer, path: Path) -> multiprocessing.process.BaseProcess:
    """Run one writer in a forked process: the workbook (the slowest file, pure Python) is
    written while this process writes the CSV and Parquet files."""
    process = multiprocessing.get_context("fork").Process(target=writer, args=(path,))
    process.start()
    return process


class StreamedFile:
    """One file written by a forked process from items sent while the caller still makes them.

    A run's workbook takes longer to write (XlsxWriter is pure Python) than its tables take to
    compute. Started as soon as the first table is ready, it is written while the other tables
    are computed and the CSVs written, not after them. Items must be sent in the file's order;
    a thread passes them on, so `send` never waits for the writer. With one CPU the items are
    kept and the file is written when it is asked for. `close` stops an unfinished writer.
    """

    def __init__(self, write: Callable[[Iterable[Any], Path], None], folder: Path, name: str):
        self.path = folder / name
        self._write = write
        self._kept: list[Any] = []
        self._process: multiprocessing.process.BaseProcess | None = None
        if (os.cpu_count() or 1) > 1:
            context = multiprocessing.get_context("fork")
            receive, pipe = context.Pipe(duplex=False)
            self._process = context.Process(
                target=_write_piped, args=(write, receive, pipe, self.path)
            )
            self._process.start()
            receive.close()
            self._outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
            self._sender = threading.Thread(target=_forward, args=(self._outbox, pipe), daemon=True)
            self._sender.start()  # after the fork: the writer has no copy of this thread

    def send(self, item: Any) -> None:
        if self._process is None:
            self._kept.append(item)
        else:
            self._outbox.put(item)

    def finish(self) -> Path:
        """Wait for the whole file; its path, or RuntimeError if the writer failed."""
        if self._process is None:
            self._write(self._kept, self.path)
            return self.path
        self._outbox.put(None)
        self._sender.join()
        self._process.join()
        if self._process.exitcode != 0:
            raise RuntimeError(
                f"writing {self.path.name} failed (exit code {self._process.exitcode})"
            )
        return self.path

    def writer(self) -> Writer:
        """A writer for `write_all` that moves the finished file into place."""
        return _MoveFinished(self)

    def close(self) -> None:
        if self._process is None:
            return
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._outbox.put(None)  # a sender still waiting ends (its pipe is broken or done)


def _forward(outbox: queue.SimpleQueue[Any], pipe: Connection) -> None:
    """Pass items to the writer until None, or until the writer has gone."""
    with pipe:
        while True:
            item = outbox.get()
            try:
                pipe.send(item)
            except OSError:
                return
            if item is None:
                return


class _MoveFinished:
    """Moves a StreamedFile's file into place; `write_all` runs it in this process, since the
    file is already being written in the background."""

    def __init__(self, file: StreamedFile) -> None:
        self.file = file

    def __call__(self, path: Path) -> None:
        shutil.move(self.file.finish(), path)


def _write_piped(
    write: Callable[[Iterable[Any], Path], None], pipe: Connection, sender: Connection, path: Path
) -> None:
    """The forked writer: items from the pipe until None. It closes its copy of the sending end
    (so a parent that dies ends the stream) and leaves Ctrl-C to the parent, which stops it."""
    sender.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def items() -> Iterator[Any]:
        while (item := pipe.recv()) is not None:
            yield item

    write(items(), path)


def _move_in(scratch: Path, out_dir: Path, names: list[str], *, force: bool) -> None:
    """Swap the scratch folder in for `out_dir`, or move its files in one by one if we must."""
    previous = _written_by_fiscalsim(out_dir) if out_dir.is_dir() else set()
    foreign = (
        [
            p.name
            for p in out_dir.iterdir()
            if p != scratch and (previous is None or p.name not in previous)
        ]
        if out_dir.is_dir()
        else []
    )
    if not out_dir.exists():
        os.rename(scratch, out_dir)
        return
    if not foreign and scratch.parent == out_dir.parent:
        backup = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-old-", dir=out_dir.parent))
        os.rename(out_dir, backup / "out")
        try:
            os.rename(scratch, out_dir)
        except OSError:
            os.rename(backup / "out", out_dir)
            raise
        shutil.rmtree(backup, ignore_errors=True)
        return
    assert force or not foreign
    for name in sorted((previous or set()) - set(names) - set(foreign)):
        stale = out_dir / name
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    for name in names:
        target = out_dir / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif (scratch / name).is_dir() and (target.exists() or target.is_symlink()):
            target.unlink()  # a file of an older version (ledger.parquet) becomes a folder
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(scratch / name, target)


def is_amount_column(name: object) -> bool:
    """Amounts in 万元 carry `_wan` in their name (`mean_wan`, `revenue_wan_p95`, `diff_p05_wan`)."""
    text = str(name)
    return text.endswith("_wan") or "_wan_" in text


def _significant(values: pd.Series, digits: int) -> pd.Series:
    """Round to `digits` significant digits (shares and counts are read, not summed)."""
    return values.map(lambda x: float(f"{x:.{digits}g}") if pd.notna(x) else x)


def human_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as people read it: amounts to 0.01 万元, other decimals to 6 significant digits."""
    rounded = frame.copy()
    for column in rounded.columns:
        if not pd.api.types.is_float_dtype(rounded[column]):
            continue
        if is_amount_column(column):
            rounded[column] = rounded[column].round(2) + 0.0  # + 0.0 turns -0.0 into 0.0
        else:
            rounded[column] = _significant(rounded[column], 6)
    return rounded


def csv_writer(frame: pd.DataFrame, exact: bool = False) -> Writer:
    """UTF-8 with a BOM (so Chinese Excel reads it), `\\n` line ends, rounded unless `exact`.

    `exact` keeps full precision for files a program reads back (a simulated panel).
    """

    def write(path: Path) -> None:
        table = frame if exact else human_table(frame)
        table.to_csv(
            path,
            index=False,
            float_format=None if exact else "%.15g",
            lineterminator="\n",
            encoding="utf-8-sig",
        )

    return write


def json_writer(payload: Mapping[str, Any]) -> Writer:
    def write(path: Path) -> None:
        text = json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False)
        path.write_text(text + "\n", encoding="utf-8")

    return write


def jsonl_writer(records: list[dict[str, Any]]) -> Writer:
    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    return write
