"""JavaScript value semantics (truthiness, coercion, equality, comparison) that json-logic-js relies on."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "NAN",
    "UNDEFINED",
    "is_array",
    "is_number",
    "js_length",
    "js_number",
    "le",
    "loose_eq",
    "lt",
    "num_to_str",
    "parse_float",
    "strict_eq",
    "to_number",
    "to_primitive",
    "to_string",
    "truthy",
    "utf16_units",
]


class _Undefined:
    """JavaScript `undefined`: only ever internal (a missing argument); never returned to callers."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Final = _Undefined()
NAN: Final = float("nan")
_MAX_SAFE: Final = 2**53
_NUM_CLASSES: Final = frozenset({int, float})
# JavaScript's StrWhiteSpaceChar: WhiteSpace and LineTerminator code points.
_JS_WS: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_DECIMAL: Final = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\Z")
_FLOAT_PREFIX: Final = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_RADIX: Final = re.compile(r"0([xXoObB])([0-9a-fA-F]+)\Z")


def is_number(value: Any) -> bool:
    """True for a JavaScript number: Python int or float, but never bool."""
    return value.__class__ in _NUM_CLASSES


def is_array(value: Any) -> bool:
    """True for a JavaScript array: a list (tuples from Python callers count too)."""
    return value.__class__ is list or isinstance(value, tuple)


def js_number(value: float) -> int | float:
    """Return a double as JSON would carry it: integral values as int (except -0, kept as float)."""
    if (
        value.is_integer()
        and -_MAX_SAFE <= value <= _MAX_SAFE
        and (value != 0 or math.copysign(1.0, value) > 0)
    ):
        return int(value)
    return value


def truthy(value: Any) -> bool:
    """JsonLogic truthiness: JavaScript's, except that an empty array is false (jsonlogic.com/truthy)."""
    cls = value.__class__
    if cls is bool:
        return value  # type: ignore[no-any-return]
    if cls is str or cls is int or cls is list:
        return bool(value)
    if cls is float:
        return value == value and value != 0.0  # type: ignore[no-any-return]
    if value is None or value is UNDEFINED:
        return False
    if isinstance(value, tuple):
        return bool(value)
    return True  # objects, including {}, are truthy in JavaScript


def _string_to_number(text: str) -> int | float:
    """JavaScript StringToNumber: trimmed decimal or 0x/0o/0b literal, "" is 0, anything else NaN."""
    text = text.strip(_JS_WS)
    if not text:
        return 0
    if _DECIMAL.match(text):
        return js_number(float(text.replace("Infinity", "inf")))
    radix = _RADIX.match(text)
    if radix:
        base = {"x": 16, "o": 8, "b": 2}[radix.group(1).lower()]
        try:
            return js_number(float(int(radix.group(2), base)))
        except ValueError:
            return NAN
    return NAN


def to_primitive(value: Any) -> Any:
    """ToPrimitive with the default hint: arrays become their joined string, objects "[object Object]"."""
    if value.__class__ is list or isinstance(value, tuple):
        return to_string(value)
    if value.__class__ is dict or isinstance(value, Mapping):
        return "[object Object]"
    return value


def to_number(value: Any) -> int | float:
    """JavaScript ToNumber (unary plus): null -> 0, "" -> 0, [] -> 0, [5] -> 5, true -> 1, junk -> NaN."""
    cls = value.__class__
    if cls is int:  # beyond 2^53 JavaScript holds the nearest double, not the integer
        return value if -_MAX_SAFE <= value <= _MAX_SAFE else float(value)
    if cls is float:
        return value  # type: ignore[no-any-return]
    if cls is bool:
        return 1 if value else 0
    if value is None:
        return 0
    if cls is str:
        return _string_to_number(value)
    if value is UNDEFINED:
        return NAN
    primitive = to_primitive(value)
    if primitive.__class__ is str:
        return _string_to_number(primitive)
    return NAN


def parse_float(value: Any) -> int | float:
    """JavaScript parseFloat (used by `+` and `*`): the longest numeric prefix of String(value)."""
    cls = value.__class__
    if cls is int and not -_MAX_SAFE <= value <= _MAX_SAFE:
        return float(value)  # the nearest double, as JavaScript holds it
    if cls is int or cls is float:
        return 0 if value == 0 else value  # String(-0) is "0"
    text = to_string(value).lstrip(_JS_WS)
    match = _FLOAT_PREFIX.match(text)
    if not match:
        return NAN
    return js_number(float(match.group(0).replace("Infinity", "inf")))


