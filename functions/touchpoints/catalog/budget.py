"""The render budget: how much one message may print, loop and build, and the operations that keep to it.

Jinja2's sandbox blocks private attributes and caps `range()` at 100,000 items, but a template
can still ask for `"x" * 100 * 100 * 100 * 100` (each factor small, the product 10^8 characters),
`"x" | center(100000000)`, `"{:>100000000}".format("x")`, eight chained `replace`, or four nested
loops of 100: a Lambda stalled or out of memory, a whole batch lost. One message gets a budget:

- what it prints: `MAX_SUBJECT` characters of subject, `MAX_BODY` of body, `MAX_SMS` of SMS text;
- what it builds: no string or list longer than `MAX_TEXT` (checked *before* `*`, `+`, `%`,
  `center`, `format`, `replace`, `join`, ... compute it, so the bomb is never built);
- how long it loops: `MAX_ITERATIONS` loop iterations over all its loops together.

`touchpoints validate` refuses what it can see in the text (`static_issues`, at the line); this
module refuses the rest at render time with RenderBudgetError, which the dispatcher records
`failed` with reason `template_error`. The sandbox (catalog/sandbox.py) calls these; the template's AST is
instrumented (`instrument`) so that every loop and every printed value passes through them.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import nodes

from touchpoints.catalog.templates import TemplateIssue
from touchpoints.errors import TouchpointsError

__all__ = [
    "BUDGET_KEY",
    "LOOP_HOOK",
    "MAX_BODY",
    "MAX_ITERATIONS",
    "MAX_REPEAT",
    "MAX_SMS",
    "MAX_SUBJECT",
    "MAX_TEXT",
    "PRINT_HOOK",
    "TEXT_HOOK",
    "NullPrintedError",
    "RenderBudget",
    "RenderBudgetError",
    "check_binop",
    "check_call",
    "format_spec_numbers",
    "instrument",
    "printf_spec_numbers",
    "static_issues",
]

MAX_SUBJECT = 1_000
"""Characters of an email subject (a mail client shows the first hundred; SES takes far more)."""
MAX_BODY = 100_000
"""Characters of an email body (100 KB: a long receipt is a few KB)."""
MAX_SMS = 1_600
"""Characters of an SMS text (ten 160-character segments; SNS refuses longer)."""
MAX_TEXT = MAX_BODY
"""The longest string or list a template may build on the way (nothing bigger can be printed)."""
MAX_ITERATIONS = 10_000
"""Loop iterations of one message, all loops of all its parts together (a receipt has 100 lines)."""
MAX_REPEAT = 100
"""What `validate` refuses on sight: a text repeated, or grown by chained `replace`, more than this
many times in all (`"x" * 10 * 10` is 100)."""

BUDGET_KEY = "touchpoints:render-budget"
"""Render-context key of the message's RenderBudget (not a Jinja2 name: a template cannot reach it)."""
LOOP_HOOK = "_tp_loop"
PRINT_HOOK = "_tp_print"
TEXT_HOOK = "_tp_text"
HOOKS = frozenset({LOOP_HOOK, PRINT_HOOK, TEXT_HOOK})
"""Global names `instrument` calls; the linter refuses a template that assigns one of them."""


class RenderBudgetError(TouchpointsError):
    """Raised while rendering when a template would exceed its budget (too long, too many loops)."""


class NullPrintedError(TouchpointsError):
    """Raised while rendering when a template prints a fact that is null: never "None" to a customer."""


@dataclass
class RenderBudget:
    """What one message's render has used so far; `part` and `limit` are those of the part rendering."""

    iterations: int = 0
    printed: int = 0
    part: str = "body"
    limit: int = MAX_BODY

    def start(self, part: str, limit: int) -> None:
        """Begin rendering a part (subject, body, sms): its own output budget, the shared loop budget."""
        self.part, self.limit, self.printed = part, limit, 0

    def loop(self, count: int) -> None:
        """Charge `count` loop iterations."""
        self.iterations += count
        if self.iterations > MAX_ITERATIONS:
            raise RenderBudgetError(f"the loops of this message run more than {MAX_ITERATIONS} times in all")

    def print(self, length: int) -> None:
        """Charge `length` printed characters to the current part."""
        self.printed += length
        if self.printed > self.limit:
            raise RenderBudgetError(f"the {self.part} is longer than {self.limit} characters")


