"""Where a simulation's CPU time goes, by phase of the yearly loop (never asserted in tests).

    python benchmarks/phases.py [SCENARIO] [REPLICATES]

runs `simulate()` of a scenario on one core (the benchmark, 300 replicates, unless told) once to
warm up and three times timed, with each phase's functions wrapped to add up their CPU time; the
fastest round's phases are given. A phase's
time is exclusive: a phase called inside another is counted once, in the inner one. What no
wrapped function covers (the facts of a city-year, run order, slots, joining the batches) is
"other". The exit-and-growth pass is also given per firm-year, beside the whole ceiling loop's
(ceiling.py) per firm-year, because that comparison bounds what fusing the other phases could
reach. `make bench` stores the benchmark's breakdown under `benchmark_phases` in results.json.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# phase -> (object, attribute) wrapped; the objects are those the yearly loop looks the names up in
PHASES = {
    "exit and growth (compiled pass)": ("fiscalsim.simulation.world", "exit_and_grow"),
    "award engine": ("fiscalsim.simulation.world", "evaluate_year"),
    "event draws": ("fiscalsim.dynamics.events:EventDrawer", "draw"),
    "start populations": ("fiscalsim.simulation.world", "initial_population"),
    "start-population statistics": ("fiscalsim.simulation.world", "start_frame"),
    "entrants": ("fiscalsim.simulation.world", "entrants"),
    "booking awards and crossings": ("fiscalsim.simulation.collect:Collector", "city_year"),
    "population aggregates": ("fiscalsim.simulation.collect:Collector", "population"),
}


class Clock:
    """Exclusive CPU time per phase: entering a phase pauses the phase it was called from."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {name: 0.0 for name in PHASES}
        self.stack: list[list[Any]] = []  # [phase, CPU time when it last resumed]

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            now = time.process_time()
            if self.stack:
                self.seconds[self.stack[-1][0]] += now - self.stack[-1][1]
            self.stack.append([name, now])
            try:
                return function(*args, **kwargs)
            finally:
                now = time.process_time()
                self.seconds[name] += now - self.stack.pop()[1]
                if self.stack:
                    self.stack[-1][1] = now

        return timed


def _owner(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    module = __import__(module_name, fromlist=["_"])
    return getattr(module, attribute) if attribute else module


def _timed(model: Any, clock: Clock) -> tuple[float, dict[str, Any]]:
    """CPU seconds of one `simulate()` with every phase wrapped by `clock`, and its result."""
    from fiscalsim.simulation.montecarlo import simulate

    originals = []
    for name, (path, attribute) in PHASES.items():
        owner = _owner(path)
        original = owner.__dict__[attribute]
        static = isinstance(original, staticmethod)
        timed = clock.wrap(name, original.__func__ if static else original)
        setattr(owner, attribute, staticmethod(timed) if static else timed)
        originals.append((owner, attribute, original))
    try:
        started = time.process_time()
        result = simulate(model, workers=1)
        return time.process_time() - started, result
    finally:
        for owner, attribute, original in originals:
            setattr(owner, attribute, original)


def breakdown(scenario: Path, replicates: int, rounds: int = 3) -> dict[str, Any]:
    from fiscalsim.simulation.montecarlo import prepare, simulate

    prepared = prepare(scenario, replicates=replicates)
    simulate(prepared.model, workers=1)  # warm-up: imports, allocator, compiled code
    best: tuple[float, Clock, dict[str, Any]] | None = None
    for _ in range(rounds):  # the fastest round's phases: this machine's runs vary by 20%
        clock = Clock()
        total, result = _timed(prepared.model, clock)
        if best is None or total < best[0]:
            best = (total, clock, result)
    assert best is not None
    total, clock, result = best
    seconds = {**clock.seconds, "other": total - sum(clock.seconds.values())}
    firm_years = int(result["firm_years"])
    return {
        "scenario": scenario.name,
        "replicates": replicates,
        "firm_years": firm_years,
        "cpu_seconds": round(total, 3),
        "phases_cpu_seconds": {name: round(s, 3) for name, s in seconds.items()},
        "phases_share": {name: round(s / total, 3) for name, s in seconds.items()},
        "exit_and_growth_ns_per_firm_year": round(
            seconds["exit and growth (compiled pass)"] / firm_years * 1e9, 1
        ),
    }


def main() -> None:
    scenario = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "scenarios" / "benchmark.yaml"
    replicates = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    print(json.dumps(breakdown(scenario.resolve(), replicates), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
