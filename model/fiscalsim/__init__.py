"""fiscalsim: what local enterprise-incentive policies cost, and which budget pays."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path
from typing import Any

__version__ = "0.2.0"

_API = ("run_scenario", "compare", "sweep", "target", "butfor")


def source_digest(root: Path) -> str:
    """A digest of every Python source file under `root` (names and contents)."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def numba_cache_dir(root: Path) -> Path:
    """Where the compiled functions of the package at `root` are cached.

    Numba checks a cached function against its own file only: after an edit to numerics.py,
    the kernel that inlines its functions would load its old machine code. So the cache lives
    in a folder named by a digest of the package's sources, and any edit starts a fresh one:
    beside the sources if they can be written, else in the user's cache folder."""
    name = f"numba-{source_digest(root)}"
    if os.access(root, os.W_OK):
        return root / "__pycache__" / name
    return Path.home() / ".cache" / "fiscalsim" / name


def _use_numba_cache() -> None:
    """Point numba at `numba_cache_dir` unless the user chose a NUMBA_CACHE_DIR. A folder of
    this scheme inherited from another fiscalsim (a parent process, another checkout) is not
    a choice: each package uses its own."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen and not re.fullmatch(r"numba-[0-9a-f]{16}", Path(chosen).name):
        return
    folder = str(numba_cache_dir(Path(__file__).resolve().parent))
    os.environ["NUMBA_CACHE_DIR"] = folder  # read by numba when it is imported
    if "numba" in sys.modules:  # imported first: its functions made from now on use the folder
        sys.modules["numba"].config.CACHE_DIR = folder


_use_numba_cache()


def __getattr__(name: str) -> Any:
    """The Python API, imported on first use so the command line starts fast."""
    if name in _API:
        from fiscalsim import api

        return getattr(api, name)
    raise AttributeError(f"module 'fiscalsim' has no attribute {name!r}")
