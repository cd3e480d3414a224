"""Business keys: every detail model declares one, and a platform's resend has the same keys."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tests.support.events import envelope, event, money, order_placed_detail

from touchpoints.contract import DETAIL_MODELS, DetailBase, Event, parse_event
from touchpoints.contract.keys import KEY_DIGEST_LENGTH, business_key, event_keys, key_digest, timer_key
from touchpoints.outcome import TimerRequest

PERSONAL = {"customer", "email", "phone", "name", "signed_by", "title", "body", "note"}

CUSTOMER = {"id": "C1", "email": "jane@example.com", "name": "Jane Doe"}

# One valid detail per platform detail-type; the TimerFired is built by TimerRequest below.
DETAILS: dict[str, dict[str, object]] = {
    "OrderPlaced": order_placed_detail(CUSTOMER),
    "OrderCancelled": {"reason": "customer_request"},
    "PaymentSucceeded": {"payment_id": "P1", "amount": money("10.00")},
    "PaymentFailed": {
        "payment_id": "P1",
        "amount": money("10.00"),
        "reason_code": "card_declined",
        "attempt": 2,
    },
    "ShipmentDispatched": {"shipment_id": "S1", "carrier": "UPS", "tracking_number": "1Z"},
    "ShipmentDelayed": {"shipment_id": "S1", "new_estimate": "2026-03-08T10:00:00+08:00"},
    "ShipmentException": {"shipment_id": "S1", "kind": "damaged", "note": "box crushed"},
    "ShipmentDelivered": {"shipment_id": "S1", "signed_by": "Jane Doe"},
    "ReturnRequested": {"return_id": "R1", "reason": "damaged"},
    "ReviewSubmitted": {"review_id": "V1", "rating": 2, "title": "Late", "body": "Jane here"},
}


def _all_detail_models() -> set[type[DetailBase]]:
    """Every concrete detail model: the contract's table and any subclass defined anywhere."""
    found: set[type[DetailBase]] = set(DETAIL_MODELS.values())
    pending = list(DetailBase.__subclasses__())
    while pending:
        model = pending.pop()
        found.add(model)
        pending.extend(model.__subclasses__())
    return found


@pytest.mark.parametrize(
    "model", sorted(_all_detail_models(), key=lambda m: m.__name__), ids=lambda m: m.__name__
)
def test_every_detail_model_declares_its_own_business_key(model: type[DetailBase]) -> None:
    # GIVEN a detail model (a new detail-type added later is found here too)
    # THEN it declares `key_fields` itself (not inherited), naming fields it has, none of them personal
    assert "key_fields" in vars(model), (
        f"{model.__name__} must declare key_fields (docs/events.md#business-keys)"
    )
    fields = model.key_fields
    assert fields, f"{model.__name__}.key_fields is empty"
    assert set(fields) <= set(model.model_fields), f"{model.__name__}.key_fields names unknown fields"
    assert not set(fields) & PERSONAL


def test_a_model_without_a_key_cannot_be_keyed() -> None:
    # GIVEN a detail model that forgot its declaration
    class Forgotten(DetailBase):
        thing: str

    # WHEN its business key is asked for  THEN it is refused, naming the model
    with pytest.raises(TypeError, match="Forgotten declares no business key"):
        business_key("Forgotten", Forgotten(order_id="A1", thing="x"))


@pytest.mark.parametrize("detail_type", sorted(DETAILS))
def test_a_resend_under_a_new_id_has_the_same_keys(detail_type: str) -> None:
    # GIVEN an event and the platform's resend of it (new EventBridge id, later delivery time)
    first = event(detail_type, "2026-03-05T10:00:00Z", DETAILS[detail_type], event_id="eb-1")
    again = event(detail_type, "2026-03-05T10:07:00Z", DETAILS[detail_type], event_id="eb-2")
    # THEN both report the same fact
    assert first.business_key == again.business_key
    assert first.key_digests == again.key_digests
    assert len(first.key_digests[0]) == KEY_DIGEST_LENGTH
    # AND the digest is the readable key's, which names ids and times only, never a personal value
    assert first.key_digests[0] == key_digest(json.loads(first.business_key))
    for secret in ("jane@example.com", "Jane", "crushed"):
        assert secret not in first.business_key


