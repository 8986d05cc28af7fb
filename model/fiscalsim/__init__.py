"""fiscalsim: what local enterprise-incentive policies cost, and which budget pays."""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"

_API = ("run_scenario", "compare", "sweep", "target", "butfor")


def __getattr__(name: str) -> Any:
    """The Python API, imported on first use so the command line starts fast."""
    if name in _API:
        from fiscalsim import api

        return getattr(api, name)
    raise AttributeError(f"module 'fiscalsim' has no attribute {name!r}")
