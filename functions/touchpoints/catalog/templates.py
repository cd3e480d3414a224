"""Message templates: plain-text Jinja2 in a sandbox, linted at validate time, rendered from the facts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from touchpoints.catalog.model import Locales
from touchpoints.errors import TouchpointsError
from touchpoints.timestamps import parse_loose

__all__ = [
    "MESSAGE_FIELDS",
    "TEMPLATE_LOCALE_KEY",
    "FactRead",
    "RenderedMessage",
    "Template",
    "TemplateFile",
    "TemplateIssue",
    "TemplateLint",
    "TemplateRenderError",
    "analyse_template_source",
    "date_style",
    "format_local_date",
    "format_local_datetime",
    "lint_template_source",
    "render_template",
    "resolve_template_locale",
]

MESSAGE_FIELDS = ("subject", "body", "sms")
"""The parts of a template file, each a Jinja2 template."""


TEMPLATE_LOCALE_KEY = "touchpoints:template-locale"
"""Render-context key holding the locale of the template being rendered.

Not a Jinja2 name (it has a colon), so a template cannot read or shadow it; the date filters
read it to print dates in the language the message is written in.
"""


class TemplateRenderError(TouchpointsError):
    """Raised when a template cannot be rendered from the facts (a missing fact, a blocked operation)."""


class TemplateFile(BaseModel):
    """The content of `rules/templates/<template>/<locale>.yaml`."""

    # Validators built on first use: the compiled catalog's load never validates a template file.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    subject: str = Field(description="Email subject line (Jinja2, plain text).")
    body: str = Field(description="Email body (Jinja2, plain text).")
    sms: str | None = Field(
        default=None, description="SMS text; required when an sms action uses the template."
    )


class Template(BaseModel):
    """One template in one locale, as loaded from its file."""

    # Validators built on first use: the compiled catalog constructs templates without validating.
    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    locale: str
    subject: str
    body: str
    sms: str | None = None
    path: str = ""


@dataclass(frozen=True)
class RenderedMessage:
    """A template rendered for one customer: what the channel sends."""

    subject: str
    body: str
    sms: str | None


def render_template(template: Template, facts: Mapping[str, Any]) -> RenderedMessage:
    """Render subject, body and sms from the facts (sandboxed; a missing or null fact is an error, not blank).

    A blank in a customer message is worse than no message, hence StrictUndefined and the print
    hook that refuses a null: the caller records a failure instead of sending "Dear ," or "None,
    we are sorry". One render budget covers the whole message (catalog/budget.py: 1,000 characters
    of subject, 100,000 of body, 1,600 of SMS, 10,000 loop iterations in all, nothing built longer
    than 100,000); over it, TemplateRenderError. Jinja2 is imported here, on first use, so loading
    a catalog (every cold start) does not pay for it unless templates are linted.
    """
    from jinja2.exceptions import SecurityError, TemplateError, UndefinedError

    from touchpoints.catalog.budget import (
        BUDGET_KEY,
        MAX_BODY,
        MAX_SMS,
        MAX_SUBJECT,
        NullPrintedError,
        RenderBudget,
        RenderBudgetError,
    )
    from touchpoints.catalog.sandbox import compiled as _compiled

    budget = RenderBudget()
    context = dict(facts)
    context[TEMPLATE_LOCALE_KEY] = template.locale
    context[BUDGET_KEY] = budget
    name = f"template '{template.name}' ({template.locale})"

    def part(field: str, source: str, limit: int) -> str:
        budget.start(field, limit)
        return _compiled(source).render(context)

    try:
        subject = part("subject", template.subject, MAX_SUBJECT).strip()
        body = part("body", template.body, MAX_BODY)
        sms = part("sms", template.sms, MAX_SMS).strip() if template.sms is not None else None
    except UndefinedError as exc:
        raise TemplateRenderError(f"{name} reads a fact that is missing: {exc.message}") from exc
    except NullPrintedError as exc:
        raise TemplateRenderError(f"{name} {budget.part}: {exc}") from exc
    except (SecurityError, RenderBudgetError) as exc:
        raise TemplateRenderError(f"{name} {budget.part}: tried a blocked operation: {exc}") from exc
    except TemplateError as exc:
        raise TemplateRenderError(f"{name} failed: {exc}") from exc
    except (OverflowError, RecursionError, MemoryError) as exc:  # a self-calling macro, a number too big
        raise TemplateRenderError(f"{name} {budget.part}: tried a blocked operation: {exc}") from exc
    except Exception as exc:  # `None > 3` and the like: the template's fault, never a crash of the batch
        # Only the type: such a message may quote the value (`invalid literal for int(): 'Jane'`).
        raise TemplateRenderError(f"{name} {budget.part}: failed with {type(exc).__name__}") from exc
    return RenderedMessage(subject=subject, body=body, sms=sms)


def resolve_template_locale(
    templates: Mapping[tuple[str, str], Template], locales: Locales, name: str, locale: str
) -> str | None:
    """The best existing locale of template `name` for a customer locale (zh-Hant -> zh -> en), or None."""
    available = {loc.lower(): loc for (tname, loc) in templates if tname == name}
    for candidate in locales.chain(locale or locales.default):
        found = available.get(candidate.lower())
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class TemplateIssue:
    """A problem found in one template text, at a line counted from the text's first line (1-based)."""

    line: int
    message: str


@dataclass(frozen=True)
class FactRead:
    """A fact a template text reads with no guard around it, so a missing one fails the render.

    `line` counts from the text's first line (1-based); `path` is dotted (`event.rating`);
    `printed` is True when the read is printed (inside `{{ ... }}`): a null there would reach
    the customer as "None", so the catalog refuses it for a fact that may be null.
    """

    line: int
    path: str
    printed: bool = False