def test_the_key_fields_decide_and_nothing_else() -> None:
    # GIVEN delays of one parcel
    base = {"shipment_id": "S1", "new_estimate": "2026-03-08T02:00:00Z", "reason": "weather"}
    same_instant = {**base, "new_estimate": "2026-03-08T10:00:00+08:00", "reason": "customs"}
    other_estimate = {**base, "new_estimate": "2026-03-09T02:00:00Z"}
    other_parcel = {**base, "shipment_id": "S2"}
    key = event("ShipmentDelayed", "2026-03-05T10:00:00Z", base).business_key
    # THEN the same instant in another offset, or another reason, is the same fact
    assert event("ShipmentDelayed", "2026-03-06T10:00:00Z", same_instant).business_key == key
    assert key == '["ShipmentDelayed","A1","S1","2026-03-08T02:00:00Z"]'
    # AND another estimate, parcel, order or detail-type is another fact
    assert event("ShipmentDelayed", "2026-03-05T10:00:00Z", other_estimate).business_key != key
    assert event("ShipmentDelayed", "2026-03-05T10:00:00Z", other_parcel).business_key != key
    assert event("ShipmentDelayed", "2026-03-05T10:00:00Z", base, order_id="A2").business_key != key
    attempts = [
        event(
            "PaymentFailed", "2026-03-05T10:00:00Z", {**DETAILS["PaymentFailed"], "attempt": n}
        ).business_key
        for n in (1, 2)
    ]
    assert attempts[0] != attempts[1]


def test_ids_cannot_run_into_each_other() -> None:
    # GIVEN ids whose concatenation would be equal
    one = event(
        "ShipmentException", "2026-03-05T10:00:00Z", {"shipment_id": "S1", "kind": "lost"}, order_id="A"
    )
    two = event(
        "ShipmentException", "2026-03-05T10:00:00Z", {"shipment_id": "S1", "kind": "lost"}, order_id="A,S1"
    )
    # THEN the keys differ
    assert one.business_key != two.business_key
    assert one.key_digests != two.key_digests
    # AND so do parts holding the digest's separator or its escape character (ids may hold any text)
    cases = [
        ["a\x1fb", "c"],
        ["a", "b\x1fc"],
        ["a", "b", "c"],
        ["a\\", "b"],
        ["a", "\\b"],
        ["a\\u001fb", "c"],
    ]
    assert len({key_digest(parts) for parts in cases}) == len(cases)


def test_an_idempotency_key_adds_a_second_key_scoped_to_its_source() -> None:
    # GIVEN a connector that sends the platform's webhook id
    detail = {**DETAILS["ShipmentDelivered"], "idempotency_key": "wh_123"}
    delivered = event("ShipmentDelivered", "2026-03-05T10:00:00Z", detail, source="shop.aftership")
    plain = event("ShipmentDelivered", "2026-03-05T10:00:00Z", DETAILS["ShipmentDelivered"])
    elsewhere = event("ShipmentDelivered", "2026-03-05T10:00:00Z", detail, source="shop.other")
    # THEN the business key comes first and is the same with or without it; the second key is its own
    assert delivered.key_digests[0] == plain.key_digests[0]
    assert len(delivered.key_digests) == 2
    assert len(plain.key_digests) == 1
    assert delivered.key_digests[1] != elsewhere.key_digests[1]  # the same webhook id from another source
    # AND it is part of the contract: validated like every id
    with pytest.raises(Exception, match="idempotency_key"):
        parse_event(envelope("ShipmentDelivered", "2026-03-05T10:00:00Z", {**detail, "idempotency_key": ""}))


@pytest.mark.parametrize("microsecond", [0, 999_999])
def test_a_timer_knows_the_key_its_timer_fired_will_have(microsecond: int) -> None:
    # GIVEN a timer (due times may carry microseconds; the envelope carries whole seconds)
    due = datetime(2026, 3, 10, 4, 0, 0, microsecond, tzinfo=UTC)
    timer = TimerRequest("A1", "late-notice", "eb-1", due)
    # WHEN it comes back, through the queue (JSON) or in the simulator (the parsed model)
    through_queue: Event = parse_event(timer.to_event())
    in_simulator = timer.to_parsed_event()
    # THEN both have the key the timer announced, the one `timer_key` computes
    assert through_queue.key_digests == (timer.key,)
    assert in_simulator.key_digests == (timer.key,)  # set by to_parsed_event: it must be the computed one
    assert event_keys(in_simulator.detail_type, in_simulator.source, in_simulator.detail) == (timer.key,)
    assert timer.key == timer_key("A1", "late-notice", "eb-1", due)
    assert timer.key == key_digest(json.loads(through_queue.business_key))
