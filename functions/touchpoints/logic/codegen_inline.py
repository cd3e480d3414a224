"""The code the generator writes inline: operators as Python expressions, scoped logic as loops.

Each `emit_*` function turns one built-in operator node into Python source for `codegen._Generator`
(the `Emitter` below), falling back to a call of the operator where a shortcut would not be exact.
What they write is held byte for byte by tests/unit/logic/test_codegen_snapshot.py; the speed it
buys is measured by bench/logic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

from touchpoints.logic.codegen_runtime import (
    SCOPED_HELPERS,
    _h_missing_some,
    _h_missing_some_values,
    _h_missing_values,
)
from touchpoints.logic.js import is_array, is_number, loose_eq, strict_eq
from touchpoints.logic.nodes import Arr, Lit, Node, Op, literal_var_path, walk
from touchpoints.logic.ops_arithmetic import _MAX_SAFE
from touchpoints.logic.ops_data import missing_literal, missing_literal_keys

__all__ = [
    "COMPARE",
    "SCOPED",
    "Emitter",
    "emit_add",
    "emit_compare",
    "emit_equality",
    "emit_in",
    "emit_missing",
    "emit_scoped",
]

_NUMS: Final = frozenset({int, float})
COMPARE: Final = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
SCOPED: Final = frozenset({"map", "filter", "all", "none", "some", "reduce"})
_REDUCE_NAMES: Final = frozenset({"current", "accumulator"})
# (what an inlined all/none/some loop returns when an element decides, and after the last element)
_LOOP_RESULTS: Final = {"all": ("False", "True"), "none": ("False", "True"), "some": ("True", "False")}


class Emitter(Protocol):
    """What the emitters use of the generator (`codegen._Generator`)."""

    fast: bool  # fast mode: `var` assumes objects all the way down (see codegen.generate_source)
    defs: list[str]  # nested function definitions written before the rule's body
    reduce_scope: dict[str, str] | None  # inside an inlined `reduce`: locals for current/accumulator

    def bind(self, value: Any) -> str:
        """A name for a value in the constants tuple."""

    def temp(self) -> str:
        """A fresh local name."""

    def truth(self, node: Node) -> str:
        """An expression for the JsonLogic truthiness of `node`."""

    def expr(self, node: Node) -> tuple[str, bool]:
        """(Python expression, whether it always yields a bool) for `node`."""


def _lit_number(node: Node) -> bool:
    return isinstance(node, Lit) and is_number(node.value)


def _lit_str(node: Node) -> bool:
    return isinstance(node, Lit) and node.value.__class__ is str


# Operators written as expressions: a type check on the value read, then plain Python; any other
# value goes to the operator itself, so the shortcut is exact.


def emit_add(gen: Emitter, node: Op) -> str:
    """Binary `+`: two safe integers whose sum is one add in place; anything else calls `+`."""
    left, right = (gen.expr(arg)[0] for arg in node.args)
    a, b, total = gen.temp(), gen.temp(), gen.temp()
    int_name, limit = gen.bind(int), gen.bind(_MAX_SAFE)
    return (
        f"({total} if ({a} := {left}).__class__ is ({b} := {right}).__class__ is {int_name} "
        f"and -{limit} <= {a} <= {limit} and -{limit} <= {b} <= {limit} "
        f"and -{limit} <= ({total} := {a} + {b}) <= {limit} else {gen.bind(node.spec.fn)}({a}, {b}))"
    )


def emit_equality(gen: Emitter, node: Op) -> str:
    """`==` `!=` `===` `!==` against a literal: one type check and a Python `==`, else the operator."""
    op, (left, right) = node.op, node.args
    negate = op in ("!=", "!==")
    if isinstance(left, Lit) and not isinstance(right, Lit):
        left, right = right, left  # equality is symmetric; literals have no side effects
    other = gen.expr(left)[0]
    strict = op in ("===", "!==")
    if isinstance(right, Lit) and not isinstance(right.value, Mapping):
        value, temp = right.value, gen.temp()
        if value is None:
            source = f"({other} is None)"
        elif strict and value.__class__ is bool:
            source = f"({other} is {value!r})"
        elif strict and value.__class__ is str:
            source = f"({other} == {gen.bind(value)})"
        elif strict and is_number(value):
            source = f"(({temp} := {other}).__class__ in {gen.bind(_NUMS)} and {temp} == {gen.bind(value)})"
        elif value.__class__ is str:
            source = (
                f"(({temp} == {gen.bind(value)}) if ({temp} := {other}).__class__ is {gen.bind(str)} "
                f"else {gen.bind(loose_eq)}({temp}, {gen.bind(value)}))"
            )
        elif is_number(value):
            source = (
                f"(({temp} == {gen.bind(value)}) if ({temp} := {other}).__class__ in {gen.bind(_NUMS)} "
                f"else {gen.bind(loose_eq)}({temp}, {gen.bind(value)}))"
            )
        else:
            function = strict_eq if strict else loose_eq
            source = f"{gen.bind(function)}({other}, {gen.expr(right)[0]})"
    else:
        function = strict_eq if strict else loose_eq
        source = f"{gen.bind(function)}({other}, {gen.expr(right)[0]})"
    return f"(not {source})" if negate else source


def emit_compare(gen: Emitter, node: Op) -> str:
    """`<` `<=` `>` `>=` with a literal number on one side (or both ends): a numeric compare in place."""
    op, args = node.op, node.args
    fallback = gen.bind(node.spec.fn)
    nums = gen.bind(_NUMS)
    symbol = COMPARE[op]
    temp = gen.temp()
    if len(args) == 2:
        left, right = args
        if _lit_number(right) and not isinstance(left, Lit):
            value = gen.bind(right.value)  # type: ignore[union-attr]
            return (
                f"(({temp} {symbol} {value}) if ({temp} := {gen.expr(left)[0]}).__class__ in {nums} "
                f"else {fallback}({temp}, {value}))"
            )
        if _lit_number(left) and not isinstance(right, Lit):
            value = gen.bind(left.value)  # type: ignore[union-attr]
            return (
                f"(({value} {symbol} {temp}) if ({temp} := {gen.expr(right)[0]}).__class__ in {nums} "
                f"else {fallback}({value}, {temp}))"
            )
    elif _lit_number(args[0]) and _lit_number(args[2]) and not isinstance(args[1], Lit):
        low = gen.bind(args[0].value)  # type: ignore[union-attr]
        high = gen.bind(args[2].value)  # type: ignore[union-attr]
        return (
            f"(({low} {symbol} {temp} {symbol} {high}) if ({temp} := {gen.expr(args[1])[0]}).__class__ "
            f"in {nums} else {fallback}({low}, {temp}, {high}))"
        )
    return f"{fallback}({', '.join(gen.expr(arg)[0] for arg in args)})"


def emit_in(gen: Emitter, node: Op) -> str:
    """`in` over a literal list (a frozenset lookup) or a literal string needle in a list."""
    needle, haystack = node.args
    fallback = gen.bind(node.spec.fn)
    if isinstance(haystack, Arr) and haystack.items and all(isinstance(item, Lit) for item in haystack.items):
        values = [item.value for item in haystack.items]  # type: ignore[union-attr]
        temp = gen.temp()
        if all(value.__class__ is str for value in values):
            return (
                f"(({temp} := {gen.expr(needle)[0]}).__class__ is {gen.bind(str)} "
                f"and {temp} in {gen.bind(frozenset(values))})"
            )
        if all(is_number(value) for value in values):
            return (
                f"(({temp} := {gen.expr(needle)[0]}).__class__ in {gen.bind(_NUMS)} "
                f"and {temp} in {gen.bind(frozenset(values))})"
            )
        if not any(isinstance(value, Mapping) for value in values):
            return f"{fallback}({gen.expr(needle)[0]}, {gen.bind(tuple(values))})"
    if _lit_str(needle) and not isinstance(haystack, Lit | Arr):
        # A string is === only to an equal string, so Python's `in` on a list is exact (as op_in).
        temp, value = gen.temp(), gen.bind(needle.value)  # type: ignore[union-attr]
        return (
            f"(({value} in {temp}) if ({temp} := {gen.expr(haystack)[0]}).__class__ "
            f"is {gen.bind(list)} else {fallback}({value}, {temp}))"
        )
    return f"{fallback}({gen.expr(needle)[0]}, {gen.expr(haystack)[0]})"


# `missing` / `missing_some` over literal keys.


def emit_missing(gen: Emitter, node: Op) -> tuple[str, bool] | None:
    """`missing` / `missing_some` over literal keys: paths are split here, once."""
    args = node.args
    if node.op == "missing":
        items = args[0].items if len(args) == 1 and isinstance(args[0], Arr) else args
        if not all(isinstance(item, Lit) for item in items):
            return None
        keys = missing_literal_keys([item.value for item in items])  # type: ignore[union-attr]
        if keys is None or (len(args) == 1 and isinstance(args[0], Lit) and not items):
            return None
        if gen.fast and keys:
            names = tuple(key for key, _ in keys)
            reads = _fast_reads(gen, keys)
            if len(keys) == 1:
                temp = gen.temp()
                return (
                    f"([{gen.bind(names[0])}] if ({temp} := {reads[0]}) is None or {temp} == '' else [])",
                    False,
                )
            return f"{gen.bind(_h_missing_values)}({gen.bind(names)}, ({', '.join(reads)},))", False
        return f"{gen.bind(missing_literal)}(data, {gen.bind(keys)})", False
    need, options = args
    if not (_lit_number(need) and isinstance(options, Arr)):
        return None
    if not all(isinstance(item, Lit) and not is_array(item.value) for item in options.items):
        return None
    keys = missing_literal_keys([item.value for item in options.items])  # type: ignore[union-attr]
    if keys is None:
        return None
    need_value = gen.bind(need.value)  # type: ignore[union-attr]
    if gen.fast and keys:
        key_names = gen.bind(tuple(key for key, _ in keys))
        reads = _fast_reads(gen, keys)
        if len(keys) <= 4:
            # Count the present keys inline; the list of missing ones is built only when it is the answer.
            temps = [gen.temp() for _ in reads]
            pairs = zip(temps, reads, strict=True)
            checks = (f"(({t} := {r}) is not None and {t} != '')" for t, r in pairs)
            present = " + ".join(checks)
            found = f"{gen.bind(_h_missing_values)}({key_names}, ({', '.join(temps)},))"
            return f"([] if ({present}) >= {need_value} else {found})", False
        joined = ", ".join(reads)
        return f"{gen.bind(_h_missing_some_values)}({need_value}, {key_names}, ({joined},))", False
    count = gen.bind(len(options.items))
    return f"{gen.bind(_h_missing_some)}(data, {need_value}, {gen.bind(keys)}, {count})", False


def _fast_reads(gen: Emitter, keys: Any) -> list[str]:
    """Inlined dict.get chains for pre-split `missing` keys (fast mode: AttributeError = retry)."""
    reads = []
    for _, path in keys:
        chain = "data"
        for key in path or ():
            chain = f"{chain}.get({gen.bind(key)})"
        reads.append(chain)
    return reads


# Scoped logic (map, filter, all, none, some, reduce).


def emit_scoped(gen: Emitter, op: str, args: tuple[Node, ...]) -> str:
    """map/filter/all/none/some/reduce: a nested function per element, or (fast mode) a written-out loop."""
    if gen.fast:
        inlined = _scoped_inline(gen, op, args)
        if inlined is not None:
            return inlined
    name = f"_s{len(gen.defs)}_{gen.temp()[2:]}{'f' if gen.fast else ''}"
    body = gen.expr(args[1])[0] if op in ("map", "reduce") else gen.truth(args[1])
    gen.defs.append(f"    def {name}(data):\n        return {body}\n")
    items = gen.expr(args[0])[0]
    helper = gen.bind(SCOPED_HELPERS[op])
    if op == "reduce":
        initial = gen.expr(args[2])[0] if len(args) > 2 else "None"
        return f"{helper}({items}, {name}, {initial})"
    return f"{helper}({items}, {name})"


def _scoped_inline(gen: Emitter, op: str, args: tuple[Node, ...]) -> str | None:
    """Fast mode: the per-element logic written into the loop itself, no call per element.

    The loops mirror the `_h_*` helpers exactly (same checks on the items, same results); only
    the per-element function call is gone. A `reduce` is inlined only when its logic reads
    nothing but literal `current...`/`accumulator...` paths, which then become two locals
    instead of a `{"current": ..., "accumulator": ...}` object built per element.
    """
    name = f"_s{len(gen.defs)}_{gen.temp()[2:]}i"
    is_array_name = gen.bind(is_array)
    not_array = f"not (items.__class__ is {gen.bind(list)} or {is_array_name}(items))"
    if op == "reduce":
        if not _reduce_inlinable(args[1]):
            return None
        gen.reduce_scope = {"current": "_cur", "accumulator": "_acc"}
        try:
            body = gen.expr(args[1])[0]
        finally:
            gen.reduce_scope = None
        gen.defs.append(
            f"    def {name}(items, _acc):\n"
            f"        if {not_array}:\n            return _acc\n"
            f"        for _cur in items:\n            _acc = {body}\n"
            f"        return _acc\n"
        )
        initial = gen.expr(args[2])[0] if len(args) > 2 else "None"
        return f"{name}({gen.expr(args[0])[0]}, {initial})"
    # Explicit loops, not comprehensions: on CPython 3.11 a comprehension is one more function
    # created and called per evaluation, which costs more than it saves on short item lists.
    if op == "map":
        loop = (
            "        out = []\n        for data in items:\n"
            f"            out.append({gen.expr(args[1])[0]})\n        return out\n"
        )
        empty = "[]"
    elif op == "filter":
        loop = (
            f"        out = []\n        for data in items:\n            if {gen.truth(args[1])}:\n"
            "                out.append(data)\n        return out\n"
        )
        empty = "[]"
    else:
        test = gen.truth(args[1])
        found, otherwise = _LOOP_RESULTS[op]
        condition = f"not {test}" if op == "all" else test
        loop = (
            f"        for data in items:\n            if {condition}:\n                return {found}\n"
            f"        return {otherwise}\n"
        )
        empty = "True" if op == "none" else "False"
        not_array = f"{not_array} or not items"
    head = f"    def {name}(items):\n        if {not_array}:\n            return {empty}\n"
    gen.defs.append(head + loop)
    return f"{name}({gen.expr(args[0])[0]})"


def _reduce_inlinable(logic: Node) -> bool:
    """A reduce body that reads only literal `current`/`accumulator` paths (no default, no nesting)."""
    for node in walk(logic):
        if not isinstance(node, Op):
            continue
        if node.op in SCOPED or node.op in ("missing", "missing_some"):
            return False
        if node.op == "var":
            path = literal_var_path(node)
            if path is None or len(node.args) != 1 or path.partition(".")[0] not in _REDUCE_NAMES:
                return False
    return True
