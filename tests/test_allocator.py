"""A simulating process reuses the memory it frees (simulation/allocator.py): a year's arrays,
made again after last year's are freed, cost no new page faults."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fiscalsim.simulation.allocator import keep_freed_memory

# a fresh process makes a 24 MB array, frees it, makes it again: page faults of the second
PROBE = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from fiscalsim.simulation.allocator import keep_freed_memory
    assert keep_freed_memory()
a = np.ones(3 * 2**20)
del a
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
b = np.ones(3 * 2**20)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(run.stdout)


def test_freed_arrays_are_reused_without_page_faults() -> None:
    if not keep_freed_memory():
        pytest.skip("no glibc mallopt here")
    assert _faults("keep") <= 1
    assert _faults("default") > 1  # glibc's defaults hand the block back: the probe can fail
