"""The EventBridge envelope, typed by detail-type, and `parse_event`: the one way events enter the core."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import ErrorDetails

from touchpoints.contract.errors import FieldProblem, InvalidEventError
from touchpoints.contract.keys import business_key, computed_once, event_keys
from touchpoints.contract.limits import ID_MAX_LENGTH, RESOURCES_MAX
from touchpoints.contract.models import DETAIL_MODELS, Customer, Detail, DetailBase
from touchpoints.contract.types import (
    PATTERN_MESSAGES,
    EventTimestamp,
    Identifier,
    Label,
    NonEmptyLabel,
    Resource,
    Source,
    Timestamp,
    _show,
    is_shown_text,
)

__all__ = ["EVENT_MODELS", "TIMER_SOURCE", "Event", "parse_event", "parse_valid_event_json"]

TIMER_SOURCE = "touchpoints.timers"
_TIMER_TYPE = "TimerFired"
_KNOWN = ", ".join(t for t in DETAIL_MODELS if t != _TIMER_TYPE)  # TimerFired is ours, not a platform's


class Event(BaseModel):
    """A standard EventBridge event whose `detail` is the model its `detail-type` names.

    Build one with `parse_event`; it selects the concrete subclass (`OrderPlacedEvent`, ...) by
    detail-type, so validation never tries the detail models one after the other.
    """

    model_config = ConfigDict(
        extra="ignore", frozen=True, populate_by_name=True, ignored_types=(computed_once,)
    )

    version: Label = Field(default="0", description="EventBridge envelope version")
    id: Identifier = Field(
        description="unique event id, set by EventBridge (duplicates are recognised by the business key)"
    )
    detail_type: NonEmptyLabel = Field(alias="detail-type", description="which detail model `detail` is")
    source: Source = Field(description="sending platform, e.g. shop.orders")
    account: Label = Field(default="", description="AWS account id")
    time: EventTimestamp = Field(description="when the thing happened (RFC 3339 with an offset)")
    region: Label = Field(default="", description="AWS region")
    resources: list[Resource] = Field(
        default_factory=list, max_length=RESOURCES_MAX, description="ARNs the event concerns"
    )
    detail: Detail = Field(description="the detail, typed by detail-type")

    @property
    def order_id(self) -> str:
        """The order the event is about."""
        return self.detail.order_id

    @property
    def customer(self) -> Customer | None:
        """The customer the event carries, if any."""
        return self.detail.customer

    def to_dict(self) -> dict[str, Any]:
        """The JSON-compatible envelope with EventBridge's field names (`detail-type`), UTC `Z` times."""
        return self.model_dump(mode="json", by_alias=True)

    # Computed once per event (the service, decide, the reducer and the store all ask), kept in
    # the instance's __dict__ (`computed_once`, listed in `ignored_types`): an event is frozen, so
    # its keys never change, and pydantic neither dumps nor compares what is not a field.
    @computed_once
    def business_key(self) -> str:
        """Which fact the event reports: detail-type, order and the detail's `key_fields` (JSON text)."""
        return business_key(self.detail_type, self.detail)

    @computed_once
    def key_digests(self) -> tuple[str, ...]:
        """The digests of its keys: the business key's first, then the idempotency key's, if any."""
        return event_keys(self.detail_type, self.source, self.detail)


class _LooseEvent(Event):
    """An envelope with any detail: used only to report envelope problems of an unknown detail-type."""

    detail: dict[str, Any]  # type: ignore[assignment]


def _event_model(name: str, model: type[DetailBase]) -> type[Event]:
    fields: dict[str, Any] = {"detail": (model, Field(description=model.__doc__))}
    if name == _TIMER_TYPE:
        # A timer is due when its rule's delay says, which may be past the contract's last moment
        # (an event at the end of 2199 with a 48h delay): it carries Touchpoints' own, wider bounds.
        fields["time"] = (Timestamp, Field(description="when the timer was due (RFC 3339)"))
    return create_model(f"{name}Event", __base__=Event, **fields)


# One concrete envelope model per detail-type, selected by a dict lookup in parse_event.
EVENT_MODELS: Mapping[str, type[Event]] = {
    name: _event_model(name, model) for name, model in DETAIL_MODELS.items()
}


