"""The JsonLogic operators (json-logic-js 2.x semantics, plus date/time) and the immutable registry."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Final, Literal

from touchpoints.logic.errors import EvaluationError, OperatorRegistryError
from touchpoints.logic.js import (
    NAN,
    UNDEFINED,
    is_array,
    js_number,
    le,
    loose_eq,
    lt,
    parse_float,
    strict_eq,
    to_number,
    to_primitive,
    to_string,
    truthy,
)
from touchpoints.timestamps import format_trimmed, parse_rfc3339

__all__ = [
    "BUILTIN_SPECS",
    "SPECIAL_FORMS",
    "OperatorKind",
    "OperatorRegistry",
    "OperatorSpec",
    "default_operators",
    "format_timestamp",
    "get_path",
    "member",
    "parse_timestamp",
]

OperatorKind = Literal["eager", "data", "special"]
_LOG: Final = logging.getLogger("touchpoints.logic")
_MAX_SAFE: Final = 2**53

# Operators whose arguments are not all evaluated up front (short-circuit or scoped logic):
# the compiler implements them itself, so a registry can never replace them.
SPECIAL_FORMS: Final = frozenset({"if", "?:", "and", "or", "map", "filter", "reduce", "all", "none", "some"})


# ---------------------------------------------------------------------------------------------
# Data access (`var`, `missing`, `missing_some`)


def _utf16_units(text: str) -> list[str]:
    """A string as JavaScript sees it: UTF-16 code units (astral characters are two units)."""
    if text.isascii():
        return list(text)
    raw = text.encode("utf-16-le", "surrogatepass")
    return [raw[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(raw), 2)]


def _js_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


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
            return _js_len(obj)
        index = _array_index(key)
        if index is None:
            return UNDEFINED
        units = _utf16_units(obj)
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
    items = value if is_array(value) else (value,)
    for item in items:
        if isinstance(item, Mapping) and len(item) == 1:
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


# ---------------------------------------------------------------------------------------------
# Logic, equality, comparison


def op_eq(a: Any, b: Any) -> bool:
    """`==`: JavaScript abstract equality."""
    return loose_eq(a, b)


def op_ne(a: Any, b: Any) -> bool:
    """`!=`: negated JavaScript abstract equality."""
    return not loose_eq(a, b)


def op_strict_eq(a: Any, b: Any) -> bool:
    """`===`: JavaScript strict equality."""
    return strict_eq(a, b)


def op_strict_ne(a: Any, b: Any) -> bool:
    """`!==`: negated JavaScript strict equality."""
    return not strict_eq(a, b)


def op_gt(a: Any, b: Any) -> bool:
    """`>`: JavaScript relational comparison."""
    return lt(b, a)


def op_ge(a: Any, b: Any) -> bool:
    """`>=`: JavaScript relational comparison."""
    return le(b, a)


def op_lt(a: Any, b: Any, c: Any = UNDEFINED) -> bool:
    """`<`: a < b, or with three arguments the exclusive between a < b < c."""
    if c is UNDEFINED:
        return lt(a, b)
    return lt(a, b) and lt(b, c)


def op_le(a: Any, b: Any, c: Any = UNDEFINED) -> bool:
    """`<=`: a <= b, or with three arguments the inclusive between a <= b <= c."""
    if c is UNDEFINED:
        return le(a, b)
    return le(a, b) and le(b, c)


def op_not(a: Any) -> bool:
    """`!`: JsonLogic falsiness."""
    return not truthy(a)


def op_truthy(a: Any) -> bool:
    """`!!`: JsonLogic truthiness."""
    return truthy(a)


# ---------------------------------------------------------------------------------------------
# Arithmetic (JavaScript doubles; integral results come back as int, -0 stays a float)


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


# ---------------------------------------------------------------------------------------------
# Arrays and strings


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
    units = _utf16_units(text)
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
        size = _js_len(head)
        new_length: Any = (
            (str(size) + primitive) if primitive.__class__ is str else size + to_number(primitive)
        )
        return _js_substr(head, 0, new_length)
    return _js_substr(text, start, length)


def op_log(value: Any) -> Any:
    """`log`: log the value (to the `touchpoints.logic` logger, not stdout) and return it."""
    _LOG.info("jsonlogic log: %r", value)
    return value


# ---------------------------------------------------------------------------------------------
# Date/time: arguments are RFC 3339 strings taken from the data; null or unparseable -> null.

# One reading and one spelling of timestamps for the whole package (touchpoints.timestamps); the
# operators keep their historical names for them.
parse_timestamp = parse_rfc3339
format_timestamp = format_trimmed


def op_hours_between(a: Any, b: Any) -> float | None:
    """`hours_between [a, b]`: b - a in hours (float); null if either is not an RFC 3339 timestamp."""
    start, end = parse_timestamp(a), parse_timestamp(b)
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600.0


def op_days_between(a: Any, b: Any) -> float | None:
    """`days_between [a, b]`: b - a in days (float); null if either is not an RFC 3339 timestamp."""
    start, end = parse_timestamp(a), parse_timestamp(b)
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 86400.0


def op_before(a: Any, b: Any) -> bool | None:
    """`before [a, b]`: a is earlier than b; null if either is not an RFC 3339 timestamp."""
    first, second = parse_timestamp(a), parse_timestamp(b)
    if first is None or second is None:
        return None
    return first < second


def op_after(a: Any, b: Any) -> bool | None:
    """`after [a, b]`: a is later than b; null if either is not an RFC 3339 timestamp."""
    first, second = parse_timestamp(a), parse_timestamp(b)
    if first is None or second is None:
        return None
    return first > second


def op_add_hours(ts: Any, hours: Any) -> str | None:
    """`add_hours [ts, n]`: ts + n hours as RFC 3339 UTC (`Z`); null if ts or n is unusable."""
    moment = parse_timestamp(ts)
    if moment is None or hours.__class__ not in (int, float) or not math.isfinite(hours):
        return None
    try:
        return format_timestamp(moment + timedelta(hours=hours))
    except OverflowError:
        return None


# ---------------------------------------------------------------------------------------------
# Registry


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """One operator: its implementation and arity. `kind` says how the compiler calls it.

    eager: `fn(*evaluated_args)`; data: `fn(data, *evaluated_args)`; special: the compiler's own code.
    """

    name: str
    fn: Callable[..., Any] | None
    min_args: int
    max_args: int | None
    kind: OperatorKind = "eager"

    def arity_text(self) -> str:
        """The arity as people read it: "2", "2-3", "1+"."""
        if self.max_args is None:
            return f"{self.min_args}+"
        if self.max_args == self.min_args:
            return str(self.min_args)
        return f"{self.min_args}-{self.max_args}"


class OperatorRegistry(Mapping[str, OperatorSpec]):
    """An immutable name -> OperatorSpec table; `with_operator` returns a new registry."""

    __slots__ = ("_specs",)

    def __init__(self, specs: Mapping[str, OperatorSpec]) -> None:
        self._specs: Mapping[str, OperatorSpec] = MappingProxyType(dict(specs))

    def __getitem__(self, name: str) -> OperatorSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"OperatorRegistry({sorted(self._specs)})"

    def with_operator(
        self,
        name: str,
        fn: Callable[..., Any],
        *,
        min_args: int = 0,
        max_args: int | None = None,
    ) -> OperatorRegistry:
        """A new registry where `name` calls `fn(*evaluated_args)`; this one is left unchanged."""
        if not isinstance(name, str) or not name:
            raise OperatorRegistryError(f"operator name must be a non-empty string, got {name!r}")
        if name in SPECIAL_FORMS or name in {"var", "missing", "missing_some"}:
            raise OperatorRegistryError(
                f"operator {name!r} is built into the compiler and cannot be replaced"
            )
        if not callable(fn):
            raise OperatorRegistryError(f"operator {name!r}: implementation must be callable, got {fn!r}")
        if min_args < 0 or (max_args is not None and max_args < min_args):
            raise OperatorRegistryError(
                f"operator {name!r}: bad arity bounds min_args={min_args}, max_args={max_args}"
            )
        specs = dict(self._specs)
        specs[name] = OperatorSpec(name, fn, min_args, max_args, "eager")
        return OperatorRegistry(specs)

    def without_operator(self, name: str) -> OperatorRegistry:
        """A new registry lacking `name` (rules using it then fail to compile with UnknownOperatorError)."""
        if name not in self._specs:
            raise OperatorRegistryError(f"operator {name!r} is not in the registry")
        return OperatorRegistry({key: spec for key, spec in self._specs.items() if key != name})


def _spec(
    name: str, fn: Callable[..., Any] | None, low: int, high: int | None, kind: OperatorKind = "eager"
) -> OperatorSpec:
    return OperatorSpec(name, fn, low, high, kind)


BUILTIN_SPECS: Final[Mapping[str, OperatorSpec]] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _spec("var", op_var, 0, 2, "data"),
            _spec("missing", op_missing, 0, None, "data"),
            _spec("missing_some", op_missing_some, 2, 2, "data"),
            _spec("if", None, 1, None, "special"),
            _spec("?:", None, 1, None, "special"),
            _spec("and", None, 1, None, "special"),
            _spec("or", None, 1, None, "special"),
            _spec("map", None, 2, 2, "special"),
            _spec("filter", None, 2, 2, "special"),
            _spec("reduce", None, 2, 3, "special"),
            _spec("all", None, 2, 2, "special"),
            _spec("none", None, 2, 2, "special"),
            _spec("some", None, 2, 2, "special"),
            _spec("==", op_eq, 2, 2),
            _spec("===", op_strict_eq, 2, 2),
            _spec("!=", op_ne, 2, 2),
            _spec("!==", op_strict_ne, 2, 2),
            _spec(">", op_gt, 2, 2),
            _spec(">=", op_ge, 2, 2),
            _spec("<", op_lt, 2, 3),
            _spec("<=", op_le, 2, 3),
            _spec("!", op_not, 1, 1),
            _spec("!!", op_truthy, 1, 1),
            _spec("+", op_add, 0, None),
            _spec("-", op_sub, 1, 2),
            _spec("*", op_mul, 1, None),
            _spec("/", op_div, 2, 2),
            _spec("%", op_mod, 2, 2),
            _spec("max", op_max, 0, None),
            _spec("min", op_min, 0, None),
            _spec("merge", op_merge, 0, None),
            _spec("in", op_in, 2, 2),
            _spec("cat", op_cat, 0, None),
            _spec("substr", op_substr, 2, 3),
            _spec("log", op_log, 1, 1),
            _spec("hours_between", op_hours_between, 2, 2),
            _spec("days_between", op_days_between, 2, 2),
            _spec("before", op_before, 2, 2),
            _spec("after", op_after, 2, 2),
            _spec("add_hours", op_add_hours, 2, 2),
        )
    }
)

_DEFAULT: Final = OperatorRegistry(BUILTIN_SPECS)


def default_operators() -> OperatorRegistry:
    """Every json-logic-js 2.x operator (no `method`) plus the date/time operators; immutable."""
    return _DEFAULT
