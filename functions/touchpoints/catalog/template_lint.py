"""The validate-time linter of templates: hostile, mistaken or runaway constructs, found in the text.

Walks the Jinja2 AST with parent links and the guards in force: `touchpoints validate` reports each
issue at its `file:line`, and lists the fact reads no guard protects (the catalog then checks them
against the rules' triggers and against the facts that may be null). What it cannot see, the render
budget refuses at send time (catalog/budget.py).
"""

from __future__ import annotations

import difflib

from jinja2 import TemplateSyntaxError, nodes

from touchpoints.catalog.budget import HOOKS, static_issues
from touchpoints.catalog.sandbox import ENVIRONMENT
from touchpoints.catalog.templates import FactRead, PathChecker, TemplateIssue, TemplateLint

__all__ = ["analyse_source", "lint_source"]

_MAX_RANGE = 100
"""`range()` in a template must have literal bounds no larger than this (no CPU bombs)."""
_ALLOWED_GLOBALS = frozenset({"range", "dict", "namespace", "cycler", "joiner"})


def lint_source(source: str, check_path: PathChecker | None = None) -> list[TemplateIssue]:
    """Parse a template text and walk its AST for hostile or mistaken constructs (lint_template_source)."""
    return list(analyse_source(source, check_path).issues)


def analyse_source(source: str, check_path: PathChecker | None = None) -> TemplateLint:
    """The lint issues of a template text and the facts it reads without a guard (analyse_template_source)."""
    try:
        tree = ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        return TemplateLint((TemplateIssue(exc.lineno or 1, f"template syntax error: {exc.message}"),), ())
    linter = _Linter(check_path)
    linter.run(tree)
    linter.issues.extend(static_issues(tree))
    return TemplateLint(
        tuple(sorted(linter.issues, key=lambda issue: issue.line)),
        tuple(sorted(set(linter.reads), key=lambda read: (read.line, read.path, read.printed))),
    )


Guards = frozenset[tuple[str, ...]]
"""Fact paths known to be defined at a point of a template (tested with `is defined` around it);
a path that starts with NOT_NULL is only known not to be null (tested for truth)."""

NOT_NULL = "?not-null"

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
        self.printing = 0

    def run(self, tree: nodes.Template) -> None:
        for name_node in tree.find_all(nodes.Name):
            if name_node.ctx in ("store", "param"):
                self.local_names.add(name_node.name)
                if name_node.name in HOOKS:
                    self._add(
                        name_node, f"'{name_node.name}' is reserved for the render budget; use another name"
                    )
        self._visit(tree, None, _NO_GUARDS)

    def _add(self, node: nodes.Node, message: str) -> None:
        self.issues.append(TemplateIssue(node.lineno or 1, message))

    def _visit(self, node: nodes.Node, parent: nodes.Node | None, guards: Guards) -> None:
        self._check(node, parent, guards)
        if isinstance(node, nodes.Output):
            self.printing += 1
            for child in node.iter_child_nodes():
                self._visit(child, node, guards)
            self.printing -= 1
        elif isinstance(node, nodes.If):
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
            ("filter", ENVIRONMENT.filters) if isinstance(node, nodes.Filter) else ("test", ENVIRONMENT.tests)
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
        probe = _probes(node, parent)
        if probe:
            path = path[:-1]  # only tested or defaulted: a null is fine, a missing parent is not
        prefixes = [path[: length + 1] for length in range(len(path))]
        if len(path) < 2 or any(prefix in guards for prefix in prefixes):
            return
        not_null = any((NOT_NULL, *prefix) in guards for prefix in prefixes)
        printed = self.printing > 0 and not probe and not not_null
        self.reads.append(FactRead(node.lineno or 1, ".".join(path), printed=printed))


def _probes(node: nodes.Node, parent: nodes.Node | None) -> bool:
    """True when `node` is only tested for existence: `node is defined` or `node | default(...)`."""
    if isinstance(parent, nodes.Test) and parent.node is node:
        return parent.name in ("defined", "undefined")
    return isinstance(parent, nodes.Filter) and parent.node is node and parent.name in _DEFAULT_FILTERS


def _defined_when(test: nodes.Node, outcome: bool) -> Guards:
    """The fact paths a test proves present and not null when it evaluates to `outcome` (True or False).

    `x is defined` (false for a null here) and `"k" in x` prove `x` (`x.k`) when true, `x is
    undefined` and `"k" not in x` when false. A bare `x` (truthy) and `x is not none` prove only
    that `x` is not null (`NOT_NULL` + path): a missing fact still fails them (StrictUndefined).
    `not` swaps, `and` joins what both sides prove when true (either side when false proves
    nothing for sure), `or` the reverse.
    """
    if isinstance(test, nodes.Test) and test.name in ("defined", "undefined"):
        path = _chain(test.node)
        if path is None or outcome != (test.name == "defined"):
            return _NO_GUARDS
        return frozenset({tuple(path)})
    if isinstance(test, nodes.Test) and test.name == "none":
        path = _chain(test.node)
        return frozenset({(NOT_NULL, *path)}) if path is not None and not outcome else _NO_GUARDS
    if isinstance(test, nodes.Name | nodes.Getattr | nodes.Getitem):
        path = _chain(test)
        return frozenset({(NOT_NULL, *path)}) if outcome and path is not None else _NO_GUARDS
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
