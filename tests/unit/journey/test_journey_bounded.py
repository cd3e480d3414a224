"""The journey state stays bounded whatever the number of events, and keeps what the facts need."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.events import event, money, order_placed_detail

from touchpoints.contract import Event
from touchpoints.journey import OrderJourney, apply_event, note_timers
from touchpoints.journey.state import ESTIMATES_KEPT, RECENT_KEYS, TIMER_GRACE, window_keys

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _replay(events: list[Event], state: OrderJourney | None = None) -> OrderJourney:
    for item in events:
        state = apply_event(state, item)
    assert state is not None
    return state


def _delay(n: int, shipment: str, estimate: datetime, at: datetime) -> Event:
    detail = {"shipment_id": shipment, "new_estimate": _z(estimate)}
    return event("ShipmentDelayed", _z(at), detail, event_id=f"d{n}-{shipment}")


def test_ten_thousand_tracking_events_leave_a_state_of_a_few_kilobytes() -> None:
    # GIVEN an order with 10,000 delays over five parcels (every one a new estimate)
    placed = event("OrderPlaced", _z(T0), order_placed_detail({"id": "C1", "email": "c@example.com"}))
    events = [placed]
    for n in range(10_000):
        shipment = f"S{n % 5}"
        events.append(_delay(n, shipment, T0 + timedelta(days=3, minutes=n), T0 + timedelta(seconds=30 * n)))
    # WHEN they are reduced
    state = _replay(events)
    # THEN the state holds the facts of the last one, and its size is that of an order of 50 events
    assert state.version == 10_001
    assert state.estimated_delivery == T0 + timedelta(days=3, minutes=9_999)
    assert state.previous_estimated_delivery == T0 + timedelta(days=3, minutes=9_998)
    assert len(state.estimates) == ESTIMATES_KEPT
    assert len(window_keys(state)) == RECENT_KEYS
    small = _replay(events[:50])
    assert len(state.model_dump_json()) <= len(small.model_dump_json()) + 200
    assert len(state.model_dump_json()) < 16_000


def test_the_previous_estimate_survives_many_parcels_announcing_one_date() -> None:
    # GIVEN a first estimate, then a dozen parcels all announcing one later date (more than are kept)
    first = T0 + timedelta(days=3)
    later = T0 + timedelta(days=5)
    events = [_delay(0, "S0", first, T0)]
    events += [_delay(n, f"S{n}", later, T0 + timedelta(hours=n)) for n in range(1, ESTIMATES_KEPT + 5)]
    # WHEN reduced in time order and backwards
    forward, backward = _replay(events), _replay(events[::-1])
    # THEN the previous estimate is still the first one (kept although older than every kept estimate)
    assert forward.estimated_delivery == later
    assert forward.previous_estimated_delivery == first
    assert backward.model_dump(exclude={"recent_keys"}) == forward.model_dump(exclude={"recent_keys"})


def test_one_exception_per_parcel_and_kind() -> None:
    # GIVEN a parcel reported damaged twice (two reports, two ids) and lost once
    damaged = {"shipment_id": "S1", "kind": "damaged", "note": "dented"}
    events = [
        event("ShipmentException", _z(T0), damaged, event_id="x1"),
        event(
            "ShipmentException", _z(T0 + timedelta(hours=1)), {**damaged, "note": "crushed"}, event_id="x2"
        ),
        event("ShipmentException", _z(T0 + timedelta(hours=2)), {"shipment_id": "S1", "kind": "lost"}),
    ]
    # WHEN reduced
    state = _replay(events)
    # THEN the second report of the same kind is the same fact: one issue per kind
    assert [(i.kind, i.note) for i in state.shipments["S1"].exceptions] == [
        ("damaged", "dented"),
        ("lost", None),
    ]
    assert state.version == 2


def test_a_copy_beyond_the_window_changes_no_fact() -> None:
    # GIVEN an order whose payment failure was followed by more events than the window holds
    failed = {"payment_id": "P1", "amount": money("5.00"), "reason_code": "card_declined", "attempt": 1}
    first = event("PaymentFailed", _z(T0), failed, event_id="p1")
    later = [
        _delay(n, "S1", T0 + timedelta(days=3, hours=n), T0 + timedelta(minutes=n))
        for n in range(RECENT_KEYS)
    ]
    state = _replay([first, *later])
    # WHEN the platform resends the failure under a new id (the store's marker would catch it first)
    again = apply_event(state, event("PaymentFailed", _z(T0), failed, event_id="p1-resent"))
    # THEN the pure reducer no longer knows it, but applying it changes no fact and no stamp
    assert again is not state
    assert again.model_dump(exclude={"recent_keys", "version"}) == state.model_dump(
        exclude={"recent_keys", "version"}
    )
    assert again.payment_failures == 1


def test_timers_are_listed_until_they_fire_or_are_long_overdue() -> None:
    # GIVEN a journey
    state = OrderJourney(order_id="A1")
    due = T0 + timedelta(days=1)
    # WHEN a decision asks for two timers, one fires, and much later the other is still pending
    asked = note_timers(state, [("k1", due), ("k2", due)], fired=None, now=T0)
    fired = note_timers(asked, [], fired="k1", now=due)
    same = note_timers(fired, [], fired=None, now=due + TIMER_GRACE)
    gone = note_timers(fired, [], fired=None, now=due + TIMER_GRACE + timedelta(seconds=1))
    # THEN the state lists what it waits for, and forgets a timer more than the grace overdue
    assert asked.timers == {"k1": due, "k2": due}
    assert fired.timers == {"k2": due}
    assert same is fired
    assert gone.timers == {}
    assert state.timers == {}  # never changed in place
