"""Comparisons in a rule's `when` that can never be true, found at validate time.

JsonLogic compares like JavaScript: `{">": [{var: order.total.amount}, "200 USD"]}` turns "200 USD"
into NaN and is false for every order; `{"==": [{var: customer.tier}, "platnum"]}` is false for
every customer. Both pass the operator and fact checks and would silently never fire. This module
reads the facts schema (the type of each fact, and the values of enumerated ones) and reports each
such comparison at its JSON pointer, saying what to write instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from touchpoints.catalog.problems import did_you_mean
from touchpoints.contract.facts import fact_field, fact_values

__all__ = ["impossible_comparisons"]

_ORDERING = {"<", "<=", ">", ">="}
_EQUALITY = {"==", "===", "!=", "!=="}


def _var_path(node: Any) -> str | None:
    """The literal path of a `{var: path}` (or `{var: [path, default]}`) node, else None."""
    if not isinstance(node, dict) or len(node) != 1 or "var" not in node:
        return None
    target = node["var"]
    if isinstance(target, list):
        target = target[0] if target else None
    return target if isinstance(target, str) and target else None


def _is_numeric_text(value: str) -> bool:
    """What JavaScript's Number() accepts: "", whitespace, decimal, hex, exponent, Infinity."""
    text = value.strip()
    if text == "":
        return True
    try:
        number = float(text) if not text.lower().startswith(("0x", "-0x", "+0x")) else float(int(text, 16))
    except ValueError:
        return False
    return not math.isnan(number)


def _problem(path: str, literal: Any, op: str) -> str | None:
    field = fact_field(path)
    if field is None:
        return None  # an unknown fact is reported by the fact check
    never = "always true" if op in ("!=", "!==") else "never true"
    if field.type == "number" and isinstance(literal, str) and not _is_numeric_text(literal):
        return (
            f"{path} is a number and {literal!r} is not one, so this comparison is {never}; "
            "write the number alone (e.g. 200, without a currency)"
        )
    values = fact_values(path)
    if values and isinstance(literal, str) and (op in _EQUALITY) and literal not in values:
        return (
            f"{literal!r} is not a value of {path}{did_you_mean(literal, values)}, so this comparison is "
            f"{never}; {path} is one of {', '.join(values)}"
        )
    return None


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, f"{pointer}/{index}")
        return
    if not isinstance(node, dict) or len(node) != 1:
        return
    ((op, args),) = node.items()
    here = f"{pointer}/{str(op).replace('~', '~0').replace('/', '~1')}"
    if isinstance(args, list):
        if op in _ORDERING | _EQUALITY and len(args) >= 2:
            yield from _pairs(op, args, here)
        if op == "in" and len(args) == 2 and isinstance(args[1], list):
            path = _var_path(args[0])
            values = fact_values(path) if path else None
            for index, item in enumerate(args[1]):
                if values and isinstance(item, str) and item not in values:
                    yield (
                        f"{here}/1/{index}",
                        f"{item!r} is not a value of {path}{did_you_mean(item, values)}; "
                        f"{path} is one of {', '.join(values)}",
                    )
        for index, item in enumerate(args):
            yield from _walk(item, f"{here}/{index}")
    else:
        yield from _walk(args, here)


def _pairs(op: str, args: list[Any], pointer: str) -> Iterator[tuple[str, str]]:
    """Each side read from a fact against a literal on the other side (a `<` between: every pair)."""
    for index in range(len(args) - 1):
        left, right = args[index], args[index + 1]
        for var_side, literal, literal_index in ((left, right, index + 1), (right, left, index)):
            path = _var_path(var_side)
            if path is None or isinstance(literal, dict | list):
                continue
            message = _problem(path, literal, op)
            if message is not None:
                yield f"{pointer}/{literal_index}", message


def impossible_comparisons(logic: Any) -> list[tuple[str, str]]:
    """(JSON pointer, message) of every comparison between a fact and a literal that can never hold."""
    return list(_walk(logic, ""))
