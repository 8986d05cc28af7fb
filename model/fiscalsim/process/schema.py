"""Schemas of the budget process's parameters: the defaults file in data/ and a scenario's block.

Kept free of any model code so the scenario schema (a lower stage) can name them. Every section
carries a `source`: a document quote, a public figure, or the word `assumption`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Probability = Annotated[float, Field(ge=0, le=1)]
Month = Annotated[int, Field(ge=1, le=12)]
Capacity = Annotated[int, Field(ge=1, le=1_000_000)]
Wan = Annotated[float, Field(ge=0, le=1e10)]
Year = Annotated[int, Field(ge=1990, le=2100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class _Sourced(_Strict):
    """Every part says where its numbers come from; `source_zh` is the same for a Chinese
    report (the report's assumptions list the process's parts)."""

    source: str
    source_zh: str | None = None


class Application(_Sourced):
    """When firms file: shares by calendar month of the year after the performance year."""

    month_weights: dict[Month, Probability] = Field(min_length=1)

    @model_validator(mode="after")
    def _adds_up(self) -> Application:
        total = sum(self.month_weights.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"month_weights add up to {total:.6g}, not 1")
        return self


class Review(_Sourced):
    """Applications a reviewing bureau decides a month; `by_bureau` overrides per jurisdiction."""

    capacity_per_month: Capacity
    by_bureau: dict[str, Capacity] = Field(default_factory=dict)


class Approval(_Sourced):
    """Probability that a qualifying application is approved; `by_clause` overrides per clause."""

    probability: Probability
    by_clause: dict[str, Probability] = Field(default_factory=dict)


class Quota(_Sourced):
    """At most `per_year` approvals a calendar year, granted in order of application."""

    per_year: Annotated[int, Field(ge=0, le=1_000_000)]


class Payment(_Sourced):
    """Months from approval to payment (never before the clause's payment year)."""

    delay_months: Annotated[int, Field(ge=0, le=60)]


class ProcessFile(_Strict):
    """data/process/budget_process.yaml: the defaults every scenario starts from."""

    schema_version: Literal[1]
    application: Application
    review: Review
    approval: Approval
    quotas: dict[str, Quota] = Field(default_factory=dict)
    payment: Payment


class ProcessSettings(_Strict):
    """A scenario's `process:` block: on or off, and sections replacing the defaults file's.

    `quotas` are merged clause by clause (a quota of a clause not named stays); every other
    section given replaces the file's section whole, with its own `source`.
    """

    enabled: bool = True
    file: str | None = Field(default=None, description="defaults file, relative to the scenario")
    application: Application | None = None
    review: Review | None = None
    approval: Approval | None = None
    quotas: dict[str, Quota] = Field(default_factory=dict)
    payment: Payment | None = None


class Government(_Strict):
    """A bureau's own figures for one government: expenditure and appropriation (万元).

    A number applies to every year; a mapping gives years (expenditure: the nearest earlier year
    is used for a year not listed; appropriation: a year not listed is unlimited).
    """

    expenditure_wan: Annotated[float, Field(gt=0, le=1e10)] | dict[Year, Wan] | None = None
    appropriation_wan: Wan | dict[Year, Wan] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _something(self) -> Government:
        if self.expenditure_wan is None and self.appropriation_wan is None:
            raise ValueError("give expenditure_wan, appropriation_wan or both")
        if isinstance(self.expenditure_wan, dict) and any(
            v <= 0 for v in self.expenditure_wan.values()
        ):
            raise ValueError("expenditure_wan must be above 0")
        return self
