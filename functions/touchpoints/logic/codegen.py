"""Compile a checked JsonLogic node tree into one generated Python function (constants bound, not inlined)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from touchpoints.logic.errors import LogicError
from touchpoints.logic.explain import bind_custom, interpret, trace_node
from touchpoints.logic.js import UNDEFINED, is_array, is_number, loose_eq, strict_eq, truthy
from touchpoints.logic.nodes import Arr, Lit, Node, Op, literal_var_path, walk
from touchpoints.logic.ops_arithmetic import _MAX_SAFE
from touchpoints.logic.ops_data import member, missing_literal, missing_literal_keys
from touchpoints.logic.registry import BUILTIN_SPECS

__all__ = ["generate", "generate_source"]

_NUMS: Final = frozenset({int, float})
_PLAIN_TRUTH: Final = frozenset({bool, str, int, list, type(None)})
_COMPARE: Final = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SCOPED: Final = frozenset({"map", "filter", "all", "none", "some", "reduce"})
_REDUCE_NAMES: Final = frozenset({"current", "accumulator"})
# (what an inlined all/none/some loop returns when an element decides, and after the last element)
_LOOP_RESULTS: Final = {"all": ("False", "True"), "none": ("False", "True"), "some": ("True", "False")}


# The scoped function returns a Python bool (JsonLogic truthiness already applied) for
# filter/all/none/some. Plain loops: on CPython 3.11 a Python-to-Python call inside a loop is
# inlined, which measured ~1.5x faster than any(map(fn, items)).


def _h_map(items: Any, fn: Callable[[Any], Any]) -> list[Any]:
    if items.__class__ is list or is_array(items):
        return [fn(item) for item in items]
    return []


def _h_filter(items: Any, fn: Callable[[Any], bool]) -> list[Any]:
    if items.__class__ is list or is_array(items):
        return [item for item in items if fn(item)]
    return []


def _h_all(items: Any, fn: Callable[[Any], bool]) -> bool:
    if not (items.__class__ is list or is_array(items)) or not items:
        return False
    for item in items:  # noqa: SIM110 - see above
        if not fn(item):
            return False
    return True


def _h_none(items: Any, fn: Callable[[Any], bool]) -> bool:
    if not (items.__class__ is list or is_array(items)) or not items:
        return True
    for item in items:  # noqa: SIM110 - see above
        if fn(item):
            return False
    return True


def _h_some(items: Any, fn: Callable[[Any], bool]) -> bool:
    if not (items.__class__ is list or is_array(items)) or not items:
        return False
    for item in items:  # noqa: SIM110 - see above
        if fn(item):
            return True
    return False


def _h_missing_some(data: Any, need: int | float, keys: Any, count: int) -> list[Any]:
    found = missing_literal(data, keys)
    return [] if count - len(found) >= need else found


def _h_missing_values(keys: tuple[Any, ...], values: tuple[Any, ...]) -> list[Any]:
    """Fast-mode `missing`: the values were read by inlined dict.get chains (a plain loop measured
    3x faster than a comprehension over zip)."""
    found = []
    for index, value in enumerate(values):
        if value is None or value == "":
            found.append(keys[index])
    return found


def _h_missing_some_values(need: int | float, keys: tuple[Any, ...], values: tuple[Any, ...]) -> list[Any]:
    found = []
    for index, value in enumerate(values):  # _h_missing_values inlined: one call per evaluation, not two
        if value is None or value == "":
            found.append(keys[index])
    return [] if len(keys) - len(found) >= need else found


def _h_reduce(items: Any, fn: Callable[[Any], Any], initial: Any) -> Any:
    if not (items.__class__ is list or is_array(items)):
        return initial
    accumulator = initial
    for item in items:
        accumulator = fn({"current": item, "accumulator": accumulator})
    return accumulator


_SCOPED_HELPERS: Final = {
    "map": _h_map,
    "filter": _h_filter,
    "all": _h_all,
    "none": _h_none,
    "some": _h_some,
    "reduce": _h_reduce,
}


def _member_or_none(obj: Any, key: str) -> Any:
    """`obj[key]` for a default-less `var`: anything not found (or read through null) is null."""
    if obj is None:
        return None
    value = member(obj, key)
    return None if value is UNDEFINED else value


def _is_builtin(node: Op) -> bool:
    return BUILTIN_SPECS.get(node.op) is node.spec


def _lit_number(node: Node) -> bool:
    return isinstance(node, Lit) and is_number(node.value)


def _lit_str(node: Node) -> bool:
    return isinstance(node, Lit) and node.value.__class__ is str


class _Generator:
    """Turns nodes into Python expressions; every constant and helper is a bound name `_kN`."""

    def __init__(self) -> None:
        self.fast = False  # fast mode: `var` assumes objects all the way down (see generate_source)
        self.values: list[Any] = []
        self._names: dict[int, str] = {}
        self.defs: list[str] = []
        self._counter = 0
        # While an inlined `reduce` body is generated: the locals holding `current` and `accumulator`.
        self._reduce_scope: dict[str, str] | None = None

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
        if op in _SCOPED:
            return self._scoped(op, args), op in ("all", "none", "some")
        if op in ("==", "!=", "===", "!=="):
            return self._equality(node), True
        if op in _COMPARE:
            return self._compare(node), True
        if op == "in":
            return self._in(node), True
        if op == "+" and len(args) == 2:
            return self._add(node), False
        if op in ("missing", "missing_some"):
            return self._missing(node)
        return None

    def _missing(self, node: Op) -> tuple[str, bool] | None:
        """`missing` / `missing_some` over literal keys: paths are split here, once."""
        args = node.args
        if node.op == "missing":
            items = args[0].items if len(args) == 1 and isinstance(args[0], Arr) else args
            if not all(isinstance(item, Lit) for item in items):
                return None
            keys = missing_literal_keys([item.value for item in items])  # type: ignore[union-attr]
            if keys is None or (len(args) == 1 and isinstance(args[0], Lit) and not items):
                return None
            if self.fast and keys:
                names = tuple(key for key, _ in keys)
                reads = self._fast_reads(keys)
                if len(keys) == 1:
                    temp = self.temp()
                    return (
                        f"([{self.bind(names[0])}] if ({temp} := {reads[0]}) is None "
                        f"or {temp} == '' else [])",
                        False,
                    )
                return f"{self.bind(_h_missing_values)}({self.bind(names)}, ({', '.join(reads)},))", False
            return f"{self.bind(missing_literal)}(data, {self.bind(keys)})", False
        need, options = args
        if not (_lit_number(need) and isinstance(options, Arr)):
            return None
        if not all(isinstance(item, Lit) and not is_array(item.value) for item in options.items):
            return None
        keys = missing_literal_keys([item.value for item in options.items])  # type: ignore[union-attr]
        if keys is None:
            return None
        need_value = self.bind(need.value)  # type: ignore[union-attr]
        if self.fast and keys:
            key_names = self.bind(tuple(key for key, _ in keys))
            reads = self._fast_reads(keys)
            if len(keys) <= 4:
                # Count the present keys inline; the list of missing ones is built only when it is the answer.
                temps = [self.temp() for _ in reads]
                pairs = zip(temps, reads, strict=True)
                checks = (f"(({t} := {r}) is not None and {t} != '')" for t, r in pairs)
                present = " + ".join(checks)
                found = f"{self.bind(_h_missing_values)}({key_names}, ({', '.join(temps)},))"
                return f"([] if ({present}) >= {need_value} else {found})", False
            joined = ", ".join(reads)
            return f"{self.bind(_h_missing_some_values)}({need_value}, {key_names}, ({joined},))", False
        count = self.bind(len(options.items))
        return f"{self.bind(_h_missing_some)}(data, {need_value}, {self.bind(keys)}, {count})", False

    def _var(self, node: Op) -> tuple[str, bool] | None:
        path = literal_var_path(node)
        if path is None or (len(node.args) == 2 and not isinstance(node.args[1], Lit)):
            return None
        if path == "":
            return "data", False
        has_default = len(node.args) == 2
        if self._reduce_scope is not None:  # inlined reduce: `current`/`accumulator` are locals
            first, _, rest = path.partition(".")
            chain = self._reduce_scope[first]
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

    def _fast_reads(self, keys: Any) -> list[str]:
        """Inlined dict.get chains for pre-split `missing` keys (fast mode: AttributeError = retry)."""
        reads = []
        for _, path in keys:
            chain = "data"
            for key in path or ():
                chain = f"{chain}.get({self.bind(key)})"
            reads.append(chain)
        return reads

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

    def _scoped(self, op: str, args: tuple[Node, ...]) -> str:
        if self.fast:
            inlined = self._scoped_inline(op, args)
            if inlined is not None:
                return inlined
        name = f"_s{len(self.defs)}_{self.temp()[2:]}{'f' if self.fast else ''}"
        body = self.expr(args[1])[0] if op in ("map", "reduce") else self.truth(args[1])
        self.defs.append(f"    def {name}(data):\n        return {body}\n")
        items = self.expr(args[0])[0]
        helper = self.bind(_SCOPED_HELPERS[op])
        if op == "reduce":
            initial = self.expr(args[2])[0] if len(args) > 2 else "None"
            return f"{helper}({items}, {name}, {initial})"
        return f"{helper}({items}, {name})"

    def _scoped_inline(self, op: str, args: tuple[Node, ...]) -> str | None:
        """Fast mode: the per-element logic written into the loop itself, no call per element.

        The loops mirror the `_h_*` helpers exactly (same checks on the items, same results); only
        the per-element function call is gone. A `reduce` is inlined only when its logic reads
        nothing but literal `current...`/`accumulator...` paths, which then become two locals
        instead of a `{"current": ..., "accumulator": ...}` object built per element.
        """
        name = f"_s{len(self.defs)}_{self.temp()[2:]}i"
        is_array_name = self.bind(is_array)
        not_array = f"not (items.__class__ is {self.bind(list)} or {is_array_name}(items))"
        if op == "reduce":
            if not _reduce_inlinable(args[1]):
                return None
            self._reduce_scope = {"current": "_cur", "accumulator": "_acc"}
            try:
                body = self.expr(args[1])[0]
            finally:
                self._reduce_scope = None
            self.defs.append(
                f"    def {name}(items, _acc):\n"
                f"        if {not_array}:\n            return _acc\n"
                f"        for _cur in items:\n            _acc = {body}\n"
                f"        return _acc\n"
            )
            initial = self.expr(args[2])[0] if len(args) > 2 else "None"
            return f"{name}({self.expr(args[0])[0]}, {initial})"
        # Explicit loops, not comprehensions: on CPython 3.11 a comprehension is one more function
        # created and called per evaluation, which costs more than it saves on short item lists.
        if op == "map":
            loop = (
                "        out = []\n        for data in items:\n"
                f"            out.append({self.expr(args[1])[0]})\n        return out\n"
            )
            empty = "[]"
        elif op == "filter":
            loop = (
                f"        out = []\n        for data in items:\n            if {self.truth(args[1])}:\n"
                "                out.append(data)\n        return out\n"
            )
            empty = "[]"
        else:
            test = self.truth(args[1])
            found, otherwise = _LOOP_RESULTS[op]
            condition = f"not {test}" if op == "all" else test
            loop = (
                f"        for data in items:\n            if {condition}:\n                return {found}\n"
                f"        return {otherwise}\n"
            )
            empty = "True" if op == "none" else "False"
            not_array = f"{not_array} or not items"
        head = f"    def {name}(items):\n        if {not_array}:\n            return {empty}\n"
        self.defs.append(head + loop)
        return f"{name}({self.expr(args[0])[0]})"

    def _add(self, node: Op) -> str:
        """Binary `+`: two safe integers whose sum is one add in place; anything else calls `+`."""
        left, right = (self.expr(arg)[0] for arg in node.args)
        a, b, total = self.temp(), self.temp(), self.temp()
        int_name, limit = self.bind(int), self.bind(_MAX_SAFE)
        return (
            f"({total} if ({a} := {left}).__class__ is ({b} := {right}).__class__ is {int_name} "
            f"and -{limit} <= {a} <= {limit} and -{limit} <= {b} <= {limit} "
            f"and -{limit} <= ({total} := {a} + {b}) <= {limit} else {self.bind(node.spec.fn)}({a}, {b}))"
        )

    def _equality(self, node: Op) -> str:
        op, (left, right) = node.op, node.args
        negate = op in ("!=", "!==")
        if isinstance(left, Lit) and not isinstance(right, Lit):
            left, right = right, left  # equality is symmetric; literals have no side effects
        other = self.expr(left)[0]
        strict = op in ("===", "!==")
        if isinstance(right, Lit) and not isinstance(right.value, Mapping):
            value, temp = right.value, self.temp()
            if value is None:
                source = f"({other} is None)"
            elif strict and value.__class__ is bool:
                source = f"({other} is {value!r})"
            elif strict and value.__class__ is str:
                source = f"({other} == {self.bind(value)})"
            elif strict and is_number(value):
                source = (
                    f"(({temp} := {other}).__class__ in {self.bind(_NUMS)} and {temp} == {self.bind(value)})"
                )
            elif value.__class__ is str:
                source = (
                    f"(({temp} == {self.bind(value)}) if ({temp} := {other}).__class__ is {self.bind(str)} "
                    f"else {self.bind(loose_eq)}({temp}, {self.bind(value)}))"
                )
            elif is_number(value):
                source = (
                    f"(({temp} == {self.bind(value)}) if ({temp} := {other}).__class__ in {self.bind(_NUMS)} "
                    f"else {self.bind(loose_eq)}({temp}, {self.bind(value)}))"
                )
            else:
                function = strict_eq if strict else loose_eq
                source = f"{self.bind(function)}({other}, {self.expr(right)[0]})"
        else:
            function = strict_eq if strict else loose_eq
            source = f"{self.bind(function)}({other}, {self.expr(right)[0]})"
        return f"(not {source})" if negate else source

    def _compare(self, node: Op) -> str:
        op, args = node.op, node.args
        fallback = self.bind(node.spec.fn)
        nums = self.bind(_NUMS)
        symbol = _COMPARE[op]
        temp = self.temp()
        if len(args) == 2:
            left, right = args
            if _lit_number(right) and not isinstance(left, Lit):
                value = self.bind(right.value)  # type: ignore[union-attr]
                return (
                    f"(({temp} {symbol} {value}) if ({temp} := {self.expr(left)[0]}).__class__ in {nums} "
                    f"else {fallback}({temp}, {value}))"
                )
            if _lit_number(left) and not isinstance(right, Lit):
                value = self.bind(left.value)  # type: ignore[union-attr]
                return (
                    f"(({value} {symbol} {temp}) if ({temp} := {self.expr(right)[0]}).__class__ in {nums} "
                    f"else {fallback}({value}, {temp}))"
                )
        elif _lit_number(args[0]) and _lit_number(args[2]) and not isinstance(args[1], Lit):
            low = self.bind(args[0].value)  # type: ignore[union-attr]
            high = self.bind(args[2].value)  # type: ignore[union-attr]
            return (
                f"(({low} {symbol} {temp} {symbol} {high}) if ({temp} := {self.expr(args[1])[0]}).__class__ "
                f"in {nums} else {fallback}({low}, {temp}, {high}))"
            )
        return f"{fallback}({', '.join(self.expr(arg)[0] for arg in args)})"

    def _in(self, node: Op) -> str:
        needle, haystack = node.args
        fallback = self.bind(node.spec.fn)
        if (
            isinstance(haystack, Arr)
            and haystack.items
            and all(isinstance(item, Lit) for item in haystack.items)
        ):
            values = [item.value for item in haystack.items]  # type: ignore[union-attr]
            temp = self.temp()
            if all(value.__class__ is str for value in values):
                return (
                    f"(({temp} := {self.expr(needle)[0]}).__class__ is {self.bind(str)} "
                    f"and {temp} in {self.bind(frozenset(values))})"
                )
            if all(is_number(value) for value in values):
                return (
                    f"(({temp} := {self.expr(needle)[0]}).__class__ in {self.bind(_NUMS)} "
                    f"and {temp} in {self.bind(frozenset(values))})"
                )
            if not any(isinstance(value, Mapping) for value in values):
                return f"{fallback}({self.expr(needle)[0]}, {self.bind(tuple(values))})"
        if _lit_str(needle) and not isinstance(haystack, Lit | Arr):
            # A string is === only to an equal string, so Python's `in` on a list is exact (as op_in).
            temp, value = self.temp(), self.bind(needle.value)  # type: ignore[union-attr]
            return (
                f"(({value} in {temp}) if ({temp} := {self.expr(haystack)[0]}).__class__ "
                f"is {self.bind(list)} else {fallback}({value}, {temp}))"
            )
        return f"{fallback}({self.expr(needle)[0]}, {self.expr(haystack)[0]})"


def _reduce_inlinable(logic: Node) -> bool:
    """A reduce body that reads only literal `current`/`accumulator` paths (no default, no nesting)."""
    for node in walk(logic):
        if not isinstance(node, Op):
            continue
        if node.op in _SCOPED or node.op in ("missing", "missing_some"):
            return False
        if node.op == "var":
            path = literal_var_path(node)
            if path is None or len(node.args) != 1 or path.partition(".")[0] not in _REDUCE_NAMES:
                return False
    return True


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
