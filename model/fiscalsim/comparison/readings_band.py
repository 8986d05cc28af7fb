"""The band of legal readings: every combination of the contested readings, on the same firms.

Each ambiguous phrase of a text is a reading with a default. Here every combination of the
readings that change something in the scenario is evaluated on the same simulated firms and
shocks, so the band shows the uncertainty of interpretation next to the uncertainty of the
economy, and which reading moves each budget most.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fiscalsim.comparison.evaluate import TOTAL_BY, evaluate
from fiscalsim.comparison.tables import aligned
from fiscalsim.jurisdictions import Registry, load_registry
from fiscalsim.rules.book import compile_rules
from fiscalsim.rules.readings import READING_CHOICES, applies
from fiscalsim.scenario_load import LoadedScenario
from fiscalsim.series import with_totals_all
from fiscalsim.simulation.montecarlo import VariantSpec

KEYS = ["jurisdiction", "payer_level", "year", "basis"]


def contested(loaded: LoadedScenario, registry: Registry) -> dict[str, tuple[str, ...]]:
    """Readings whose alternatives change some rule of the scenario, with their choices."""
    policies = list(loaded.policies)
    base = compile_rules(policies, registry, loaded.scenario.readings)
    base_signatures = [c.signature() for c in base.rules]
    found: dict[str, tuple[str, ...]] = {}
    for key, choices in READING_CHOICES.items():
        if not any(applies(key, p) for p in policies):
            continue
        for choice in choices:
            book = compile_rules(policies, registry, {**loaded.scenario.readings, key: choice})
            if [c.signature() for c in book.rules] != base_signatures:
                found[key] = choices
                break
    return found


def defaults(loaded: LoadedScenario, key: str) -> str:
    """The reading in force in the scenario: its own override, else the documents' default."""
    if key in loaded.scenario.readings:
        return loaded.scenario.readings[key]
    values = {getattr(p.readings, key) for p in loaded.policies if applies(key, p)}
    return sorted(values)[0] if len(values) == 1 else "per document"


@dataclass(frozen=True)
class Band:
    readings: pd.DataFrame  # one row per combination, budget line: its mean
    low_high: pd.DataFrame  # per budget line: lowest and highest mean over combinations
    influence: pd.DataFrame  # per budget (window total): the swing of each reading


def readings_band(
    loaded: LoadedScenario,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> Band:
    registry = registry or load_registry()
    choices = contested(loaded, registry)
    names = list(choices)
    combinations = list(itertools.product(*[choices[k] for k in names]))
    specs = [
        VariantSpec(
            ";".join(f"{k}={v}" for k, v in zip(names, combo, strict=True)),
            loaded,
            dict(zip(names, combo, strict=True)),
        )
        for combo in combinations
    ]
    outcomes = evaluate(specs, workers=workers, progress=progress, keep="means", registry=registry)
    series = with_totals_all([o.payer for o in outcomes], TOTAL_BY)
    keys, matrices = aligned(series, KEYS)
    means = np.hstack(matrices)  # (rows, combinations)
    frames = []
    for position, combo in enumerate(combinations):
        frame = keys.copy()
        for k, v in zip(names, combo, strict=True):
            frame[k] = v
        frame["mean_wan"] = means[:, position]
        frames.append(frame)
    readings = pd.concat(frames, ignore_index=True)[[*names, *KEYS, "mean_wan"]]
    low_high = keys.copy()
    low_high["readings_low_wan"] = means.min(axis=1) if means.size else np.nan
    low_high["readings_high_wan"] = means.max(axis=1) if means.size else np.nan
    influence = _influence(loaded, names, combinations, keys, means)
    return Band(readings, low_high, influence)


def _influence(
    loaded: LoadedScenario,
    names: Sequence[str],
    combinations: Sequence[tuple[str, ...]],
    keys: pd.DataFrame,
    means: np.ndarray,
) -> pd.DataFrame:
    """Per budget's window total (cash), the largest swing of each reading across combinations
    that agree on every other reading, and the reading that moves the budget most."""
    totals = ((keys["year"].astype(str) == "total") & (keys["basis"] == "cash")).to_numpy()
    rows = []
    for row in np.flatnonzero(totals):
        swings: dict[str, float] = {}
        for position, key in enumerate(names):
            groups: dict[tuple[str, ...], list[float]] = {}
            for c, combo in enumerate(combinations):
                rest = combo[:position] + combo[position + 1 :]
                groups.setdefault(rest, []).append(float(means[row, c]))
            # to 1e-6 万元: the means are summed batch by batch, so their last bits follow the
            # batch size (181.0 against 180.9999999999999), and so did summary.json and, on a
            # tie, the most influential reading
            swings[key] = round(max((max(v) - min(v) for v in groups.values()), default=0.0), 6)
        top = max(swings, key=lambda k: swings[k]) if swings else ""
        rows.append(
            {
                "jurisdiction": keys.at[row, "jurisdiction"],
                "payer_level": keys.at[row, "payer_level"],
                "most_influential_reading": top if swings.get(top, 0) > 0 else "",
                **{f"swing_{k}_wan": v for k, v in swings.items()},
            }
        )
    return pd.DataFrame(rows)
