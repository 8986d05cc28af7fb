"""Where the Monte Carlo runs: in this process (the default), a local Dask cluster, or a
running Dask scheduler.

    --scheduler inprocess        this process (and its --workers pool), no Dask needed
    --scheduler local:N          a dask.distributed LocalCluster of N worker processes
    --scheduler tcp://HOST:PORT  a scheduler started elsewhere (`dask scheduler`, `dask worker`)

A command opens the scheduler once (`use_scheduler`) and every simulation inside it runs there
(`montecarlo.simulate` asks `active_client()`), so a sweep of many models reuses one cluster and
the layers between the command line and the simulation need no new parameter. Dask is imported
only when a cluster is asked for.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from fiscalsim.errors import InputError

OPTION = "--scheduler"
MAX_LOCAL_WORKERS = 256
CONNECT_TIMEOUT_S = 10  # how long to wait for a tcp:// scheduler before saying it is unreachable
TIMEOUT_VARIABLE = "FISCALSIM_CONNECT_TIMEOUT_S"  # another wait, in seconds (a slow network)
_ADDRESS = re.compile(r"^tcp://(?P<host>[A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$")
_LOCAL = re.compile(r"^local:(?P<n>\d+)$")


@dataclass(frozen=True)
class SchedulerSpec:
    """A parsed --scheduler value: kind 'inprocess', 'local' (with workers) or 'tcp' (address)."""

    kind: str
    workers: int = 0
    address: str = ""

    def describe(self) -> str:
        if self.kind == "local":
            return f"local:{self.workers}"
        return self.address or self.kind


def parse_scheduler(value: str | None, where: str = OPTION) -> SchedulerSpec:
    """The --scheduler value, checked before anything runs; a bad one is one InputError."""
    text = (value or "inprocess").strip()
    if text in ("inprocess", "in-process", ""):
        return SchedulerSpec("inprocess")
    local = _LOCAL.match(text)
    if local:
        n = int(local.group("n"))
        if not 1 <= n <= MAX_LOCAL_WORKERS:
            raise InputError(where, text, f"local:N needs 1 <= N <= {MAX_LOCAL_WORKERS} workers")
        return SchedulerSpec("local", workers=n)
    address = _ADDRESS.match(text)
    if address:
        if not 0 < int(address.group("port")) < 65536:
            raise InputError(where, text, "the port must be between 1 and 65535")
        return SchedulerSpec("tcp", address=text)
    raise InputError(
        where, text, "expected 'inprocess', 'local:N' (N worker processes) or 'tcp://HOST:PORT'"
    )


def checked_scheduler(value: str | None, workers: int | None) -> SchedulerSpec:
    """The --scheduler of a command that also has --workers (the in-process pool's size)."""
    spec = parse_scheduler(value)
    if spec.kind != "inprocess" and workers is not None:
        raise InputError(
            "--workers",
            str(workers),
            f"sizes the in-process pool; with --scheduler {spec.describe()} the cluster's "
            "workers do the work (local:N sets their number)",
        )
    return spec


_ACTIVE: ContextVar[Any | None] = ContextVar("fiscalsim_dask_client", default=None)


def active_client() -> Any | None:
    """The dask.distributed Client simulations should use now, or None for in-process."""
    return _ACTIVE.get()


def scheduler_label() -> str:
    """Where simulations run now, for run.json: "inprocess" or the Dask scheduler's address."""
    client = active_client()
    if client is None:
        return "inprocess"
    return str(getattr(getattr(client, "scheduler", None), "address", None) or "dask")


@contextmanager
def use_scheduler(value: str | SchedulerSpec | None) -> Iterator[SchedulerSpec]:
    """Run the simulations inside the block on the scheduler `value` names (see module doc).

    A tcp:// scheduler that does not answer, or a Dask that is not installed, is an InputError
    raised on entry, before any output exists."""
    spec = value if isinstance(value, SchedulerSpec) else parse_scheduler(value)
    if spec.kind == "inprocess":
        yield spec
        return
    client, cluster = _connect(spec)
    try:
        with use_client(client):
            yield spec
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def use_client(client: Any) -> Iterator[Any]:
    """Run the simulations inside the block on an open dask.distributed Client (notebooks,
    tests, or a program that manages its own cluster); the caller closes it."""
    token = _ACTIVE.set(client)
    try:
        yield client
    finally:
        _ACTIVE.reset(token)


def _connect(spec: SchedulerSpec) -> tuple[Any, Any | None]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise InputError(
            OPTION,
            spec.describe(),
            "dask.distributed is not installed (pip install 'dask[distributed]')",
        ) from None
    if spec.kind == "local":
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=spec.workers,
            threads_per_worker=1,  # the simulation is numpy code that holds the GIL in places
            processes=True,
            dashboard_address=":0",  # any free port: never clash with another cluster
            silence_logs=logging.ERROR,
        )
        return Client(cluster), cluster  # type: ignore[no-untyped-call]
    wait = os.environ.get(TIMEOUT_VARIABLE, str(CONNECT_TIMEOUT_S))
    if not re.fullmatch(r"\d{1,4}(\.\d+)?", wait) or float(wait) <= 0:
        raise InputError(TIMEOUT_VARIABLE, wait, "give a positive number of seconds")
    try:
        client = Client(spec.address, timeout=f"{wait}s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as error:
        raise InputError(
            OPTION, spec.address, f"no Dask scheduler answers there ({type(error).__name__})"
        ) from None
    return client, None
