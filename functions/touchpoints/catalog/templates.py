"""Message templates: plain-text Jinja2 in a sandbox, linted at validate time, rendered from the facts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from touchpoints.catalog.model import Locales
from touchpoints.errors import TouchpointsError

__all__ = [
    "MESSAGE_FIELDS",
    "RenderedMessage",
    "Template",
    "TemplateFile",
    "TemplateIssue",
    "TemplateRenderError",
    "lint_template_source",
    "render_template",
    "resolve_template_locale",
]

MESSAGE_FIELDS = ("subject", "body", "sms")
"""The parts of a template file, each a Jinja2 template."""


class TemplateRenderError(TouchpointsError):
    """Raised when a template cannot be rendered from the facts (a missing fact, a blocked operation)."""


class TemplateFile(BaseModel):
    """The content of `rules/templates/<template>/<locale>.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(description="Email subject line (Jinja2, plain text).")
    body: str = Field(description="Email body (Jinja2, plain text).")
    sms: str | None = Field(
        default=None, description="SMS text; required when an sms action uses the template."
    )


class Template(BaseModel):
    """One template in one locale, as loaded from its file."""

    model_config = ConfigDict(frozen=True)

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
    """Render subject, body and sms from the facts (sandboxed; a missing fact is an error, not blank).

    A blank in a customer message is worse than no message, hence StrictUndefined: the caller
    records a failure instead of sending "Dear ,". Jinja2 is imported here, on first use, so
    loading a catalog (every cold start) does not pay for it unless templates are linted.
    """
    from jinja2.exceptions import SecurityError, TemplateError, UndefinedError

    from touchpoints.catalog.sandbox import compiled as _compiled

    context = dict(facts)
    try:
        subject = _compiled(template.subject).render(context).strip()
        body = _compiled(template.body).render(context)
        sms = _compiled(template.sms).render(context).strip() if template.sms is not None else None
    except UndefinedError as exc:
        raise TemplateRenderError(
            f"template '{template.name}' ({template.locale}) reads a fact that is missing: {exc.message}"
        ) from exc
    except SecurityError as exc:
        raise TemplateRenderError(
            f"template '{template.name}' ({template.locale}) tried a blocked operation: {exc}"
        ) from exc
    except TemplateError as exc:
        raise TemplateRenderError(f"template '{template.name}' ({template.locale}) failed: {exc}") from exc
    except (OverflowError, RecursionError) as exc:  # the sandbox's range() limit, a self-calling macro
        raise TemplateRenderError(
            f"template '{template.name}' ({template.locale}) tried a blocked operation: {exc}"
        ) from exc
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


PathChecker = Callable[[str], str | None]
"""Given a fact path a template reads (`order.total.amount`), a problem message or None when it is fine."""


def lint_template_source(source: str, check_path: PathChecker | None = None) -> list[TemplateIssue]:
    """Find syntax errors and hostile or mistaken constructs in a template text, without rendering it.

    The sandbox already blocks `_` attributes at render time; rejecting them (and loops, ranges,
    macros and includes that could run away) at validate time means a bad template never
    reaches production, and the error points at the line to fix.
    """
    from touchpoints.catalog.sandbox import lint_source

    return lint_source(source, check_path)


def iter_template_parts(data: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The (field, text) pairs of a template file that are Jinja2 texts."""
    for field in MESSAGE_FIELDS:
        value = data.get(field)
        if isinstance(value, str):
            yield field, value