def parse_event(raw: Mapping[str, Any] | str | bytes) -> Event:
    """Validate an EventBridge event (a dict or JSON text) and return it typed by its detail-type.

    Raises `InvalidEventError` naming the event id, the detail-type and every field at fault.
    """
    if isinstance(raw, str | bytes | bytearray):
        raw = _load_json(raw)
    elif not isinstance(raw, Mapping):
        raise InvalidEventError(None, None, [FieldProblem("", f"must be a JSON object, got {_show(raw)}")])
    event_id = raw.get("id")
    # An oversized id is not repeated in the message (and the logs): its problem says how long it is.
    event_id = event_id if isinstance(event_id, str) and 0 < len(event_id) <= ID_MAX_LENGTH else None
    detail_type = raw.get("detail-type", raw.get("detail_type"))
    model = EVENT_MODELS.get(detail_type) if isinstance(detail_type, str) else None
    if model is None:
        _reject_unknown_type(raw, event_id, detail_type)
    assert model is not None  # _reject_unknown_type always raises
    try:
        event = model.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors(include_url=False)]
        problems.extend(_source_problems(raw.get("source"), detail_type))
        raise InvalidEventError(event_id, detail_type, problems) from None
    source_problems = _source_problems(event.source, detail_type)
    if source_problems:
        raise InvalidEventError(event_id, detail_type, source_problems)
    return event


_DETAIL_TYPE = re.compile(r'"detail-type"\s*:\s*"([^"\\]+)"')


def parse_valid_event_json(text: str) -> Event | None:
    """The event in this JSON text if it is valid, else None: then `parse_event` explains what is wrong.

    The fast path for streams of events (the simulator reads 100k lines): pydantic parses the JSON
    itself, straight into the model its detail-type names (found in the text), without building a
    dict first. It never decides differently from `parse_event`: any doubt (no plain detail-type
    text, a validation error, a detail-type that is not the one validated, a source problem) gives
    None, and the caller falls back to `parse_event`, which reports the problems.
    """
    found = _DETAIL_TYPE.search(text)
    if found is None:
        return None
    detail_type = found.group(1)
    model = EVENT_MODELS.get(detail_type)
    if model is None:
        return None
    try:
        event = model.model_validate_json(text)
    except ValidationError:
        return None
    if event.detail_type != detail_type or _source_problems(event.source, detail_type):
        return None
    return event


class _LongNumber:
    """A JSON integer too long to be anything the contract takes: kept as its length, never converted.

    Python refuses to convert more than 4,300 digits (and converting fewer costs quadratic time);
    parsing the rest of the event goes on, so the rejection names the field that held it.
    """

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __str__(self) -> str:
        return f"a number of {self.digits} digits"

    __repr__ = __str__


_LONG_NUMBER = 40
"""Digits from which a JSON integer is kept as a `_LongNumber` (no field of the contract holds more)."""


def _parse_int(text: str) -> int | _LongNumber:
    digits = len(text.lstrip("-"))
    return _LongNumber(digits) if digits > _LONG_NUMBER else int(text)


def _load_json(text: str | bytes | bytearray) -> Mapping[str, Any]:
    try:
        loaded = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise InvalidEventError(
            None, None, [FieldProblem("", f"not valid JSON: {exc.msg} at {where}")]
        ) from None
    except UnicodeDecodeError as exc:
        raise InvalidEventError(
            None, None, [FieldProblem("", f"not valid UTF-8 text: {exc.reason}")]
        ) from None
    except RecursionError:  # `[[[[...` thousands deep: the decoder gives up before it ends
        raise InvalidEventError(
            None, None, [FieldProblem("", "nested too deeply (arrays or objects thousands of levels deep)")]
        ) from None
    except ValueError:  # an integer of more than 4300 digits: Python refuses to convert it
        message = f"a number has more than {sys.get_int_max_str_digits()} digits"
        raise InvalidEventError(None, None, [FieldProblem("", message)]) from None
    if not isinstance(loaded, dict):
        raise InvalidEventError(None, None, [FieldProblem("", f"must be a JSON object, got {_show(loaded)}")])
    return loaded


