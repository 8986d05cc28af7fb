"""The strict schema of a policy file: one file per document, one rule per money clause.

A rule reads like the law: id from the clause register, document clause, a quote of the
original Chinese, amounts in 万元, the performance years in force, the payment lag, the payer
shares and `assumption: true` with a note wherever the text leaves a number or a payer open.
Unknown keys and out-of-range values are rejected, so a misplaced key can never be silently
ignored (the failure PolicyEngine users meet).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FactName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
IndustryClass = Literal["01", "02", "03", "04", "05"]
NonNegative = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
Year = Annotated[int, Field(ge=1990, le=2100)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Condition(Strict):
    """A test on one fact of a firm-year. `event: x` is short for `fact: x, at_least: 1`."""

    fact: FactName | None = None
    event: FactName | None = None
    at_least: float | None = None
    more_than: float | None = None
    at_most: float | None = None
    less_than: float | None = None
    equals: float | None = None

    @model_validator(mode="after")
    def _one_subject_and_a_test(self) -> Condition:
        if (self.fact is None) == (self.event is None):
            raise ValueError("a condition names exactly one of `fact` or `event`")
        tests = [self.at_least, self.more_than, self.at_most, self.less_than, self.equals]
        if self.event is not None and any(t is not None for t in tests):
            raise ValueError("an `event` condition takes no comparison")
        if self.fact is not None and all(t is None for t in tests):
            raise ValueError(
                "a `fact` condition needs one of at_least, more_than, at_most, less_than, equals"
            )
        return self

    @property
    def subject(self) -> str:
        return self.fact if self.fact is not None else str(self.event)


class Eligibility(Strict):
    """Who can receive the award at all. Empty lists mean no restriction."""

    industry_classes: list[IndustryClass] = Field(default_factory=list)
    above_scale: bool | None = None
    locations: list[str] = Field(default_factory=list)
    max_firm_age_years: Annotated[int, Field(ge=0, le=100)] | None = None
    # `first_award`: the age test applies when the rule first pays the firm (SZ-31: a start-up
    # when it moved in), not in every later year of the subsidy period.
    age_at: Literal["each_year", "first_award"] = "each_year"
    conditions: list[Condition] = Field(default_factory=list)
    any_of: list[list[Condition]] = Field(default_factory=list)


class Tier(Strict):
    threshold_wan: Annotated[float, Field(gt=0)]
    amount_wan: NonNegative


class Variant(Strict):
    """A level of the same award (national / provincial, above- / below-scale ...).

    Where several variants hold, the firm gets the largest, once.
    """

    label: str
    when: list[Condition] = Field(min_length=1)
    amount_wan: NonNegative | None = None
    rate: Share | None = None
    share: Share | None = None
    cap_wan: NonNegative | None = None


class _AmountBase(Strict):
    variants: list[Variant] = Field(default_factory=list)


class Flat(_AmountBase):
    kind: Literal["flat"]
    amount_wan: NonNegative | None = None

    @model_validator(mode="after")
    def _an_amount(self) -> Flat:
        if self.amount_wan is None and not self.variants:
            raise ValueError("a flat award needs amount_wan or variants with amount_wan")
        if any(v.amount_wan is None for v in self.variants):
            raise ValueError("every variant of a flat award needs amount_wan")
        return self


class TieredFirstReach(Strict):
    kind: Literal["tiered_first_reach"]
    fact: FactName = "revenue_wan"
    tiers: list[Tier] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def _increasing(cls, tiers: list[Tier]) -> list[Tier]:
        thresholds = [t.threshold_wan for t in tiers]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must be strictly increasing")
        if len(tiers) > 30:
            raise ValueError("at most 30 tiers")
        return tiers


class Rate(_AmountBase):
    kind: Literal["rate"]
    base: FactName
    rate: Share | None = None
    cap_wan: NonNegative | None = None

    @model_validator(mode="after")
    def _a_rate(self) -> Rate:
        if self.rate is None and any(v.rate is None for v in self.variants):
            raise ValueError("a rate award needs `rate`, or a rate in every variant")
        if self.rate is None and not self.variants:
            raise ValueError("a rate award needs `rate`")
        return self


class ShareOfHigherAward(_AmountBase):
    """A share of an award paid by a higher level (the city matching the province)."""

    kind: Literal["share_of_higher_award"]
    base: FactName
    assumed_base_wan: NonNegative | None = None
    base_source: str | None = None
    share: Share
    cap_wan: NonNegative | None = None


class PerPerson(Strict):
    kind: Literal["per_person"]
    count: FactName
    amount_wan_per_person: NonNegative
    cap_wan: NonNegative | None = None


class BaseAndIncrement(Strict):
    """A subsidy on a yearly amount with one rate on a base and another on the rise."""

    kind: Literal["base_and_increment"]
    fact: FactName
    base_rate: Share
    increment_rate: Share
    cap_wan: NonNegative | None = None


class Band(Strict):
    up_to: Annotated[float, Field(gt=0)]
    share: Share


class BandedQuantity(Strict):
    """A price times a quantity, with a share of the price paid within each band of quantity."""

    kind: Literal["banded_quantity"]
    quantity: FactName
    price: FactName
    bands: list[Band] = Field(min_length=1)
    cap_wan: NonNegative | None = None

    @field_validator("bands")
    @classmethod
    def _increasing(cls, bands: list[Band]) -> list[Band]:
        limits = [b.up_to for b in bands]
        if limits != sorted(set(limits)):
            raise ValueError("band limits must be strictly increasing")
        return bands


class NotCosted(Strict):
    """A clause listed so a report can name it, but with no outlay the model can cost."""

    kind: Literal["non_cash", "unquantified"]


Amount = Annotated[
    Flat
    | TieredFirstReach
    | Rate
    | ShareOfHigherAward
    | PerPerson
    | BaseAndIncrement
    | BandedQuantity
    | NotCosted,
    Field(discriminator="kind"),
]


class Payers(Strict):
    province: Share = 0.0
    city: Share = 0.0
    county: Share = 0.0

    @model_validator(mode="after")
    def _add_up(self) -> Payers:
        total = self.province + self.city + self.county
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"payer shares add up to {total:g}, not 1")
        return self

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.province, self.city, self.county)


class Window(Strict):
    first: Year
    last: Year

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.last < self.first:
            raise ValueError("`last` is before `first`")
        return self


class Quota(Strict):
    """A cap on how many awards a clause grants a year, and the order they are granted in."""

    per_year: Annotated[int, Field(ge=1, le=100_000)]
    order_by: FactName | None = None
    descending: bool = False
    note: str


RuleReading = Literal["cap_period", "designations"]
DocumentReading = Literal["signed_year"]

Recipient = Literal[
    "firm",
    "fund",
    "cluster_operator",
    "project_owner",
    "event_organiser",
    "person",
    "training_base",
    "local_government",
    "core_team",
]


class Rule(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Z]{2,3}-\d{1,2}[a-z]?$")]
    title_zh: str = Field(min_length=2, max_length=80)
    title_en: str = Field(min_length=2, max_length=120)
    clause: str = Field(min_length=1, max_length=40)
    quote: str = Field(min_length=4, max_length=400)
    recipient: Recipient = "firm"
    matter: FactName | None = None
    eligibility: Eligibility = Field(default_factory=Eligibility)
    trigger: list[Condition] = Field(default_factory=list)
    amount: Amount
    years: Window | None = None
    payment_lag_years: Annotated[int, Field(ge=0, le=5)] = 1
    payers: Payers | None = None
    once_per_firm: bool = False
    max_awards_per_firm: Annotated[int, Field(ge=1, le=100)] | None = None
    # 补贴期不超过N年: paid only in the N years counted from the year of the first award.
    period_years: Annotated[int, Field(ge=1, le=20)] | None = None
    quota: Quota | None = None
    contested: list[RuleReading] = Field(
        default_factory=list,
        description="readings of this clause's own ambiguous text (cap_period, designations)",
    )
    assumption: bool = False
    assumption_notes: list[str] = Field(default_factory=list)
    # The same notes in Chinese, one for one, for Chinese reports (the English stays the record).
    assumption_notes_zh: list[str] = Field(default_factory=list)
    notes: str | None = None
    notes_zh: str | None = None

    @property
    def costed(self) -> bool:
        return not isinstance(self.amount, NotCosted)

    def assumption_pairs(self) -> list[dict[str, str]]:
        """Each assumption note with its Chinese (empty where it is not translated yet)."""
        zh = self.assumption_notes_zh or [""] * len(self.assumption_notes)
        return [{"note": en, "note_zh": z} for en, z in zip(self.assumption_notes, zh, strict=True)]

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        if self.assumption != bool(self.assumption_notes):
            raise ValueError("`assumption: true` and `assumption_notes` go together")
        if self.assumption_notes_zh and len(self.assumption_notes_zh) != len(self.assumption_notes):
            raise ValueError(
                f"assumption_notes_zh has {len(self.assumption_notes_zh)} notes, "
                f"assumption_notes {len(self.assumption_notes)}: give them one for one"
            )
        if self.notes_zh is not None and self.notes is None:
            raise ValueError("notes_zh translates notes: give notes too")
        if self.costed:
            missing = [
                name
                for name, value in (
                    ("matter", self.matter),
                    ("years", self.years),
                    ("payers", self.payers),
                )
                if value is None
            ]
            if missing:
                raise ValueError(f"a costed rule needs {', '.join(missing)}")
        elif self.notes is None:
            raise ValueError("a non-cash or unquantified clause needs `notes` saying why")
        return self


TierJump = Literal["every_tier", "highest_only", "top_up"]
FirstReach = Literal["ever", "since_policy"]
BaseIncrement = Literal["split", "whole_plus_rise"]
Stacking = Literal["highest", "cumulative"]
SignedYear = Literal["counts", "excluded"]
CapPeriod = Literal["per_year", "per_window"]
Designations = Literal["highest", "each"]


class ReadingDefaults(Strict):
    """How this document's ambiguous phrases are read unless a scenario says otherwise."""

    tier_jump: TierJump = "every_tier"
    first_reach: FirstReach = "ever"
    base_increment: BaseIncrement = "split"
    stacking: Stacking = "highest"
    signed_year: SignedYear = "counts"
    cap_period: CapPeriod = "per_year"
    designations: Designations = "highest"
    why: dict[str, str] = Field(default_factory=dict)
    why_zh: dict[str, str] = Field(default_factory=dict)  # the same, in Chinese

    @model_validator(mode="after")
    def _translated(self) -> ReadingDefaults:
        extra = sorted(set(self.why_zh) - set(self.why))
        if extra:
            raise ValueError(f"why_zh.{extra[0]} translates no `why` entry")
        return self


class Document(Strict):
    number: str | None
    title_zh: str
    issuer_zh: str
    issued: dt.date | None
    source_file: str
    in_force_zh: str = Field(min_length=2)
    stacking_quote: str | None = None


class PolicyFile(Strict):
    schema_version: Literal[1]
    policy_id: FactName
    jurisdiction: FactName
    years: Window | None = Field(
        default=None,
        description="the document's performance years; every rule inherits them unless it sets its own",
    )
    document: Document
    contested: list[DocumentReading] = Field(
        default_factory=list,
        description="readings of the document's own ambiguous text (signed_year)",
    )
    readings: ReadingDefaults = Field(default_factory=ReadingDefaults)
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _rules_inherit_window(cls, data: object) -> object:
        """A rule without its own `years` is in force for the document's window."""
        if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
            return data
        window = data.get("years")
        if window is None:
            return data
        rules = [
            {**rule, "years": window} if isinstance(rule, dict) and "years" not in rule else rule
            for rule in data["rules"]
        ]
        return {**data, "rules": rules}

    @model_validator(mode="after")
    def _unique_ids(self) -> PolicyFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id} appears twice")
            seen.add(rule.id)
        return self
