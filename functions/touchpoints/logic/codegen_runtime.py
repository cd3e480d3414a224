"""The functions generated JsonLogic code calls at run time: scoped loops, `missing`, default-less `var`.

They are bound into each generated factory as constants (`_kN`), so their names are part of what
the codegen snapshot test records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from touchpoints.logic.js import UNDEFINED, is_array
from touchpoints.logic.ops_data import member, missing_literal

__all__ = [
    "SCOPED_HELPERS",
    "_h_missing_some",
    "_h_missing_some_values",
    "_h_missing_values",
    "_member_or_none",
]


# The scoped function returns a Python bool (JsonLogic truthiness already applied) for
# filter/all/none/some. Plain loops: on CPython 3.11 a Python-to-Python call inside a loop is
# inlined, which measured ~1.5x faster than any(map(fn, items)).


def _h_map(items: Any, fn: Callable[[Any], Any]) -> list[Any]:
    if items.__class__ is list or is_array(items):
        return [fn(item) for item in items]
    return []


def _h_filter(items: Any, fn: Callable[[Any], bool]) -> list[Any]:
    if items.__class__ is list or is_array(items):
        return [item for item in items if fn(item)]
    return []


def _h_all(items: Any, fn: Callable[[Any], bool]) -> bool:
    if not (items.__class__ is list or is_array(items)) or not items:
        return False
    for item in items:  # noqa: SIM110 - see above
        if not fn(item):
            return False
    return True


def _h_none(items: Any, fn: Callable[[Any], bool]) -> bool:
    if not (items.__class__ is list or is_array(items)) or not items:
        return True
    for item in items:  # noqa: SIM110 - see above
        if fn(item):
            return False
    return True


def _h_some(items: Any, fn: Callable[[Any], bool]) -> bool:
    if not (items.__class__ is list or is_array(items)) or not items:
        return False
    for item in items:  # noqa: SIM110 - see above
        if fn(item):
            return True
    return False


def _h_missing_some(data: Any, need: int | float, keys: Any, count: int) -> list[Any]:
    found = missing_literal(data, keys)
    return [] if count - len(found) >= need else found


def _h_missing_values(keys: tuple[Any, ...], values: tuple[Any, ...]) -> list[Any]:
    """Fast-mode `missing`: the values were read by inlined dict.get chains (a plain loop measured
    3x faster than a comprehension over zip)."""
    found = []
    for index, value in enumerate(values):
        if value is None or value == "":
            found.append(keys[index])
    return found


def _h_missing_some_values(need: int | float, keys: tuple[Any, ...], values: tuple[Any, ...]) -> list[Any]:
    found = []
    for index, value in enumerate(values):  # _h_missing_values inlined: one call per evaluation, not two
        if value is None or value == "":
            found.append(keys[index])
    return [] if len(keys) - len(found) >= need else found


def _h_reduce(items: Any, fn: Callable[[Any], Any], initial: Any) -> Any:
    if not (items.__class__ is list or is_array(items)):
        return initial
    accumulator = initial
    for item in items:
        accumulator = fn({"current": item, "accumulator": accumulator})
    return accumulator


SCOPED_HELPERS: Final = {
    "map": _h_map,
    "filter": _h_filter,
    "all": _h_all,
    "none": _h_none,
    "some": _h_some,
    "reduce": _h_reduce,
}


def _member_or_none(obj: Any, key: str) -> Any:
    """`obj[key]` for a default-less `var`: anything not found (or read through null) is null."""
    if obj is None:
        return None
    value = member(obj, key)
    return None if value is UNDEFINED else value
