"""build_facts: JSON facts whose every path is in the schema, with the derived values rules need."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from touchpoints.contract import Event
from touchpoints.contract.facts import FACTS_SCHEMA, is_fact_path
from touchpoints.journey import ContactEntry, History, OrderJourney, apply_event, build_facts

Scenario = Callable[[str], list[Event]]
MakeEvent = Callable[..., Event]
SCENARIOS = sorted(
    p.name
    for p in (Path(__file__).resolve().parents[3] / "events").iterdir()
    if p.is_dir() and p.name != "schemas"
)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def _entry(rule_id: str, group: str | None, at: datetime, customer_id: str = "C1") -> ContactEntry:
    return ContactEntry(
        action_id=f"{rule_id}-{at.isoformat()}", order_id="A1", customer_id=customer_id, rule_id=rule_id,
        event_id="e", channel="email", category="service", group=group, status="sent", at=at,
    )  # fmt: skip


_TAKEN = [
    _entry("dispatch-notice", None, NOW - timedelta(days=3)),
    _entry("delay-apology", "delay", NOW - timedelta(hours=2)),
]
HISTORY = History(order=_TAKEN, customer=_TAKEN)


def _paths(value: Any, prefix: str) -> Iterator[str]:
    """Every path in a facts dict, with list indexes and history keys written as `*` like the schema."""
    yield prefix
    if isinstance(value, dict):
        wildcard = prefix in ("history.rules", "history.groups")
        for key, item in value.items():
            yield from _paths(item, f"{prefix}.{'*' if wildcard else key}")
    elif isinstance(value, list):
        for item in value:
            yield from _paths(item, f"{prefix}.*")


def _all_facts(scenario: Scenario) -> Iterator[tuple[Event, dict[str, Any]]]:
    for name in SCENARIOS:
        state: OrderJourney | None = None
        for event in scenario(name):
            state = apply_event(state, event)
            yield event, build_facts(state, event, HISTORY, NOW)


def test_every_produced_path_is_in_the_schema_and_every_schema_path_is_produced(
    scenario: Scenario, make_event: MakeEvent
) -> None:
    # GIVEN the facts of every sample event (plus a timer) with some history
    produced: set[str] = set()
    for event, facts in _all_facts(scenario):
        event_paths = set(_paths(facts["event"], "event"))
        # THEN each event path is one its detail-type carries
        assert all(is_fact_path(p, [event.detail_type]) for p in event_paths), event.detail_type
        for root in facts:
            produced.update(_paths(facts[root], root))
    timer = make_event(
        "TimerFired",
        "2026-03-05T10:00:00Z",
        "t",
        rule_id="r",
        trigger_event_id="e",
        due_at="2026-03-05T10:00:00Z",
    )
    produced.update(_paths(build_facts(apply_event(None, timer), timer, History(), NOW)["event"], "event"))
    # WHEN compared with the schema
    # THEN they are the same set of paths
    assert produced - set(FACTS_SCHEMA) == set()
    assert set(FACTS_SCHEMA) - produced == set()


@pytest.mark.parametrize("name", SCENARIOS)
def test_facts_are_json_with_z_times_and_numeric_money(scenario: Scenario, name: str) -> None:
    # GIVEN a whole sample journey
    state: OrderJourney | None = None
    events = scenario(name)
    for event in events:
        state = apply_event(state, event)
    assert state is not None
    # WHEN facts are built for its last event
    facts = build_facts(state, events[-1], HISTORY, NOW)
    # THEN they survive JSON unchanged, timestamps are UTC `Z` strings, money amounts are numbers
    assert json.loads(json.dumps(facts)) == facts
    assert facts["now"] == "2026-03-20T12:00:00Z"
    assert facts["order"]["placed_at"].endswith("Z")
    assert isinstance(facts["order"]["total"]["amount"], float)
    assert facts["event"]["type"] == events[-1].detail_type


def test_hours_late_to_ship_runs_with_the_clock_until_shipped(scenario: Scenario) -> None:
    # GIVEN a paid order promised to ship by 2026-03-17T17:00Z that never shipped
    events = scenario("not-shipped-on-time")
    state = apply_event(apply_event(None, events[0]), events[1])
    # WHEN facts are built 30 hours after the promise
    facts = build_facts(state, events[1], History(), datetime(2026, 3, 18, 23, 0, tzinfo=UTC))
    # THEN it is 30 hours late to ship and not shipped
    assert facts["order"]["hours_late_to_ship"] == 30.0
    assert facts["order"]["is_shipped"] is False
    assert facts["order"]["is_paid"] is True


def test_hours_late_to_ship_is_fixed_once_shipped(scenario: Scenario) -> None:
    # GIVEN the happy path, shipped 2026-03-03T15:30Z against a promise of 2026-03-04T22:00Z
    events = scenario("happy-path")
    state = None
    for event in events[:3]:
        state = apply_event(state, event)
    assert state is not None
    # WHEN facts are built long afterwards
    facts = build_facts(state, events[2], History(), NOW)
    # THEN it shipped 30.5 hours early, whatever the clock says
    assert facts["order"]["hours_late_to_ship"] == -30.5


def test_delay_facts_compare_the_new_estimate_with_promise_and_previous(scenario: Scenario) -> None:
    # GIVEN the carrier-delay journey up to its ShipmentDelayed
    events = scenario("carrier-delay")
    state = None
    for event in events[:4]:
        state = apply_event(state, event)
    assert state is not None
    # WHEN facts are built for the delay
    facts = build_facts(state, events[3], History(), events[3].time)
    # THEN the new estimate is 96 h past the promise and 98 h past the previous estimate
    assert facts["event"]["new_estimate"] == "2026-03-18T00:00:00Z"
    assert facts["event"]["delay_hours_vs_promise"] == 96.0
    assert facts["event"]["delay_hours_vs_previous"] == 98.0
    assert facts["order"]["delivery_delay_hours"] == 96.0


def test_delay_without_declared_previous_estimate_uses_the_journey(make_event: MakeEvent) -> None:
    # GIVEN a dispatched parcel without a promise, then a delay that does not say the old estimate
    dispatched = make_event("ShipmentDispatched", "2026-03-02T10:00:00Z", "d", shipment_id="S", carrier="DHL",
                            tracking_number="T", estimated_delivery="2026-03-04T10:00:00Z")  # fmt: skip
    delayed = make_event(
        "ShipmentDelayed", "2026-03-03T10:00:00Z", "x", shipment_id="S", new_estimate="2026-03-05T16:00:00Z"
    )
    state = apply_event(apply_event(None, dispatched), delayed)
    # WHEN facts are built for the delay
    facts = build_facts(state, delayed, History(), delayed.time)
    # THEN the previous estimate comes from the dispatch, and there is no promise to compare with
    assert facts["event"]["previous_estimate"] == "2026-03-04T10:00:00Z"
    assert facts["event"]["delay_hours_vs_previous"] == 30.0
    assert facts["event"]["delay_hours_vs_promise"] is None


def test_delivered_order_facts(scenario: Scenario) -> None:
    # GIVEN the carrier-delay journey, delivered 2026-03-17T18:20Z against a promise of 2026-03-14T00:00Z
    events = scenario("carrier-delay")
    state = None
    for event in events:
        state = apply_event(state, event)
    assert state is not None
    # WHEN facts are built at NOW (2026-03-20T12:00Z)
    order = build_facts(state, events[-1], History(), NOW)["order"]
    # THEN delay, time since delivery and the review are derived
    assert order["delivery_delay_hours"] == pytest.approx(90 + 20 / 60)
    assert order["hours_since_delivery"] == pytest.approx(65 + 40 / 60)
    assert (order["is_delivered"], order["has_review"], order["latest_rating"]) == (True, True, 2)
    assert order["tracking_url"].startswith("https://www.fedex.com/")


@pytest.mark.parametrize(
    ("kind", "is_problem"),
    [("damaged", True), ("lost", True), ("returned_to_sender", True), ("failed_attempt", False)],
)
def test_shipment_problem_means_lost_damaged_or_returned(
    make_event: MakeEvent, kind: str, is_problem: bool
) -> None:
    # GIVEN a parcel with one exception
    event = make_event("ShipmentException", "2026-03-03T10:00:00Z", "x", shipment_id="S", kind=kind)
    state = apply_event(None, event)
    # WHEN facts are built
    order = build_facts(state, event, History(), NOW)["order"]
    # THEN only lost, damaged and returned_to_sender count as a shipment problem
    assert order["has_shipment_problem"] is is_problem
    assert order["shipment_exceptions"][0]["kind"] == kind


def test_unknown_customer_gets_the_documented_defaults(make_event: MakeEvent) -> None:
    # GIVEN an order known only from a carrier event without a customer
    event = make_event("ShipmentDelivered", "2026-03-03T10:00:00Z", "x", shipment_id="S")
    # WHEN facts are built
    customer = build_facts(apply_event(None, event), event, History(), NOW)["customer"]
    # THEN the customer facts are the defaults
    assert customer == {
        "id": None,
        "email": None,
        "phone": None,
        "name": None,
        "locale": "en",
        "timezone": "UTC",
        "tier": "standard",
        "consent": {"marketing": False, "sms": False},
    }


def test_history_facts_count_per_rule_group_and_window(make_event: MakeEvent) -> None:
    # GIVEN an order with two actions, and a customer contacted 3 days, 2 hours and 8 days ago
    customer = [*HISTORY.customer, _entry("old", None, NOW - timedelta(days=8))]
    history = History(
        order=[*HISTORY.order, _entry("delay-apology", "delay", NOW - timedelta(hours=1))], customer=customer
    )
    event = make_event("ShipmentDelivered", "2026-03-03T10:00:00Z", "x", shipment_id="S")
    # WHEN facts are built
    facts = build_facts(apply_event(None, event), event, history, NOW)["history"]
    # THEN counts and last times are per rule and group, and the windows count what they should
    assert facts["rules"]["delay-apology"] == {"count": 2, "last_at": "2026-03-20T11:00:00Z"}
    assert facts["rules"]["dispatch-notice"]["count"] == 1
    assert facts["groups"] == {"delay": {"count": 2, "last_at": "2026-03-20T11:00:00Z"}}
    assert facts["order"] == {"count": 3, "last_at": "2026-03-20T11:00:00Z"}
    assert facts["customer"] == {"sent_24h": 1, "sent_7d": 2, "last_at": "2026-03-20T10:00:00Z"}
