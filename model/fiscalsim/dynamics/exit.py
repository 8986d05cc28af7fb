"""Exit: an annual hazard by age (peaking in the third year, SAIC 2013), lower for larger firms.

Age is years since founding, 0 in the founding year (dynamics.yaml conventions). A firm of the
start population or an incumbent faces the hazard of its age in the year exits are drawn; an
entrant, which joins at the end of its founding year, first survives that year's age-0 hazard.
"""

from __future__ import annotations

import numpy as np

from fiscalsim.scenario import Exit


def hazard(exit_spec: Exit, age: np.ndarray, revenue_wan: np.ndarray) -> np.ndarray | float:
    table = np.asarray(exit_spec.hazard_by_age)
    if table.size == 1 and exit_spec.size_gamma == 0:
        return float(table[0])  # one hazard for every firm
    base = table[np.clip(age, 0, table.size - 1)]
    if exit_spec.size_gamma == 0:
        return base
    modifier = np.power(
        np.maximum(revenue_wan, 1e-9) / exit_spec.size_reference_wan, -exit_spec.size_gamma
    )
    modifier = np.maximum(modifier, exit_spec.size_multiplier_min)
    return np.minimum(base * modifier, 1.0)
