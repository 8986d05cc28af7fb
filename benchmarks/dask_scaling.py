"""Dask scaling of the Monte Carlo (issue 13), measured; never asserted in tests.

A scenario (default scenarios/province_scale.yaml: Jiangxi's 100 county-level units) is simulated
on a LocalCluster of 1 and then of 2 worker processes, with the same seed, replicates and tasks.
For each: firm-years per second, the scaling efficiency (rate with 2 workers / (2 x rate with 1)),
the work done per worker CPU second (Dask's own cost, whatever else runs on the machine), the
client's peak memory and each worker's peak memory (ru_maxrss of the worker process). The
two results are checked to be the same numbers. The machine's load average is recorded with them:
on a shared machine it, not Dask, often sets the efficiency.

    .venv/bin/python benchmarks/dask_scaling.py [--replicates 40] [--scenario PATH] [--workers 1,2]

Results go to benchmarks/dask_results.json (one entry per run, newest last).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time this process has used (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(scenario: Path, replicates: int, workers: int) -> tuple[dict[str, Any], Any]:
    from fiscalsim.comparison.evaluate import reduce_to_payers
    from fiscalsim.simulation.montecarlo import batches, prepare, simulate
    from fiscalsim.simulation.scheduler import use_scheduler

    prepared = prepare(scenario, replicates=replicates)
    with use_scheduler(f"local:{workers}") as spec:
        from fiscalsim.simulation.scheduler import active_client

        client = active_client()
        client.run(prepare, scenario, replicates=2)  # warm the workers' imports, not timed
        load_before = os.getloadavg()[0]
        cpu_before = client.run(cpu_seconds)
        started = time.perf_counter()
        result = simulate(prepared.model, reduce=reduce_to_payers)
        seconds = time.perf_counter() - started
        cpu_after = client.run(cpu_seconds)
        cpu_each = sorted(cpu_after[w] - cpu_before.get(w, 0.0) for w in cpu_after)
        worker_cpu = sum(cpu_each)
        worker_peaks = sorted(client.run(peak_rss_mb).values())
    firm_years = int(result["firm_years"])
    return {
        "scheduler": spec.describe(),
        "replicates": replicates,
        "tasks": (  # as distributed.simulate_on cuts them
            f"{len(batches(prepared.model.scenario))} blocks"
            + (" x cities" if len(batches(prepared.model.scenario)) < 2 * workers else " whole")
        ),
        "seconds": round(seconds, 2),
        "firm_years": firm_years,
        "firm_years_per_second": round(firm_years / seconds),
        "worker_cpu_seconds": round(worker_cpu, 1),
        "worker_cpu_seconds_each": [round(c, 1) for c in cpu_each],  # balance between workers
        "firm_years_per_worker_cpu_second": round(firm_years / worker_cpu),
        "client_peak_mb": round(peak_rss_mb()),
        "worker_peak_mb": [round(p) for p in worker_peaks],
        "load_average_1min_before": round(load_before, 2),
    }, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=REPO / "scenarios" / "province_scale.yaml")
    parser.add_argument("--replicates", type=int, default=40)
    parser.add_argument("--workers", default="1,2")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    reference: Any = None
    for n in (int(w) for w in args.workers.split(",")):
        run, result = measure(args.scenario, args.replicates, n)
        payers = np.hstack([s.amount_wan for s in result["reduced"][0]])
        if reference is None:
            reference = payers
        run["same_numbers_as_first"] = bool(payers.tobytes() == reference.tobytes())
        runs.append(run)
        print(json.dumps(run, ensure_ascii=False))
    entry: dict[str, Any] = {
        "scenario": str(args.scenario.relative_to(REPO)),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "note": "machine shared with other jobs: see load_average_1min_before",
        "runs": runs,
    }
    if len(runs) >= 2:
        one, many = runs[0], runs[-1]
        workers = int(str(many["scheduler"]).split(":")[1]) / int(
            str(one["scheduler"]).split(":")[1]
        )
        entry["scaling_efficiency"] = round(
            many["firm_years_per_second"] / (workers * one["firm_years_per_second"]), 3
        )
        # The same work per CPU second whatever the number of workers means Dask adds no cost;
        # the wall-clock efficiency above also depends on whether the cores were free.
        entry["cpu_efficiency"] = round(
            many["firm_years_per_worker_cpu_second"] / one["firm_years_per_worker_cpu_second"], 3
        )
        print(
            f"scaling efficiency: {entry['scaling_efficiency']:.1%} (wall clock), "
            f"{entry['cpu_efficiency']:.1%} (work per worker CPU second)"
        )
    path = REPO / "benchmarks" / "dask_results.json"
    history = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps([*history, entry], ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
