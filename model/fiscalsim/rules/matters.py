"""The Chinese names of the 就高不重复 matters (data/matters.yaml).

A costed rule names its matter by an id (`revenue_threshold_digital_tech`), which the engine
groups by and the CSVs keep. A finance bureau reads the workbook in Chinese, where an id told it
nothing; the names are data, written from the titles of the clauses that share each matter.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from fiscalsim.paths import DATA_DIR
from fiscalsim.rules.schema import FactName

MATTERS_FILE = DATA_DIR / "matters.yaml"


class MattersFile(BaseModel):
    """data/matters.yaml: each matter's Chinese name."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    schema_version: Literal[1]
    matters: dict[FactName, Annotated[str, Field(min_length=2, max_length=60)]] = Field(
        min_length=1
    )


@cache
def matter_names() -> dict[str, str]:
    """Matter id -> its Chinese name; a matter of a user's own policy file may have none."""
    from fiscalsim.rules.loader import parse_model
    from fiscalsim.yamlfile import read_yaml_mapping

    parsed = parse_model(MattersFile, read_yaml_mapping(MATTERS_FILE), MATTERS_FILE)
    return dict(parsed.matters)
