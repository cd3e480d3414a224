"""The public entry points: compile a rule once, evaluate it many times, explain it, list what it reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Protocol, cast, runtime_checkable

from touchpoints.logic.codegen import generate
from touchpoints.logic.errors import InvalidRuleError
from touchpoints.logic.explain import Trace, trace_node
from touchpoints.logic.js import UNDEFINED
from touchpoints.logic.nodes import Arr, Lit, Node, VarRef, literal_var_path, parse, to_json
from touchpoints.logic.registry import OperatorRegistry, default_operators

__all__ = ["CompiledLogic", "compile", "evaluate", "explain", "variable_references", "variables"]

_SCOPED = frozenset({"map", "filter", "all", "none", "some", "reduce"})


@runtime_checkable
class CompiledLogic(Protocol):
    """A compiled rule: call it with the data, get the JsonLogic value.

    It *is* the generated Python function (no wrapper object, so no extra call per evaluation),
    carrying the attributes below.
    """

    rule: Any  # the rule as plain JSON (a private copy)
    source: str | None  # the generated Python (None when the interpreter fallback runs the rule)
    function: Callable[[Any], Any]  # the function itself, for callers that want it by name

    def __call__(self, data: Any = None) -> Any:
        """The rule's value on `data`."""

    def explain(self, data: Any = None) -> Trace:
        """Each node of this rule with the value it produced on `data`."""


def _parse(logic: Any, operators: OperatorRegistry | None) -> tuple[Any, Node]:
    """The rule as plain JSON (a private copy) and its checked node tree."""
    registry = default_operators() if operators is None else operators
    try:
        rule = to_json(logic)
        return rule, parse(rule, registry)
    except RecursionError:
        raise InvalidRuleError("rule is nested too deeply to compile") from None


def compile(logic: Any, operators: OperatorRegistry | None = None) -> CompiledLogic:
    """Check a rule (unknown operators and bad arity fail here, with a pointer) and compile it."""
    rule, node = _parse(logic, operators)
    function, source = generate(node)

    def explain_rule(data: Any = None) -> Trace:
        return trace_node(node, data)

    for name, value in (
        ("rule", rule),
        ("source", source),
        ("function", function),
        ("explain", explain_rule),
    ):
        setattr(function, name, value)
    return cast(CompiledLogic, function)


@lru_cache(maxsize=512)
def _compile_cached(text: str) -> CompiledLogic:
    return compile(json.loads(text))


def evaluate(logic: Any, data: Any = None, operators: OperatorRegistry | None = None) -> Any:
    """Compile (cached for JSON rules on the default operators) and evaluate once."""
    if operators is None:
        try:
            text = json.dumps(logic, allow_nan=False)
        except (TypeError, ValueError):
            pass
        else:
            return _compile_cached(text)(data)
    return compile(logic, operators)(data)


def explain(logic: Any, data: Any = None, operators: OperatorRegistry | None = None) -> Trace:
    """Evaluate node by node: `str(trace)` is an indented tree, `trace.value` the rule's value."""
    _, node = _parse(logic, operators)
    trace = trace_node(node, data)
    if trace.value is UNDEFINED:
        trace.value = None
    return trace


def _collect(node: Node, out: list[VarRef]) -> None:
    if isinstance(node, Arr):
        for item in node.items:
            _collect(item, out)
        return
    if isinstance(node, Lit):
        return
    if node.op == "var":
        path = literal_var_path(node)
        if path is not None:
            out.append(VarRef(path, node.pointer))
    elif node.op in ("missing", "missing_some"):
        keys = node.args if node.op == "missing" else node.args[1:]
        for key in keys:
            candidates = key.items if isinstance(key, Arr) else (key,)
            for candidate in candidates:
                if isinstance(candidate, Lit) and candidate.value.__class__ in (str, int):
                    out.append(VarRef(str(candidate.value), candidate.pointer))
    args = node.args[:1] + node.args[2:] if node.op in _SCOPED else node.args
    for arg in args:  # the scoped logic of map/filter/all/... reads each element, not the data
        _collect(arg, out)


def variable_references(logic: Any, operators: OperatorRegistry | None = None) -> list[VarRef]:
    """Every literal data path the rule reads (`var`, and `missing` keys), with its node's JSON pointer.

    Paths inside the per-element logic of map/filter/reduce/all/none/some are relative to the element,
    so they are not listed.
    """
    out: list[VarRef] = []
    _collect(_parse(logic, operators)[1], out)
    return out


def variables(logic: Any, operators: OperatorRegistry | None = None) -> set[str]:
    """The set of literal data paths the rule reads ("" means the whole data)."""
    return {ref.path for ref in variable_references(logic, operators)}
