"""The scenario file: which policies, which population, which dynamics, how many replicates.

Every parameter of the simulation lives here or in the files it names, with its source; the
code holds no number that a finance bureau might want to question.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from fiscalsim.errors import InputError
from fiscalsim.rules.loader import parse_model, read_yaml_mapping
from fiscalsim.rules.readings import check_reading
from fiscalsim.rules.schema import Condition, IndustryClass

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]


def _list_as_tuple(value: object) -> object:
    """YAML has no tuples: a two-item list is read as a pair (strict mode would refuse a list)."""
    return tuple(value) if isinstance(value, list) else value


YearPair = Annotated[tuple[int, int], BeforeValidator(_list_as_tuple)]
PositivePair = Annotated[tuple[Positive, Positive], BeforeValidator(_list_as_tuple)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class SizeDistribution(Strict):
    """Revenue (万元) of firms: a lognormal body, optionally with a Pareto tail above `tail_from_wan`."""

    log_mean: float
    log_sd: Positive
    floor_wan: NonNegative = 0.0
    tail_from_wan: Positive | None = None
    tail_alpha: Annotated[float, Field(gt=0.2, le=5)] | None = None
    max_wan: Positive | None = None

    @model_validator(mode="after")
    def _tail_complete(self) -> SizeDistribution:
        if (self.tail_from_wan is None) != (self.tail_alpha is None):
            raise ValueError("tail_from_wan and tail_alpha go together")
        return self


class Segment(Strict):
    """Firms of one city and NBS class at the start, spread over the city's county-level units."""

    city: str
    industry_class: IndustryClass
    firms: Annotated[int, Field(ge=0, le=2_000_000)]
    size: SizeDistribution
    county_weights: dict[str, Probability]
    rd_share_of_revenue: Annotated[float, Field(ge=0, le=1)] = 0.0
    rd_share_log_sd: NonNegative = 0.0
    rd_performing_share: Probability = 1.0
    source: str

    @model_validator(mode="after")
    def _weights_add_up(self) -> Segment:
        total = sum(self.county_weights.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"county_weights add up to {total:.6g}, not 1")
        return self


class History(Strict):
    """How the synthetic firms' past is drawn, so 'first reaches' is honest from the first year."""

    age_shares: dict[str, Probability] = Field(
        description="share of firms by age band at the start: keys 'a-b' years, inclusive"
    )
    declined_share: Probability
    decline_log_mean: NonNegative
    source: str


class Growth(Strict):
    """Annual change of ln(revenue): drift + common shock + size-dependent idiosyncratic shock."""

    drift_by_class: dict[IndustryClass, float | dict[int, float]]
    sigma0: Positive
    s0_wan: Positive
    beta: Annotated[float, Field(ge=0, le=1)] = 0.0
    sigma_min: NonNegative = 0.0
    sigma_max: Positive = 10.0
    young_age_multiplier: dict[str, Positive] = Field(default_factory=dict)
    shape: Literal["normal", "laplace"] = "normal"
    tail_clip_sigmas: Positive | None = None
    common_shock_sd: NonNegative = 0.0
    national_shock_sd: NonNegative = 0.0
    source: str


class Exit(Strict):
    hazard_by_age: list[Probability] = Field(min_length=1)
    size_reference_wan: Positive = 100.0
    size_gamma: NonNegative = 0.0
    size_multiplier_min: Probability = 0.0
    source: str


class Recruited(Strict):
    """Firms recruited from elsewhere (招商引资): larger than organic entrants."""

    per_year: dict[str, dict[IndustryClass, NonNegative]]
    size: SizeDistribution
    source: str


class Entry(Strict):
    """Poisson entrants per city and class each year, drawn from `size` or the start distribution."""

    per_year: dict[str, dict[IndustryClass, NonNegative]]
    size: SizeDistribution | None = None
    recruited: Recruited | None = None
    source: str


class Amount(Strict):
    """A drawn amount: lognormal (median, log sd) or Poisson count, optionally clipped."""

    median: Positive | None = None
    log_sd: NonNegative = 0.0
    poisson_mean: Positive | None = None
    fixed: NonNegative | None = None
    minimum: NonNegative | None = None
    maximum: Positive | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Amount:
        forms = [self.median is not None, self.poisson_mean is not None, self.fixed is not None]
        if sum(forms) != 1:
            raise ValueError("an amount is one of: median (+log_sd), poisson_mean, fixed")
        return self


