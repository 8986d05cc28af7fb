"""Compiled code is never loaded for sources other than the ones it was compiled from."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numba
import pytest

import fiscalsim
import fiscalsim.dynamics.numerics as numerics
from fiscalsim import numba_cache_dir, source_digest

PACKAGE = Path(fiscalsim.__file__).resolve().parent


def test_an_edit_to_any_source_moves_the_cache(tmp_path: Path) -> None:
    copy = tmp_path / "fiscalsim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = numba_cache_dir(copy)
    assert before == copy / "__pycache__" / f"numba-{source_digest(PACKAGE)}"
    numerics_file = copy / "dynamics" / "numerics.py"  # inlined into the kernel, not its file
    numerics_file.write_text(numerics_file.read_text() + "\n# edited\n")
    after = numba_cache_dir(copy)
    assert after != before and after.parent == before.parent
    (copy / "dynamics" / "numerics.py").rename(copy / "dynamics" / "renamed.py")
    assert numba_cache_dir(copy) not in (before, after)


def test_sources_that_cannot_be_written_cache_in_the_users_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", lambda *_args, **_kwargs: False)
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    folder = numba_cache_dir(PACKAGE)
    assert folder.parent == tmp_path / ".cache" / "fiscalsim"
    assert folder.name == f"numba-{source_digest(PACKAGE)}"


def test_the_package_compiles_into_its_cache_folder() -> None:
    chosen = os.environ["NUMBA_CACHE_DIR"]
    if chosen != str(numba_cache_dir(PACKAGE)):
        pytest.skip("NUMBA_CACHE_DIR was set before the tests ran; the user's choice is kept")
    assert chosen == numba.config.CACHE_DIR
    cache = numerics.keyed_uniforms_of._cache  # the dispatcher's on-disk cache
    assert cache._cache_path.startswith(chosen + os.sep)


def test_a_folder_inherited_from_another_fiscalsim_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours = str(numba_cache_dir(PACKAGE))
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/elsewhere/__pycache__/numba-0123456789abcdef")
    monkeypatch.setattr(numba.config, "CACHE_DIR", "")
    fiscalsim._use_numba_cache()
    assert os.environ["NUMBA_CACHE_DIR"] == ours == numba.config.CACHE_DIR
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/my/own/cache")  # the user's own choice is kept
    fiscalsim._use_numba_cache()
    assert os.environ["NUMBA_CACHE_DIR"] == "/my/own/cache"
