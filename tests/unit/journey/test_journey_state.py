"""apply_event: facts by event time, idempotent per event id, status derived from facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from touchpoints.contract import Event
from touchpoints.journey import JourneyError, OrderJourney, apply_event
from touchpoints.journey.state import SHORT_KEY, window_keys

Scenario = Callable[[str], list[Event]]
MakeEvent = Callable[..., Event]


def _replay(events: list[Event], state: OrderJourney | None = None) -> OrderJourney:
    for event in events:
        state = apply_event(state, event)
    assert state is not None
    return state


def _money(amount: str = "10.00") -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def test_happy_path_walks_through_every_status(scenario: Scenario) -> None:
    # GIVEN the happy-path journey
    events = scenario("happy-path")
    # WHEN its events are applied one by one
    statuses = []
    state: OrderJourney | None = None
    for event in events:
        state = apply_event(state, event)
        statuses.append(state.status)
    # THEN the status follows the journey and every fact is recorded
    assert statuses == ["placed", "paid", "shipped", "delivered", "delivered"]
    assert state is not None
    assert state.version == 5
    assert state.delivered_at == datetime(2026, 3, 6, 20, 12, tzinfo=UTC)
    assert state.promised_delivery_by == datetime(2026, 3, 8, 1, 0, tzinfo=UTC)
    assert state.shipments["S1001-1"].carrier == "UPS"
    assert state.reviews["R1001"].rating == 5
    assert state.customer is not None
    assert state.customer.timezone == "America/New_York"
    assert window_keys(state) == [event.key_digests[0][:SHORT_KEY] for event in events]


def test_a_seen_event_changes_nothing(scenario: Scenario) -> None:
    # GIVEN a journey that has seen its first two events
    first, second, *_ = scenario("happy-path")
    state = _replay([first, second])
    # WHEN the second is delivered again
    again = apply_event(state, second)
    # THEN the very same state comes back (version unchanged)
    assert again is state
    assert again.version == 2


def test_applying_never_changes_the_given_state(scenario: Scenario) -> None:
    # GIVEN a state after three events, and a snapshot of it
    events = scenario("carrier-delay")
    state = _replay(events[:3])
    snapshot = state.model_dump()
    # WHEN the rest of the journey is applied to it
    _replay(events[3:], state)
    # THEN the given state is as it was (the reducer is pure)
    assert state.model_dump() == snapshot


def test_late_dispatch_never_undoes_delivery(scenario: Scenario) -> None:
    # GIVEN a journey delivered before its dispatch event arrived
    placed, paid, dispatched, delivered, _review = scenario("happy-path")
    state = _replay([placed, paid, delivered])
    # WHEN the late ShipmentDispatched arrives
    state = apply_event(state, dispatched)
    # THEN the order stays delivered, and the dispatch facts are filled in
    assert state.status == "delivered"
    shipment = state.shipments["S1001-1"]
    assert shipment.status == "delivered"
    assert shipment.tracking_number == "1Z999AA10123456784"
    assert state.shipped_at == dispatched.time


def test_cancellation_wins_over_a_late_payment(make_event: MakeEvent) -> None:
    # GIVEN a cancelled order
    state = _replay([make_event("OrderCancelled", "2026-03-02T10:00:00Z", "c1", reason="customer_request")])
    # WHEN an older payment success arrives late
    state = apply_event(
        state, make_event("PaymentSucceeded", "2026-03-01T10:00:00Z", "p1", payment_id="P", amount=_money())
    )
    # THEN it is recorded but the order is still cancelled
    assert state.status == "cancelled"
    assert state.paid_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert state.cancel_reason == "customer_request"


def test_events_before_order_placed_are_kept(make_event: MakeEvent) -> None:
    # GIVEN a payment that arrives before its OrderPlaced
    state = _replay(
        [make_event("PaymentSucceeded", "2026-03-01T10:05:00Z", "p1", payment_id="P", amount=_money())]
    )
    # WHEN we look at the state
    # THEN the order is paid but not placed yet; it starts as soon as any event names it
    assert state.status == "paid"
    assert state.placed_at is None
    assert state.customer is None


def test_payment_failures_count_distinct_attempts_and_recovery_pays(scenario: Scenario) -> None:
    # GIVEN the payment-recovered journey up to its failure
    placed, failed, succeeded, *_ = scenario("payment-recovered")
    state = _replay([placed, failed])
    # THEN the failure is counted with its reason and retry link
    assert state.status == "payment_failed"
    assert state.payment_failures == 1
    assert state.last_payment_failure_reason == "card_declined"
    assert state.retry_url == "https://shop.example.cn/pay/A2001"
    # WHEN the payment succeeds three hours later
    state = apply_event(state, succeeded)
    # THEN the order is paid, and the failure is still on record
    assert state.status == "paid"
    assert state.payment_failures == 1


def test_the_same_failed_attempt_resent_under_a_new_id_counts_once(make_event: MakeEvent) -> None:
    # GIVEN two events for attempt 1 of one payment, and one for attempt 2
    detail = {"payment_id": "P", "amount": _money(), "reason_code": "card_declined"}
    events = [
        make_event("PaymentFailed", "2026-03-01T10:00:00Z", "f1", attempt=1, **detail),
        make_event("PaymentFailed", "2026-03-01T10:00:30Z", "f1-resent", attempt=1, **detail),
        make_event(
            "PaymentFailed",
            "2026-03-01T11:00:00Z",
            "f2",
            attempt=2,
            **{**detail, "reason_code": "expired_card"},
        ),
    ]
    # WHEN they are applied
    state = _replay(events)
    # THEN two distinct attempts failed, the latest one's reason is kept
    assert state.payment_failures == 2
    assert state.last_payment_failure_reason == "expired_card"


def test_delay_moves_the_estimate_and_keeps_the_previous_one(scenario: Scenario) -> None:
    # GIVEN the carrier-delay journey up to the delay
    events = scenario("carrier-delay")
    # WHEN the delay is applied
    state = _replay(events[:4])
    # THEN the estimate is the new one and the previous one is the dispatch estimate
    assert state.estimated_delivery == datetime(2026, 3, 18, 0, 0, tzinfo=UTC)
    assert state.previous_estimated_delivery == datetime(2026, 3, 13, 22, 0, tzinfo=UTC)
    assert state.shipments["S4001-1"].status == "delayed"
    assert state.shipments["S4001-1"].delay_reason == "weather"


def test_an_old_estimate_arriving_late_does_not_replace_the_new_one(scenario: Scenario) -> None:
    # GIVEN the delay applied before the (older) dispatch event
    placed, paid, dispatched, delayed, *_ = scenario("carrier-delay")
    in_order = _replay([placed, paid, dispatched, delayed])
    # WHEN the dispatch arrives after the delay
    shuffled = _replay([placed, delayed, paid, dispatched])
    # THEN estimate, previous estimate and shipment status are the same as in time order
    assert shuffled.estimated_delivery == in_order.estimated_delivery
    assert shuffled.previous_estimated_delivery == in_order.previous_estimated_delivery
    assert shuffled.shipments == in_order.shipments
    assert shuffled.status == in_order.status == "shipped"


def test_the_latest_customer_by_event_time_is_kept(make_event: MakeEvent) -> None:
    # GIVEN a customer who changed their locale, and the older event arriving last
    newer = make_event("ShipmentDelivered", "2026-03-05T10:00:00Z", "d1", shipment_id="S1",
                       customer={"id": "C1", "locale": "zh-Hant"})  # fmt: skip
    older = make_event("ReturnRequested", "2026-03-06T10:00:00Z", "r1", return_id="R1", reason="late",
                       customer={"id": "C1", "locale": "en"})  # fmt: skip
    stale = make_event("PaymentSucceeded", "2026-03-01T10:00:00Z", "p1", payment_id="P", amount=_money(),
                       customer={"id": "C1", "locale": "zh-Hans"})  # fmt: skip
    # WHEN they are applied out of order
    state = _replay([older, newer, stale])
    # THEN the customer is the one of the latest event time
    assert state.customer is not None
    assert state.customer.locale == "en"


def test_shipment_exception_and_return_are_recorded(scenario: Scenario) -> None:
    # GIVEN the damaged-parcel journey
    # WHEN it is applied
    state = _replay(scenario("damaged-parcel"))
    # THEN the parcel shows the damage and the return is on record
    shipment = state.shipments["S5001-1"]
    assert shipment.status == "exception"
    assert [issue.kind for issue in shipment.exceptions] == ["damaged"]
    assert state.returns["RT5001"].reason == "damaged"
    assert state.status == "shipped"


def test_timer_fired_is_seen_but_changes_no_fact(scenario: Scenario, make_event: MakeEvent) -> None:
    # GIVEN a paid order
    state = _replay(scenario("not-shipped-on-time"))
    before = state.model_dump(exclude={"recent_keys", "version"})
    # WHEN a timer fires for it
    timer = make_event("TimerFired", "2026-03-18T10:02:00Z", "t1", order_id="A7001", rule_id="late",
                       trigger_event_id="x", due_at="2026-03-18T10:02:00Z")  # fmt: skip
    after = apply_event(state, timer)
    # THEN its key is recorded as applied (and counted) without changing any fact
    assert after.model_dump(exclude={"recent_keys", "version"}) == before
    assert window_keys(after)[-1] == timer.key_digests[0][:SHORT_KEY]
    assert after.version == state.version + 1


def test_event_of_another_order_is_refused(scenario: Scenario) -> None:
    # GIVEN the journey of order A1001 and an event of order A2001
    state = _replay(scenario("happy-path")[:1])
    other = scenario("payment-recovered")[1]
    # WHEN the event is applied to the wrong journey
    # THEN it is refused, naming both orders
    with pytest.raises(JourneyError, match=r"A2001.*A1001"):
        apply_event(state, other)


def test_state_round_trips_through_json(scenario: Scenario) -> None:
    # GIVEN a rich journey (delay, several facts)
    state = _replay(scenario("carrier-delay"))
    # WHEN it is stored as JSON and read back (as the store does)
    again = OrderJourney.model_validate_json(state.model_dump_json())
    # THEN nothing is lost and applying more events works the same
    assert again == state


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("happy-path", "delivered"),
        ("payment-recovered", "delivered"),
        ("payment-abandoned", "cancelled"),
        ("carrier-delay", "delivered"),
        ("damaged-parcel", "shipped"),
        ("late-night-delivery", "delivered"),
        ("not-shipped-on-time", "paid"),
        ("cancelled", "cancelled"),
    ],
)
def test_each_sample_journey_ends_in_its_status(scenario: Scenario, name: str, status: str) -> None:
    # GIVEN a sample scenario
    events = scenario(name)
    # WHEN it is reduced in time order and in reverse
    forward = _replay(events)
    backward = _replay(events[::-1])
    # THEN it ends in the status its story tells, whatever the arrival order
    assert forward.status == status
    assert backward.model_dump(exclude={"recent_keys"}) == forward.model_dump(exclude={"recent_keys"})
