"""The registry of governments: who is whose parent, and which budget level each one is.

Policies cover a jurisdiction and everything under it; awards are booked to the county-level
unit where a firm sits, its city and its province. Both lookups are integer arrays so the
award engine can book millions of awards without a Python loop.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from fiscalsim.errors import InputError
from fiscalsim.paths import DATA_DIR
from fiscalsim.yamlfile import load_yaml

Level = Literal["province", "city", "county"]
LEVELS: tuple[Level, ...] = ("province", "city", "county")


class Jurisdiction(BaseModel):
    """One government with a budget of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    level: Level
    parent: str | None
    name_zh: str
    name_en: str
    code: str | None
    kind: Literal[
        "province", "prefecture_city", "district", "county", "county_level_city", "functional_zone"
    ]

    @field_validator("id")
    @classmethod
    def _lowercase_pinyin(cls, value: str) -> str:
        if not value.replace("_", "").isalpha() or value != value.lower():
            raise ValueError("ids are lowercase pinyin with underscores")
        return value

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 6 or not value.isdigit()):
            raise ValueError("a GB/T 2260 code has six digits")
        return value


class _RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1]
    jurisdictions: list[Jurisdiction]


@dataclass(frozen=True)
class Registry:
    """Jurisdictions in file order, with integer indices for vectorized booking."""

    items: tuple[Jurisdiction, ...]
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {j.id: i for i, j in enumerate(self.items)})

    def __contains__(self, jurisdiction_id: object) -> bool:
        return jurisdiction_id in self.index

    def __getitem__(self, jurisdiction_id: str) -> Jurisdiction:
        return self.items[self.index[jurisdiction_id]]

    def ancestor_at(self, jurisdiction_id: str, level: Level) -> str | None:
        """The government at `level` above (or equal to) a jurisdiction, if any."""
        current: str | None = jurisdiction_id
        while current is not None:
            item = self[current]
            if item.level == level:
                return item.id
            current = item.parent
        return None

    def is_city(self, jurisdiction_id: str) -> bool:
        """True for the id of a city (prefecture-level) government of the registry."""
        return jurisdiction_id in self.index and self[jurisdiction_id].level == "city"

    def is_place_of(self, place_id: str, city_id: str) -> bool:
        """True for the id of a county-level unit directly under the city."""
        return place_id in self.index and self[place_id].parent == city_id

    def covers(self, ancestor_id: str, jurisdiction_id: str) -> bool:
        """True when `jurisdiction_id` is `ancestor_id` or lies under it."""
        current: str | None = jurisdiction_id
        while current is not None:
            if current == ancestor_id:
                return True
            current = self[current].parent
        return False

    def coverage(self, ancestor_id: str) -> np.ndarray:
        """Per registry item (read-only), whether `ancestor_id` covers it (`covers`): made once
        per id, since every variant of a comparison compiles the same policies' locations."""
        mask = self._coverage.get(ancestor_id)
        if mask is None:
            mask = np.array([self.covers(ancestor_id, j.id) for j in self.items], dtype=bool)
            mask.flags.writeable = False
            self._coverage[ancestor_id] = mask
        return mask

    @cached_property
    def _coverage(self) -> dict[str, np.ndarray]:
        return {}

    @cached_property
    def _aliases(self) -> dict[str, str]:
        """Lower-case ids and Chinese names (with and without 县/市/区/新区) -> id."""
        table: dict[str, str] = {}
        for item in self.items:
            table[item.id.lower()] = item.id
            names = [item.name_zh]
            if item.parent is not None:  # 赣州蓉江新区 is also called 蓉江新区
                parent = self[item.parent].name_zh.removesuffix("市").removesuffix("省")
                if item.name_zh.startswith(parent) and len(item.name_zh) > len(parent) + 1:
                    names.append(item.name_zh.removeprefix(parent))
            for name in names:
                table.setdefault(name, item.id)
                for suffix in ("新区", "县", "市", "区", "省"):
                    if name.endswith(suffix) and len(name) > len(suffix) + 1:
                        table.setdefault(name.removesuffix(suffix), item.id)
        return table

    def resolve(self, name: str) -> str | None:
        """The id a user means by an id in any case or a Chinese name (寻乌县, 蓉江新区), if any."""
        text = name.strip()
        if text in self.index:
            return text
        return self._aliases.get(text.lower()) or self._aliases.get(text)

    def suggest(self, name: str, level: str | None = None) -> list[str]:
        """Up to three ids close to an unknown name, for the error message."""
        candidates = {
            alias: jid
            for alias, jid in self._aliases.items()
            if level is None or self[jid].level == level
        }
        close = difflib.get_close_matches(name.strip().lower(), list(candidates), n=6, cutoff=0.5)
        found: list[str] = []
        for alias in close:
            if candidates[alias] not in found:
                found.append(candidates[alias])
        return found[:3]

    def children(self, parent_id: str) -> list[Jurisdiction]:
        return [j for j in self.items if j.parent == parent_id]

    def county_units(self, city_id: str | None = None) -> list[Jurisdiction]:
        """County-level units, of one city or of all."""
        return [
            j
            for j in self.items
            if j.level == "county" and (city_id is None or j.parent == city_id)
        ]

    @cached_property
    def payer_index(self) -> np.ndarray:
        """For each jurisdiction index, the index of its province, city and county (-1 if none).

        Shape (n_jurisdictions, 3), columns in LEVELS order.
        """
        table = np.full((len(self.items), 3), -1, dtype=np.int32)
        for row, item in enumerate(self.items):
            for column, level in enumerate(LEVELS):
                ancestor = self.ancestor_at(item.id, level)
                if ancestor is not None:
                    table[row, column] = self.index[ancestor]
        return table


def load_registry(path: Path | None = None) -> Registry:
    """Read data/jurisdictions.yaml and check that every parent exists and levels nest."""
    path = path or DATA_DIR / "jurisdictions.yaml"
    raw = load_yaml(path)
    try:
        parsed = _RegistryFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(path, where, first["msg"]) from None
    registry = Registry(tuple(parsed.jurisdictions))
    expected_parent: dict[Level, Level | None] = {
        "province": None,
        "city": "province",
        "county": "city",
    }
    if len(registry.index) != len(registry.items):
        raise InputError(path, None, "duplicate jurisdiction id")
    for item in registry.items:
        if item.parent is None:
            if expected_parent[item.level] is not None:
                raise InputError(path, item.id, f"a {item.level} needs a parent")
            continue
        if item.parent not in registry:
            raise InputError(path, item.id, f"unknown parent '{item.parent}'")
        if registry[item.parent].level != expected_parent[item.level]:
            raise InputError(
                path, item.id, f"a {item.level} cannot sit under a {registry[item.parent].level}"
            )
    return registry
