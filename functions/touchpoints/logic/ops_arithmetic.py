"""The arithmetic operators (`+` `-` `*` `/` `%` `max` `min`) on JavaScript doubles.

Integral results come back as int, -0 stays a float.
"""

from __future__ import annotations

import math
from typing import Any, Final

from touchpoints.logic.js import NAN, UNDEFINED, js_number, parse_float, to_number

__all__ = ["op_add", "op_div", "op_max", "op_min", "op_mod", "op_mul", "op_sub"]

_MAX_SAFE: Final = 2**53

# Integer arithmetic stays exact only while the operands and the result are safe integers: JavaScript
# reads a larger integer as the nearest double first (9007199254740993 is 9007199254740992 to it).
# `to_number` and `parse_float` already turn such an operand into that double, so the helpers below
# only check the result; `op_add`'s shortcut, which skips `parse_float`, checks its operands too.


def _add2(a: int | float, b: int | float) -> int | float:
    if a.__class__ is int and b.__class__ is int:
        total = a + b
        if -_MAX_SAFE <= total <= _MAX_SAFE:
            return total
    return js_number(float(a) + float(b))


def _mul2(a: int | float, b: int | float) -> int | float:
    if a.__class__ is int and b.__class__ is int:
        product = a * b
        if product == 0:
            return -0.0 if (a < 0 or b < 0) else 0
        if -_MAX_SAFE <= product <= _MAX_SAFE:
            return product
    return js_number(float(a) * float(b))


def op_add(*args: Any) -> int | float:
    """`+`: sum of parseFloat of each argument (so "3" is 3, null and "" are NaN), 0 for none."""
    if len(args) == 2:
        a, b = args
        if (  # the common case: two safe integers
            a.__class__ is int
            and b.__class__ is int
            and -_MAX_SAFE <= a <= _MAX_SAFE
            and -_MAX_SAFE <= b <= _MAX_SAFE
        ):
            pair = a + b
            if -_MAX_SAFE <= pair <= _MAX_SAFE:
                return pair
        return _add2(_add2(0, parse_float(a)), parse_float(b))
    total: int | float = 0
    for arg in args:
        total = _add2(total, parse_float(arg))
    return total


def op_mul(first: Any, *rest: Any) -> Any:
    """`*`: product of parseFloat of the arguments; a single argument comes back unchanged (json-logic-js)."""
    if not rest:
        return first
    product = first
    for arg in rest:
        product = _mul2(parse_float(product), parse_float(arg))
    return product


def op_sub(a: Any, b: Any = UNDEFINED) -> int | float:
    """`-`: a - b with JavaScript ToNumber, or negation with one argument."""
    x = to_number(a)
    if b is UNDEFINED:
        return -0.0 if x == 0 and x.__class__ is int else -x
    y = to_number(b)
    if x.__class__ is int and y.__class__ is int:
        diff = x - y
        if -_MAX_SAFE <= diff <= _MAX_SAFE:
            return diff
    return js_number(float(x) - float(y))


def op_div(a: Any, b: Any) -> int | float:
    """`/`: JavaScript division; x/0 is ±Infinity and 0/0 is NaN."""
    x, y = to_number(a), to_number(b)
    if y == 0:
        if x == 0 or x != x:
            return NAN
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return js_number(x / y)


def op_mod(a: Any, b: Any) -> int | float:
    """`%`: JavaScript remainder, with the sign of the dividend (-5 % 3 is -2)."""
    x, y = to_number(a), to_number(b)
    if y == 0 or x != x or y != y or x in (math.inf, -math.inf):
        return NAN
    if x.__class__ is int and y.__class__ is int:
        rest = abs(x) % abs(y)
        if x < 0:
            return -rest if rest else -0.0
        return rest
    if y in (math.inf, -math.inf):
        return x
    return js_number(math.fmod(x, y))


def op_max(*args: Any) -> int | float:
    """`max`: Math.max of the arguments as numbers (-Infinity for none, NaN if any is NaN)."""
    numbers = [to_number(arg) for arg in args]
    if not numbers:
        return -math.inf
    if any(n != n for n in numbers):
        return NAN
    best = max(numbers)
    if best == 0 and any(n == 0 and math.copysign(1.0, n) > 0 for n in numbers):
        return 0
    return best


def op_min(*args: Any) -> int | float:
    """`min`: Math.min of the arguments as numbers (Infinity for none, NaN if any is NaN)."""
    numbers = [to_number(arg) for arg in args]
    if not numbers:
        return math.inf
    if any(n != n for n in numbers):
        return NAN
    least = min(numbers)
    if least == 0 and any(n == 0 and math.copysign(1.0, n) < 0 for n in numbers):
        return -0.0
    return least
