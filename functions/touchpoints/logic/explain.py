"""A tracing interpreter: evaluates a rule node by node and keeps each node's value (for `explain`)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from touchpoints.logic.errors import EvaluationError, LogicError
from touchpoints.logic.js import UNDEFINED, is_array, truthy
from touchpoints.logic.nodes import Arr, Lit, Node, Op, literal_var_path
from touchpoints.logic.ops_data import get_path
from touchpoints.logic.registry import BUILTIN_SPECS, OperatorSpec

__all__ = ["Trace", "bind_custom", "format_value", "interpret", "trace_node"]


def format_value(value: Any) -> str:
    """A value as json-logic-js users read it: JSON, with NaN / Infinity / -0 spelled as JavaScript does."""
    if value.__class__ is float:
        if value != value:
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value == 0 and math.copysign(1.0, value) < 0:
            return "-0"
        if value.is_integer():
            return str(int(value))
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=True, default=repr)
    except ValueError:
        return repr(value)


@dataclass
class Trace:
    """One evaluated node: `op` ("value" for literals, "array" for arrays), its value and its children."""

    op: str
    label: str
    pointer: str
    value: Any = None
    evaluated: bool = True
    children: list[Trace] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible form (for `touchpoints explain --json`)."""
        return {
            "op": self.op,
            "label": self.label,
            "pointer": self.pointer,
            "evaluated": self.evaluated,
            "value": self.value if self.evaluated else None,
            "children": [child.to_dict() for child in self.children],
        }

    def lines(self, depth: int = 0) -> list[str]:
        """The indented tree, one node a line: `and -> false`, nodes skipped by short-circuit marked."""
        pad = "  " * depth
        if not self.evaluated:
            own = f"{pad}{self.label} (not evaluated)"
        elif self.op == "value":
            own = f"{pad}{self.label}"
        else:
            own = f"{pad}{self.label} -> {format_value(self.value)}"
        out = [own]
        for child in self.children:
            out.extend(child.lines(depth + 1))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def bind_custom(spec: OperatorSpec, pointer: str) -> Callable[..., Any]:
    """Wrap a custom operator so its failures become EvaluationError naming the operator and node."""
    fn = spec.fn
    assert fn is not None
    name = spec.name

    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except LogicError:
            raise
        except Exception as exc:
            raise EvaluationError(f"operator {name!r} failed: {type(exc).__name__}: {exc}", pointer) from exc

    return call


def _label(node: Node) -> str:
    if isinstance(node, Lit):
        return format_value(node.value)
    if isinstance(node, Arr):
        return "array"
    if node.op == "var":
        path = literal_var_path(node)
        if path is not None and len(node.args) <= 1:
            return f"var {path}" if path else "var (data)"
    return node.op


def _skipped(node: Node) -> Trace:
    trace = _shell(node)
    trace.evaluated = False
    trace.children = [_skipped(child) for child in _children(node)]
    return trace


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Arr):
        return node.items
    if isinstance(node, Op):
        if node.op == "var" and literal_var_path(node) is not None and len(node.args) <= 1:
            return ()
        return node.args
    return ()


def _shell(node: Node) -> Trace:
    op = "value" if isinstance(node, Lit) else ("array" if isinstance(node, Arr) else node.op)
    return Trace(op=op, label=_label(node), pointer=node.pointer)


_SCOPED = frozenset({"map", "filter", "all", "none", "some", "reduce"})


def trace_node(node: Node, data: Any) -> Trace:
    """Evaluate `node` on `data`, recording every node; errors get the pointer of the node that failed."""
    trace = _shell(node)
    if isinstance(node, Lit):
        trace.value = node.value
        return trace
    if isinstance(node, Arr):
        trace.children = [trace_node(item, data) for item in node.items]
        trace.value = [child.value for child in trace.children]
        return trace
    try:
        trace.value = _apply(node, data, trace)
    except LogicError as exc:
        if not exc.pointer:
            exc.pointer = node.pointer
        raise
    return trace


def _apply(node: Op, data: Any, trace: Trace) -> Any:
    op, args = node.op, node.args
    kids = trace.children
    if op in ("if", "?:"):
        index = 0
        while index < len(args) - 1:
            condition = trace_node(args[index], data)
            kids.append(condition)
            if truthy(condition.value):
                chosen = trace_node(args[index + 1], data)
                kids.append(chosen)
                kids.extend(_skipped(rest) for rest in args[index + 2 :])
                return chosen.value
            kids.append(_skipped(args[index + 1]))
            index += 2
        if index == len(args) - 1:
            last = trace_node(args[index], data)
            kids.append(last)
            return last.value
        return None
    if op in ("and", "or"):
        want = op == "or"
        current: Any = None
        for position, arg in enumerate(args):
            child = trace_node(arg, data)
            kids.append(child)
            current = child.value
            if truthy(current) is want:
                kids.extend(_skipped(rest) for rest in args[position + 1 :])
                return current
        return current
    if op in _SCOPED:
        return _apply_scoped(node, data, kids)
    if op == "var" and literal_var_path(node) is not None and len(args) <= 1:
        path = literal_var_path(node)
        assert path is not None
        return data if path == "" else get_path(data, path.split("."), None)
    children = [trace_node(arg, data) for arg in args]
    kids.extend(children)
    values = [child.value for child in children]
    spec = node.spec
    assert spec.fn is not None
    if spec.kind == "data":
        return spec.fn(data, *values)
    if BUILTIN_SPECS.get(op) is spec:
        return spec.fn(*values)
    return bind_custom(spec, node.pointer)(*values)


def _apply_scoped(node: Op, data: Any, kids: list[Trace]) -> Any:
    op, args = node.op, node.args
    source = trace_node(args[0], data)
    kids.append(source)
    items = source.value
    logic = args[1]
    if op == "reduce":
        initial: Any = None
        if len(args) > 2:
            start = trace_node(args[2], data)
            kids.append(start)
            initial = start.value
        if not is_array(items):
            kids.append(_skipped(logic))
            return initial
        accumulator = initial
        for item in items:
            step = trace_node(logic, {"current": item, "accumulator": accumulator})
            kids.append(step)
            accumulator = step.value
        if not items:
            kids.append(_skipped(logic))
        return accumulator
    if not is_array(items) or (op in ("all", "none", "some") and not items):
        kids.append(_skipped(logic))
        return {"map": [], "filter": [], "all": False, "none": True, "some": False}[op]
    if op == "map":
        results = []
        for item in items:
            step = trace_node(logic, item)
            kids.append(step)
            results.append(step.value)
        return results
    if op == "filter":
        kept = []
        for item in items:
            step = trace_node(logic, item)
            kids.append(step)
            if truthy(step.value):
                kept.append(item)
        return kept
    stop_on = op != "all"  # all stops at the first falsy, none/some at the first truthy
    for item in items:
        step = trace_node(logic, item)
        kids.append(step)
        if truthy(step.value) is stop_on:
            return op == "some"
    return op != "some"


def interpret(node: Node) -> Callable[[Any], Any]:
    """A slow but simple evaluator (the compiler's fallback for rules too deep for generated code)."""

    def run(data: Any = None) -> Any:
        value = trace_node(node, data).value
        return None if value is UNDEFINED else value

    return run