class EventProcess(Strict):
    """Events that non-revenue clauses pay for: a Poisson number a year, given to eligible firms."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    city: str
    per_year: NonNegative
    years: YearPair | None = None
    sets: dict[str, NonNegative] = Field(default_factory=dict)
    draws: dict[str, Amount] = Field(default_factory=dict)
    eligible: list[Condition] = Field(default_factory=list)
    industry_classes: list[IndustryClass] = Field(default_factory=list)
    locations: list[str] = Field(default_factory=list)
    max_firm_age_years: int | None = None
    pick: Literal["uniform", "revenue_weighted"] = "uniform"
    once_per_firm: bool = False
    source: str
    assumption: str


class RdIntensity(Strict):
    median_share: Annotated[float, Field(ge=0, le=1)]
    log_sd: NonNegative
    performing_share: Probability


class Calibrated(Strict):
    """Segments fitted at load time to city-by-class firm counts (firms, above-scale, large)."""

    firm_counts: str
    county_weights: str
    cities: list[str] = Field(min_length=1)
    log_sd: Positive
    floor_wan: Positive
    large_wan: Positive
    max_wan: Positive
    tail_alpha_bounds: PositivePair = Field(
        description="tail indices outside these bounds mean the three counts do not fit the form"
    )
    rd_by_class: dict[IndustryClass, RdIntensity]
    source: str


class Population(Strict):
    start_year: int
    segments: list[Segment] = Field(default_factory=list)
    calibrated: Calibrated | None = None
    history: History
    above_scale_wan: Positive

    @model_validator(mode="after")
    def _one_source(self) -> Population:
        if bool(self.segments) == (self.calibrated is not None):
            raise ValueError("give either `segments` or `calibrated`, not both")
        return self


class Dynamics(Strict):
    growth: Growth
    exit: Exit
    entry: Entry
    events: list[EventProcess] = Field(default_factory=list)
    events_files: list[str] = Field(default_factory=list)


class Budget(Strict):
    """General public expenditure per paying government, to express spending as a share."""

    file: str | None = None


class Scenario(Strict):
    schema_version: Literal[1]
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title_zh: str
    description: str
    policies: list[str] = Field(min_length=1)
    readings: dict[str, str] = Field(default_factory=dict)
    horizon: Annotated[int, Field(ge=2000, le=2100)]
    replicates: Annotated[int, Field(ge=1, le=100_000)] = 1000
    seed: Annotated[int, Field(ge=0)] = 0
    batch_replicates: Annotated[int, Field(ge=1, le=100_000)] = 50
    population: Population
    dynamics: Dynamics
    budget: Budget = Field(default_factory=Budget)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for key, value in self.readings.items():
            check_reading(key, value, "readings")
        if self.horizon <= self.population.start_year:
            raise ValueError("horizon must come after population.start_year")
        return self


class EventsFile(Strict):
    schema_version: Literal[1]
    events: list[EventProcess]


def load_scenario(path: Path) -> tuple[Scenario, str]:
    """A validated scenario and the hash of the files it is built from."""
    raw = read_yaml_mapping(path)
    scenario = parse_model(Scenario, raw, path)
    digest = hashlib.sha256(path.read_bytes())
    events = list(scenario.dynamics.events)
    for name in scenario.dynamics.events_files:
        events_path = (path.parent / name).resolve()
        events_raw = read_yaml_mapping(events_path)
        events.extend(parse_model(EventsFile, events_raw, events_path).events)
        digest.update(events_path.read_bytes())
    dynamics = scenario.dynamics.model_copy(update={"events": events, "events_files": []})
    scenario = scenario.model_copy(update={"dynamics": dynamics})
    return scenario, digest.hexdigest()


def with_overrides(scenario: Scenario, updates: dict[str, int]) -> Scenario:
    """The scenario with command-line values, each held to the same limits as in the file."""
    for name, value in updates.items():
        field = Scenario.model_fields[name]
        adapter: TypeAdapter[object] = TypeAdapter(
            Annotated[field.annotation, *field.metadata, pydantic.Strict()]  # type: ignore[arg-type]
        )
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            message = str(exc.errors()[0]["msg"])
            raise InputError(f"--{name.replace('_', '-')}", None, message) from None
    return scenario.model_copy(update=updates)


def resolve(path: Path, name: str) -> Path:
    """A path in a scenario, relative to the scenario file."""
    return (path.parent / name).resolve()
