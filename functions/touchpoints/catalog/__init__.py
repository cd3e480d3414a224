"""Rule catalog: rule files, the contact policy and message templates, validated and compiled once."""

from __future__ import annotations

from touchpoints.catalog.catalog import (
    Catalog,
    CompiledRule,
    UnknownRuleError,
    UnknownTemplateError,
    resolve_locale,
)
from touchpoints.catalog.compiled import COMPILED_FILE, load_compiled_catalog, write_compiled_catalog
from touchpoints.catalog.durations import DurationError, format_duration, parse_duration
from touchpoints.catalog.loader import build_catalog, load_catalog, validate_catalog
from touchpoints.catalog.model import (
    ACTION_EVENT_TYPES,
    CATEGORIES,
    CHANNELS,
    TRIGGER_TYPES,
    ActionSpec,
    Cap,
    ChannelCap,
    ContactPolicy,
    Experiment,
    Group,
    GroupPolicy,
    Limit,
    Locales,
    QuietHours,
    Rule,
)
from touchpoints.catalog.problems import CatalogError, Problem
from touchpoints.catalog.templates import RenderedMessage, Template, TemplateRenderError, render_template

__all__ = [
    "ACTION_EVENT_TYPES",
    "CATEGORIES",
    "CHANNELS",
    "COMPILED_FILE",
    "TRIGGER_TYPES",
    "ActionSpec",
    "Cap",
    "Catalog",
    "CatalogError",
    "ChannelCap",
    "CompiledRule",
    "ContactPolicy",
    "DurationError",
    "Experiment",
    "Group",
    "GroupPolicy",
    "Limit",
    "Locales",
    "Problem",
    "QuietHours",
    "RenderedMessage",
    "Rule",
    "Template",
    "TemplateRenderError",
    "UnknownRuleError",
    "UnknownTemplateError",
    "build_catalog",
    "format_duration",
    "load_catalog",
    "load_compiled_catalog",
    "parse_duration",
    "render_template",
    "resolve_locale",
    "validate_catalog",
    "write_compiled_catalog",
]
