"""--scheduler: the Monte Carlo on a real Dask LocalCluster gives the in-process files, also when
a worker is killed mid-run; bad scheduler values are one line and exit 2, nothing written."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

from fiscalsim import run_blocks
from fiscalsim.comparison.evaluate import evaluate
from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import load_registry
from fiscalsim.paths import REPO_DIR
from fiscalsim.run import run_scenario
from fiscalsim.scenario_load import load_scenario
from fiscalsim.simulation.montecarlo import Prepared, VariantSpec, prepare, with_run_options
from fiscalsim.simulation.scheduler import parse_scheduler, use_client
from tests.helpers import run_cli

distributed = pytest.importorskip("distributed")

BASELINE = REPO_DIR / "scenarios" / "baseline.yaml"
REPLICATES = 20
# 2 blocks (fewer than twice the 2 worker threads), so each is split by city: 2 x 3 city tasks,
# enough for two workers and a kill. test_many_blocks_are_not_split runs blocks of 5 whole.
BATCH = 10


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A real LocalCluster of two worker processes (with nannies that restart a killed one)."""
    import logging

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(BASELINE, replicates=REPLICATES, batch_replicates=BATCH)


@pytest.fixture(scope="module")
def in_process(prepared: Prepared, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inprocess") / "run"
    run_scenario(prepared, out, workers=1)
    return out


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def assert_same_files(expected: Path, got: Path, same_blocks: bool = True) -> None:
    """Every file byte for byte, except run.json (how the run went: seconds, workers) and the
    workbook, whose zip stamps the time of writing: its cells are compared instead. The
    ledger's parts are one per block of replicates: with other blocks (`same_blocks` False)
    their names differ and the ledger they hold together is compared instead."""
    names = _files(expected)
    if not same_blocks:
        ledger = [n for n in names if n.startswith("ledger.parquet/")]
        names = [n for n in names if n not in ledger]
        pd.testing.assert_frame_equal(
            pd.read_parquet(expected / "ledger.parquet"), pd.read_parquet(got / "ledger.parquet")
        )
    assert names == [n for n in _files(got) if same_blocks or not n.startswith("ledger.parquet/")]
    for name in names:
        if name == "run.json":
            continue
        if name.endswith(".xlsx"):
            assert _cells(expected / name) == _cells(got / name), name
        else:
            assert (expected / name).read_bytes() == (got / name).read_bytes(), name


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


@pytest.mark.slow
def test_local_cluster_files_identical_to_in_process(
    client: Any,
    prepared: Prepared,
    in_process: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    advanced: list[int] = []

    def not_here(*_args: object) -> None:
        raise AssertionError("the client wrote a part of the ledger")

    monkeypatch.setattr(run_blocks, "write_part", not_here)  # the workers are other processes
    submitted: list[str] = []
    original = client.submit

    def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
        submitted.append(getattr(function, "__name__", ""))
        return original(function, *args, **kwargs)

    monkeypatch.setattr(client, "submit", spy)
    with use_client(client):
        result = run_scenario(prepared, tmp_path / "run", progress=advanced.append)
    assert submitted.count("run_city") == 2 * 3  # 2 blocks split into the baseline's 3 cities
    assert sum(advanced) == REPLICATES  # progress: every replicate once
    assert result["results"]["ledger"]["rule"].size == 0  # the client never held the awards
    parts = sorted(p.name for p in (tmp_path / "run" / "ledger.parquet").iterdir())
    assert parts == [
        f"replicates-{r:06d}-{r + BATCH - 1:06d}.parquet" for r in range(0, REPLICATES, BATCH)
    ]
    assert_same_files(in_process, tmp_path / "run")


@pytest.mark.slow
def test_many_blocks_are_not_split(client: Any, in_process: Path, tmp_path: Path) -> None:
    """4 blocks of 5 on 2 worker threads (twice as many) run whole, no city tasks: the same
    files, the ledger in 4 parts."""
    many = prepare(BASELINE, replicates=REPLICATES, batch_replicates=5)
    submitted: list[str] = []
    with use_client(client):
        original = client.submit

        def spy(function: Any, *args: Any, **kwargs: Any) -> Any:
            submitted.append(getattr(function, "__name__", ""))
            return original(function, *args, **kwargs)

        client.submit = spy
        try:
            run_scenario(many, tmp_path / "run")
        finally:
            client.submit = original
    assert "run_city" not in submitted and submitted.count("run_block") == REPLICATES // 5
    assert len(list((tmp_path / "run" / "ledger.parquet").iterdir())) == REPLICATES // 5
    assert_same_files(in_process, tmp_path / "run", same_blocks=False)


@pytest.mark.slow
def test_killed_worker_loses_and_duplicates_nothing(
    client: Any, prepared: Prepared, in_process: Path, tmp_path: Path
) -> None:
    """SIGKILL a worker that is running a task as soon as the first block is done; Dask reruns
    its tasks (and the city results it held) elsewhere, and the files are the same."""
    killed: list[int] = []

    def kill_busy_worker(_n: int) -> None:
        if killed:
            return
        pids = client.run(os.getpid)
        busy = [w for w, keys in client.processing().items() if keys and w in pids]
        assert busy, "no worker was running a task when the first block finished"
        killed.append(pids[busy[0]])
        os.kill(pids[busy[0]], signal.SIGKILL)

    with use_client(client):
        run_scenario(prepared, tmp_path / "run", progress=kill_busy_worker)
    assert killed and killed[0] not in client.run(os.getpid).values()
    assert_same_files(in_process, tmp_path / "run")


@pytest.mark.slow
def test_variants_reduced_on_workers_equal_in_process(client: Any) -> None:
    """compare/sweep/target path: per-replicate payer totals reduced in the workers."""
    registry = load_registry()
    loaded = with_run_options(load_scenario(BASELINE, registry), replicates=6, batch_replicates=2)
    specs = [
        VariantSpec("base", loaded),
        VariantSpec("since_policy", loaded, {"first_reach": "since_policy"}),
    ]
    for keep in ("replicates", "means"):
        expected = evaluate(specs, workers=1, keep=keep, registry=registry)
        with use_client(client):
            got = evaluate(specs, keep=keep, registry=registry)
        for a, b in zip(expected, got, strict=True):
            assert a.payer.keys.equals(b.payer.keys)
            assert np.array_equal(a.payer.amount_wan, b.payer.amount_wan)
            assert a.payer.amount_wan.tobytes() == b.payer.amount_wan.tobytes()
            assert a.payer.awards.tobytes() == b.payer.awards.tobytes()


@pytest.mark.slow
def test_cli_run_on_a_tcp_scheduler(client: Any, in_process: Path, tmp_path: Path) -> None:
    """`fiscalsim run --scheduler tcp://...` against a running scheduler: the in-process files
    (those were made in batches of 10, these in the scenario's batches: batching changes nothing)."""
    address = client.scheduler.address
    assert address.startswith("tcp://")
    out = tmp_path / "remote"
    done = run_cli(
        "run",
        str(BASELINE),
        "--replicates",
        str(REPLICATES),
        "--out",
        str(out),
        "--scheduler",
        address,
    )
    assert done.returncode == 0, done.stderr
    assert_same_files(in_process, out, same_blocks=False)


@pytest.mark.slow
def test_cli_sweep_on_a_tcp_scheduler(client: Any, tmp_path: Path) -> None:
    """sweep (per-replicate totals reduced on the workers) gives the in-process sweep.csv."""
    common = [
        "sweep",
        str(BASELINE),
        "--replicates",
        "4",
        "--set",
        "readings.tier_jump=every_tier,highest_only",
    ]
    local = run_cli(*common, "--out", str(tmp_path / "local"))
    remote = run_cli(
        *common, "--out", str(tmp_path / "remote"), "--scheduler", client.scheduler.address
    )
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr
    expected = (tmp_path / "local" / "sweep.csv").read_bytes()
    assert (
        expected == (tmp_path / "remote" / "sweep.csv").read_bytes()
    )  # summary.json: the command line


@pytest.mark.parametrize(
    "command",
    [
        ["compare", str(BASELINE), str(BASELINE)],
        ["sweep", str(BASELINE), "--set", "readings.tier_jump=every_tier"],
        [
            "target", str(BASELINE), "--param", "readings.tier_jump", "--jurisdiction", "ganzhou",
            "--payer", "city", "--ceiling", "1",
        ],
    ],
)  # fmt: skip
def test_comparison_commands_check_the_scheduler_first(tmp_path: Path, command: list[str]) -> None:
    done = run_cli(*command, "--out", str(tmp_path / "out"), "--scheduler", "local:0")
    assert done.returncode == 2 and "--scheduler: local:0:" in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "inprocess"),
        ("inprocess", "inprocess"),
        ("local:3", "local"),
        ("tcp://10.0.0.5:8786", "tcp"),
        ("tcp://scheduler.example:8786", "tcp"),
    ],
)
def test_parse_scheduler(value: str | None, kind: str) -> None:
    assert parse_scheduler(value).kind == kind


@pytest.mark.parametrize(
    "value",
    ["local", "local:0", "local:two", "tcp://host", "tcp://host:99999", "http://h:1", "8786"],
)
def test_parse_scheduler_rejects(value: str) -> None:
    with pytest.raises(InputError, match="--scheduler"):
        parse_scheduler(value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scheduler", "local:x"], "--scheduler: local:x: expected"),
        (["--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answers"),
        (["--scheduler", "local:2", "--workers", "2"], "--workers: 2: sizes the in-process"),
    ],
)
def test_bad_scheduler_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    wait = {"FISCALSIM_CONNECT_TIMEOUT_S": "1"}  # the refused port is waited for (10 s by default)
    done = run_cli("run", str(BASELINE), "--replicates", "2", "--out", str(out), *args, env=wait)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert not out.exists()


def test_a_bad_connect_timeout_is_one_line(tmp_path: Path) -> None:
    done = run_cli(
        "run", str(BASELINE), "--replicates", "1", "--out", str(tmp_path / "out"),
        "--scheduler", "tcp://127.0.0.1:9", env={"FISCALSIM_CONNECT_TIMEOUT_S": "soon"},
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "FISCALSIM_CONNECT_TIMEOUT_S: soon: give a positive number of seconds" in done.stderr
