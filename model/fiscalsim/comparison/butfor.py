"""`butfor`: the policy with behavioural responses against the no-policy counterfactual.

Three variants on the same keyed draws: the policy without responses and the counterfactual
(every award off, every response off) share one simulation of the firms; the policy with
responses is a separate simulation of the same firms (same keys, same draws), so what differs
is only what the responses change. With responses off, all three are one simulation and the
windfall share is exactly 100%.

The responses come from `--responses FILE`, else the scenario's `dynamics.responses`, else the
stated default set data/calibration/responses.yaml. The sensitivity table re-simulates the
responding world once per value of its grid (one parameter at a time, the others at their
value), reusing the counterfactual.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from fiscalsim.comparison.windfall import ALL, Simulated, measures
from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import Registry, load_registry
from fiscalsim.paths import DATA_DIR, portable
from fiscalsim.responses_schema import Responses, ResponsesFile, with_value
from fiscalsim.rules.loader import parse_model
from fiscalsim.scenario_load import LoadedScenario, load_scenario
from fiscalsim.simulation.montecarlo import VariantSpec, build_models, simulate, with_run_options
from fiscalsim.yamlfile import read_yaml_mapping

DEFAULT_RESPONSES = DATA_DIR / "calibration" / "responses.yaml"
SENSITIVITY_COLUMNS = [
    "spending_mean_wan",
    "windfall_share_mean",
    "induced_crossings_mean",
    "induced_firms_mean",
    "induced_revenue_mean_wan",
    "cost_per_induced_crossing_mean_wan",
    "cost_per_induced_firm_mean_wan",
]
UNITS = {
    "semi_elasticity": "% more entrants per 1% of revenue paid as awards",
    "max_uplift": "cap on extra entrants, share of the base entry rate",
    "award_to_growth": "extra ln-growth per unit of award / revenue",
    "max_step": "cap on the extra ln-growth of one year",
    "band": "share of the tier below it within which firms may bunch",
    "share": "probability that a firm in the band bunches",
}
UNITS_ZH = {
    "semi_elasticity": "奖励每相当于营业收入的1%，新设企业增加的百分比",
    "max_uplift": "新增新设企业的上限，占基础进入率的比例",
    "award_to_growth": "每单位（奖励/营业收入）带来的额外对数增长",
    "max_step": "一年额外对数增长的上限",
    "band": "档位门槛以下可能集中确认收入的区间，占门槛的比例",
    "share": "区间内企业集中确认收入的概率",
}


def read_responses(path: Path) -> ResponsesFile:
    return parse_model(ResponsesFile, read_yaml_mapping(path), path)


def with_responses(loaded: LoadedScenario, responses: Responses | None) -> LoadedScenario:
    """The scenario with its dynamics' responses replaced (None: no response)."""
    scenario = loaded.scenario
    dynamics = scenario.dynamics.model_copy(update={"responses": responses})
    return replace(loaded, scenario=scenario.model_copy(update={"dynamics": dynamics}))


def no_policy(loaded: LoadedScenario) -> LoadedScenario:
    """Every award off: no policy file, and no event process (events only feed award rules;
    the firms' dynamics, hence the simulation shared with the policy, are unchanged)."""
    dynamics = loaded.scenario.dynamics.model_copy(update={"events": []})
    scenario = loaded.scenario.model_copy(update={"dynamics": dynamics})
    return replace(loaded, scenario=scenario, policies=())


@dataclass(frozen=True)
class ButforResult:
    table: pd.DataFrame
    elasticities: pd.DataFrame
    sensitivity: pd.DataFrame | None
    responses: Responses | None
    responses_from: str
    induced_share_range: tuple[float, float] | None
    induced_share_source: str | None
    loaded: LoadedScenario


def elasticity_rows(responses: Responses | None) -> pd.DataFrame:
    """Every response parameter in force, its unit, and its source or assumption flag."""
    rows: list[dict[str, Any]] = []
    for part in ("entry", "growth", "bunching"):
        block = getattr(responses, part) if responses is not None else None
        if block is None:
            continue
        for name, value in block.model_dump(exclude={"source", "source_zh", "assumption"}).items():
            rows.append(
                {
                    "response": part,
                    "parameter": name,
                    "value": float(value),
                    "unit": UNITS.get(name, ""),
                    "assumption": "yes" if block.assumption else "no",
                    "source": block.source,
                    "unit_zh": UNITS_ZH.get(name, ""),
                    "source_zh": block.source_zh or "",
                }
            )
    columns = [
        "response",
        "parameter",
        "value",
        "unit",
        "assumption",
        "source",
        "unit_zh",
        "source_zh",
    ]
    return pd.DataFrame(rows, columns=columns)


