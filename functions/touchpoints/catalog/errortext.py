"""Pydantic validation errors of rule, policy and template files, as `file:line: message` problems.

Says what is wrong in the author's terms (the key, the allowed values, a "did you mean") at the
line of the offending key, instead of pydantic's own wording and locations.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from touchpoints.catalog.model import TRIGGER_TYPES
from touchpoints.catalog.problems import Problem, did_you_mean
from touchpoints.catalog.yamlsource import YamlDocument
from touchpoints.contract.limits import ID_MAX_LENGTH

__all__ = ["validation_problems"]

_BACKTICKED = re.compile(r"`([\w-]+)`")


def validation_problems(
    document: YamlDocument, exc: ValidationError, model: type[BaseModel]
) -> list[Problem]:
    return [_error_problem(document, error, model) for error in exc.errors(include_url=False)]


def _error_problem(document: YamlDocument, error: ErrorDetails, model: type[BaseModel]) -> Problem:
    location: list[str | int] = list(error["loc"])
    kind = error["type"]
    where = _dotted(location)
    if kind == "extra_forbidden":
        key = str(location[-1])
        allowed = _field_names(model, location[:-1])
        inside = f" in {_dotted(location[:-1])}" if location[:-1] else ""
        return document.problem(location, f"unknown key '{key}'{inside}{did_you_mean(key, allowed)}")
    if kind == "missing":
        inside = f" in {_dotted(location[:-1])}" if location[:-1] else ""
        return document.problem(location, f"missing required key '{location[-1]}'{inside}")
    if kind == "literal_error" and location[-1:] == ["[key]"] and "channels" in location:
        return document.problem(location[:-1], _channel_key_message(_dotted(location[:-2]), error))
    if kind == "literal_error":
        return document.problem(location, _literal_message(where, error))
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and location and location[-1] == "id":
        message = (
            f"'{error['input']}' is not a valid id: use lowercase letters, digits and '-' "
            "(kebab-case), e.g. late-shipment-notice"
        )
    elif kind == "string_too_long" and location == ["id"]:
        message = (
            f"the id is {len(str(error['input']))} characters long; a rule id has at most "
            f"{ID_MAX_LENGTH} (the rule's timers carry it, and the event contract rejects longer ids)"
        )
    elif kind in ("value_error", "assertion_error"):
        location = _hinted_location(document, location, message)
    elif kind.endswith(("_type", "_parsing")):
        message = f"{message} (got {error['input']!r})"
    return document.problem(location, f"{where}: {message}" if where else message)


def _literal_message(where: str, error: ErrorDetails) -> str:
    given = error["input"]
    expected = str((error.get("ctx") or {}).get("expected", ""))
    choices = re.findall(r"'([^']*)'", expected)
    if where.startswith("on") and given == "TimerFired":
        return "on: TimerFired is internal; to decide later use `after: 48h` or `at: <timestamp fact>`"
    if where.startswith("on"):
        return (
            f"on: unknown event type '{given}'{did_you_mean(str(given), TRIGGER_TYPES)}; known: "
            + ", ".join(TRIGGER_TYPES)
        )
    hint = did_you_mean(str(given), choices)
    return f"{where}: '{given}' is not allowed{hint}; use one of {', '.join(choices)}"


def _channel_key_message(where: str, error: ErrorDetails) -> str:
    """A cap on a channel that is not a message channel (`channels: {push: ...}` or `{event: ...}`)."""
    given = str(error["input"])
    if given == "event":
        return (
            f"{where}: event actions reach another system, not the customer, and are never capped; "
            "cap email or sms"
        )
    hint = did_you_mean(given, ["email", "sms"])
    return f"{where}: '{given}' is not a channel{hint}; caps apply to email and sms"


def _hinted_location(document: YamlDocument, location: list[str | int], message: str) -> list[str | int]:
    """For a whole-object error ("set either `after` or `at`"), point at the first named key present."""
    node: Any = document.data
    for part in location:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return location
    if not isinstance(node, dict):
        return location
    present = [key for key in _BACKTICKED.findall(message) if key in node]
    return [*location, present[0]] if present else location


def _dotted(location: Sequence[str | int]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _field_names(model: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    """The keys allowed at `location` inside `model` (for "did you mean" on an unknown key)."""
    current: type[BaseModel] | None = model
    skip = 0
    for part in location:
        if skip:
            skip -= 1
            continue
        if current is None:
            return []
        field_info = next(
            (f for name, f in current.model_fields.items() if part in (name, f.alias)),
            None,
        )
        if field_info is None:
            return []
        current, skip = _inner_model(field_info.annotation)
    if current is None:
        return []
    return [f.alias or name for name, f in current.model_fields.items()]


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, int]:
    """The model inside e.g. `list[ActionSpec] | None`, and how many containers wrap it."""
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, 0
    if origin in (typing.Union, types.UnionType):
        for argument in typing.get_args(annotation):
            found, depth = _inner_model(argument)
            if found is not None:
                return found, depth
        return None, 0
    if origin in (list, dict, tuple, Sequence, Mapping):
        arguments = typing.get_args(annotation)
        if arguments:
            found, depth = _inner_model(arguments[-1])
            return found, depth + 1
    if origin is typing.Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    return None, 0
