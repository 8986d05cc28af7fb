"""Schemas of the calibration files the model reads: budgets, firm counts, county weights, the
named large firms and the published facts the calibration report checks.

These files hold cited public figures and estimates. A misspelt key, a count given as `true`, a
range written backwards or weights that do not add up would otherwise flow into the projection
without a word, so each file is validated like a policy file: one line naming file, field, problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from fiscalsim.errors import InputError
from fiscalsim.jurisdictions import Registry
from fiscalsim.rules.schema import IndustryClass
from fiscalsim.yamlfile import read_yaml_mapping

Confidence = Literal["H", "M", "L"]
Kind = Literal["fact", "estimate"]
Count = Annotated[int, Field(ge=0, le=100_000_000)]
Year = Annotated[int, Field(ge=1990, le=2100)]
Wan = Annotated[float, Field(gt=0, le=1e10)]  # 万元; 1e10 万 = 100 trillion yuan


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _once_per_segment(entries: Sequence[CountyWeights | SegmentBound], what: str) -> None:
    """No (city, class) in two entries that each cover a city's classes."""
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        for code in entry.classes:
            if (entry.city, code) in seen:
                raise ValueError(f"{entry.city}/{code} has two {what}")
            seen.add((entry.city, code))


def _ordered(pair: list[float] | None, what: str) -> None:
    if pair is not None and (len(pair) != 2 or pair[0] > pair[1]):
        raise ValueError(f"{what} must be [low, high] with low <= high")


class BudgetEntry(_Strict):
    """General public expenditure of one government in one year."""

    government: str
    year: Year
    scope: str
    expenditure_yi: Annotated[float, Field(gt=0, le=1e6)]
    expenditure_wan: Wan
    kind: Kind
    confidence: Confidence
    fact_id: str | None = None
    source: str | None = None
    quote: str | None = None
    range_yi: list[float] | None = None
    derivation: str | None = None
    sources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> BudgetEntry:
        if abs(self.expenditure_wan - self.expenditure_yi * 10_000) > 0.5:
            raise ValueError("expenditure_wan must equal expenditure_yi x 10000")
        _ordered(self.range_yi, "range_yi")
        if self.kind == "fact" and not (self.source and self.quote):
            raise ValueError("a fact needs `source` and `quote`")
        return self


class BudgetFile(_Strict):
    schema_version: Literal[1]
    budgets: list[BudgetEntry] = Field(min_length=1)


class Parameter(_Strict):
    id: str
    value: float
    range: list[float] | None = None
    kind: Kind
    confidence: Confidence
    derivation: str
    sources: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _range(self) -> Parameter:
        _ordered(self.range, "range")
        return self


class FirmCount(_Strict):
    """Firms of one city and NBS class: all (>= 100万), above the 规上 line, and large."""

    model_config = ConfigDict(populate_by_name=True)

    city: str
    industry_class: IndustryClass = Field(alias="class")
    class_name: str
    firms: Count
    above_scale: Count
    large: Count
    revenue_total_wan: Wan | None = None
    above_scale_revenue_wan: Wan | None = None
    kind: Kind
    confidence: Confidence
    derivation: str
    sources: list[str] = Field(default_factory=list)
    ranges: dict[str, list[float]] = Field(default_factory=dict)
    details: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _nested(self) -> FirmCount:
        if not self.large <= self.above_scale <= self.firms:
            raise ValueError("counts must satisfy large <= above_scale <= firms")
        for name, pair in self.ranges.items():
            _ordered(pair, f"ranges.{name}")
        return self


class FirmCountsFile(_Strict):
    schema_version: Literal[1]
    parameters: list[Parameter] = Field(default_factory=list)
    uncertainty_notes: dict[str, Any] = Field(default_factory=dict)
    firm_counts: list[FirmCount] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> FirmCountsFile:
        seen: set[tuple[str, str]] = set()
        for entry in self.firm_counts:
            key = (entry.city, entry.industry_class)
            if key in seen:
                raise ValueError(f"{entry.city}/{entry.industry_class} appears twice")
            seen.add(key)
        return self


class Weight(_Strict):
    unit: str
    weight: Annotated[float, Field(ge=0, le=1)]