class _Runner:
    """Simulations of one scenario: the shared counterfactual once, responding worlds on demand."""

    def __init__(
        self,
        loaded: LoadedScenario,
        registry: Registry,
        workers: int | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.loaded = loaded
        self.registry = registry
        self.workers = workers
        self.progress = progress

    def worlds(self, responses: Responses | None) -> tuple[Simulated, Simulated, dict[str, Any]]:
        """(responding world, no-policy counterfactual, ledger of the policy without responses)."""
        off = with_responses(self.loaded, None)
        specs = [
            VariantSpec("policy_without_responses", off),
            VariantSpec("no_policy", no_policy(off)),
            VariantSpec("policy", with_responses(self.loaded, responses)),
        ]
        found: dict[int, Simulated] = {}
        for model, members in build_models(specs, self.registry):
            result = simulate(model, workers=self.workers, progress=self.progress)
            for variant, position in enumerate(members):
                found[position] = Simulated(model, variant, result)
        if found[1].ledger["amount_wan"].size:
            raise AssertionError("the no-policy counterfactual booked an award")
        self.counterfactual, self.unresponsive = found[1], found[0].ledger
        return found[2], found[1], found[0].ledger

    def responding(self, responses: Responses) -> Simulated:
        """Only the responding world (the counterfactual is already simulated)."""
        spec = VariantSpec("policy", with_responses(self.loaded, responses))
        [(model, _)] = build_models([spec], self.registry)
        return Simulated(model, 0, simulate(model, workers=self.workers, progress=self.progress))


def _choose(
    loaded: LoadedScenario, responses_file: Path | None, no_responses: bool
) -> tuple[Responses | None, str, ResponsesFile | None]:
    if no_responses and responses_file is not None:
        raise InputError(
            "--no-responses", None, "give --responses FILE or --no-responses, not both"
        )
    if no_responses:
        return None, "none (--no-responses)", None
    if responses_file is not None:
        data = read_responses(responses_file)
        return data.responses, portable(responses_file), data
    own = loaded.scenario.dynamics.responses
    default = read_responses(DEFAULT_RESPONSES)
    if own is not None:
        return own, f"{portable(loaded.path)} dynamics.responses", default
    return default.responses, portable(DEFAULT_RESPONSES), default


def butfor(
    path: Path,
    responses_file: Path | None = None,
    no_responses: bool = False,
    sensitivity: bool = True,
    replicates: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ButforResult:
    """The but-for table, the elasticities used and (unless told not to) the sensitivity table."""
    registry = load_registry()
    loaded = with_run_options(load_scenario(path, registry), replicates, seed)
    responses, origin, data = _choose(loaded, responses_file, no_responses)
    runner = _Runner(loaded, registry, workers, progress)
    on, counterfactual, unresponsive = runner.worlds(responses)
    table = measures(on, counterfactual, unresponsive)
    grid: pd.DataFrame | None = None
    if sensitivity and responses is not None and data is not None:
        grid = _sensitivity(runner, responses, data, table, counterfactual, unresponsive)
    return ButforResult(
        table=table,
        elasticities=elasticity_rows(responses),
        sensitivity=grid,
        responses=responses,
        responses_from=origin,
        induced_share_range=data.induced_share_range if data is not None else None,
        induced_share_source=data.induced_share_source if data is not None else None,
        loaded=loaded,
    )


def _sensitivity(
    runner: _Runner,
    responses: Responses,
    data: ResponsesFile,
    table: pd.DataFrame,
    counterfactual: Simulated,
    unresponsive: dict[str, Any],
) -> pd.DataFrame:
    """Window totals (cash) of every budget for each grid value, one parameter at a time
    (`table` is the but-for table of the responses in force)."""
    parts: list[pd.DataFrame] = []
    for param, values in data.sensitivity.values.items():
        for value in values:
            try:
                varied = with_value(responses, param, value)
            except ValueError:
                continue  # the responses in force have no such block: nothing to vary
            if varied == responses:  # the value in force: the main table already has it
                point = table
            else:
                point = measures(runner.responding(varied), counterfactual, unresponsive)
            rows = point[(point["year"].astype(str) == "total") & (point["basis"] == "cash")]
            keep = rows[["jurisdiction", "payer_level", *SENSITIVITY_COLUMNS]].copy()
            keep.insert(0, "value", float(value))
            keep.insert(0, "param", param)
            parts.append(keep)
    if not parts:
        return pd.DataFrame(columns=["param", "value", "jurisdiction", "payer_level"])
    frame = pd.concat(parts, ignore_index=True)
    order = frame["jurisdiction"] != ALL
    return (
        frame.assign(_o=order)
        .sort_values(["_o", "param", "value"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def summary(result: ButforResult, command: str) -> dict[str, Any]:
    """summary.json: what ran, with which responses, and how to read the table."""
    from fiscalsim import __version__
    from fiscalsim.run_summary import scenario_header

    low_high = result.induced_share_range
    return {
        "fiscalsim_version": __version__,
        "kind": "butfor",
        "scenario": scenario_header(result.loaded),
        "seed": result.loaded.scenario.seed,
        "replicates": result.loaded.scenario.replicates,
        "responses_from": result.responses_from,
        "responses": result.responses.model_dump() if result.responses is not None else None,
        "induced_share_range": list(low_high) if low_high is not None else None,
        "induced_share_source": result.induced_share_source,
        "units": "万元; shares 0-1; counts of crossings and firms per replicate",
        "reading": (
            "windfall = award money the policy world pays for what the firm also does without "
            "the policy (the same award in the world without responses); induced = the "
            "responding world less the no-policy counterfactual on the same random numbers; "
            "year 'total' sums crossings and revenue over the window and counts induced firms "
            "alive at the horizon"
        ),
        "command": command,
    }
