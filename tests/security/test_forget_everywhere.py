"""`forget` erases the customer everywhere: every attribute of every item of the table is scanned.

The customer's data is copied into places a field list would miss: a payment link carrying the
email, a carrier's note naming them, a review's title and body, who signed for the parcel, and a
provider error (written as an older version stored it, unmasked) quoting the address. Their street
address comes as a field the contract does not know: it must never be stored at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import envelope, money, order_placed_detail

CUSTOMER = "C-everywhere"
EMAIL = "jane.doe@example.com"
PHONE = "+16505550142"
NAME = "Jane Doe"
STREET = "12 Elm Street, Springfield"
SIGNATURE = "Quentin Marlowe"
NEEDLES = [
    EMAIL,
    "jane.doe@",
    PHONE,
    PHONE[1:],
    NAME,
    "Jane",
    "Elm Street",
    "Springfield",
    SIGNATURE,
    "Marlowe",
]

_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "TouchpointsTest",
    "POWERTOOLS_SERVICE_NAME": "touchpoints",
}


def _journey(order_id: str, start: datetime) -> list[dict[str, Any]]:
    customer = {
        "id": CUSTOMER,
        "email": EMAIL,
        "phone": PHONE,
        "name": NAME,
        "address": STREET,  # not a contract field: ignored, never stored
        "timezone": "UTC",
        "consent": {"marketing": True, "sms": True},
    }

    def at(hours: float) -> datetime:
        return start + timedelta(hours=hours)

    shipment = {"shipment_id": f"S-{order_id}"}
    return [
        envelope("OrderPlaced", at(0), order_placed_detail(customer), order_id=order_id),
        envelope(
            "PaymentFailed",
            at(1),
            {
                "payment_id": "P1",
                "amount": money("10.00"),
                "reason_code": "card_declined",
                "attempt": 1,
                "retry_url": f"https://shop.example/pay?email={EMAIL}&phone={PHONE}",
            },
            order_id=order_id,
        ),
        envelope(
            "PaymentSucceeded", at(2), {"payment_id": "P1", "amount": money("10.00")}, order_id=order_id
        ),
        envelope(
            "ShipmentDispatched",
            at(3),
            {
                **shipment,
                "carrier": "UPS",
                "tracking_number": "1Z999",
                "tracking_url": f"https://track.example/?name={NAME.replace(' ', '+')}",
            },
            order_id=order_id,
        ),
        envelope(
            "ShipmentException",
            at(20),
            {**shipment, "kind": "failed_attempt", "note": f"Jane was out; call {PHONE} or {EMAIL}"},
            order_id=order_id,
        ),
        envelope("ShipmentDelivered", at(30), {**shipment, "signed_by": SIGNATURE}, order_id=order_id),
        envelope(
            "ReviewSubmitted",
            at(40),
            {"review_id": "R1", "rating": 2, "title": f"{NAME} is not happy", "body": f"Mail me at {EMAIL}"},
            order_id=order_id,
        ),
    ]


@pytest.fixture(scope="module")
def stack(repo_root: Path) -> Iterator[Any]:
    """An in-process moto stack of its own, with the customer's two orders played through the handlers."""
    from moto import mock_aws

    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ.update(_ENV)
    try:
        with mock_aws():
            from touchpoints.handlers.runtime import set_runtime
            from touchpoints.local import start_local_stack

            local = start_local_stack(rules_dir=repo_root / "rules", parameters={"Stage": "everywhere"})
            start = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
            local.driver.replay(_journey("E-1", start) + _journey("E-2", start + timedelta(days=3)))
            yield local
            set_runtime(None)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _table(local: Any) -> list[dict[str, Any]]:
    """Every item of the table, every attribute, as DynamoDB returns it."""
    pages = local.clients["dynamodb"].get_paginator("scan").paginate(TableName=local.table_name)
    return [item for page in pages for item in page["Items"]]


def _found(items: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Which needles are in which items (by key), case-insensitively."""
    found: dict[str, list[str]] = {}
    for item in items:
        text = json.dumps(item).lower()
        hits = [needle for needle in NEEDLES if needle.lower() in text]
        if hits:
            found[f"{item['pk']['S']} {item['sk']['S']}"] = hits
    return found


@pytest.fixture(scope="module")
def forgotten(stack: Any) -> dict[str, Any]:
    """An older row's unmasked provider error written in, then `forget` through the store."""
    # GIVEN an action row whose `error` holds a provider text quoting the address (as stored before
    # provider texts were masked)
    (action,) = [r for r in stack.store.records_for_order("E-1") if r.rule_id == "order-confirmation"]
    stack.store.update_action(
        "E-1", action.action_id, "failed", error=f"SES refused: MessageRejected: not verified: {EMAIL}"
    )
    before = _found(_table(stack))
    report = stack.store.forget_customer(CUSTOMER)
    return {"before": before, "report": report}


def test_the_table_held_the_customers_data_in_many_places_before(forgotten: dict[str, Any]) -> None:
    # GIVEN / WHEN the table was scanned before forget THEN the data was in states, events and actions
    before = forgotten["before"]
    kinds = {key.split(" ")[1].split("#")[0] for key in before}
    assert kinds >= {"STATE", "EVENT", "ACTION", "CONTACTS"} or kinds >= {"STATE", "EVENT", "ACTION"}
    everything = {needle for hits in before.values() for needle in hits}
    assert {EMAIL, PHONE, NAME, SIGNATURE} <= everything


def test_the_street_address_the_contract_does_not_know_was_never_stored(stack: Any) -> None:
    # GIVEN the customer's `address` (not a contract field) WHEN the table is scanned THEN it is nowhere
    text = json.dumps(_table(stack))
    assert "Elm Street" not in text
    assert "Springfield" not in text


def test_after_forget_no_item_of_the_table_holds_the_customers_data(
    stack: Any, forgotten: dict[str, Any]
) -> None:
    # GIVEN forget ran WHEN every attribute of every item of the table is scanned
    left = _found(_table(stack))
    # THEN none of the email, phone, name, street or signature remains anywhere, masked or not
    assert left == {}
    items = [i for i in _table(stack) if i["pk"]["S"] in ("ORDER#E-1", "ORDER#E-2")]
    assert "***@" not in json.dumps(items)
    assert forgotten["report"].orders == ["E-1", "E-2"]


def test_the_erased_orders_still_read_and_keep_their_audit(stack: Any, forgotten: dict[str, Any]) -> None:
    # GIVEN forget ran WHEN the orders, their stored events and their records are read back
    from touchpoints.contract import ERASED

    records = stack.store.records_for_order("E-1")
    # THEN everything parses: the journeys, the trigger events (kept for dispatch), the records
    assert stack.store.load("E-1", None).state is not None
    assert all(stack.store.load_event("E-1", r.event_id) is not None for r in records)
    assert {r.address for r in records if r.address} == {ERASED}
    assert any(ERASED in (r.error or "") for r in records)
