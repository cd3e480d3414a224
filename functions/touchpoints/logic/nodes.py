"""Parse a JsonLogic rule into a checked node tree (operators and arity resolved, JSON pointers kept)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from touchpoints.logic.errors import ArityError, InvalidRuleError, UnknownOperatorError
from touchpoints.logic.js import to_string
from touchpoints.logic.registry import OperatorRegistry, OperatorSpec

__all__ = [
    "Arr",
    "Lit",
    "Node",
    "Op",
    "VarRef",
    "literal_var_path",
    "parse",
    "pointer_join",
    "to_json",
    "walk",
]


def pointer_join(pointer: str, token: str | int) -> str:
    """Append one reference token to a JSON pointer (RFC 6901 escaping of "~" and "/")."""
    text = str(token).replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{text}"


@dataclass(frozen=True, slots=True)
class Lit:
    """A value returned as-is: a primitive, or an object that is not a one-key operation."""

    value: Any
    pointer: str


@dataclass(frozen=True, slots=True)
class Arr:
    """An array in the rule: json-logic-js evaluates it element by element into a new array."""

    items: tuple[Node, ...]
    pointer: str


@dataclass(frozen=True, slots=True)
class Op:
    """An operation: a one-key object `{op: args}` (a non-array argument is shorthand for `[arg]`)."""

    op: str
    args: tuple[Node, ...]
    spec: OperatorSpec
    pointer: str


Node = Lit | Arr | Op


class VarRef(NamedTuple):
    """A literal `var` path and the JSON pointer of its `var` node (the catalog maps it to a YAML line)."""

    path: str
    pointer: str


def to_json(value: Any, pointer: str = "") -> Any:
    """A fresh copy of a rule in plain JSON types (dict, list, str, int, float, bool, None).

    Rules arrive from ruamel.yaml as CommentedMap / ScalarFloat / str subclasses; the compiler
    works on plain types only. A YAML date, a set or NaN fails here, with the pointer of the value.
    """
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        # JavaScript reads a rule's integer beyond 2^53 as the nearest double: keep that value.
        if -(2**53) <= value <= 2**53:
            return int(value)
        try:
            return int(float(value))
        except OverflowError:  # past ~1.8e308: JavaScript's Infinity, which JSON cannot carry
            raise InvalidRuleError(
                "rule holds an integer beyond 1.8e308, too large for a number", pointer
            ) from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRuleError(
                f"rule holds a non-finite number {value!r}; JSON has no such value", pointer
            )
        return float(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidRuleError(f"object key {key!r} is not a string", pointer)
            out[str(key)] = to_json(item, pointer_join(pointer, key))
        return out
    if isinstance(value, list | tuple):
        return [to_json(item, pointer_join(pointer, index)) for index, item in enumerate(value)]
    raise InvalidRuleError(
        f"rule holds a {type(value).__name__} ({value!r}); only JSON values are allowed "
        "(quote timestamps in YAML so they stay strings)",
        pointer,
    )


_SYNONYMS = {
    "greater": ">", "gt": ">", "greater_than": ">", "more": ">", "above": ">",
    "less": "<", "lt": "<", "less_than": "<", "below": "<",
    "gte": ">=", "ge": ">=", "at_least": ">=", "lte": "<=", "le": "<=", "at_most": "<=",
    "equals": "==", "equal": "==", "eq": "==", "is": "==", "=": "==",
    "not_equals": "!=", "ne": "!=", "neq": "!=", "<>": "!=",
    "not": "!", "and_": "and", "&&": "and", "||": "or", "contains": "in", "if_then": "if",
}  # fmt: skip
"""Words authors write for an operator, suggested before spelling neighbours (`greater`: `>`)."""


def _unknown(op: str, registry: OperatorRegistry, pointer: str) -> UnknownOperatorError:
    synonym = _SYNONYMS.get(op.lower())
    close = [synonym] if synonym in registry else difflib.get_close_matches(op, list(registry), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return UnknownOperatorError(f"unknown operator {op!r}{hint}", pointer)


def parse(rule: Any, registry: OperatorRegistry, pointer: str = "") -> Node:
    """Check and convert a rule; UnknownOperatorError, ArityError or InvalidRuleError carry a pointer."""
    if isinstance(rule, list | tuple):
        return Arr(
            tuple(parse(item, registry, pointer_join(pointer, i)) for i, item in enumerate(rule)), pointer
        )
    if isinstance(rule, Mapping):
        if len(rule) != 1:
            return Lit(rule, pointer)
        ((op, raw_args),) = rule.items()
        if not isinstance(op, str):
            raise InvalidRuleError(f"operator key {op!r} is not a string", pointer)
        spec = registry.get(op)
        if spec is None:
            raise _unknown(op, registry, pointer_join(pointer, op))
        op_pointer = pointer_join(pointer, op)
        if isinstance(raw_args, list | tuple):
            args = tuple(parse(arg, registry, pointer_join(op_pointer, i)) for i, arg in enumerate(raw_args))
        else:
            args = (parse(raw_args, registry, op_pointer),)
        count = len(args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            arity = spec.arity_text()
            takes = "argument" if arity == "1" else "arguments"
            got = "argument" if count == 1 else "arguments"
            raise ArityError(f"operator {op!r} takes {arity} {takes}, got {count} {got}", op_pointer)
        return Op(op, args, spec, pointer)
    return Lit(rule, pointer)


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, depth first, parents before children."""
    yield node
    if isinstance(node, Arr):
        for item in node.items:
            yield from walk(item)
    elif isinstance(node, Op):
        for arg in node.args:
            yield from walk(arg)


def literal_var_path(node: Op) -> str | None:
    """The path a `var` node reads when it is a literal ("" for the whole data), else None."""
    if not node.args:
        return ""
    first = node.args[0]
    if not isinstance(first, Lit) or isinstance(first.value, Mapping):
        return None
    if first.value is None:
        return ""
    return to_string(first.value)
