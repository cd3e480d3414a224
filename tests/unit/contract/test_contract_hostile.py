"""Hostile values in events: negative amounts, personal data in the wrong shape, huge numbers.

Each is a readable rejection naming the field, and no rejection ever quotes personal data back
(the reason reaches the logs and the dead-letter queue's message attributes).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.support.events import envelope, money, order_placed_detail

from touchpoints.contract import InvalidEventError, parse_event

CUSTOMER = {"id": "C1", "email": "jane.doe@example.com", "phone": "+16505550142", "name": "Jane Doe"}
STREET = "Jane Doe, 12 Elm Street, Springfield"


def _placed(**detail: Any) -> dict[str, Any]:
    return envelope("OrderPlaced", "2026-03-01T10:00:00Z", order_placed_detail(dict(CUSTOMER), **detail))


def _reject(raw: dict[str, Any]) -> InvalidEventError:
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    return caught.value


@pytest.mark.parametrize("amount", ["-89.80", "-0.01", "-0", -3, -0.5, -0.0])
@pytest.mark.parametrize("where", ["total", "item price"])
def test_a_negative_amount_is_rejected_naming_the_field(amount: Any, where: str) -> None:
    # GIVEN an order whose total, or one item's price, is negative
    raw = _placed()
    if where == "total":
        raw["detail"]["total"]["amount"] = amount
        field = "detail.total.amount"
    else:
        raw["detail"]["items"][0]["unit_price"]["amount"] = amount
        field = "detail.items.0.unit_price.amount"
    # WHEN parsed THEN it is one readable problem at that field
    error = _reject(raw)
    assert [p.field for p in error.problems] == [field]
    assert "must not be negative" in error.problems[0].message


@pytest.mark.parametrize("detail_type", ["PaymentSucceeded", "PaymentFailed"])
def test_a_negative_payment_amount_is_rejected(detail_type: str) -> None:
    # GIVEN a payment event with a negative amount
    detail: dict[str, Any] = {"payment_id": "P1", "amount": money("-10.00")}
    if detail_type == "PaymentFailed":
        detail |= {"reason_code": "card_declined", "attempt": 1}
    # WHEN parsed THEN the amount is named
    error = _reject(envelope(detail_type, "2026-03-01T10:00:00Z", detail))
    assert [p.field for p in error.problems] == ["detail.amount.amount"]


def test_zero_and_positive_amounts_are_accepted() -> None:
    # GIVEN a free order (0.00) and one paid with a JSON number WHEN parsed THEN both are valid
    assert parse_event(_placed()).detail.total.amount == "10.00"
    raw = _placed()
    raw["detail"]["total"]["amount"] = 0
    assert parse_event(raw).detail.total.amount == "0"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("detail", "customer"), STREET),  # the case: a customer sent as a string
        (("detail", "customer"), ["Jane Doe", "12 Elm Street"]),
        (("detail", "customer"), 16505550142),
        (("detail", "customer", "email"), STREET),
        (("detail", "customer", "phone"), "jane.doe@example.com"),
        (("detail", "customer", "name"), {"first": "Jane", "street": "12 Elm Street"}),
        (("detail", "customer", "tier"), STREET),
        (("detail", "customer", "locale"), "jane.doe@example.com"),
        (("detail", "customer", "timezone"), "+16505550142"),
        (("detail", "order_id"), 16505550142.5),
        (("detail", "items", 0, "name"), 16505550142),
        (("detail", "sales_channel"), {"address": STREET}),
        (("detail", "total", "currency"), STREET),
        (("detail", "items", 0, "sku"), ["jane.doe@example.com"]),
        (("detail", "items", 0, "quantity"), STREET),
        (("detail", "promised_ship_by"), STREET),
        (("detail-type",), STREET),
        (("resources",), STREET),
        (("time",), "+16505550142"),
    ],
)
def test_personal_data_in_the_wrong_shape_is_never_quoted_back(path: tuple[Any, ...], value: Any) -> None:
    # GIVEN personal data (a name and street, an email, a phone) sent where it does not belong
    raw = copy.deepcopy(_placed())
    target: Any = raw
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    # WHEN the event is rejected
    error = _reject(raw)
    text = str(error)
    # THEN the reason names the field ...
    field = ".".join(str(part) for part in path)
    assert any(problem.field == field for problem in error.problems), text
    # ... and no part of the personal data appears in it
    for secret in ("Jane", "Elm Street", "Springfield", "jane.doe", "example.com", "6505550142"):
        assert secret not in text, text


def test_a_customer_sent_as_a_string_says_what_is_wrong() -> None:
    # GIVEN the event WHEN rejected THEN the reason says an object was expected, and hides the text
    error = _reject(_placed() | {"detail": {**_placed()["detail"], "customer": STREET}})
    expected = "detail.customer: must be an object, got a value not shown here (personal data)"
    assert str(error.problems[0]) == expected


@pytest.mark.parametrize("digits", [30, 1000, 4000])
def test_a_number_of_thousands_of_digits_is_described_not_repeated(digits: int) -> None:
    # GIVEN an id sent as a number of thousands of digits (within Python's int-to-text limit)
    raw = _placed()
    raw["detail"]["order_id"] = int("7" * digits)
    # WHEN rejected THEN the reason says it is a long number, without printing it
    error = _reject(raw)
    assert [p.field for p in error.problems] == ["detail.order_id"]
    assert "7" * 25 not in str(error)


def test_a_number_beyond_pythons_digit_limit_in_the_json_text_is_a_rejection() -> None:
    # GIVEN the JSON text of an event with a 5,000-digit number
    import json

    text = json.dumps(_placed()).replace('"10.00"', "9" * 5000, 1)
    # WHEN parsed THEN it is a rejection, not a ValueError
    with pytest.raises(InvalidEventError, match="digits"):
        parse_event(text)


@pytest.mark.parametrize("value", ["2026-03-02", "yesterday", "card_declinedx", "A-1001", "+05:00x"])
def test_tokens_that_cannot_be_personal_data_are_still_quoted(value: str) -> None:
    # GIVEN a mistaken enum or timestamp value that is one token WHEN rejected
    raw = envelope(
        "PaymentFailed",
        "2026-03-01T10:00:00Z",
        {"payment_id": "P1", "amount": money("1.00"), "reason_code": value, "attempt": 1},
    )
    # THEN the platform team sees what it sent
    assert f'got "{value}"' in str(_reject(raw))
