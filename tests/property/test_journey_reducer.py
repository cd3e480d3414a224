"""Property: any permutation and duplication of an order's events gives the time-ordered stream's state.

Duplication means both kinds of copy: the same event again (an EventBridge redelivery, same id)
and a platform's resend (same fact, same time, a new id). Orders with hundreds of tracking
events check that the bounded state (journey/state.py: stamps, kept estimates, recent keys)
loses nothing the facts need, whatever the arrival order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.events import event as make_event

from touchpoints.contract import Event
from touchpoints.journey import OrderJourney, apply_event
from touchpoints.journey.state import ESTIMATES_KEPT, RECENT_KEYS, window_keys

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUSTOMERS = [
    {"id": "C1", "locale": "en", "timezone": "America/New_York", "tier": "gold"},
    {"id": "C1", "locale": "zh-Hant", "timezone": "Asia/Taipei", "consent": {"sms": True}},
    {"id": "C1", "email": "c1@example.com", "locale": "zh-Hans", "timezone": "Asia/Shanghai"},
]


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@st.composite
def journeys(draw: st.DrawFn) -> list[Event]:
    """A realistic event stream for one order, in time order (equal times allowed: ties break by id)."""
    clock = T0
    raws: list[tuple[str, dict[str, Any]]] = []

    def at(max_hours: int = 30) -> datetime:
        nonlocal clock
        clock += timedelta(minutes=draw(st.integers(0, max_hours * 60)))
        return clock

    def add(detail_type: str, detail: dict[str, Any]) -> None:
        if draw(st.booleans()) and draw(st.booleans()):
            detail["customer"] = draw(st.sampled_from(CUSTOMERS))
        raws.append((detail_type, {**detail, "_time": at()}))

    money = {"amount": "42.00", "currency": "USD"}
    if draw(st.integers(0, 9)):  # nine journeys in ten include their OrderPlaced
        promise = T0 + timedelta(hours=draw(st.integers(12, 96)))
        add("OrderPlaced", {
            "customer": draw(st.sampled_from(CUSTOMERS)), "total": money,
            "items": [{"sku": "S", "name": "n", "quantity": draw(st.integers(1, 3)), "unit_price": money}],
            "promised_ship_by": _iso(promise), "promised_delivery_by": _iso(promise + timedelta(days=3)),
        })  # fmt: skip
    for attempt in range(1, draw(st.integers(0, 3)) + 1):
        reason = draw(st.sampled_from(["card_declined", "insufficient_funds", "bank_timeout"]))
        add("PaymentFailed", {"payment_id": "P1", "amount": money, "reason_code": reason, "attempt": attempt,
                              "retry_url": f"https://pay.example.com/{attempt}"})  # fmt: skip
    if draw(st.booleans()):
        add("PaymentSucceeded", {"payment_id": "P2", "amount": money})
    for shipment in range(draw(st.integers(0, 2))):
        sid = f"S{shipment}"
        estimate = _iso(clock + timedelta(days=2))
        carrier = draw(st.sampled_from(["UPS", "DHL"]))
        add("ShipmentDispatched", {"shipment_id": sid, "carrier": carrier, "tracking_number": f"T{shipment}",
                                   "estimated_delivery": estimate})  # fmt: skip
        for _ in range(draw(st.integers(0, 2))):
            new_estimate = _iso(clock + timedelta(days=draw(st.integers(1, 5))))
            add("ShipmentDelayed", {"shipment_id": sid, "new_estimate": new_estimate, "reason": "weather"})
        if draw(st.booleans()):
            add(
                "ShipmentException",
                {"shipment_id": sid, "kind": draw(st.sampled_from(["lost", "damaged", "failed_attempt"]))},
            )
        if draw(st.booleans()):
            add("ShipmentDelivered", {"shipment_id": sid})
    if draw(st.booleans()):
        add("ReturnRequested", {"return_id": "R1", "reason": "damaged"})
    for review in range(draw(st.integers(0, 2))):
        add("ReviewSubmitted", {"review_id": f"V{review}", "rating": draw(st.integers(1, 5))})
    if draw(st.booleans()):
        add("OrderCancelled", {"reason": "customer_request"})
    events = []
    for index, (detail_type, detail) in enumerate(raws):
        time = detail.pop("_time")
        event_id = f"e{draw(st.integers(0, 9))}{index:02d}"
        events.append(make_event(detail_type, _iso(time), detail, event_id=event_id, source="shop.test"))
    return events


def _resend(event: Event, n: int) -> Event:
    """The platform sending the same fact again: same content and time, a new EventBridge id."""
    envelope = event.to_dict()
    envelope["id"] = f"{event.id}-resent-{n}"
    return make_event(envelope["detail-type"], envelope["time"], envelope["detail"],
                      event_id=envelope["id"], source=envelope["source"])  # fmt: skip


@st.composite
def copies(draw: st.DrawFn, events: list[Event], max_size: int) -> list[Event]:
    """Some of the events again: redelivered as they are, or resent under a new id."""
    chosen = draw(st.lists(st.sampled_from(events), max_size=max_size))
    return [event if draw(st.booleans()) else _resend(event, n) for n, event in enumerate(chosen)]


def _replay(events: list[Event]) -> OrderJourney:
    state: OrderJourney | None = None
    for event in events:
        state = apply_event(state, event)
    assert state is not None
    return state


def _comparable(state: OrderJourney) -> dict[str, Any]:
    """Everything but the arrival order of the recent keys (a record of what happened, not a fact)."""
    dumped = state.model_dump()
    dumped["recent_keys"] = sorted(window_keys(state))
    return dumped


def _facts(state: OrderJourney) -> dict[str, Any]:
    """Every fact and stamp: all but the bookkeeping of deliveries (how many, the window of keys)."""
    return state.model_dump(exclude={"recent_keys", "version"})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), events=journeys().filter(bool))
def test_any_arrival_order_and_duplication_gives_the_time_ordered_state(
    data: st.DataObject, events: list[Event]
) -> None:
    # GIVEN an order's events in time order, and the same events shuffled with some delivered twice
    # (redelivered with their id, or resent under a new one)
    duplicates = data.draw(copies(events, max_size=4))
    arrival = data.draw(st.permutations([*events, *duplicates]))
    # WHEN both streams are reduced
    in_order = _replay(events)
    shuffled = _replay(arrival)
    # THEN every fact, the status and the version are the same (one version per fact applied)
    assert len(arrival) <= RECENT_KEYS  # every copy arrives within the window of recent keys
    assert _comparable(shuffled) == _comparable(in_order)
    assert shuffled.version == len({event.business_key for event in events})


@settings(max_examples=100, deadline=None)
@given(events=journeys().filter(bool))
def test_status_is_derived_from_facts(events: list[Event]) -> None:
    # GIVEN any journey
    # WHEN it is reduced
    state = _replay(events)
    # THEN the status follows the documented precedence
    types = {event.detail_type for event in events}
    if "OrderCancelled" in types:
        assert state.status == "cancelled"
    elif "ShipmentDelivered" in types:
        assert state.status == "delivered"
    elif "ShipmentDispatched" in types:
        assert state.status == "shipped"
    elif "PaymentSucceeded" in types:
        assert state.status == "paid"
    elif "PaymentFailed" in types:
        assert state.status == "payment_failed"
    elif "OrderPlaced" in types:
        assert state.status == "placed"
    else:
        assert state.status == "new"
    assert state.payment_failures == sum(event.detail_type == "PaymentFailed" for event in events)


@st.composite
def busy_journeys(draw: st.DrawFn) -> list[Event]:
    """An order with hundreds of tracking events over up to five parcels, in time order.

    Each parcel announces many estimates (distinct for the parcel, often equal across parcels, so
    "the previous different estimate" has work to do), reports some exceptions (one per kind: a
    kind reported twice is the same fact) and may be delivered.
    """
    clock = T0
    events: list[Event] = []
    money = {"amount": "42.00", "currency": "USD"}

    def add(detail_type: str, detail: dict[str, Any]) -> None:
        nonlocal clock
        clock += timedelta(minutes=draw(st.integers(0, 90)))
        index = len(events)
        events.append(
            make_event(detail_type, _iso(clock), detail, event_id=f"b{index:04d}", source="shop.test")
        )

    promise = _iso(T0 + timedelta(days=4))
    line = {"sku": "S", "name": "n", "quantity": 1, "unit_price": money}
    add(
        "OrderPlaced",
        {"customer": CUSTOMERS[0], "total": money, "promised_delivery_by": promise, "items": [line]},
    )
    parcels = [f"S{n}" for n in range(draw(st.integers(1, 5)))]
    least = 100 // len(parcels) + 1  # at least a hundred delays in all
    pools = {
        sid: draw(st.lists(st.integers(0, 600), min_size=least, max_size=120, unique=True)) for sid in parcels
    }
    kinds = {
        sid: draw(st.permutations(["lost", "damaged", "returned_to_sender", "failed_attempt"]))
        for sid in parcels
    }
    for sid in parcels:
        add("ShipmentDispatched", {"shipment_id": sid, "carrier": "UPS", "tracking_number": f"T{sid}",
                                   "estimated_delivery": _iso(T0 + timedelta(days=3))})  # fmt: skip
    while any(pools.values()):
        sid = draw(st.sampled_from([p for p in parcels if pools[p]]))
        hours = pools[sid].pop()
        add("ShipmentDelayed", {"shipment_id": sid, "new_estimate": _iso(T0 + timedelta(days=3, hours=hours)),
                                "reason": "weather"})  # fmt: skip
        if kinds[sid] and draw(st.integers(0, 19)) == 0:
            add("ShipmentException", {"shipment_id": sid, "kind": kinds[sid].pop()})
    for sid in parcels:
        if draw(st.booleans()):
            add("ShipmentDelivered", {"shipment_id": sid})
    return events


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data(), events=busy_journeys())
def test_hundreds_of_tracking_events_in_any_order_and_duplication_give_the_time_ordered_facts(
    data: st.DataObject, events: list[Event]
) -> None:
    # GIVEN an order with hundreds of events, shuffled, with copies arriving anywhere (many of
    # them far beyond the window of recent keys, where only the store's markers still know them)
    duplicates = data.draw(copies(events, max_size=40))
    arrival = data.draw(st.permutations([*events, *duplicates]))
    # WHEN both streams are reduced by the pure reducer alone
    in_order = _replay(events)
    shuffled = _replay(arrival)
    # THEN every fact and every stamp is the time-ordered stream's: a copy applied again changes
    # nothing, whatever its id and however late it comes
    assert _facts(shuffled) == _facts(in_order)
    # AND the state kept what is bounded, not the events
    assert len(in_order.estimates) <= ESTIMATES_KEPT + 1
    assert len(window_keys(in_order)) == min(RECENT_KEYS, len(events))
    assert all(len(parcel.exceptions) <= 4 for parcel in in_order.shipments.values())
    # AND the copies the window still knew were no-ops (the version counts applications)
    assert len(events) <= shuffled.version <= len(events) + len(duplicates)