def check_size(length: int, what: str = "text") -> None:
    """Refuse building a string or list of `length` items when it is over `MAX_TEXT`."""
    if length > MAX_TEXT:
        raise RenderBudgetError(f"this template builds a {what} of {length} items (at most {MAX_TEXT})")


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple) else None


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Before `left <operator> right`: refuse `**`, and `*`, `+`, `%` whose result would be over budget."""
    if operator == "**":
        raise RenderBudgetError("'**' is not allowed in templates")
    if operator == "*":
        for sequence, count in ((left, right), (right, left)):
            size = _size(sequence)
            if size is not None and isinstance(count, int) and not isinstance(count, bool):
                check_size(size * max(count, 0), "repeated text")
    elif operator == "+":
        sizes = (_size(left), _size(right))
        if sizes[0] is not None and sizes[1] is not None:
            check_size(sizes[0] + sizes[1], "joined text")
    elif operator == "%" and isinstance(left, str):
        _check_numbers(printf_spec_numbers(left), "'%' format")


_PRINTF = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")
_NUMBER = re.compile(r"\d+")


def printf_spec_numbers(text: str) -> list[int | None]:
    """The widths and precisions of a printf-style format (None for `*`, taken from the arguments)."""
    numbers: list[int | None] = []
    for match in _PRINTF.finditer(text):
        for group in match.groups():
            if group is not None:
                numbers.append(None if group == "*" else int(group))
    return numbers


def format_spec_numbers(text: str) -> list[int | None]:
    """The numbers in the specs of a `str.format` text (None for a nested `{...}` spec)."""
    numbers: list[int | None] = []
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return numbers  # not a valid format: str.format raises by itself
    for _, _, spec, _ in fields:
        if spec:
            if "{" in spec:
                numbers.append(None)
            numbers.extend(int(n) for n in _NUMBER.findall(spec))
    return numbers


def _check_numbers(numbers: Iterable[int | None], what: str) -> None:
    for number in numbers:
        if number is None:
            raise RenderBudgetError(f"{what} widths must be literal numbers in templates")
        check_size(number, f"{what} width")


_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})


def check_call(function: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Before a method call of a template: refuse the str methods whose result would be over budget."""
    target = getattr(function, "__wrapped__", function)  # the sandbox wraps str.format
    owner = getattr(target, "__self__", None)
    name = getattr(target, "__name__", "")
    if not isinstance(owner, str):
        return
    if name in _WIDTH_METHODS and args and isinstance(args[0], int):
        check_size(args[0], f"{name}() width")
    elif name == "expandtabs":
        size = args[0] if args and isinstance(args[0], int) else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            check_size(len(owner) + owner.count("\t") * size, "expandtabs() text")
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    elif name == "join" and args:
        check_join(owner, args[0])
    elif name in ("format", "format_map"):
        _check_numbers(format_spec_numbers(owner), "format()")


def check_replace(text: str, old: str, new: str, count: Any = -1) -> None:
    """Refuse a replace whose result would be over budget (computed from counts, never built)."""
    hits = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    check_size(len(text) + hits * (len(new) - len(old)), "replace() result")


def check_join(separator: Any, items: Any) -> None:
    """Refuse joining sized items into a text over budget (`range(100000) | join("x" * 1000)`)."""
    if not isinstance(items, list | tuple | range | str):
        return
    count = len(items)
    check_size(count, "joined list")
    total = max(count - 1, 0) * len(str(separator))
    check_size(total, "joined text")
    for item in items:
        total += len(item) if isinstance(item, str) else 8
        check_size(total, "joined text")


def counted(budget: RenderBudget | None, iterable: Any) -> Any:
    """A loop's iterable, its iterations charged to the budget (up front when it has a length)."""
    if budget is None:
        return iterable
    try:
        size = len(iterable)
    except TypeError:
        return _charging(budget, iterable)
    budget.loop(size)
    return iterable


