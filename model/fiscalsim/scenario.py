"""The scenario file: which policies, which population, which dynamics, how many replicates.

Every parameter of the simulation lives here or in the files it names, with its source; the
code holds no number that a finance bureau might want to question.
"""

from __future__ import annotations

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
from fiscalsim.jurisdictions import Registry
from fiscalsim.process.schema import Government, ProcessSettings
from fiscalsim.responses_schema import Responses
from fiscalsim.rules.book import CLASS_CODES
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


MAX_RATE_PER_YEAR = 100_000  # entrants or events a year per city and class: guards memory


def check_age_band(band: str) -> tuple[int, int]:
    """'a-b' (inclusive) or 'a' years of firm age; anything else is an error, not a crash later."""
    low, dash, high = band.partition("-")
    if not low.strip().isdigit() or (dash and not high.strip().isdigit()):
        raise ValueError(f"age band '{band}' must be 'a-b' or 'a' with whole years")
    first, last = int(low), int(high) if dash else int(low)
    if last < first or last > 200:
        raise ValueError(f"age band '{band}' must run from a lower to a higher age (at most 200)")
    return first, last


def _check_rates(per_year: dict[str, dict[str, float]], what: str) -> None:
    for city, by_class in per_year.items():
        for code, rate in by_class.items():
            if rate > MAX_RATE_PER_YEAR:
                raise ValueError(
                    f"{what}.{city}.{code}: {rate:g} a year is more than {MAX_RATE_PER_YEAR:,}"
                )


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


# Pareto tail indices a size distribution takes: thinner tails than 5 are lognormal in practice,
# and fatter ones than 0.2 have no usable mean; a calibration's search bounds stay inside them.
TAIL_ALPHA_ABOVE, TAIL_ALPHA_AT_MOST = 0.2, 5.0


class SizeDistribution(Strict):
    """Revenue (万元) of firms: a lognormal body, optionally with a Pareto tail above `tail_from_wan`."""

    log_mean: float
    log_sd: Positive
    floor_wan: NonNegative = 0.0
    tail_from_wan: Positive | None = None
    tail_alpha: Annotated[float, Field(gt=TAIL_ALPHA_ABOVE, le=TAIL_ALPHA_AT_MOST)] | None = None
    max_wan: Positive | None = None

    @model_validator(mode="after")
    def _tail_complete(self) -> SizeDistribution:
        if (self.tail_from_wan is None) != (self.tail_alpha is None):
            raise ValueError("tail_from_wan and tail_alpha go together")
        if not -20 <= self.log_mean <= 30:
            raise ValueError(f"log_mean {self.log_mean:g} is not a log of 万元 (-20 to 30)")
        if self.max_wan is not None and self.max_wan <= self.floor_wan:
            raise ValueError("max_wan must be above floor_wan")
        tail = self.tail_from_wan
        if self.max_wan is not None and tail is not None and self.max_wan <= tail:
            raise ValueError("max_wan must be above tail_from_wan")
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
    revenue_total_wan: Positive | None = Field(
        default=None, description="published or estimated start-year total the draw is held to"
    )
    total_from_wan: NonNegative = Field(
        default=0.0, description="the total counts firms at or above this revenue (规上 totals)"
    )
    total_tolerance: Probability = 0.05
    total_attempts: Annotated[int, Field(ge=1, le=100_000)] = 1
    known_revenue_wan: list[Positive] = Field(
        default_factory=list, description="publicly named firms, placed at their published sizes"
    )
    known_names: list[str] = Field(default_factory=list)
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
    source_zh: str | None = None  # the same in Chinese, for a Chinese report

    @model_validator(mode="after")
    def _bands_add_up(self) -> History:
        if not self.age_shares:
            raise ValueError("age_shares needs at least one band")
        for band in self.age_shares:
            check_age_band(band)
        total = sum(self.age_shares.values())
        if abs(total - 1) > 1e-3:
            raise ValueError(f"age_shares add up to {total:.6g}, not 1")
        return self