def _reject_unknown_type(raw: Mapping[str, Any], event_id: str | None, detail_type: Any) -> None:
    """Report the unknown detail-type together with any other envelope problem, then raise."""
    if detail_type is None:
        first = FieldProblem("detail-type", f"is required; known detail-types: {_KNOWN}")
    else:
        first = FieldProblem("detail-type", f"unknown detail-type {_show(detail_type)}; known: {_KNOWN}")
    problems = [first]
    try:
        _LooseEvent.model_validate({**raw, "detail-type": "?"})
    except ValidationError as exc:
        problems.extend(_problem(error) for error in exc.errors(include_url=False))
    named = detail_type if isinstance(detail_type, str) and is_shown_text(detail_type) else None
    raise InvalidEventError(event_id, named, problems)


def _source_problems(source: Any, detail_type: str) -> list[FieldProblem]:
    """`touchpoints.timers` is ours: platforms may not forge timers, and timers carry nothing else."""
    if detail_type == _TIMER_TYPE and source != TIMER_SOURCE:
        message = f"TimerFired is internal and accepted only from {TIMER_SOURCE}, got {_show(source)}"
        return [FieldProblem("source", message)]
    if detail_type != _TIMER_TYPE and source == TIMER_SOURCE:
        return [FieldProblem("source", f"{TIMER_SOURCE} is reserved for TimerFired events")]
    return []


_PERSONAL_FIELDS = frozenset(
    {
        "email",
        "phone",
        "name",
        "signed_by",
        "address",
        "title",
        "body",
        "note",
        "comment",
        "retry_url",
        "tracking_url",
    }
)
"""Fields that hold, or may hold, personal data: contact fields, names, free text written by a
person, and URLs (a payment link may carry the customer's email). Their values are never shown,
nor the value of anything under them; nor is the value of a `customer` that is not an object
(`"Jane Doe, 12 Elm Street, Springfield"`). Other values are shown only when `is_shown_text`
says a string cannot be personal data."""
_NOT_SHOWN = "a value not shown here (personal data)"


def _is_personal(loc: list[str]) -> bool:
    """True for the customer itself, or a path into a field that may hold personal data."""
    return loc[-1:] == ["customer"] or any(part in _PERSONAL_FIELDS for part in loc)


def _problem(error: ErrorDetails) -> FieldProblem:
    field = ".".join(str(part) for part in error["loc"])
    loc = [str(part) for part in error["loc"]]
    if _is_personal(loc):
        # Say what is wrong, never the value: it ends up in the logs and the dead-letter queue.
        ctx = error.get("ctx") or {}
        if "got" in ctx:  # our own validators: "{what}, got {got}"
            return FieldProblem(field, f"{ctx['what']}, got {_NOT_SHOWN}")
        message = _message({**error, "input": None})
        return FieldProblem(field, message.replace(", got null", f", got {_NOT_SHOWN}"))
    return FieldProblem(field, _message(error))


_PLAIN: dict[str, str] = {
    "missing": "is required",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "frozen_instance": "cannot be changed",
}


def _message(error: ErrorDetails) -> str:
    """Translate one pydantic error into the sentence a platform engineer reads."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = _show(error.get("input"))
    if "got" in ctx:  # our own validators already wrote the sentence
        return error["msg"]
    if kind == "missing":
        return "is required"
    if kind in _PLAIN:
        return f"{_PLAIN[kind]}, got {got}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_MESSAGES:
        return f"{PATTERN_MESSAGES[ctx['pattern']]}, got {got}"
    if kind == "literal_error" and error["loc"][-1:] == ("currency",):
        return f"must be an ISO 4217 currency code such as USD, got {got}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"must be one of {expected}, got {got}"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}, got {got}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}, got {got}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":  # a list; the count, never the items
        return f"must have at most {ctx.get('max_length')} item(s), got {ctx.get('actual_length')}"
    if kind == "string_too_long":  # the length, never the text: it may be personal data
        value = error.get("input")
        length = f", got {len(value)} characters" if isinstance(value, str) else ""
        return f"must be at most {ctx.get('max_length')} characters{length}"
    message = error["msg"]
    return f"{message[:1].lower()}{message[1:]}, got {got}"
