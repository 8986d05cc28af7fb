"""The one award engine: firm-year facts in, awards booked to their payers out.

Used by the award calculator and by the simulation alike; there is no second implementation.
Evaluation is pure and deterministic: arrays in, arrays out, no I/O and no random draws.
"""

from fiscalsim.engine.evaluate import YearAwards, evaluate_year
from fiscalsim.engine.factview import FactTable
from fiscalsim.engine.state import EngineState

__all__ = ["EngineState", "FactTable", "YearAwards", "evaluate_year"]
