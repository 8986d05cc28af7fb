"""summary.json of `fiscalsim run`: what the inputs determine (scenario, readings, assumptions,
spread), never how the run went (that is run.json)."""

from __future__ import annotations

from typing import Any

from fiscalsim import __version__
from fiscalsim.dynamics.events import process_places, rules_fed
from fiscalsim.paths import portable
from fiscalsim.rules.readings import describe
from fiscalsim.scenario import Scenario
from fiscalsim.scenario_load import LoadedScenario
from fiscalsim.series import year_axis
from fiscalsim.simulation.model import Model
from fiscalsim.uncertainty import budget_spread


def scenario_header(loaded: LoadedScenario) -> dict[str, Any]:
    """Who wrote the scenario, what it says it is, and exactly which inputs it ran on."""
    scenario = loaded.scenario
    return {
        "name": scenario.name,
        "title": scenario.title,
        "description": scenario.description,
        "description_zh": scenario.description_zh or "",
        "author": scenario.author,
        "sources": list(scenario.sources),
        "path": portable(loaded.path),
        "sha256": loaded.digest,
        "changes": [{"path": path, "value": value} for path, value in loaded.changes],
    }


def _dynamics_sources(scenario: Scenario, chinese: bool) -> dict[str, str]:
    """Where the growth, exit, entry, history and (issue 12) responses come from: `source`, or
    `source_zh` where given."""
    blocks: dict[str, Any] = {
        "growth": scenario.dynamics.growth,
        "exit": scenario.dynamics.exit,
        "entry": scenario.dynamics.entry,
        "history": scenario.population.history,
    }
    for part in ("entry", "growth", "bunching"):  # only the responses the scenario sets
        block = getattr(scenario.dynamics.responses, part, None)
        if block is not None:
            blocks[f"response_{part}"] = block
    if chinese:
        return {key: block.source_zh for key, block in blocks.items() if block.source_zh}
    return {key: block.source for key, block in blocks.items()}


def assumptions(model: Model, paid_rules: frozenset[int]) -> dict[str, Any]:
    """The assumptions behind the clauses that paid, the events, the population and dynamics."""
    book, scenario = model.book, model.scenario
    paid = {book.rules[r].id for r in paid_rules}
    fed = rules_fed(list(scenario.dynamics.events), book, scenario.name)
    return {
        "clauses": [
            {"clause_id": c.id, **note}
            for c in book.rules
            if c.id in paid
            for note in c.rule.assumption_pairs()
        ],
        "events": [
            {
                "process": e.name,
                "city": e.city,
                "clauses": fed[e.name],
                "places": process_places(e, book.registry, scenario.name),
                "note": e.assumption,
                "note_zh": e.assumption_zh or "",
                "source": e.source,
            }
            for e in scenario.dynamics.events
        ],
        "population": [
            {"city": s.city, "class": s.industry_class, "source": s.source}
            for p in model.plans
            for s in p.segments
        ],
        "dynamics": _dynamics_sources(scenario, chinese=False),
        "dynamics_zh": _dynamics_sources(scenario, chinese=True),  # where the scenario gives it
    }


def run_summary(
    loaded: LoadedScenario,
    model: Model,
    paid_rules: frozenset[int],
    cash: Any,
    first_year: int,
) -> dict[str, Any]:
    """summary.json: the scenario, seed, years, readings, assumptions and the spread of cash."""
    book, scenario = model.book, model.scenario
    return {
        "fiscalsim_version": __version__,
        "kind": "run",
        "scenario": scenario_header(loaded),
        "seed": scenario.seed,
        "replicates": scenario.replicates,
        "years": [first_year, scenario.horizon],
        "units": "万元 (10,000 yuan); obligation = performance year, cash = payment year",
        "readings": describe(list(book.policies), scenario.readings),
        "assumptions": assumptions(model, paid_rules),
        "uncertainty": budget_spread(
            cash,
            book.registry,
            year_axis(book, first_year, scenario.horizon),
            scenario.population.replicates_per_start,
        ),
        "not_costed": [
            {
                "clause_id": r.id,
                "kind": r.amount.kind,
                "notes": r.notes,
                "notes_zh": r.notes_zh or "",
            }
            for _p, r in book.uncosted
        ],
    }
