"""The string and array operators: `in`, `cat`, `substr` (UTF-16 code units, as JavaScript) and `merge`."""

from __future__ import annotations

import math
from typing import Any

from touchpoints.logic.js import (
    UNDEFINED,
    is_array,
    js_length,
    lt,
    strict_eq,
    to_number,
    to_primitive,
    to_string,
    utf16_units,
)

__all__ = ["op_cat", "op_in", "op_merge", "op_substr"]


def op_merge(*args: Any) -> list[Any]:
    """`merge`: concatenate arrays one level deep; non-arrays are appended."""
    merged: list[Any] = []
    for arg in args:
        if is_array(arg):
            merged.extend(arg)
        else:
            merged.append(arg)
    return merged


def op_in(needle: Any, haystack: Any) -> bool:
    """`in`: strict membership in an array, or substring of a string (the needle as a string)."""
    if haystack.__class__ is str:
        return haystack != "" and to_string(needle) in haystack
    if is_array(haystack):
        if needle.__class__ is str:  # a string is === only to an equal string: Python's `in` is exact here
            return needle in haystack
        return any(strict_eq(needle, item) for item in haystack)
    return False


def op_cat(*args: Any) -> str:
    """`cat`: join the arguments as JavaScript strings (null is empty, 1.0 is "1", [1,2] is "1,2")."""
    for arg in args:
        if arg.__class__ is not str:
            break
    else:
        return "".join(args)
    return "".join("" if arg is None or arg is UNDEFINED else to_string(arg) for arg in args)


def _to_integer(value: Any) -> float:
    number = to_number(value)
    if number != number:
        return 0
    if number in (math.inf, -math.inf):
        return number
    return math.trunc(number)


def _js_substr(text: str, start: Any, length: Any) -> str:
    units = utf16_units(text)
    size = len(units)
    begin = _to_integer(start)
    if begin == -math.inf:
        begin = 0
    elif begin < 0:
        begin = max(size + begin, 0)
    else:
        begin = min(begin, size)
    count = size if length is UNDEFINED else _to_integer(length)
    count = min(max(count, 0), size)
    end = min(begin + count, size)
    if end <= begin:
        return ""
    chosen = units[int(begin) : int(end)]
    joined = "".join(chosen)
    return (
        joined
        if text.isascii()
        else joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    )


def op_substr(source: Any, start: Any = UNDEFINED, length: Any = UNDEFINED) -> str:
    """`substr`: String.prototype.substr; a negative length drops that many characters from the end."""
    text = to_string(source)
    if length is not UNDEFINED and lt(length, 0):
        head = _js_substr(text, start, UNDEFINED)
        primitive = to_primitive(length)
        size = js_length(head)
        new_length: Any = (
            (str(size) + primitive) if primitive.__class__ is str else size + to_number(primitive)
        )
        return _js_substr(head, 0, new_length)
    return _js_substr(text, start, length)
