"""The logic, equality and comparison operators (`==` `===` `!=` `!==` `>` `>=` `<` `<=` `!` `!!`)."""

from __future__ import annotations

from typing import Any

from touchpoints.logic.js import UNDEFINED, le, loose_eq, lt, strict_eq, truthy

__all__ = [
    "op_eq",
    "op_ge",
    "op_gt",
    "op_le",
    "op_lt",
    "op_ne",
    "op_not",
    "op_strict_eq",
    "op_strict_ne",
    "op_truthy",
]


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
