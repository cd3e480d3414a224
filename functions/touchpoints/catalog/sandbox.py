"""The Jinja2 side of templates: the render sandbox and the validate-time linter (imported on first use)."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes, pass_context
from jinja2 import Template as JinjaTemplate
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from touchpoints.catalog.templates import (
    TEMPLATE_LOCALE_KEY,
    FactRead,
    PathChecker,
    TemplateIssue,
    TemplateLint,
    format_local_date,
    format_local_datetime,
)

__all__ = ["FILTERS", "analyse_source", "compiled", "lint_source", "local_date", "local_datetime"]

_MAX_RANGE = 100
"""`range()` in a template must have literal bounds no larger than this (no CPU bombs)."""
_ALLOWED_GLOBALS = frozenset({"range", "dict", "namespace", "cycler", "joiner"})


class _FactsEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, where `order.items` means the fact `items`, not the dict method `.items()`.

    Facts are plain dicts; without this, keys named like dict methods (items, values, keys)
    would silently resolve to the method and break the template at send time.

    `**` and `*` are intercepted too: Jinja2's sandbox bounds `range()` but not `9**9**9` or
    `"x" * 10**9`, which would stall or exhaust the Lambda if a template slipped past `validate`.
    """

    intercepted_binops = frozenset({"**", "*"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("'**' is not allowed in templates")
        if operator == "*" and any(isinstance(side, str | list | tuple) for side in (left, right)):
            counts = [side for side in (left, right) if isinstance(side, int) and not isinstance(side, bool)]
            if any(abs(count) > _MAX_RANGE for count in counts):
                raise SecurityError(
                    f"repeating text more than {_MAX_RANGE} times is not allowed in templates"
                )
        return super().call_binop(context, operator, left, right)


def _customer_setting(context: Context, name: str) -> object:
    """`customer.<name>` from the render context, or None (a preview without a customer still renders)."""
    customer = context.get("customer")
    if isinstance(customer, Mapping):
        value = customer.get(name)
        return None if isinstance(value, Undefined) else value
    return None


def _arguments(context: Context, tz: object, locale: object) -> tuple[object, str | None]:
    """The zone and locale a date filter uses: explicit arguments, else the customer's and the template's.

    The language is the template's own locale, not the customer's: a `fr` customer reading the
    `en` fallback gets English dates that match the sentence around them.
    """
    zone = _customer_setting(context, "timezone") if tz is None or isinstance(tz, Undefined) else tz
    if locale is None or isinstance(locale, Undefined):
        locale = context.get(TEMPLATE_LOCALE_KEY) or _customer_setting(context, "locale")
    return zone, locale if isinstance(locale, str) else None


@pass_context
def local_date(context: Context, value: object, tz: object = None, locale: object = None) -> str:
    """Jinja2 filter `{{ order.promised_delivery_by | local_date }}`: the day in the customer's zone.

    A missing fact (undefined or null) prints "" rather than failing: guard the sentence with
    `{% if ... %}` so the customer never reads "by ."; see format_local_date for the formats.
    """
    if isinstance(value, Undefined):
        return ""
    zone, language = _arguments(context, tz, locale)
    return format_local_date(value, zone, language)


@pass_context
def local_datetime(context: Context, value: object, tz: object = None, locale: object = None) -> str:
    """Jinja2 filter `{{ event.new_estimate | local_datetime }}`: day and time in the customer's zone."""
    if isinstance(value, Undefined):
        return ""
    zone, language = _arguments(context, tz, locale)
    return format_local_datetime(value, zone, language)


FILTERS = {"local_date": local_date, "local_datetime": local_datetime}
"""Our filters, registered on the sandbox next to Jinja2's built-in ones."""

_ENVIRONMENT = _FactsEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_ENVIRONMENT.filters.update(FILTERS)


@functools.lru_cache(maxsize=1024)
def compiled(source: str) -> JinjaTemplate:
    """The sandboxed, compiled template for a text (cached: each text is compiled once per process)."""
    return _ENVIRONMENT.from_string(source)


def lint_source(source: str, check_path: PathChecker | None = None) -> list[TemplateIssue]:
    """Parse a template text and walk its AST for hostile or mistaken constructs (lint_template_source)."""
    return list(analyse_source(source, check_path).issues)


def analyse_source(source: str, check_path: PathChecker | None = None) -> TemplateLint:
    """The lint issues of a template text and the facts it reads without a guard (analyse_template_source)."""
    try:
        tree = _ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        return TemplateLint((TemplateIssue(exc.lineno or 1, f"template syntax error: {exc.message}"),), ())
    linter = _Linter(check_path)
    linter.run(tree)
    return TemplateLint(
        tuple(sorted(linter.issues, key=lambda issue: issue.line)),
        tuple(sorted(set(linter.reads), key=lambda read: (read.line, read.path))),
    )


Guards = frozenset[tuple[str, ...]]
"""Fact paths known to be defined at a point of a template (tested with `is defined` around it)."""

_NO_GUARDS: Guards = frozenset()
_DEFAULT_FILTERS = frozenset({"default", "d"})


class _Linter:
    """Walks a Jinja2 AST with parent links and collects issues, and the fact reads no guard protects.

    Guards are tracked on the way down: `{% if event.rating is defined %}` (also inside `and`,
    `or`, `not`, `elif`/`else` and `x if ... else y`) makes `event.rating` and everything under it
    safe to read in the branch it guards, and `event.rating | default(...)` is safe by itself.
    A shared template may then read a fact only some of its rules' triggers carry.
    """

    def __init__(self, check_path: PathChecker | None) -> None:
        self.check_path = check_path
        self.issues: list[TemplateIssue] = []
        self.reads: list[FactRead] = []
        self.local_names: set[str] = {"loop"}

    def run(self, tree: nodes.Template) -> None:
        for name_node in tree.find_all(nodes.Name):
            if name_node.ctx in ("store", "param"):
                self.local_names.add(name_node.name)
        self._visit(tree, None, _NO_GUARDS)

    def _add(self, node: nodes.Node, message: str) -> None:
        self.issues.append(TemplateIssue(node.lineno or 1, message))

    def _visit(self, node: nodes.Node, parent: nodes.Node | None, guards: Guards) -> None:
        self._check(node, parent, guards)
        if isinstance(node, nodes.If):
            self._visit_if(node, guards)
        elif isinstance(node, nodes.And | nodes.Or):
            self._visit(node.left, node, guards)
            self._visit(node.right, node, guards | _defined_when(node.left, isinstance(node, nodes.And)))
        elif isinstance(node, nodes.CondExpr):
            self._visit(node.test, node, guards)
            self._visit(node.expr1, node, guards | _defined_when(node.test, True))
            if node.expr2 is not None:
                self._visit(node.expr2, node, guards | _defined_when(node.test, False))
        else:
            for child in node.iter_child_nodes():
                self._visit(child, node, guards)

    def _visit_if(self, node: nodes.If, guards: Guards) -> None:
        """`if`/`elif`/`else`: each branch knows its own test held and every earlier one did not."""
        failed = guards
        for branch in (node, *node.elif_):
            if branch is not node:
                self._check(branch, node, failed)
            self._visit(branch.test, branch, failed)
            for child in branch.body:
                self._visit(child, branch, failed | _defined_when(branch.test, True))
            failed = failed | _defined_when(branch.test, False)
        for child in node.else_:
            self._visit(child, node, failed)

    def _check(self, node: nodes.Node, parent: nodes.Node | None, guards: Guards = _NO_GUARDS) -> None:
        if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
            self._add(node, "templates cannot extend, include or import other templates; write the text here")
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            self._add(node, "macros are not allowed in templates (they can recurse); write the text directly")
        elif isinstance(node, nodes.For):
            self._check_loop(node)
        elif isinstance(node, nodes.Call):
            self._check_call(node)
        elif isinstance(node, nodes.Pow):
            self._add(node, "'**' is not allowed in templates (it can build huge numbers)")
        elif isinstance(node, nodes.Mul):
            for side in (node.left, node.right):
                if isinstance(side, nodes.Const) and isinstance(side.value, int) and side.value > _MAX_RANGE:
                    self._add(node, f"multiplying by {side.value} is not allowed (at most {_MAX_RANGE})")
        elif isinstance(node, nodes.Getattr):
            if node.attr.startswith("_"):
                self._add(node, _private(node.attr))
        elif isinstance(node, nodes.Getitem):
            self._check_item(node)
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            for arg in node.args:
                if isinstance(arg, nodes.Const) and str(arg.value).startswith("_"):
                    self._add(node, _private(str(arg.value)))
        if isinstance(node, nodes.Filter | nodes.Test):
            self._check_known(node)
        is_reference = isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem)
        if is_reference and not _continues_chain(node, parent):
            self._check_reference(node, parent, guards)

    def _check_item(self, node: nodes.Getitem) -> None:
        key = node.arg
        if isinstance(key, nodes.Const):
            if isinstance(key.value, str) and key.value.startswith("_"):
                self._add(node, _private(key.value))
        elif isinstance(key, nodes.Slice):
            bounds = (key.start, key.stop, key.step)
            if not all(bound is None or isinstance(bound, nodes.Const) for bound in bounds):
                self._add(node, "slices need literal numbers, e.g. customer.name[:20]")
        elif not isinstance(key, nodes.Name | nodes.Getattr | nodes.Getitem):
            self._add(node, "computed keys (built from strings or expressions) are not allowed in templates")

    def _check_known(self, node: nodes.Filter | nodes.Test) -> None:
        """A misspelt filter or test fails at send time (Jinja2 resolves some only when reached)."""
        kind, known = (
            ("filter", _ENVIRONMENT.filters)
            if isinstance(node, nodes.Filter)
            else ("test", _ENVIRONMENT.tests)
        )
        if node.name in known:
            return
        close = difflib.get_close_matches(node.name, list(known), n=1, cutoff=0.75)
        if close:
            hint = f" (did you mean '{close[0]}'?)"
        elif kind == "filter":
            hint = " (dates and times: local_date, local_datetime)"
        else:
            hint = ""
        self._add(node, f"unknown {kind} '{node.name}'{hint}")

    def _check_call(self, node: nodes.Call) -> None:
        callee = node.node
        if not isinstance(callee, nodes.Name) or callee.name in self.local_names:
            return
        if callee.name == "range":
            arguments = [*node.args, *(kw.value for kw in node.kwargs)]
            small = all(
                isinstance(arg, nodes.Const) and isinstance(arg.value, int) and abs(arg.value) <= _MAX_RANGE
                for arg in arguments
            )
            if not small or node.dyn_args is not None or node.dyn_kwargs is not None:
                self._add(node, f"range() needs literal numbers no larger than {_MAX_RANGE}")
        elif callee.name not in _ALLOWED_GLOBALS:
            self._add(node, f"calling '{callee.name}' is not allowed in templates")

    def _check_loop(self, node: nodes.For) -> None:
        if node.recursive:
            self._add(node, "recursive loops are not allowed in templates")
        iterable: nodes.Node = node.iter
        while isinstance(iterable, nodes.Filter) and iterable.node is not None:
            iterable = iterable.node
        is_range = (
            isinstance(iterable, nodes.Call)
            and isinstance(iterable.node, nodes.Name)
            and iterable.node.name == "range"
        )
        is_fact = _chain(iterable) is not None
        is_literal = isinstance(iterable, nodes.List | nodes.Tuple) and all(
            isinstance(item, nodes.Const) for item in iterable.items
        )
        if not (is_range or is_fact or is_literal):
            self._add(node, "a loop must go over a fact list (e.g. order.items) or range(<small number>)")

    def _check_reference(self, node: nodes.Node, parent: nodes.Node | None, guards: Guards) -> None:
        path = _chain(node)
        if path is None or not path:
            return
        if isinstance(parent, nodes.Call) and parent.node is node:
            if len(path) == 1:
                return  # a call to a global function: checked by _check_call
            path = path[:-1]  # a method call such as customer.name.upper(): check the receiver
        if any(part.startswith("_") for part in path):
            return  # already reported as private access
        root = path[0]
        if root in self.local_names or (root in _ALLOWED_GLOBALS and len(path) == 1):
            return
        if root == "lipsum":
            return
        if self.check_path is not None:
            message = self.check_path(".".join(path))
            if message is not None:
                self._add(node, message)
        self._record_read(node, parent, tuple(path), guards)

    def _record_read(
        self, node: nodes.Node, parent: nodes.Node | None, path: tuple[str, ...], guards: Guards
    ) -> None:
        """Note a read that fails at send time when the fact is missing, unless a guard protects it.

        `x is defined` and `x | default(...)` are safe when `x` is missing, but not when its parent
        is (`event.amount.amount_text is defined` fails without `event.amount`): they read the parent.
        """
        if _probes(node, parent):
            path = path[:-1]
        if len(path) < 2 or any(path[: length + 1] in guards for length in range(len(path))):
            return
        self.reads.append(FactRead(node.lineno or 1, ".".join(path)))


def _probes(node: nodes.Node, parent: nodes.Node | None) -> bool:
    """True when `node` is only tested for existence: `node is defined` or `node | default(...)`."""
    if isinstance(parent, nodes.Test) and parent.node is node:
        return parent.name in ("defined", "undefined")
    return isinstance(parent, nodes.Filter) and parent.node is node and parent.name in _DEFAULT_FILTERS


def _defined_when(test: nodes.Node, outcome: bool) -> Guards:
    """The fact paths a test proves defined when it evaluates to `outcome` (True or False).

    `x is defined` and `"k" in x` prove `x` (`x.k`) when true, `x is undefined` and `"k" not in x`
    when false; `not` swaps, `and` joins
    what both sides prove when true (either side when false proves nothing for sure), `or` the reverse.
    """
    if isinstance(test, nodes.Test) and test.name in ("defined", "undefined"):
        path = _chain(test.node)
        if path is None or outcome != (test.name == "defined"):
            return _NO_GUARDS
        return frozenset({tuple(path)})
    if isinstance(test, nodes.Compare) and len(test.ops) == 1 and test.ops[0].op in ("in", "notin"):
        # `"rating" in event` (as the shipped templates test `"items" in order`)
        key, container = test.expr, _chain(test.ops[0].expr)
        if container is None or not isinstance(key, nodes.Const) or outcome != (test.ops[0].op == "in"):
            return _NO_GUARDS
        return frozenset({(*container, str(key.value))})
    if isinstance(test, nodes.Not):
        return _defined_when(test.node, not outcome)
    if isinstance(test, nodes.And | nodes.Or):
        left, right = _defined_when(test.left, outcome), _defined_when(test.right, outcome)
        joins = isinstance(test, nodes.And) == outcome
        return left | right if joins else left & right
    return _NO_GUARDS


def _private(name: str) -> str:
    return f"access to '{name}' is not allowed (names starting with '_' are private)"


def _continues_chain(node: nodes.Node, parent: nodes.Node | None) -> bool:
    """True when the parent extends this node's chain (`order` in `order.total`): only check the longest."""
    if isinstance(parent, nodes.Getattr):
        return parent.node is node
    return isinstance(parent, nodes.Getitem) and parent.node is node and isinstance(parent.arg, nodes.Const)


def _chain(node: nodes.Node) -> list[str] | None:
    """`order.items[0].name` -> ['order', 'items', '0', 'name']; None when not a plain variable chain."""
    parts: list[str] = []
    current = node
    while True:
        if isinstance(current, nodes.Name):
            parts.append(current.name)
            return parts[::-1]
        if isinstance(current, nodes.Getattr):
            parts.append(current.attr)
            current = current.node
        elif isinstance(current, nodes.Getitem):
            if not isinstance(current.arg, nodes.Const):
                return None
            parts.append(str(current.arg.value))
            current = current.node
        else:
            return None
