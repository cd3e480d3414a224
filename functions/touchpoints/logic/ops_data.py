"""The operators that read the data: `var`, `missing`, `missing_some` (json-logic-js 2.x), and `log`.

`member` and `get_path` are JavaScript property access on JSON data; the compiler's generated code
and the tracing interpreter read through them too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

from touchpoints.logic.errors import EvaluationError
from touchpoints.logic.js import UNDEFINED, is_array, js_length, le, to_string, utf16_units
from touchpoints.logic.ops_arithmetic import op_sub

__all__ = [
    "get_path",
    "member",
    "missing_literal",
    "missing_literal_keys",
    "op_log",
    "op_missing",
    "op_missing_some",
    "op_var",
]

_LOG: Final = logging.getLogger("touchpoints.logic")


def _array_index(key: str) -> int | None:
    if key.isascii() and key.isdigit() and (key == "0" or key[0] != "0"):
        return int(key)
    return None


def member(obj: Any, key: str) -> Any:
    """JavaScript `obj[key]` on JSON data: own keys, array/string indices and `length`; else UNDEFINED."""
    if obj.__class__ is dict or isinstance(obj, Mapping):
        return obj.get(key, UNDEFINED)
    if obj.__class__ is list or isinstance(obj, tuple):
        if key == "length":
            return len(obj)
        index = _array_index(key)
        return obj[index] if index is not None and index < len(obj) else UNDEFINED
    if obj.__class__ is str:
        if key == "length":
            return js_length(obj)
        index = _array_index(key)
        if index is None:
            return UNDEFINED
        units = utf16_units(obj)
        return units[index] if index < len(units) else UNDEFINED
    return UNDEFINED


def get_path(data: Any, keys: tuple[str, ...] | list[str], not_found: Any) -> Any:
    """Walk a pre-split `var` path the way json-logic-js does: null/undefined on the way -> not_found."""
    for key in keys:
        if data is None or data is UNDEFINED:
            return not_found
        data = data.get(key, UNDEFINED) if data.__class__ is dict else member(data, key)
        if data is UNDEFINED:
            return not_found
    return data


def op_var(data: Any, path: Any = UNDEFINED, default: Any = UNDEFINED) -> Any:
    """`var`: dot path into the data ("" / null / no path = the whole data), with an optional default."""
    not_found = None if default is UNDEFINED else default
    if path is UNDEFINED or path is None or (path.__class__ is str and path == ""):
        return data
    return get_path(data, to_string(path).split("."), not_found)


def _refuse_data_as_logic(value: Any) -> None:
    """json-logic-js re-applies some values as rules; a one-key object from the data would run as an
    operation there. We never run data as logic: raise instead (json-logic-js throws for most of them)."""
    # apply() maps over arrays at every depth, so a one-key object nested in arrays runs too; the
    # walk is iterative so a deeply nested array cannot exhaust the stack.
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if is_array(item):
            pending.extend(item)
        elif isinstance(item, Mapping) and len(item) == 1:
            raise EvaluationError(
                f"a one-key object ({next(iter(item))!r}) would be evaluated as a rule here"
            )


def _var_of(data: Any, key: Any) -> Any:
    """What `apply({"var": key}, data)` gives, as `missing` uses it (an array key is var's argument list)."""
    _refuse_data_as_logic(key)
    if is_array(key):
        return op_var(data, *list(key)[:2])
    return op_var(data, key)


def op_missing(data: Any, *args: Any) -> list[Any]:
    """`missing`: the keys (arguments, or one array of keys) whose value is null, absent or ""."""
    keys = args[0] if args and is_array(args[0]) else args
    found: list[Any] = []
    for key in keys:
        value = _var_of(data, key)
        if value is None or (value.__class__ is str and value == ""):
            found.append(key)
    return found


def missing_literal(data: Any, keys: tuple[tuple[Any, tuple[str, ...] | None], ...]) -> list[Any]:
    """`missing` over literal keys, paths split once at compile time (None = the whole data)."""
    found: list[Any] = []
    for key, path in keys:
        value = data if path is None else get_path(data, path, None)
        if value is None or (value.__class__ is str and value == ""):
            found.append(key)
    return found


def missing_literal_keys(keys: Any) -> tuple[tuple[Any, tuple[str, ...] | None], ...] | None:
    """Pre-split literal `missing` keys (strings and numbers), or None when a key needs the general path."""
    out: list[tuple[Any, tuple[str, ...] | None]] = []
    for key in keys:
        if key.__class__ is str:
            out.append((key, tuple(key.split(".")) if key else None))
        elif key.__class__ in (int, float):
            out.append((key, tuple(to_string(key).split("."))))
        else:
            return None
    return tuple(out)


def op_missing_some(data: Any, need_count: Any, options: Any) -> list[Any]:
    """`missing_some`: [] when at least `need_count` of the keys are present, else the missing keys."""
    if options is None or options is UNDEFINED:
        raise EvaluationError("missing_some needs an array of keys as its second argument, got null")
    _refuse_data_as_logic(options)
    keys = list(options) if is_array(options) else [options]
    are_missing = op_missing(data, *keys)
    # JavaScript reads `options.length`: an array's or string's length, an object's own "length" key
    # (so {"length": 1, ...} counts as one key), anything else undefined (NaN: never enough).
    present = op_sub(member(options, "length"), len(are_missing))
    if le(need_count, present):
        return []
    return are_missing


def op_log(value: Any) -> Any:
    """`log`: log the value (to the `touchpoints.logic` logger, not stdout) and return it."""
    _LOG.info("jsonlogic log: %r", value)
    return value