class Growth(Strict):
    """Annual change of ln(revenue): drift + common shock + size-dependent idiosyncratic shock."""

    drift_by_class: dict[IndustryClass, float | dict[int, float]] = Field(
        description="expected simple growth of a firm's revenue by class (and year)"
    )
    drift_offset_by_city: dict[str, dict[IndustryClass, float]] = Field(
        default_factory=dict, description="added to the class drift in a city (regional offsets)"
    )
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
    source_zh: str | None = None  # the same in Chinese, for a Chinese report

    @model_validator(mode="after")
    def _coherent(self) -> Growth:
        if self.sigma_max < self.sigma_min:
            raise ValueError("sigma_max is below sigma_min")
        for band in self.young_age_multiplier:
            check_age_band(band)
        for code, drift in self.drift_by_class.items():
            values = drift.values() if isinstance(drift, dict) else [drift]
            if any(abs(v) > 1 for v in values):  # a drift of 1 in ln revenue is +172% a year
                raise ValueError(
                    f"drift_by_class.{code}: a drift beyond ±1 a year is not plausible"
                )
            if isinstance(drift, dict) and any(not 1990 <= y <= 2100 for y in drift):
                raise ValueError(f"drift_by_class.{code}: years must lie in 1990-2100")
        return self


class Exit(Strict):
    hazard_by_age: list[Probability] = Field(min_length=1)
    size_reference_wan: Positive = 100.0
    size_gamma: NonNegative = 0.0
    size_multiplier_min: Probability = 0.0
    source: str
    source_zh: str | None = None  # the same in Chinese, for a Chinese report


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
    source_zh: str | None = None  # the same in Chinese, for a Chinese report

    @model_validator(mode="after")
    def _bounded(self) -> Entry:
        _check_rates(self.per_year, "per_year")  # type: ignore[arg-type]
        if self.recruited is not None:
            _check_rates(self.recruited.per_year, "recruited.per_year")  # type: ignore[arg-type]
        return self


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
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum:g} is above maximum {self.maximum:g}")
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
    max_firm_age_years: Annotated[int, Field(ge=0)] | None = None
    pick: Literal["uniform", "revenue_weighted"] = "uniform"
    once_per_firm: bool = False
    source: str
    assumption: str
    assumption_zh: str | None = None  # the same, in Chinese, for Chinese reports

    @model_validator(mode="after")
    def _bounded(self) -> EventProcess:
        if self.per_year > MAX_RATE_PER_YEAR:
            raise ValueError(f"per_year {self.per_year:g} is more than {MAX_RATE_PER_YEAR:,}")
        if self.years is not None and self.years[1] < self.years[0]:
            raise ValueError("years must be [first, last] with first <= last")
        if self.years is not None and not all(1990 <= y <= 2100 for y in self.years):
            raise ValueError(f"years {list(self.years)} must lie within 1990–2100")
        return self


class RdIntensity(Strict):
    median_share: Annotated[float, Field(ge=0, le=1)]
    log_sd: NonNegative
    performing_share: Probability


class CalibrationTolerances(Strict):
    """Pass/fail lines of the calibration report (method parameters, not data)."""

    total_mean: Probability = Field(description="segment total: |mean / target - 1| at most this")
    total_band: Probability = Field(
        description="segment total: P5 and P95 within target x (1 +- this)"
    )
    counts: Probability = Field(description="firm and above-scale counts: |mean / target - 1|")
    validation: Probability = Field(description="checks against facts not used in fitting")


class Calibrated(Strict):
    """Segments fitted at load time to city-by-class firm counts (firms, above-scale, large)."""

    firm_counts: str
    county_weights: str
    cities: list[str] = Field(min_length=1)
    log_sd: Positive
    floor_wan: Positive
    large_wan: Positive
    max_wan: Positive = Field(
        description="bound on a synthetic firm where `known_firms` gives no segment bound"
    )
    known_firms: str | None = Field(
        default=None, description="data file of named firms and each segment's upper bound"
    )
    total_tolerance: Probability = Field(
        default=0.05,
        description="a replicate's segment total stays within this share of its target",
    )
    total_attempts: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=200, description="redraws of a segment's unknown firms before rescaling them"
    )
    checks: str | None = Field(
        default=None, description="data file of published facts the report checks against"
    )
    tolerances: CalibrationTolerances | None = None
    tail_alpha_bounds: PositivePair = Field(
        description="tail indices outside these bounds mean the three counts do not fit the form"
    )
    rd_by_class: dict[IndustryClass, RdIntensity]
    source: str

    @model_validator(mode="after")
    def _coherent(self) -> Calibrated:
        low, high = self.tail_alpha_bounds
        if high <= low:
            raise ValueError("tail_alpha_bounds must be [low, high] with low < high")
        if not (low > TAIL_ALPHA_ABOVE and high <= TAIL_ALPHA_AT_MOST):
            raise ValueError(
                f"tail_alpha_bounds must lie above {TAIL_ALPHA_ABOVE:g} and at most "
                f"{TAIL_ALPHA_AT_MOST:g}, the tail indices a size distribution takes"
            )
        if not self.floor_wan < self.large_wan < self.max_wan:
            raise ValueError("need floor_wan < large_wan < max_wan")
        missing = sorted(set(CLASS_CODES) - set(self.rd_by_class))
        if missing:
            raise ValueError(f"rd_by_class needs every class; {', '.join(missing)} missing")
        repeated = sorted({c for c in self.cities if self.cities.count(c) > 1})
        if repeated:
            raise ValueError(f"cities lists {', '.join(repeated)} more than once")
        return self


