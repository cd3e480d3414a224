"""The Jinja2 render sandbox of templates: the environment, its filters, and the render budget's hooks.

Imported on first use (a render, a lint): loading a catalog never pays for Jinja2. The validate-time
linter is catalog/template_lint.py; the budget's limits and checks are catalog/budget.py.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from jinja2 import StrictUndefined, Undefined, pass_context, pass_environment, pass_eval_context
from jinja2 import Template as JinjaTemplate
from jinja2 import filters as jinja_filters
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from touchpoints.catalog import budget
from touchpoints.catalog.budget import (
    BUDGET_KEY,
    LOOP_HOOK,
    MAX_ITERATIONS,
    PRINT_HOOK,
    TEXT_HOOK,
    NullPrintedError,
    RenderBudgetError,
)
from touchpoints.catalog.templates import TEMPLATE_LOCALE_KEY, format_local_date, format_local_datetime

__all__ = ["ENVIRONMENT", "FILTERS", "compiled", "local_date", "local_datetime"]


_T = TypeVar("_T")


class _FactsEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, where `order.items` means the fact `items`, not the dict method `.items()`.

    Facts are plain dicts; without this, keys named like dict methods (items, values, keys)
    would silently resolve to the method and break the template at send time.

    `**`, `*`, `+` and `%` are intercepted, and every call a template makes: Jinja2's sandbox
    bounds `range()` but not `9**9**9`, `"x" * 10**9` or `"x".center(10**9)`, which would stall or
    exhaust the Lambda if a template slipped past `validate`. The render budget
    (catalog/budget.py) refuses them before they are computed.
    """

    intercepted_binops = frozenset({"**", "*", "+", "%"})

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget.check_binop(operator, left, right)
        return _sized(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget.check_call(__obj, args, kwargs)
        return _sized(super().call(__context, __obj, *args, **kwargs))


def _sized(value: _T) -> _T:
    """A result checked against MAX_TEXT after the fact (for what no check could foresee)."""
    if isinstance(value, str | list | tuple):
        budget.check_size(len(value))
    return value


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


def _require(value: object, name: str) -> None:
    """A date filter given a missing fact fails like printing it would (StrictUndefined), or as a null."""
    if isinstance(value, Undefined):
        str(value)  # raises UndefinedError naming the missing fact
    if value is None or value == "":
        raise NullPrintedError(f"{name} was given a null date (guard it: {{% if ... %}})")


@pass_context
def local_date(context: Context, value: object, tz: object = None, locale: object = None) -> str:
    """Jinja2 filter `{{ order.promised_delivery_by | local_date }}`: the day in the customer's zone.

    A missing fact (undefined or null) is an error, not a blank: guard the sentence with
    `{% if ... %}` so the customer never reads "by ."; see format_local_date for the formats.
    """
    _require(value, "local_date")
    zone, language = _arguments(context, tz, locale)
    return format_local_date(value, zone, language)


@pass_context
def local_datetime(context: Context, value: object, tz: object = None, locale: object = None) -> str:
    """Jinja2 filter `{{ event.new_estimate | local_datetime }}`: day and time in the customer's zone."""
    _require(value, "local_datetime")
    zone, language = _arguments(context, tz, locale)
    return format_local_datetime(value, zone, language)


def _budget(context: Context) -> budget.RenderBudget | None:
    found = context.get(BUDGET_KEY)
    return found if isinstance(found, budget.RenderBudget) else None


@pass_context
def _loop_hook(context: Context, iterable: Any) -> Any:
    """Every `{% for %}` iterates this: its iterations are charged to the message's loop budget."""
    return budget.counted(_budget(context), iterable)


@pass_context
def _print_hook(context: Context, value: Any, path: str) -> Any:
    """Every `{{ ... }}` prints this: a null is an error (never "None"), and the length is charged."""
    if value is None:
        where = f"'{path}'" if path else "a value"
        raise NullPrintedError(f"prints {where}, which is null (guard it: {{% if ... %}} or | default(...))")
    if isinstance(value, Undefined):
        return value  # printing it raises UndefinedError (StrictUndefined): a missing fact
    found = _budget(context)
    if found is not None:
        found.print(len(str(value)))
    return value


def _text_hook(value: Any) -> Any:
    """Every `a ~ b` ends here: a concatenation may not build more than MAX_TEXT characters."""
    return _sized(value)


def _range(*args: int) -> range:
    """`range()` of at most MAX_ITERATIONS numbers (Jinja2's own allows 100,000)."""
    numbers = range(*args)
    if len(numbers) > MAX_ITERATIONS:
        raise RenderBudgetError(f"range() of {len(numbers)} numbers (at most {MAX_ITERATIONS})")
    return numbers


def _no_lipsum(*args: Any, **kwargs: Any) -> str:
    raise SecurityError("lipsum() is not allowed in customer messages")


def _is_defined(value: Any) -> bool:
    """`x is defined`: a fact that is missing or null is not (a missing fact reads as null)."""
    return value is not None and not isinstance(value, Undefined)


def _is_undefined(value: Any) -> bool:
    return not _is_defined(value)


def _default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    """`x | default(y)`: y when x is missing or null (or, with `boolean`, falsy)."""
    if value is None or isinstance(value, Undefined) or (boolean and not value):
        return default_value
    return value


def _center(value: str, width: int = 80) -> str:
    if isinstance(width, int):
        budget.check_size(width, "center() width")
    return _sized(jinja_filters.do_center(value, width))


def _indent(text: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    indent = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    budget.check_size(len(str(text)) + (str(text).count("\n") + 1) * indent, "indent() result")
    return _sized(jinja_filters.do_indent(text, width, first, blank))


@pass_environment
def _wordwrap(environment: Any, text: str, width: int = 79, *args: Any, **kwargs: Any) -> str:
    wrapstring = kwargs.get("wrapstring") or (args[1] if len(args) > 1 else None) or "\n"
    lines = len(str(text)) // max(width, 1) + 1 if isinstance(width, int) else len(str(text))
    budget.check_size(len(str(text)) + lines * len(str(wrapstring)), "wordwrap() result")
    return _sized(jinja_filters.do_wordwrap(environment, text, width, *args, **kwargs))


def _format(value: str, *args: Any, **kwargs: Any) -> str:
    if isinstance(value, str):
        budget.check_binop("%", value, args)
    return _sized(jinja_filters.do_format(value, *args, **kwargs))


@pass_eval_context
def _join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> str:
    items = value if isinstance(value, list | tuple | range | str) else list(value)
    budget.check_join(d, items)
    joined: str = jinja_filters.do_join(eval_ctx, items, d, attribute)
    return _sized(joined)


@pass_eval_context
def _replace(eval_ctx: Any, text: str, old: str, new: str, count: int | None = None) -> str:
    budget.check_replace(str(text), str(old), str(new), -1 if count is None else count)
    return _sized(jinja_filters.do_replace(eval_ctx, text, old, new, count))


@pass_environment
def _sum(environment: Any, iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    items = list(iterable)
    budget.check_size(len(items), "sum() list")
    if attribute is None and isinstance(start, str | list | tuple):
        budget.check_size(len(start) + sum(len(i) for i in items if isinstance(i, str | list | tuple)))
    return _sized(jinja_filters.do_sum(environment, items, attribute, start))


FILTERS = {"local_date": local_date, "local_datetime": local_datetime}
"""Our filters, registered on the sandbox next to Jinja2's built-in ones."""

_BUDGETED_FILTERS = {
    "center": _center,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "format": _format,
    "join": _join,
    "replace": _replace,
    "sum": _sum,
    "default": _default,
    "d": _default,
}
"""Jinja2's filters that can build a lot from a little, each checked against the render budget first;
and `default`, which here also replaces a null (a missing fact reads as null)."""

ENVIRONMENT = _FactsEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
ENVIRONMENT.filters.update(FILTERS)
ENVIRONMENT.filters.update(_BUDGETED_FILTERS)
ENVIRONMENT.tests.update({"defined": _is_defined, "undefined": _is_undefined})
ENVIRONMENT.globals.update(
    {
        "range": _range,
        "lipsum": _no_lipsum,
        LOOP_HOOK: _loop_hook,
        PRINT_HOOK: _print_hook,
        TEXT_HOOK: _text_hook,
    }
)


@functools.lru_cache(maxsize=1024)
def compiled(source: str) -> JinjaTemplate:
    """The sandboxed, compiled template for a text, its loops and prints on the render budget.

    Cached: each text is parsed, instrumented (`budget.instrument`) and compiled once per process.
    """
    return ENVIRONMENT.from_string(budget.instrument(ENVIRONMENT.parse(source)))