class CountyWeights(_Strict):
    """Shares of a city's firms of some classes by county-level unit."""

    city: str
    group: str
    classes: list[IndustryClass] = Field(min_length=1)
    kind: Kind
    confidence: Confidence
    raw_sum_before_normalising: Annotated[float, Field(gt=0)]
    derivation: str
    sources: list[str] = Field(default_factory=list)
    weights: list[Weight] = Field(min_length=1)

    @model_validator(mode="after")
    def _adds_up(self) -> CountyWeights:
        units = [w.unit for w in self.weights]
        if len(set(units)) != len(units):
            raise ValueError("a unit appears twice in weights")
        total = sum(w.weight for w in self.weights)
        if abs(total - 1) > 0.02:  # the file normalises; a larger gap is a typing error
            raise ValueError(f"weights add up to {total:.4g}, not 1")
        return self


class CountyWeightsFile(_Strict):
    schema_version: Literal[1]
    county_weights: list[CountyWeights] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CountyWeightsFile:
        _once_per_segment(self.county_weights, "sets of weights")
        return self


class _Provenance(_Strict):
    """Where a figure comes from, as every calibration entry says it."""

    kind: Annotated[str, Field(min_length=1)]  # e.g. "estimate", "lower bound (fact)"
    confidence: Confidence
    derivation: str
    sources: list[str] = Field(default_factory=list)


class KnownFirm(_Provenance):
    """A publicly named firm, placed in the start population at its published size."""

    model_config = ConfigDict(populate_by_name=True)

    name: Annotated[str, Field(min_length=1)]
    city: str
    industry_class: IndustryClass = Field(alias="class")
    revenue_wan: Wan


class SegmentBound(_Provenance):
    """The largest revenue a synthetic firm of a city's classes may be drawn with."""

    city: str
    classes: list[IndustryClass] = Field(min_length=1)
    upper_bound_wan: Wan


class LargeFirmsFile(_Strict):
    schema_version: Literal[1]
    known_firms: list[KnownFirm] = Field(default_factory=list)
    segment_bounds: list[SegmentBound] = Field(default_factory=list)

    @model_validator(mode="after")
    def _useful(self) -> LargeFirmsFile:
        if not self.known_firms and not self.segment_bounds:
            raise ValueError("the file has neither known_firms nor segment_bounds")
        _once_per_segment(self.segment_bounds, "segment bounds")
        return self


class CalibrationCheck(_Strict):
    """A published fact the synthetic start population is checked against."""

    id: Annotated[str, Field(min_length=1)]
    fact: str  # its id in facts.yaml
    description: str
    city: str
    places: list[str] = Field(default_factory=list)  # all of the city's places if empty
    classes: list[IndustryClass] = Field(min_length=1)
    metric: Literal["above_scale_revenue_wan", "above_scale_firms", "revenue_wan"]
    value: Annotated[float, Field(gt=0, le=1e10)]
    kind: Literal["target", "upper_limit"]  # mean within tolerance | P95 below the value
    confidence: Confidence
    used_in_fit: bool


class CalibrationChecksFile(_Strict):
    schema_version: Literal[1]
    checks: list[CalibrationCheck] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CalibrationChecksFile:
        ids = [c.id for c in self.checks]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"check id {twice[0]} appears twice")
        return self


M = TypeVar("M", bound=BaseModel)


def read_data_file(model: type[M], path: Path) -> M:
    """Read and validate one calibration file; any problem is one InputError line."""
    from fiscalsim.rules.loader import describe_validation_error

    raw = read_yaml_mapping(path)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        where, message = describe_validation_error(exc, raw)
        raise InputError(path, where, message) from None


def read_budgets(path: Path, registry: Registry) -> BudgetFile:
    """The budgets file, every government one of the registry's: the figures are looked up by
    id, so a misspelt government's figures would go unused without a word (its budget then has
    no share-of-expenditure column)."""
    parsed = read_data_file(BudgetFile, path)
    names = [(f"budgets[{i}].government", e.government) for i, e in enumerate(parsed.budgets)]
    check_known(path, names, registry.__contains__, "a jurisdiction in the registry", registry)
    return parsed


def check_known(
    path: Path,
    names: Iterable[tuple[str, str]],
    ok: Callable[[str], bool],
    what: str,
    registry: Registry | None = None,
) -> None:
    """An InputError at the first (field path, name) for which `ok` is false; with a
    `registry`, the error suggests the ids closest to the name."""
    for where, name in names:
        if not ok(name):
            near = registry.suggest(name) if registry is not None else []
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise InputError(path, where, f"'{name}' is not {what}{hint}")
