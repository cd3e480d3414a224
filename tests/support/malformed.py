"""Hypothesis strategies for malformed EventBridge events, as the SQS body text ProcessEvents receives."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from touchpoints.contract.limits import ID_MAX_LENGTH, SOURCE_MAX_LENGTH
from touchpoints.contract.models import (
    CANCEL_REASONS,
    DELAY_REASONS,
    EXCEPTION_KINDS,
    PAYMENT_FAILURE_REASONS,
    RETURN_REASONS,
    SURVEY_CHANNELS,
    SURVEY_SCALES,
)

__all__ = ["MALFORMATIONS", "PERSONAL_VALUES", "malformed_body", "personal_in_the_wrong_shape"]

_KNOWN_TYPES = frozenset(
    {
        "OrderPlaced",
        "OrderCancelled",
        "PaymentSucceeded",
        "PaymentFailed",
        "ShipmentDispatched",
        "ShipmentDelayed",
        "ShipmentException",
        "ShipmentDelivered",
        "ReturnRequested",
        "ReviewSubmitted",
        "SurveyAnswered",
        "TimerFired",
    }
)

# Required fields per detail-type and what kind of value each must be.
_REQUIRED: dict[str, dict[str, str]] = {
    "OrderPlaced": {"order_id": "id", "customer": "customer", "total": "money", "items": "items"},
    "OrderCancelled": {"order_id": "id", "reason": "enum"},
    "PaymentSucceeded": {"order_id": "id", "payment_id": "id", "amount": "money"},
    "PaymentFailed": {
        "order_id": "id",
        "payment_id": "id",
        "amount": "money",
        "reason_code": "enum",
        "attempt": "count",
    },
    "ShipmentDispatched": {"order_id": "id", "shipment_id": "id", "carrier": "id", "tracking_number": "id"},
    "ShipmentDelayed": {"order_id": "id", "shipment_id": "id", "new_estimate": "time"},
    "ShipmentException": {"order_id": "id", "shipment_id": "id", "kind": "enum"},
    "ShipmentDelivered": {"order_id": "id", "shipment_id": "id"},
    "ReturnRequested": {"order_id": "id", "return_id": "id", "reason": "enum"},
    "ReviewSubmitted": {"order_id": "id", "review_id": "id", "rating": "rating"},
    "SurveyAnswered": {"order_id": "id", "scale": "enum", "score": "score", "channel": "enum"},
}
_ENVELOPE = {"id": "id", "detail-type": "type", "source": "id", "time": "time", "detail": "object"}

_ENUM_VALUES = frozenset(
    CANCEL_REASONS
    + DELAY_REASONS
    + EXCEPTION_KINDS
    + PAYMENT_FAILURE_REASONS
    + RETURN_REASONS
    + tuple(SURVEY_SCALES)
    + SURVEY_CHANNELS
)
_LETTERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=20)
_NOT_DECIMAL = _LETTERS.filter(lambda t: t.lower().lstrip("+-_") not in {"nan", "inf", "infinity", "snan"})
_HUGE = st.integers(min_value=20_000, max_value=300_000).map(lambda n: "x" * n)
_NON_STRING = st.one_of(
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(_LETTERS, st.integers(), max_size=2),
)


def _out_of_range(text: str) -> bool:
    """True for a wall time + offset outside 2000-01-01 .. 2200-01-01 UTC (or beyond datetime's reach)."""
    try:
        moment = datetime.fromisoformat(text).astimezone(UTC)
    except OverflowError:
        return True
    return not datetime(2000, 1, 1, tzinfo=UTC) <= moment < datetime(2200, 1, 1, tzinfo=UTC)


# Any wall time of years 1 to 9999, in any offset RFC 3339 can write, outside the contract's range.
_FAR_TIMES = st.builds(
    lambda wall, minutes: wall.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
).filter(_out_of_range)
_BAD_TIMES = st.one_of(
    _FAR_TIMES,
    st.sampled_from(
        [
            "2026-03-01T10:00:00",  # no offset
            "2026-03-01",  # date only
            "2026-03-01 10:00",  # no offset, no seconds
            "2026-13-01T10:00:00Z",  # month 13
            "2026-02-30T10:00:00Z",  # no such day
            "01/03/2026 10:00",
            "yesterday",
            "",
        ]
    ),
    st.integers(min_value=0, max_value=2**40),  # epoch seconds are not RFC 3339
    _LETTERS,
    _HUGE,
    _NON_STRING.filter(lambda v: not isinstance(v, str)),
)
# Strings of control characters (C0 and DEL), where an id, an enum or a time is expected.
_CONTROL = st.text(
    alphabet=st.sampled_from([chr(c) for c in (*range(0x20), 0x7F)]),
    min_size=1,
    max_size=50,
)
# Ids one character over the longest limit of an "id"-kind field (the envelope's source), up to far
# beyond any DynamoDB key, in characters of 1 to 4 bytes: valid JSON, rejected when parsed.
_OVERSIZED_ID = st.builds(
    lambda char, length: char * length,
    st.sampled_from(["x", "é", "訂", "📦"]),
    st.one_of(
        st.integers(min_value=max(ID_MAX_LENGTH, SOURCE_MAX_LENGTH) + 1, max_value=4096),
        st.integers(min_value=4097, max_value=300_000),
    ),
)
_WRONG: dict[str, st.SearchStrategy[Any]] = {
    "id": st.one_of(_NON_STRING, st.sampled_from(["", "   "]), _OVERSIZED_ID),
    "type": st.one_of(_NON_STRING, _LETTERS.filter(lambda t: t not in _KNOWN_TYPES), _HUGE),
    "time": _BAD_TIMES,
    "object": st.one_of(_NON_STRING.filter(lambda v: not isinstance(v, dict)), _LETTERS, _HUGE),
    "enum": st.one_of(_NON_STRING, _LETTERS.filter(lambda t: t not in _ENUM_VALUES), _HUGE),
    "count": st.one_of(
        st.integers(max_value=0), _LETTERS, st.floats(min_value=1.1, max_value=1.9), st.booleans()
    ),
    "rating": st.one_of(
        st.integers(max_value=0),
        st.integers(min_value=6),
        _LETTERS,
        st.sampled_from(["5", "4", 4.5, True, None]),
        _HUGE,
    ),
    "score": st.one_of(  # off both scales (nps 0-10, csat 1-5), or not an integer
        st.integers(max_value=-1),
        st.integers(min_value=11),
        _LETTERS,
        st.sampled_from(["5", 4.5, True, None]),
        _HUGE,
    ),
    "money": st.one_of(
        _NON_STRING.filter(lambda v: not isinstance(v, dict)),
        st.builds(
            lambda a: {"amount": a, "currency": "USD"},
            st.one_of(_NOT_DECIMAL, _HUGE, st.none(), st.lists(st.integers(), max_size=1)),
        ),
        st.builds(
            lambda c: {"amount": "10.00", "currency": c},
            st.one_of(_LETTERS.filter(lambda t: len(t) != 3 or not t.isupper()), _HUGE, st.integers()),
        ),
        st.just({"amount": "10.00"}),
    ),
    "customer": st.one_of(
        _NON_STRING.filter(lambda v: not isinstance(v, dict)),
        st.just({"email": "someone@example.com"}),  # no id
        st.builds(lambda i: {"id": i}, st.one_of(_NON_STRING, st.just(""), _OVERSIZED_ID)),
    ),
    "items": st.one_of(
        st.just([]),
        _NON_STRING.filter(lambda v: not isinstance(v, list) or v == []),
        st.builds(
            lambda q: [
                {"sku": "S", "name": "n", "quantity": q, "unit_price": {"amount": "1.00", "currency": "USD"}}
            ],
            st.one_of(
                st.integers(max_value=0), _LETTERS, st.floats(allow_nan=False, min_value=0.1, max_value=0.9)
            ),
        ),
    ),
}


# Personal data (a name with a street address, an email, a phone number) and the fields where each
# is certainly wrong: a typed field (a number, an enum, a time, an object) refuses it.
PERSONAL_VALUES = ("Jane Quillfeather, 12 Elm Street, Springfield", "jane.quill@example.com", "+16505550199")
_TYPED_KINDS = frozenset({"enum", "count", "rating", "money", "customer", "items", "time", "object"})


def _load(body: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def _wrong_field(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    event = json.loads(json.dumps(base))
    detail_type = str(event["detail-type"])
    choices = [("envelope", name) for name in _ENVELOPE] + [
        ("detail", name) for name in _REQUIRED[detail_type]
    ]
    where, name = draw(st.sampled_from(choices))
    kind = _ENVELOPE[name] if where == "envelope" else _REQUIRED[detail_type][name]
    value = draw(_WRONG[kind])
    (event if where == "envelope" else event["detail"])[name] = value
    return json.dumps(event)


def _missing_field(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    event = json.loads(json.dumps(base))
    detail_type = str(event["detail-type"])
    choices = [("envelope", name) for name in _ENVELOPE] + [
        ("detail", name) for name in _REQUIRED[detail_type]
    ]
    where, name = draw(st.sampled_from(choices))
    del (event if where == "envelope" else event["detail"])[name]
    return json.dumps(event)


def _forged(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    event = json.loads(json.dumps(base))
    if draw(st.booleans()):
        event["source"] = "touchpoints.timers"  # a platform event claiming to be ours
    else:
        event["detail-type"] = "TimerFired"  # a timer from outside
        event["detail"] = {
            "order_id": event["detail"]["order_id"],
            "rule_id": "order-confirmation",
            "trigger_event_id": "x",
            "due_at": "2026-03-01T10:00:00Z",
        }
    return json.dumps(event)


def _not_json(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    text = json.dumps(base)
    cut = draw(st.integers(min_value=1, max_value=len(text) - 1))
    return text[:cut]  # a truncated body is never a complete JSON document


def _not_object(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    return json.dumps(
        draw(
            st.one_of(_NON_STRING.filter(lambda v: not isinstance(v, dict)), _LETTERS, st.just([dict(base)]))
        )
    )


def _garbage(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    text = draw(st.one_of(st.text(max_size=40), _HUGE.map(lambda s: "{" + s)))
    try:
        json.loads(text)
    except ValueError:
        return text
    return "{" + text  # it happened to be JSON: make it not


def _typed_field(event: Mapping[str, Any], draw: st.DrawFn) -> tuple[str, str]:
    """(where, name) of a field whose type refuses a string: a number, an enum, a time, an object."""
    detail_type = str(event["detail-type"])
    choices = [("envelope", name) for name, kind in _ENVELOPE.items() if kind in _TYPED_KINDS]
    choices += [("detail", name) for name, kind in _REQUIRED[detail_type].items() if kind in _TYPED_KINDS]
    return draw(st.sampled_from(choices))


def _far_time(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    """A timestamp from years 1 to 9999, in any offset, outside the contract's range."""
    event = json.loads(json.dumps(base))
    detail_type = str(event["detail-type"])
    fields = [("envelope", "time")] + [
        ("detail", n) for n, k in _REQUIRED[detail_type].items() if k == "time"
    ]
    where, name = draw(st.sampled_from(fields))
    (event if where == "envelope" else event["detail"])[name] = draw(_FAR_TIMES)
    return json.dumps(event)


def _huge_number(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    """A number of thousands of digits (as JSON text: Python could not even print some as int)."""
    event = json.loads(json.dumps(base))
    where, name = _typed_field(event, draw) if draw(st.booleans()) else ("detail", "order_id")
    (event if where == "envelope" else event["detail"])[name] = "__HUGE__"
    digits = draw(st.integers(min_value=1_000, max_value=20_000))
    shape = draw(st.sampled_from(["{d}", "-{d}", "{d}.{d}", "0.{d}", "1e{d}", "-1e-{d}"]))
    number = shape.format(d="7" * digits) if "e" not in shape else shape.format(d=digits)
    return json.dumps(event).replace('"__HUGE__"', number, 1)


def _control_characters(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    """A string of control characters where an id, an enum or a time is expected."""
    event = json.loads(json.dumps(base))
    detail_type = str(event["detail-type"])
    choices = [("envelope", name) for name in ("id", "detail-type", "time")]
    choices += [("detail", n) for n, k in _REQUIRED[detail_type].items() if k in ("id", "enum", "time")]
    where, name = draw(st.sampled_from(choices))
    (event if where == "envelope" else event["detail"])[name] = draw(_CONTROL)
    return json.dumps(event)


def _personal_wrong_shape(base: Mapping[str, Any], draw: st.DrawFn) -> str:
    return personal_in_the_wrong_shape(base, draw)[0]


def personal_in_the_wrong_shape(base: Mapping[str, Any], draw: st.DrawFn) -> tuple[str, str]:
    """(body, the personal value put in it): a name and street, an email or a phone in a typed field,
    or as the customer itself (a string, a list, a number)."""
    event = json.loads(json.dumps(base))
    value = draw(st.sampled_from(PERSONAL_VALUES))
    if "customer" in event["detail"] and draw(st.booleans()):
        shape = draw(st.sampled_from(["text", "list", "field"]))
        if shape == "text":
            event["detail"]["customer"] = value
        elif shape == "list":
            event["detail"]["customer"] = [value, PERSONAL_VALUES[0]]
        else:  # the email where the phone goes, the street where the email goes
            field = "phone" if "@" in value else "email"
            event["detail"]["customer"][field] = value if field == "email" or "@" in value else value + " x"
            if field == "email" and "@" in value:
                event["detail"]["customer"]["email"] = PERSONAL_VALUES[0]
                value = PERSONAL_VALUES[0]
    else:
        where, name = _typed_field(event, draw)
        (event if where == "envelope" else event["detail"])[name] = value
    return json.dumps(event), value


MALFORMATIONS = {
    "wrong type or value": _wrong_field,
    "missing field": _missing_field,
    "forged timer source": _forged,
    "invalid JSON (truncated)": _not_json,
    "JSON but not an object": _not_object,
    "not JSON at all": _garbage,
    "time out of range, any offset": _far_time,
    "number of thousands of digits": _huge_number,
    "control characters": _control_characters,
    "personal data in the wrong shape": _personal_wrong_shape,
}


@st.composite
def malformed_body(draw: st.DrawFn, bases: list[dict[str, Any]]) -> tuple[str, str]:
    """(kind, body): one valid event from `bases`, broken in one of the MALFORMATIONS ways."""
    base = draw(st.sampled_from(bases))
    kind = draw(st.sampled_from(sorted(MALFORMATIONS)))
    return kind, MALFORMATIONS[kind](base, draw)
