"""Values computed once per object, for objects that cannot be dict keys.

Policy rules and event processes are frozen pydantic models holding lists, so they are not
hashable. `--readings all` compiles the same rules into 192 variants, and each variant asked
every rule for its JSON and its facts again: 1.3 s of a band's 9.8 s at 2 replicates. A value
is kept while its object lives (a weak reference drops it after), so a long-running process
that loads policies again and again keeps no dead entries.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from pydantic import BaseModel

Key = TypeVar("Key")
Value = TypeVar("Value")


class PerObject(Generic[Key, Value]):
    """`function(obj)`, computed on the first call for each living object."""

    def __init__(self, function: Callable[[Key], Value]) -> None:
        self.function = function
        self.values: dict[int, tuple[weakref.ref[Key], Value]] = {}
        self.__doc__ = function.__doc__

    def __call__(self, obj: Key) -> Value:
        key = id(obj)
        hit = self.values.get(key)
        if hit is not None and hit[0]() is obj:
            return hit[1]
        value = self.function(obj)
        values = self.values

        def forget(_: object, key: int = key) -> None:
            values.pop(key, None)

        self.values[key] = (weakref.ref(obj, forget), value)
        return value


@PerObject
def model_json(model: BaseModel) -> str:
    """A frozen model's JSON (the same text as `model.model_dump_json()`)."""
    return model.model_dump_json()
