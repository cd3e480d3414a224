"""The public entry points: compile a rule once, evaluate it many times, explain it, list what it reads."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from touchpoints.logic.codegen import generate
from touchpoints.logic.errors import InvalidRuleError
from touchpoints.logic.explain import Trace, trace_node
from touchpoints.logic.js import UNDEFINED
from touchpoints.logic.nodes import Arr, Lit, Node, VarRef, literal_var_path, parse, to_json
from touchpoints.logic.operators import OperatorRegistry, default_operators

__all__ = ["CompiledLogic", "compile", "evaluate", "explain", "variable_references", "variables"]

_SCOPED = frozenset({"map", "filter", "all", "none", "some", "reduce"})


class CompiledLogic:
    """A rule compiled to a Python function: call it with the data, get the JsonLogic value.

    Each instance gets a one-off subclass whose `__call__` *is* the generated function (a
    staticmethod), so `compiled(data)` costs no extra Python frame over calling the function itself.
    """

    __slots__ = ("_node", "function", "rule", "source")

    def __new__(
        cls, rule: Any, node: Node, function: Callable[[Any], Any], source: str | None
    ) -> CompiledLogic:
        bound = type(cls.__name__, (cls,), {"__slots__": (), "__call__": staticmethod(function)})
        return object.__new__(bound)

    def __init__(self, rule: Any, node: Node, function: Callable[[Any], Any], source: str | None) -> None:
        self.rule = rule
        self._node = node
        self.function = function  # the generated function itself
        self.source = source  # the generated Python (None when the interpreter fallback runs the rule)

    def __call__(self, data: Any = None) -> Any:  # replaced per instance by the generated function
        return self.function(data)

    def explain(self, data: Any = None) -> Trace:
        """Each node of this rule with the value it produced on `data`."""
        return trace_node(self._node, data)

    def __repr__(self) -> str:
        return f"CompiledLogic({json.dumps(self.rule, default=repr)[:120]})"


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
    return CompiledLogic(rule, node, function, source)


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
