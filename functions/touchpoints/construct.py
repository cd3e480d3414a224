"""Build and copy pydantic models without validation, for values the core has already validated.

`Model.model_construct` walks every field in Python (defaults, aliases, extras): about 10 µs
per record. The simulator builds hundreds of thousands of records, contact entries and timer
events whose values all come from validated inputs, so it sets the instance slots directly. The
result is the instance `model_construct` would give when every field is passed (same `__dict__`,
same `model_fields_set`), which a unit test checks.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["construct", "shallow_copy"]

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__


def construct(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of `cls` holding `values` as its fields, unvalidated; `values` must name every field.

    The dict is kept (not copied): pass a fresh one. Only for models without private attributes.
    """
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", _fields_set(cls, values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


_ALL_SET: dict[type[BaseModel], set[str]] = {}


def _fields_set(cls: type[BaseModel], values: dict[str, Any]) -> set[str]:
    """The fields-set of a constructed model: one shared set per class when `values` names every field.

    A set of 18 names is 2 KB: one per record, contact entry and timer event was a third of a long
    replay's memory (and its cache misses). Sharing is safe because the shared set already holds
    every field name: pydantic only ever adds field names to it (on assignment or `model_copy`),
    which leaves it unchanged. Any other key set gets a set of its own, as before.
    """
    shared = _ALL_SET.get(cls)
    if shared is None:
        if values.keys() != cls.model_fields.keys():
            return set(values)
        shared = _ALL_SET[cls] = set(values)
    elif values.keys() != shared:
        return set(values)
    return shared


def shallow_copy(model: M) -> M:
    """What `model.model_copy()` returns (fields shared, not deep-copied), without its Python overhead.

    The copy's `__dict__` is its own, so the caller may change its fields through `__dict__`
    (`copy.__dict__["status"] = ...`) without touching the original.
    """
    copy = _new(model.__class__)
    _set(copy, "__dict__", model.__dict__.copy())
    _set(copy, "__pydantic_fields_set__", model.__pydantic_fields_set__.copy())
    extra = model.__pydantic_extra__
    _set(copy, "__pydantic_extra__", None if extra is None else dict(extra))
    private = model.__pydantic_private__
    _set(copy, "__pydantic_private__", None if private is None else dict(private))
    return copy
