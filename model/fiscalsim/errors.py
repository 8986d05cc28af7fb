"""One error type for bad input, so the CLI can print one line and exit 2 without a traceback."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad user input: a file, the row or field in it, and what is wrong, on one line."""

    def __init__(self, source: str | Path, where: str | None, problem: str) -> None:
        self.source = str(source)
        self.where = where
        self.problem = " ".join(problem.split())
        location = f"{self.source}: {where}" if where else self.source
        super().__init__(f"{location}: {self.problem}")
