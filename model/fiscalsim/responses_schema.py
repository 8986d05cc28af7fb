"""Behavioural responses to awards, as scenario data: off unless a scenario (or `butfor`) sets them.

Three responses, each optional, each with its source or the word 'assumption' saying why:

- entry: extra entrants into a city and class, a semi-elasticity of the entry rate to the award
  rate there (awards granted to the class this year / its revenue, the steady-state ratio of the
  present value of awards a new firm can expect to the present value of its revenue);
- growth: extra ln-growth the year after an award, `award_to_growth` x award / revenue;
- bunching: a share of firms within `band` below a revenue tier they have never reached shift
  revenue into the year (just reaching the tier) and lose the same amount the next year.

The numbers live in data/calibration/responses.yaml (the stated default set) or in a scenario's
`dynamics.responses`; none is in Python.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Sourced(_Strict):
    """Every response parameter says where it comes from, or that it is an assumption."""

    source: str = Field(min_length=1)
    source_zh: str | None = Field(default=None, min_length=1, description="the source in Chinese")
    assumption: bool = Field(description="true when the value is not taken from the source")


class EntryResponse(Sourced):
    semi_elasticity: Annotated[float, Field(ge=0, le=1000)] = Field(
        description="% more entrants per 1% of revenue paid as awards to the city's class"
    )
    max_uplift: Annotated[float, Field(ge=0, le=10)] = Field(
        description="cap on the extra entry rate as a share of the base rate (guards extremes)"
    )


class GrowthResponse(Sourced):
    award_to_growth: Annotated[float, Field(ge=0, le=100)] = Field(
        description="extra ln-growth per unit of award / revenue, the year after the award"
    )
    max_step: Annotated[float, Field(ge=0, le=5)] = Field(
        description="cap on the extra ln-growth of one year (an award can exceed revenue)"
    )


class BunchingResponse(Sourced):
    band: Annotated[float, Field(gt=0, lt=1)] = Field(
        description="firms with revenue in [tier x (1 - band), tier) may bunch over the tier"
    )
    share: Annotated[float, Field(ge=0, le=1)] = Field(
        description="probability that such a firm shifts revenue into the year"
    )


class Responses(_Strict):
    entry: EntryResponse | None = None
    growth: GrowthResponse | None = None
    bunching: BunchingResponse | None = None

    @property
    def active(self) -> bool:
        """True when any response can change a firm or an entrant."""
        return bool(
            (self.entry is not None and self.entry.semi_elasticity > 0)
            or (self.growth is not None and self.growth.award_to_growth > 0)
            or (self.bunching is not None and self.bunching.share > 0)
        )


SECTIONS: dict[str, type[Sourced]] = {
    "entry": EntryResponse,
    "growth": GrowthResponse,
    "bunching": BunchingResponse,
}
# Each response and parameter's short Chinese name (the butfor report's and workbook's).
RESPONSES_ZH = {"entry": "新设企业", "growth": "增长", "bunching": "集中确认"}
RESPONSE_PARAMETERS_ZH = {
    "entry.semi_elasticity": "新设企业·半弹性",
    "entry.max_uplift": "新设企业·增幅上限",
    "growth.award_to_growth": "增长·奖励转化系数",
    "growth.max_step": "增长·单年上限",
    "bunching.band": "集中确认·门槛下区间",
    "bunching.share": "集中确认·概率",
}
SensitivityPath = Literal["entry.semi_elasticity", "growth.award_to_growth", "bunching.share"]


class SensitivityGrid(_Strict):
    """Values of each response parameter to try, one at a time, the others at the default."""

    values: dict[SensitivityPath, list[Annotated[float, Field(ge=0)]]]
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _some(self) -> SensitivityGrid:
        for path, values in self.values.items():
            if not values:
                raise ValueError(f"values.{path} lists no value")
            section, name = path.split(".")
            limits = SECTIONS[section].model_fields[name].metadata  # the response's own bounds
            check: TypeAdapter[float] = TypeAdapter(Annotated[(float, *limits)])
            for i, value in enumerate(values):
                try:
                    check.validate_python(value)
                except ValidationError as error:
                    raise ValueError(f"values.{path}[{i}]: {error.errors()[0]['msg']}") from None
        return self


class ResponsesFile(_Strict):
    """data/calibration/responses.yaml: the default responses and the sensitivity grid."""

    schema_version: Literal[1]
    responses: Responses
    sensitivity: SensitivityGrid
    induced_share_range: tuple[float, float] | None = Field(
        default=None,
        description="the published range of induced shares the results are read against",
    )
    induced_share_source: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("induced_share_range"), list):
            data = {**data, "induced_share_range": tuple(data["induced_share_range"])}
        return data

    @model_validator(mode="after")
    def _range(self) -> ResponsesFile:
        if self.induced_share_range is not None:
            low, high = self.induced_share_range
            if not 0 <= low <= high <= 1:
                raise ValueError("induced_share_range: two shares, low then high, within 0..1")
        return self


def with_value(responses: Responses, path: str, value: float) -> Responses:
    """The responses with one parameter (`entry.semi_elasticity`, ...) set to `value`."""
    part, _, name = path.partition(".")
    current = getattr(responses, part)
    if current is None:
        raise ValueError(f"{path}: the responses set no '{part}' block to vary")
    return responses.model_copy(update={part: current.model_copy(update={name: float(value)})})