@dataclass(frozen=True)
class TemplateLint:
    """What linting one template text found: its issues, and its unguarded fact reads.

    The reads are checked later, per rule, against the events that trigger the rules using
    the template (the linter does not know them).
    """

    issues: tuple[TemplateIssue, ...]
    unguarded_reads: tuple[FactRead, ...]


PathChecker = Callable[[str], str | None]
"""Given a fact path a template reads (`order.total.amount`), a problem message or None when it is fine."""


def lint_template_source(source: str, check_path: PathChecker | None = None) -> list[TemplateIssue]:
    """Find syntax errors and hostile or mistaken constructs in a template text, without rendering it.

    The sandbox already blocks `_` attributes at render time; rejecting them (and loops, ranges,
    macros and includes that could run away) at validate time means a bad template never
    reaches production, and the error points at the line to fix.
    """
    from touchpoints.catalog.template_lint import lint_source

    return lint_source(source, check_path)


def analyse_template_source(source: str, check_path: PathChecker | None = None) -> TemplateLint:
    """Lint a template text (as lint_template_source) and list the facts it reads without a guard.

    A read is guarded inside `{% if x is defined %}` (or `x if x is defined else y`, or under
    `and`/`or`/`not`/`elif`/`else` that prove the same), or when passed through `default`; a
    guard on `event.amount` covers `event.amount.currency` too.
    """
    from touchpoints.catalog.template_lint import analyse_source

    return analyse_source(source, check_path)


def iter_template_parts(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The (field, text) pairs of a template file that are Jinja2 texts."""
    for field in MESSAGE_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            yield field, value


# --- dates in the customer's time zone ---------------------------------------------------------

DateStyle = Literal["en", "zh-Hans", "zh-Hant"]
"""The date conventions we print: English, Simplified and Traditional Chinese."""

_EN_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ZH_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_TRADITIONAL_REGIONS = frozenset({"tw", "hk", "mo"})
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "UCT", "Etc/UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"})


def date_style(locale: str | None) -> DateStyle:
    """The date convention for a BCP 47 tag: zh-Hant/zh-TW/zh-HK/zh-MO, other zh, else English.

    Anything we have no convention for prints in English, the language of the fallback templates.
    """
    if not isinstance(locale, str):
        return "en"
    parts = locale.replace("_", "-").lower().split("-")
    if parts[0] != "zh":
        return "en"
    if "hant" in parts[1:] or any(part in _TRADITIONAL_REGIONS for part in parts[1:]):
        return "zh-Hant"
    return "zh-Hans"


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo | None:
    """The IANA zone `name`, or None when it is not one (typo, path, empty: never an exception)."""
    try:
        return ZoneInfo(name)
    except (ValueError, LookupError, OSError):  # bad key, unknown zone, a folder such as "America"
        return None


def _resolve_zone(tz: object) -> tzinfo:
    """The customer's zone; UTC when missing or not a valid IANA name (a date must still print)."""
    zone = _zone(tz) if isinstance(tz, str) and tz else None
    return zone if zone is not None else UTC


def _parse_moment(value: object) -> datetime | date | str | None:
    """A fact timestamp as an aware datetime (naive = UTC), a date-only value as a date.

    None for a missing value; the text itself when it is not a timestamp, so a mistake shows in
    `touchpoints preview` instead of vanishing.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    try:
        return parse_loose(text)
    except ValueError:
        return text


def _date_text(day: date, style: DateStyle, weekday: bool) -> str:
    if style == "en":
        text = f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"
        return f"{_EN_WEEKDAYS[day.weekday()]}, {text}" if weekday else text
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（{_ZH_WEEKDAYS[day.weekday()]}）" if weekday else text


def format_local_date(value: object, tz: object = None, locale: str | None = None) -> str:
    """A timestamp as the day in the customer's zone: `Saturday, 7 March 2026`, `2026年3月7日（星期六）`.

    Why: slicing the UTC string (`[:10]`) shows an evening promise in New York as the next day.
    A missing value gives "" (templates guard optional facts); a zone that is not a valid IANA
    name gives the UTC day. A date-only value (`2026-03-07`) is shown as that day, unconverted.
    """
    moment = _parse_moment(value)
    if moment is None:
        return ""
    if isinstance(moment, str):
        return moment
    day = moment.astimezone(_resolve_zone(tz)).date() if isinstance(moment, datetime) else moment
    return _date_text(day, date_style(locale), weekday=True)


def format_local_datetime(value: object, tz: object = None, locale: str | None = None) -> str:
    """A timestamp as day and time in the customer's zone: `7 March 2026, 8:00 pm`, `2026年3月7日 20:00`.

    A missing value gives ""; a zone that is missing or not a valid IANA name gives UTC time,
    labelled `UTC` so the customer is not misled into reading it as local time.
    """
    moment = _parse_moment(value)
    if moment is None:
        return ""
    if isinstance(moment, str):
        return moment
    if not isinstance(moment, datetime):
        return _date_text(moment, date_style(locale), weekday=False)
    zone = _resolve_zone(tz)
    local = moment.astimezone(zone)
    style = date_style(locale)
    day = _date_text(local.date(), style, weekday=False)
    if style == "en":
        hour = local.hour % 12 or 12
        text = f"{day}, {hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"
    else:
        text = f"{day} {local.hour:02d}:{local.minute:02d}"
    is_utc = zone is UTC or getattr(zone, "key", None) in _UTC_NAMES
    return f"{text} UTC" if is_utc else text