def num_to_str(value: int | float) -> str:
    """JavaScript Number::toString: shortest round-trip digits, exponent only below 1e-6 or from 1e21."""
    if value.__class__ is int and -_MAX_SAFE <= value <= _MAX_SAFE:
        return str(value)  # beyond 2^53 the digits are those of the nearest double (below)
    number = float(value)
    if number != number:
        return "NaN"
    if number in (math.inf, -math.inf):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    mantissa, _, exp_text = repr(abs(number)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    raw = int_part + frac_part
    stripped = raw.lstrip("0")
    point = len(int_part) + (int(exp_text) if exp_text else 0) - (len(raw) - len(stripped))
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    exponent = point - 1
    exp_str = ("+" if exponent >= 0 else "-") + str(abs(exponent))
    if k == 1:
        return sign + digits + "e" + exp_str
    return sign + digits[0] + "." + digits[1:] + "e" + exp_str


def to_string(value: Any) -> str:
    """JavaScript String(value): arrays join with "," (null elements empty), objects "[object Object]"."""
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[no-any-return]
    if cls is bool:
        return "true" if value else "false"
    if cls is int or cls is float:
        return num_to_str(value)
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    if cls is list or isinstance(value, tuple):
        return ",".join("" if item is None or item is UNDEFINED else to_string(item) for item in value)
    return "[object Object]"


def _is_object(value: Any) -> bool:
    return value.__class__ is list or value.__class__ is dict or isinstance(value, tuple | Mapping)


def strict_eq(a: Any, b: Any) -> bool:
    """JavaScript `===`: same type and value; NaN never equal; arrays and objects by identity."""
    ca, cb = a.__class__, b.__class__
    if ca in _NUM_CLASSES:
        return cb in _NUM_CLASSES and a == b
    if ca is str:
        return cb is str and a == b
    if ca is bool or a is None or a is UNDEFINED:
        return a is b
    return a is b


def loose_eq(a: Any, b: Any) -> bool:
    """JavaScript `==` (abstract equality): string/number/bool coercion, null == undefined only."""
    ca, cb = a.__class__, b.__class__
    if ca is cb and ca is not bool:
        if ca is list or ca is dict:
            return a is b
        return a == b  # type: ignore[no-any-return]
    if a is None or a is UNDEFINED or b is None or b is UNDEFINED:
        return (a is None or a is UNDEFINED) and (b is None or b is UNDEFINED)
    if ca is bool and cb is bool:
        return a is b
    a_num, b_num = ca in _NUM_CLASSES, cb in _NUM_CLASSES
    if a_num and b_num:
        return a == b  # type: ignore[no-any-return]
    if a_num and cb is str:
        return a == _string_to_number(b)  # type: ignore[no-any-return]
    if ca is str and b_num:
        return _string_to_number(a) == b  # type: ignore[no-any-return]
    if ca is bool:
        return loose_eq(1 if a else 0, b)
    if cb is bool:
        return loose_eq(a, 1 if b else 0)
    a_obj, b_obj = _is_object(a), _is_object(b)
    if a_obj and b_obj:
        return a is b
    if a_obj and (b_num or cb is str):
        return loose_eq(to_primitive(a), b)
    if b_obj and (a_num or ca is str):
        return loose_eq(a, to_primitive(b))
    return False


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-be", "surrogatepass")


def utf16_units(text: str) -> list[str]:
    """A string as JavaScript sees it: UTF-16 code units (astral characters are two units)."""
    if text.isascii():
        return list(text)
    raw = text.encode("utf-16-le", "surrogatepass")
    return [raw[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(raw), 2)]


def js_length(text: str) -> int:
    """A string's JavaScript `length`: its count of UTF-16 code units."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def lt(a: Any, b: Any) -> bool:
    """JavaScript `a < b`: strings compare by UTF-16 code units, anything else numerically (NaN false)."""
    pa, pb = to_primitive(a), to_primitive(b)
    if pa.__class__ is str and pb.__class__ is str:
        if pa.isascii() and pb.isascii():
            return pa < pb
        return _utf16(pa) < _utf16(pb)
    return to_number(pa) < to_number(pb)


def le(a: Any, b: Any) -> bool:
    """JavaScript `a <= b`: like `lt`, and false whenever either side is NaN."""
    pa, pb = to_primitive(a), to_primitive(b)
    if pa.__class__ is str and pb.__class__ is str:
        if pa.isascii() and pb.isascii():
            return pa <= pb
        return _utf16(pa) <= _utf16(pb)
    return to_number(pa) <= to_number(pb)
