"""Compile a checked JsonLogic node tree into one generated Python function (constants bound, not inlined).

This is the generator's core: it walks the nodes, binds every constant and writes the factory with
its fast and checked bodies. The inlined operators and scoped loops it writes live in
`codegen_inline`; the helpers the generated code calls at run time, in `codegen_runtime`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from touchpoints.logic.codegen_inline import (
    COMPARE,
    SCOPED,
    emit_add,
    emit_compare,
    emit_equality,
    emit_in,
    emit_missing,
    emit_scoped,
)
from touchpoints.logic.codegen_runtime import _member_or_none
from touchpoints.logic.errors import LogicError
from touchpoints.logic.explain import bind_custom, interpret, trace_node
from touchpoints.logic.js import UNDEFINED, truthy
from touchpoints.logic.nodes import Arr, Lit, Node, Op, literal_var_path, walk
from touchpoints.logic.ops_data import member
from touchpoints.logic.registry import BUILTIN_SPECS

__all__ = ["generate", "generate_source"]

_PLAIN_TRUTH: Final = frozenset({bool, str, int, list, type(None)})


def _is_builtin(node: Op) -> bool:
    return BUILTIN_SPECS.get(node.op) is node.spec


class _Generator:
    """Turns nodes into Python expressions; every constant and helper is a bound name `_kN`."""

    def __init__(self) -> None:
        self.fast = False  # fast mode: `var` assumes objects all the way down (see generate_source)
        self.values: list[Any] = []
        self._names: dict[int, str] = {}
        self.defs: list[str] = []
        self._counter = 0
        # While an inlined `reduce` body is generated: the locals holding `current` and `accumulator`.
        self.reduce_scope: dict[str, str] | None = None

    def bind(self, value: Any) -> str:
        """A name for a value; the value goes into the constants tuple, never into the source text."""
        key = id(value)
        name = self._names.get(key)
        if name is None or self.values[int(name[2:])] is not value:
            name = f"_k{len(self.values)}"
            self.values.append(value)
            self._names[key] = name
        return name

    def temp(self) -> str:
        self._counter += 1
        return f"_t{self._counter}"

    def truth(self, node: Node) -> str:
        """An expression for the JsonLogic truthiness of `node` (a Python bool)."""
        source, is_bool = self.expr(node)
        if is_bool:
            return source
        temp = self.temp()  # for these classes Python's truth is JsonLogic's: no call needed
        plain, as_bool, js_truthy = self.bind(_PLAIN_TRUTH), self.bind(bool), self.bind(truthy)
        return f"({as_bool}({temp}) if ({temp} := {source}).__class__ in {plain} else {js_truthy}({temp}))"

    def expr(self, node: Node) -> tuple[str, bool]:
        """(Python expression, whether it always yields a bool) for one node."""
        if isinstance(node, Lit):
            value = node.value
            if value is None or value is True or value is False:
                return repr(value), value is not None
            return self.bind(value), False
        if isinstance(node, Arr):
            return "[" + ", ".join(self.expr(item)[0] for item in node.items) + "]", False
        if _is_builtin(node):
            special = self._special(node)
            if special is not None:
                return special
        return self._call(node), False

    def _call(self, node: Op) -> str:
        spec = node.spec
        assert spec.fn is not None
        fn = spec.fn if _is_builtin(node) else bind_custom(spec, node.pointer)
        args = [self.expr(arg)[0] for arg in node.args]
        if spec.kind == "data":
            args.insert(0, "data")
        return f"{self.bind(fn)}({', '.join(args)})"

    def _special(self, node: Op) -> tuple[str, bool] | None:
        op, args = node.op, node.args
        if op == "var":
            return self._var(node)
        if op in ("and", "or"):
            return self._and_or(op, args)
        if op in ("if", "?:"):
            return self._if(args)
        if op == "!":
            return f"(not {self.truth(args[0])})", True
        if op == "!!":
            return self.truth(args[0]), True
        if op in SCOPED:
            return emit_scoped(self, op, args), op in ("all", "none", "some")
        if op in ("==", "!=", "===", "!=="):
            return emit_equality(self, node), True
        if op in COMPARE:
            return emit_compare(self, node), True
        if op == "in":
            return emit_in(self, node), True
        if op == "+" and len(args) == 2:
            return emit_add(self, node), False
        if op in ("missing", "missing_some"):
            return emit_missing(self, node)
        return None

    def _var(self, node: Op) -> tuple[str, bool] | None:
        path = literal_var_path(node)
        if path is None or (len(node.args) == 2 and not isinstance(node.args[1], Lit)):
            return None
        if path == "":
            return "data", False
        has_default = len(node.args) == 2
        if self.reduce_scope is not None:  # inlined reduce: `current`/`accumulator` are locals
            first, _, rest = path.partition(".")
            chain = self.reduce_scope[first]
            for key in rest.split(".") if rest else ():
                chain = f"{chain}.get({self.bind(key)})"
            return chain, False
        if self.fast:  # plain .get chain: anything but an object on the way raises AttributeError
            missing = self.bind(UNDEFINED)
            chain = "data"
            for key in path.split("."):
                key_name = self.bind(key)
                chain = f"{chain}.get({key_name}, {missing})" if has_default else f"{chain}.get({key_name})"
            if not has_default:
                return chain, False
            result = self.temp()
            default = self.expr(node.args[1])[0]
            return f"({result} if ({result} := {chain}) is not {missing} else {default})", False
        # Without a default, "not found" is null, so a plain dict.get chain is exact: a null on the way
        # also ends as null. With a default, absent keys must be told apart from null values.
        missing = self.bind(UNDEFINED) if has_default else "None"
        member_name = self.bind(member if has_default else _member_or_none)
        dict_name = self.bind(dict)
        chain = "data"
        for key in path.split("."):
            temp, key_name = self.temp(), self.bind(key)
            get = f"{temp}.get({key_name}, {missing})" if has_default else f"{temp}.get({key_name})"
            chain = (
                f"({get} if ({temp} := {chain}).__class__ is {dict_name} "
                f"else {member_name}({temp}, {key_name}))"
            )
        if not has_default:
            return chain, False
        default = self.expr(node.args[1])[0]
        result = self.temp()
        return f"({result} if ({result} := {chain}) is not {missing} else {default})", False

    def _and_or(self, op: str, args: tuple[Node, ...]) -> tuple[str, bool]:
        parts = [self.expr(arg) for arg in args]
        if all(is_bool for _, is_bool in parts):
            return "(" + f" {op} ".join(source for source, _ in parts) + ")", True
        source = parts[-1][0]
        truthy_name = self.bind(truthy)
        for part, _ in reversed(parts[:-1]):
            temp = self.temp()
            test = f"{truthy_name}({temp} := {part})"
            if op == "and":
                source = f"({temp} if not {test} else {source})"
            else:
                source = f"({temp} if {test} else {source})"
        return source, False

    def _if(self, args: tuple[Node, ...]) -> tuple[str, bool]:
        count = len(args)
        pairs = count // 2
        if count % 2:
            tail, tail_bool = self.expr(args[-1])
        else:
            tail, tail_bool = "None", False
        all_bool = tail_bool
        source = tail
        for index in reversed(range(pairs)):
            branch, branch_bool = self.expr(args[2 * index + 1])
            all_bool = all_bool and branch_bool
            source = f"({branch} if {self.truth(args[2 * index])} else {source})"
        return source, all_bool


def _locator(node: Node) -> Callable[[Any, LogicError], None]:
    """Re-run a failed evaluation node by node so the error gets the pointer of the node that failed."""

    def locate(data: Any, exc: LogicError) -> None:
        if not exc.pointer:
            trace_node(node, data)  # raises the same error, now with its pointer

    return locate


def generate_source(node: Node) -> tuple[str, tuple[Any, ...]]:
    """The factory source for a rule and the constants it binds (exposed for tests and debugging)."""
    gen = _Generator()
    body = gen.expr(node)[0]
    error, locate = gen.bind(LogicError), gen.bind(_locator(node))
    fast_body = None
    if all(not isinstance(n, Op) or (_is_builtin(n) and n.op != "log") for n in walk(node)):
        gen.fast = True
        fast_body = gen.expr(node)[0]
    attribute_error = gen.bind(AttributeError)
    names = [f"_k{i}" for i in range(len(gen.values))]
    lines = ["def _factory(_K):"]
    if names:
        lines.append(f"    ({', '.join(names)},) = _K")
    lines.extend(gen.defs)
    # The fast body reads data with plain dict.get chains; when a path meets null, a list or a
    # string, Python raises AttributeError and the rule is evaluated again by the checked body,
    # which implements every JavaScript case. Evaluation has no side effects (custom operators
    # excepted, and they are called only after their arguments are evaluated), so a retry is safe.
    # Only rules without custom operators or `log` get the fast body, so a retry repeats nothing
    # anyone can observe.
    lines.append("    def _rule(data=None):\n")
    if fast_body is not None:
        lines.append(
            f"        try:\n            return {fast_body}\n"
            f"        except {attribute_error}:\n            pass\n"
            f"        except {error} as exc:\n            {locate}(data, exc)\n            raise\n"
        )
    lines.append(
        f"        try:\n            return {body}\n"
        f"        except {error} as exc:\n            {locate}(data, exc)\n            raise\n"
    )
    lines.append("    return _rule\n")
    return "\n".join(lines), tuple(gen.values)


def generate(node: Node) -> tuple[Callable[[Any], Any], str | None]:
    """A fast function for the rule, or the tracing interpreter when Python cannot compile it (too deep)."""
    try:
        source, values = generate_source(node)
        namespace: dict[str, Any] = {"__builtins__": {}}
        exec(compile(source, "<jsonlogic>", "exec"), namespace)  # our own generated code, no rule text
        function: Callable[[Any], Any] = namespace["_factory"](values)
    except (RecursionError, MemoryError, SyntaxError):
        return interpret(node), None
    return function, source