def _charging(budget: RenderBudget, iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        budget.loop(1)
        yield item


def instrument(tree: nodes.Template) -> nodes.Template:
    """Route every loop, every printed value and every `~` concatenation of a template through the budget.

    `{% for x in xs %}` iterates `_tp_loop(xs)`; `{{ v }}` prints `_tp_print(v, "path.of.v")`
    (which also refuses a null); `a ~ b` is `_tp_text(a ~ b)`. The hooks are globals of the
    sandbox, not attributes: the sandbox's own checks still apply to what they are given.
    """
    for loop in tree.find_all(nodes.For):
        loop.iter = _hook(LOOP_HOOK, cast("nodes.Expr", loop.iter), loop.lineno)
    for concat in list(tree.find_all(nodes.Concat)):
        concat.nodes = [_hook(TEXT_HOOK, nodes.Concat(concat.nodes, lineno=concat.lineno), concat.lineno)]
    for output in tree.find_all(nodes.Output):
        output.nodes = [
            _hook(PRINT_HOOK, child, child.lineno, nodes.Const(_path(child), lineno=child.lineno))
            for child in output.nodes
        ]
    return tree


def _hook(name: str, node: nodes.Expr, lineno: int, *extra: nodes.Expr) -> nodes.Expr:
    return nodes.Call(nodes.Name(name, "load", lineno=lineno), [node, *extra], [], None, None, lineno=lineno)


def _path(node: nodes.Node) -> str:
    """`order.items[0].name` for a plain variable chain (named in a null error), else ""."""
    parts: list[str] = []
    current = node
    while True:
        if isinstance(current, nodes.Name):
            return ".".join([current.name, *reversed(parts)])
        if isinstance(current, nodes.Getattr):
            parts.append(current.attr)
            current = current.node
        elif isinstance(current, nodes.Getitem) and isinstance(current.arg, nodes.Const):
            parts.append(str(current.arg.value))
            current = current.node
        elif isinstance(current, nodes.Filter) and current.node is not None:
            current = current.node  # `{{ x | upper }}` prints x
        else:
            return ""


# --- the render budget, where the text shows it ---------------------------------------------------

_Add = Callable[[nodes.Node, str], None]
_WIDTH_FILTERS = frozenset({"center", "indent"})
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_LOOP_GUESS = 100
"""Iterations assumed for a loop over a fact list (the contract bounds order lines and SKUs at 100)."""


def static_issues(tree: nodes.Template) -> list[TemplateIssue]:
    """What would break the render budget and can be seen in the text: bombs refused at their line."""
    issues: list[TemplateIssue] = []

    def add(node: nodes.Node, message: str) -> None:
        issues.append(TemplateIssue(node.lineno or 1, message))

    parents = {id(child): node for node in tree.find_all(nodes.Node) for child in node.iter_child_nodes()}
    for node in tree.find_all(nodes.Node):
        parent = parents.get(id(node))
        if isinstance(node, nodes.Mul) and not isinstance(parent, nodes.Mul):
            product = 1
            for factor in _mul_factors(node):
                product *= factor
            if product > MAX_REPEAT:
                add(node, f"multiplying by {product} in all is not allowed (at most {MAX_REPEAT})")
        elif isinstance(node, nodes.Filter):
            _check_filter(node, add)
        elif isinstance(node, nodes.Call):
            _check_method(node, add)
            if isinstance(node.node, nodes.Name) and node.node.name == "lipsum":
                add(node, "lipsum() is not allowed in customer messages")
        elif (
            isinstance(node, nodes.Mod)
            and isinstance(node.left, nodes.Const)
            and isinstance(node.left.value, str)
        ):
            _check_spec(node, printf_spec_numbers(node.left.value), "'%' format", add)
        if _is_replace(node) and not _extends_replace(node, parent):
            growth = _replace_growth(node)
            if growth > MAX_REPEAT:
                add(
                    node,
                    f"chained replace() can make the text {growth:.0f} times longer (at most {MAX_REPEAT})",
                )
    _check_nesting(tree, 1, add)
    return issues


def _mul_factors(node: nodes.Node) -> list[int]:
    if isinstance(node, nodes.Mul):
        return _mul_factors(node.left) + _mul_factors(node.right)
    if isinstance(node, nodes.Const) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return [abs(node.value)]
    return []


def _literal_str(node: nodes.Node | None) -> str | None:
    return node.value if isinstance(node, nodes.Const) and isinstance(node.value, str) else None


def _literal_int(node: nodes.Node | None) -> int | None:
    if isinstance(node, nodes.Const) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


def _check_width(node: nodes.Node, name: str, width: nodes.Node | None, add: _Add) -> None:
    value = _literal_int(width)
    if width is not None and value is None and not isinstance(width, nodes.Const):
        add(node, f"{name}() needs a literal width, e.g. {name}(40)")
    elif value is not None and value > MAX_TEXT:
        add(node, f"{name}({value}) is wider than a message may be (at most {MAX_TEXT})")


def _check_spec(node: nodes.Node, numbers: list[int | None], what: str, add: _Add) -> None:
    for number in numbers:
        if number is None:
            add(node, f"{what} widths must be literal numbers")
        elif number > MAX_TEXT:
            add(node, f"{what} width {number} is wider than a message may be (at most {MAX_TEXT})")


def _check_filter(node: nodes.Filter, add: _Add) -> None:
    if node.name in _WIDTH_FILTERS and node.args:
        _check_width(node, node.name, node.args[0], add)
    elif node.name == "format" and isinstance(node.node, nodes.Const) and isinstance(node.node.value, str):
        _check_spec(node, printf_spec_numbers(node.node.value), "format", add)
    elif node.name == "join" and node.node is not None:
        count = _range_size(node.node)
        separator = node.args[0] if node.args else None
        width = (
            len(separator.value)
            if isinstance(separator, nodes.Const) and isinstance(separator.value, str)
            else 0
        )
        if count is not None and count * (width + 6) > MAX_TEXT:
            add(
                node,
                f"joining {count} numbers builds a text longer than a message may be (at most {MAX_TEXT})",
            )


def _check_method(node: nodes.Call, add: _Add) -> None:
    callee = node.node
    if not isinstance(callee, nodes.Getattr):
        return
    if callee.attr in _WIDTH_METHODS:
        _check_width(node, callee.attr, node.args[0] if node.args else None, add)
    elif callee.attr in ("format", "format_map") and _literal_str(callee.node) is not None:
        _check_spec(node, format_spec_numbers(str(_literal_str(callee.node))), "format()", add)


def _is_replace(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Filter):
        return node.name == "replace"
    return (
        isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr) and node.node.attr == "replace"
    )