class Population(Strict):
    start_year: int
    segments: list[Segment] = Field(default_factory=list)
    calibrated: Calibrated | None = None
    history: History
    above_scale_wan: Positive
    replicates_per_start: Annotated[int, Field(ge=1, le=1000)] = Field(
        default=1,
        description="replicates sharing one start population (M of a K x M nested design)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Population:
        if bool(self.segments) == (self.calibrated is not None):
            raise ValueError("give either `segments` or `calibrated`, not both")
        if not 1990 <= self.start_year <= 2100:
            raise ValueError(f"start_year {self.start_year} is not between 1990 and 2100")
        return self


class Dynamics(Strict):
    growth: Growth
    exit: Exit
    entry: Entry
    events: list[EventProcess] = Field(default_factory=list)
    events_files: list[str] = Field(default_factory=list)
    responses: Responses | None = Field(
        default=None, description="behavioural responses to awards (issue 12); off when absent"
    )


class Budget(Strict):
    """General public expenditure per paying government, to express spending as a share.

    `governments` holds a bureau's own figures (expenditure, appropriation), which replace the
    estimates of `file` for the governments it names.
    """

    file: str | None = None
    governments: dict[str, Government] = Field(default_factory=dict)


class Scenario(Strict):
    schema_version: Literal[1]
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: str
    description_zh: str | None = None  # the same in Chinese, for Chinese reports
    author: str | None = None
    sources: list[str] = Field(default_factory=list)
    policies: list[str] = Field(min_length=1)
    readings: dict[str, str] = Field(default_factory=dict)
    horizon: Annotated[int, Field(ge=2000, le=2100)]
    replicates: Annotated[int, Field(ge=1, le=100_000)] = 1000
    seed: Annotated[int, Field(ge=0)] = 0
    batch_replicates: Annotated[int, Field(ge=1, le=100_000)] = 50
    population: Population
    dynamics: Dynamics
    budget: Budget = Field(default_factory=Budget)
    process: ProcessSettings | None = Field(
        default=None, description="the administrative budget process (applications to cash)"
    )

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for key, value in self.readings.items():
            try:
                check_reading(key, value, "readings")
            except InputError as error:  # name the scenario file, not a bare "readings"
                raise ValueError(f"readings.{key}: {error.problem}") from None
        if self.horizon <= self.population.start_year:
            raise ValueError("horizon must come after population.start_year")
        return self


class EventsFile(Strict):
    schema_version: Literal[1]
    events: list[EventProcess]


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


def check_cities(scenario: Scenario, registry: Registry, counted: set[str], path: Path) -> None:
    """Every city a scenario names is a city id of the registry; none is silently dropped.

    `counted` are the cities the calibration file has firm counts for.
    """
    calibrated = scenario.population.calibrated
    if calibrated is None:
        return
    for position, city in enumerate(calibrated.cities):
        where = f"population.calibrated.cities[{position}]"
        known = registry.resolve(city)
        if known is not None and known != city:
            raise InputError(path, where, f"write the id '{known}', not '{city}'")
        if known is None or not registry.is_city(known):
            near = registry.suggest(city, "city")
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise InputError(path, where, f"'{city}' is not a city in the registry{hint}")
        if city not in counted:
            raise InputError(
                path, where, f"{calibrated.firm_counts} has no firm counts for '{city}'"
            )


def resolve(path: Path, name: str) -> Path:
    """A path in a scenario, relative to the scenario file."""
    return (path.parent / name).resolve()
