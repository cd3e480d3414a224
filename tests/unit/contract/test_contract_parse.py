"""parse_event: what the contract accepts, what it rejects, and how it says so."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import envelope

from touchpoints.contract import (
    DETAIL_MODELS,
    TIMER_SOURCE,
    FieldProblem,
    InvalidEventError,
    OrderPlaced,
    parse_event,
)
from touchpoints.errors import TouchpointsError

INVALID_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "invalid-events"


def _with(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `event` with the dotted `path` set to `value` (or deleted when value is DELETE)."""
    changed = copy.deepcopy(event)
    *parents, last = path.split(".")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is DELETE:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


class _Delete:
    """Marks a field to delete; its repr names it, so test ids are the same in every process (xdist)."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()

# (path to change, new value, field reported, message reported)
REJECTED = [
    (
        "time",
        "2026-03-02T19:05:00",
        "time",
        'must be an RFC 3339 timestamp with an offset, got "2026-03-02T19:05:00"',
    ),
    ("time", "2026-03-02", "time", 'must be an RFC 3339 timestamp with an offset, got "2026-03-02"'),
    (
        "time",
        1772478300,
        "time",
        "must be an RFC 3339 timestamp with an offset, got a number of 10 digits (not shown)",
    ),
    (
        "time",
        "yesterday at noon",
        "time",
        "must be an RFC 3339 timestamp with an offset, got a text of 17 characters (not shown)",
    ),
    ("detail.promised_ship_by", "2026-03-04", "detail.promised_ship_by", "RFC 3339"),
    (
        "detail.customer.phone",
        "0912345678",
        "detail.customer.phone",
        "E.164 phone number such as +14155550123, got a value not shown here (personal data)",
    ),
    ("detail.customer.phone", "+0912345678", "detail.customer.phone", "E.164"),
    ("detail.customer.email", "emily.example.com", "detail.customer.email", "must be an email address"),
    ("detail.customer.locale", "english", "detail.customer.locale", "BCP 47 language tag"),
    ("detail.customer.timezone", "Mars/Olympus_Mons", "detail.customer.timezone", "IANA time zone"),
    (
        "detail.customer.tier",
        "bronze",
        "detail.customer.tier",
        'must be one of standard, silver, gold or platinum, got "bronze"',
    ),
    (
        "detail.customer.consent.sms",
        "maybe",
        "detail.customer.consent.sms",
        'must be true or false, got "maybe"',
    ),
    (
        "detail.customer.id",
        "",
        "detail.customer.id",
        'must be a non-empty string without control characters, got ""',
    ),
    ("detail.customer", DELETE, "detail.customer", "is required"),
    ("detail.order_id", "   ", "detail.order_id", "must be a non-empty string"),
    ("detail.order_id", 1001, "detail.order_id", "must be a string, got 1001"),
    ("detail.order_id", DELETE, "detail.order_id", "is required"),
    (
        "detail.total.currency",
        "usd",
        "detail.total.currency",
        'ISO 4217 currency code such as USD, got "usd"',
    ),
    ("detail.total.currency", "XYZ", "detail.total.currency", "ISO 4217"),
    (
        "detail.total.amount",
        "89,80",
        "detail.total.amount",
        'must be a decimal amount such as "59.90", got "89,80"',
    ),
    ("detail.total.amount", True, "detail.total.amount", "decimal amount"),
    ("detail.total", "89.80 USD", "detail.total", "must be an object"),
    ("detail.items", [], "detail.items", "must have at least 1 item(s)"),
    ("detail.items.0.quantity", 0, "detail.items.0.quantity", "must be at least 1, got 0"),
    ("detail.items.0.quantity", "2", "detail.items.0.quantity", 'must be an integer, got "2"'),
    ("detail.items.0.quantity", 1.5, "detail.items.0.quantity", "must be an integer, got 1.5"),
    ("detail", "not an object", "detail", "must be an object"),
    ("id", "", "id", "must be a non-empty string"),
    ("source", DELETE, "source", "is required"),
]


@pytest.mark.parametrize(
    ("path", "value", "field", "message"), REJECTED, ids=[f"{c[0]}={c[1]!r}" for c in REJECTED]
)
def test_invalid_field_is_named_in_plain_words(
    order_placed: dict[str, Any], path: str, value: Any, field: str, message: str
) -> None:
    # GIVEN a valid OrderPlaced with one field broken
    raw = _with(order_placed, path, value)
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN the error names that field with a plain message, and no pydantic jargon
    problems = {problem.field: problem.message for problem in caught.value.problems}
    assert field in problems, problems
    assert message in problems[field]
    text = str(caught.value)
    assert f"{field}: " in text
    for jargon in (
        "validation error",
        "input_value",
        "pydantic",
        "Value error",
        "type=",
        "errors.pydantic.dev",
    ):
        assert jargon not in text


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("detail.customer.phone", "0912-345-678"),
        ("detail.customer.email", "jane.example.com"),
        ("detail.customer.name", 42),
    ],
)
def test_rejected_personal_data_is_never_echoed(order_placed: dict[str, Any], path: str, value: Any) -> None:
    # GIVEN a customer whose email, phone or name is malformed
    raw = _with(order_placed, path, value)
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN the field is named but its value never reaches the message (it is logged)
    assert f"{path}: " in str(caught.value)
    assert str(value) not in str(caught.value)
    assert "not shown here (personal data)" in str(caught.value)


def test_error_names_event_id_detail_type_and_every_field(shipment_delayed: dict[str, Any]) -> None:
    # GIVEN a ShipmentDelayed with a date-only estimate and no order id
    raw = _with(_with(shipment_delayed, "detail.new_estimate", "2026-03-04"), "detail.order_id", DELETE)
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN one error says it all, in the documented format
    error = caught.value
    assert error.event_id == raw["id"]
    assert error.detail_type == "ShipmentDelayed"
    assert str(error) == (
        f"event {raw['id']} (ShipmentDelayed): detail.order_id: is required; "
        'detail.new_estimate: must be an RFC 3339 timestamp with an offset, got "2026-03-04"'
    )
    assert isinstance(error, TouchpointsError)


@pytest.mark.parametrize(
    ("rating", "message"),
    [
        (0, "must be at least 1, got 0"),
        (6, "must be at most 5, got 6"),
        (4.5, "must be an integer, got 4.5"),
        ("5", 'must be an integer, got "5"'),
    ],
)
def test_review_rating_is_an_integer_from_1_to_5(rating: Any, message: str) -> None:
    # GIVEN a review with an out-of-range or non-integer rating
    raw = _envelope("ReviewSubmitted", {"order_id": "A1", "review_id": "R1", "rating": rating})
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN the rating is reported
    assert caught.value.problems == [FieldProblem("detail.rating", message)]


def test_payment_attempt_counts_from_one_and_reasons_are_known() -> None:
    # GIVEN a PaymentFailed with attempt 0 and a reason code outside the contract
    detail = {
        "order_id": "A1",
        "payment_id": "P1",
        "amount": {"amount": "1.00", "currency": "EUR"},
        "reason_code": "cosmic_rays",
        "attempt": 0,
    }
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(_envelope("PaymentFailed", detail, source="shop.payments"))
    # THEN both are reported
    fields = [problem.field for problem in caught.value.problems]
    assert fields == ["detail.reason_code", "detail.attempt"]


def test_unknown_detail_type_lists_the_known_ones_and_other_envelope_problems() -> None:
    # GIVEN an event of a detail-type the contract does not know, with a naive time too
    raw = _envelope("OrderShipped", {"order_id": "A1"}, time="2026-03-03T10:00:00")
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN the error names the type, lists every one a platform may send (not the internal
    # TimerFired), and still reports the time
    first, *rest = caught.value.problems
    assert first.field == "detail-type"
    assert '"OrderShipped"' in first.message
    assert all(name in first.message for name in DETAIL_MODELS if name != "TimerFired")
    assert "TimerFired" not in first.message
    assert [problem.field for problem in rest] == ["time"]


def test_missing_detail_type_is_reported() -> None:
    # GIVEN an event without detail-type
    raw = _envelope("OrderCancelled", {"order_id": "A1", "reason": "fraud"})
    del raw["detail-type"]
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN it says detail-type is required
    assert caught.value.problems[0].field == "detail-type"
    assert caught.value.problems[0].message.startswith("is required")
    assert caught.value.detail_type is None


@pytest.mark.parametrize("text", ['{"id": ', "[1, 2]", b"\xff\xfe", "null"])
def test_text_that_is_not_a_json_object_is_an_invalid_event(text: str | bytes) -> None:
    # GIVEN text that is not a JSON object
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(text)
    # THEN it is one InvalidEventError without an event id, not a JSONDecodeError
    assert caught.value.event_id is None
    assert str(caught.value).startswith("event without id: ")


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"id": "e1", "detail-type": "OrderPlaced", "detail": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
    ids=["deep array", "deep detail"],
)
def test_hostile_nesting_is_an_invalid_event_not_a_recursion_error(text: str) -> None:
    # GIVEN an SQS body nested a hundred thousand levels deep
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(text)
    # THEN it is a readable rejection (which the handler reports as this record's failure)
    assert "nested too deeply" in str(caught.value)


def test_json_text_and_bytes_parse_like_the_dict(order_placed: dict[str, Any]) -> None:
    # GIVEN the same event as a dict, as text and as bytes
    text = json.dumps(order_placed)
    # WHEN each is parsed
    parsed = [parse_event(order_placed), parse_event(text), parse_event(text.encode())]
    # THEN they are equal
    assert parsed[0] == parsed[1] == parsed[2]


def test_parsed_event_is_typed_by_detail_type_and_in_utc(order_placed: dict[str, Any]) -> None:
    # GIVEN an OrderPlaced whose promise has a New York offset
    # WHEN it is parsed
    event = parse_event(order_placed)
    # THEN the detail is an OrderPlaced, times are UTC, and the properties read through the detail
    assert isinstance(event.detail, OrderPlaced)
    assert event.detail.promised_ship_by == datetime(2026, 3, 4, 22, 0, tzinfo=UTC)
    assert event.time.tzinfo is UTC
    assert event.order_id == "A1001"
    assert event.customer is not None
    assert event.customer.id == "C1001"


def test_unknown_fields_are_ignored_so_producers_can_add_fields(order_placed: dict[str, Any]) -> None:
    # GIVEN a producer that adds fields at every level
    raw = _with(order_placed, "detail.loyalty_points", 120)
    raw = _with(raw, "detail.customer.segment", "vip")
    raw["replay-name"] = "x"
    # WHEN it is parsed
    event = parse_event(raw)
    # THEN it is accepted and the extra fields are not carried
    assert "loyalty_points" not in event.detail.model_dump()
    assert event.customer is not None
    assert "segment" not in event.customer.model_dump()


def test_customer_defaults(order_placed: dict[str, Any]) -> None:
    # GIVEN a customer with only an id
    raw = _with(order_placed, "detail.customer", {"id": "C9"})
    # WHEN it is parsed
    customer = parse_event(raw).customer
    # THEN the documented defaults apply
    assert customer is not None
    assert (customer.locale, customer.timezone, customer.tier) == ("en", "UTC", "standard")
    assert (customer.consent.marketing, customer.consent.sms) == (False, False)
    assert customer.email is None
    assert customer.phone is None


@pytest.mark.parametrize(
    ("amount", "text"), [(59.9, "59.9"), (60, "60"), (1e-7, "0.0000001"), ("59.90", "59.90")]
)
def test_money_amounts_given_as_numbers_become_decimal_strings(
    order_placed: dict[str, Any], amount: Any, text: str
) -> None:
    # GIVEN an amount sent as a JSON number (or the canonical decimal string)
    raw = _with(order_placed, "detail.total.amount", amount)
    # WHEN it is parsed
    detail = parse_event(raw).detail
    # THEN the amount is the exact decimal string
    assert isinstance(detail, OrderPlaced)
    assert detail.total.amount == text


def test_event_without_customer_has_none(shipment_delayed: dict[str, Any]) -> None:
    # GIVEN a carrier event that carries no customer
    # WHEN it is parsed
    event = parse_event(shipment_delayed)
    # THEN its customer is None, and any detail may carry one
    assert event.customer is None
    with_customer = parse_event(_with(shipment_delayed, "detail.customer", {"id": "C4001", "tier": "gold"}))
    assert with_customer.customer is not None
    assert with_customer.customer.tier == "gold"


def test_to_dict_round_trips_with_eventbridge_names(order_placed: dict[str, Any]) -> None:
    # GIVEN a parsed event
    event = parse_event(order_placed)
    # WHEN it is dumped and parsed again
    dumped = event.to_dict()
    # THEN the dump uses `detail-type` and Z times, and parses back to the same event
    assert dumped["detail-type"] == "OrderPlaced"
    assert dumped["time"].endswith("Z")
    assert parse_event(dumped) == event


def _timer_detail() -> dict[str, Any]:
    return {
        "order_id": "A1",
        "rule_id": "late-shipment-notice",
        "trigger_event_id": "e0",
        "due_at": "2026-03-05T09:00:00Z",
    }


def test_timer_fired_is_accepted_from_the_timer_source() -> None:
    # GIVEN a TimerFired from touchpoints.timers
    raw = _envelope("TimerFired", _timer_detail(), source=TIMER_SOURCE)
    # WHEN it is parsed
    event = parse_event(raw)
    # THEN it is accepted
    assert event.detail_type == "TimerFired"
    assert event.source == TIMER_SOURCE


def test_timer_fired_from_a_platform_is_rejected() -> None:
    # GIVEN a platform forging a TimerFired
    raw = _envelope("TimerFired", _timer_detail(), source="shop.orders")
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN the source is at fault
    assert [p.field for p in caught.value.problems] == ["source"]


def test_the_timer_source_sends_nothing_but_timers() -> None:
    # GIVEN an order event claiming to come from touchpoints.timers
    raw = _envelope("OrderCancelled", {"order_id": "A1", "reason": "fraud"}, source=TIMER_SOURCE)
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN the source is at fault
    assert caught.value.problems == [
        FieldProblem("source", f"{TIMER_SOURCE} is reserved for TimerFired events")
    ]


INVALID_EXPECTED = {
    "bad-phone.json": ["detail.customer.phone"],
    "customer-as-text.json": ["detail.customer"],
    "far-time.json": ["detail.promised_delivery_by"],
    "negative-amount.json": ["detail.total.amount"],
    "date-only-timestamp.json": ["detail.new_estimate"],
    "forged-timer.json": ["source"],
    "missing-order-id.json": ["detail.order_id"],
    "naive-timestamp.json": ["detail.new_estimate"],
    "not-json.json": [""],
    "unknown-detail-type.json": ["detail-type"],
}


def test_every_invalid_fixture_is_covered() -> None:
    # GIVEN the invalid-event fixtures
    # WHEN we list them
    names = sorted(path.name for path in INVALID_DIR.glob("*.json"))
    # THEN each one has an expectation below
    assert names == sorted(INVALID_EXPECTED)


@pytest.mark.parametrize(("name", "fields"), sorted(INVALID_EXPECTED.items()))
def test_invalid_fixture_is_rejected_naming_its_fields(name: str, fields: list[str]) -> None:
    # GIVEN an invalid event file
    raw = (INVALID_DIR / name).read_bytes()
    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN exactly the broken fields are reported
    assert [problem.field for problem in caught.value.problems] == fields


def _envelope(
    detail_type: str,
    detail: dict[str, Any],
    *,
    source: str = "shop.reviews",
    time: str = "2026-03-08T14:00:00Z",
) -> dict[str, Any]:
    """The shared envelope with one fixed id; `detail` is the whole detail, order id or none."""
    return envelope(
        detail_type,
        time,
        detail,
        event_id="11111111-2222-4333-8444-555555555555",
        order_id=None,
        source=source,
    )