def _replace_parts(node: nodes.Node) -> tuple[nodes.Node | None, list[nodes.Expr]]:
    """(the text replaced in, the arguments) of a `replace` filter or method call."""
    if isinstance(node, nodes.Filter):
        return node.node, list(node.args)
    assert isinstance(node, nodes.Call)
    assert isinstance(node.node, nodes.Getattr)
    return node.node.node, list(node.args)


def _extends_replace(node: nodes.Node, parent: nodes.Node | None) -> bool:
    """True when the parent is a replace of this one's result (only the outermost of a chain is checked)."""
    if parent is None:
        return False
    if isinstance(parent, nodes.Getattr):  # `x.replace(...).replace(...)`: the call's callee
        return parent.attr == "replace"
    return isinstance(parent, nodes.Filter) and parent.name == "replace" and parent.node is node


def _replace_growth(node: nodes.Node | None) -> float:
    """How many times longer a chain of literal replaces can make a text (1 for anything else)."""
    if node is None or not _is_replace(node):
        return 1.0
    text, args = _replace_parts(node)
    growth = 1.0
    old, new = (_literal_str(args[0]), _literal_str(args[1])) if len(args) >= 2 else (None, None)
    if old is not None and new is not None:
        growth = len(new) + 1.0 if old == "" else max(1.0, len(new) / len(old))
    return growth * _replace_growth(text)


def _range_size(node: nodes.Node) -> int | None:
    """The length of `range(<literals>)` (through `| list` and the like), else None."""
    while isinstance(node, nodes.Filter) and node.node is not None:
        node = node.node
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "range":
        bounds = [_literal_int(arg) for arg in node.args]
        if node.args and all(bound is not None for bound in bounds) and not node.kwargs:
            try:
                return len(range(*(b for b in bounds if b is not None)))
            except (TypeError, ValueError):
                return None
    return None


def _loop_size(loop: nodes.For) -> int:
    """Iterations a loop may run: a literal range's or list's length, else `_LOOP_GUESS` (a fact list)."""
    size = _range_size(loop.iter)
    if size is not None:
        return size
    if isinstance(loop.iter, nodes.List | nodes.Tuple):
        return len(loop.iter.items)
    return _LOOP_GUESS


def _check_nesting(node: nodes.Node, outer: int, add: _Add) -> None:
    """Nested loops multiply: refuse the loop where their product passes MAX_ITERATIONS."""
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.For):
            total = outer * max(_loop_size(child), 1)
            if total > MAX_ITERATIONS >= outer:
                add(child, f"these nested loops run up to {total} times (at most {MAX_ITERATIONS} in all)")
            _check_nesting(child, total, add)
        else:
            _check_nesting(child, outer, add)
