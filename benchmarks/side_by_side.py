"""This checkout against an earlier commit, side by side in one run (never asserted in tests).

    python benchmarks/side_by_side.py REV [ROUNDS]

checks REV out in a temporary git worktree and runs, alternating the two trees so that a slow
spell of the machine hits both:
- `simulate()` of the benchmark (300 replicates) and of the baseline (200 replicates) on one
  core, the fastest of three rounds in a process, ROUNDS processes each (2 unless told; CPU
  seconds): the machine moves by 5-10% within minutes, so a change of a few percent needs more;
- the whole benchmark command (`--workers 1`, CPU seconds of the process tree), twice each;
- the whole baseline command (1000 replicates on the machine's cores, wall seconds), three
  times each.
Each tree runs its own package (PYTHONPATH), its own scenario files and its own compiled cache,
in this checkout's virtual environment. The result goes to benchmarks/results.json under
`side_by_side_<REV>`.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")

SIMULATE = """
import sys, time
from pathlib import Path
from fiscalsim.simulation.montecarlo import prepare, simulate
prepared = prepare(Path(sys.argv[1]), replicates=int(sys.argv[2]))
simulate(prepared.model, workers=1)  # warm-up: imports, compiled code
best = float("inf")
for _ in range(3):
    started = time.process_time()
    simulate(prepared.model, workers=1)
    best = min(best, time.process_time() - started)
print(best)
"""
RUN = "import sys; from fiscalsim.cli import main; main(sys.argv[1:])"


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree / "model")}


def simulate_cpu(tree: Path, scenario: str, replicates: int) -> float:
    command = [PYTHON, "-c", SIMULATE, str(tree / "scenarios" / scenario), str(replicates)]
    done = subprocess.run(command, cwd=tree, env=_env(tree), capture_output=True, text=True)
    done.check_returncode()
    return round(float(done.stdout.split()[-1]), 3)


def command(tree: Path, arguments: list[str]) -> tuple[float, float]:
    """CPU seconds of the whole process tree and wall seconds of one `fiscalsim` command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-c", RUN, *arguments],
        cwd=tree,
        env=_env(tree),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return round(cpu, 2), round(wall, 2)


def compare(trees: dict[str, Path], out: Path, rounds: int) -> dict[str, dict[str, list[float]]]:
    found: dict[str, dict[str, list[float]]] = {name: {} for name in trees}

    def record(key: str, rounds: int, measure: Any) -> None:
        for _ in range(rounds):
            for name, tree in trees.items():
                found[name].setdefault(key, []).append(measure(name, tree))

    record("benchmark_simulate_cpu_s", rounds, lambda _n, t: simulate_cpu(t, "benchmark.yaml", 300))
    record(
        "baseline_simulate_200_cpu_s", rounds, lambda _n, t: simulate_cpu(t, "baseline.yaml", 200)
    )
    bench = ["run", "scenarios/benchmark.yaml", "--replicates", "300", "--workers", "1", "--force"]
    record(
        "benchmark_command_cpu_s",
        2,
        lambda n, t: command(t, [*bench, "--out", str(out / f"{n}-benchmark")])[0],
    )
    base = ["run", "scenarios/baseline.yaml", "--force"]
    record(
        "baseline_command_wall_s",
        3,
        lambda n, t: command(t, [*base, "--out", str(out / f"{n}-baseline")])[1],
    )
    return found


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python benchmarks/side_by_side.py REV [ROUNDS]")
    rounds = int(sys.argv[2]) if len(sys.argv) == 3 else 2
    rev = subprocess.run(
        ["git", "rev-parse", "--short", sys.argv[1]],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as scratch:
        earlier = Path(scratch) / "earlier"
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(earlier), rev], cwd=REPO, check=True
        )
        try:
            found = compare({"earlier": earlier, "now": REPO}, Path(scratch) / "out", rounds)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(earlier)], cwd=REPO)
    result: dict[str, Any] = {"earlier_commit": rev}
    for key in found["now"]:
        then, now = found["earlier"][key], found["now"][key]
        result[key] = {
            "earlier": then,
            "now": now,
            "speed_up": round(min(then) / min(now), 2),  # fastest against fastest
            "speed_up_median": round(statistics.median(then) / statistics.median(now), 2),
        }
    path = REPO / "benchmarks" / "results.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored[f"side_by_side_{rev}"] = result
    path.write_text(json.dumps(stored, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
