"""The simulator's fast paths give exactly what the slow, validated paths give."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchpoints.construct import construct, shallow_copy
from touchpoints.contract import DecisionRecord, Event
from touchpoints.contract.facts import fact_needs, merge_needs
from touchpoints.journey import History, OrderJourney, apply_event, build_facts, build_facts_for
from touchpoints.journey.state import event_stamp
from touchpoints.timestamps import format_seconds

SCENARIOS = (
    "cancelled",
    "carrier-delay",
    "damaged-parcel",
    "happy-path",
    "late-night-delivery",
    "not-shipped-on-time",
    "payment-abandoned",
    "payment-recovered",
)


def _record_values() -> dict[str, object]:
    moment = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    return {
        "action_id": "a" * 32,
        "order_id": "A1",
        "customer_id": "C1",
        "rule_id": "order-confirmation",
        "trigger": "OrderPlaced",
        "event_id": "e1",
        "channel": "email",
        "template": "order-confirmation",
        "locale": "en",
        "status": "pending",
        "reason": None,
        "decided_at": moment,
        "send_at": moment,
        "released_at": None,
        "catalog_version": "sha256:abc",
        "address": "j***@example.com",
        "detail_type": None,
        "message_id": None,
        "error": None,
    }


def test_construct_gives_the_instance_model_construct_gives() -> None:
    # GIVEN every field of a decision record
    values = _record_values()
    # WHEN it is built both ways
    fast = construct(DecisionRecord, dict(values))
    slow = DecisionRecord.model_construct(**values)  # type: ignore[arg-type]
    # THEN fields, fields set, equality and the JSON are the same
    assert fast.__dict__ == slow.__dict__
    assert fast.model_fields_set == slow.model_fields_set
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()


def test_shallow_copy_is_independent_of_the_original() -> None:
    # GIVEN a journey
    state = OrderJourney(order_id="A1", payment_failures=1)
    # WHEN a copy is changed through its __dict__
    copy = shallow_copy(state)
    copy.__dict__["payment_failures"] = 2
    # THEN the original is unchanged and the copy equals what model_copy gives before the change
    assert state.payment_failures == 1
    assert copy.payment_failures == 2
    assert shallow_copy(state) == state.model_copy()


def _journeys(scenario: Callable[[str], list[Event]]) -> list[tuple[OrderJourney, Event]]:
    """Every intermediate state of every sample journey, with the event that made it."""
    out: list[tuple[OrderJourney, Event]] = []
    for name in SCENARIOS:
        state: OrderJourney | None = None
        for event in scenario(name):
            state = apply_event(state, event)
            out.append((state, event))
    return out


@pytest.mark.parametrize("section", ["order", "event"])
def test_each_fact_key_alone_is_the_value_of_the_full_facts(
    scenario: Callable[[str], list[Event]], section: str
) -> None:
    # GIVEN every state of the sample journeys, decided at the event's time and two weeks later
    history = History()
    checked = 0
    for state, event in _journeys(scenario):
        for now in (event.time, event.time + timedelta(days=14)):
            full = build_facts(state, event, history, now)
            # WHEN each key of the section is asked for alone, and an unknown key too
            for key in [*full[section], "no_such_key"]:
                part = build_facts_for(state, event, history, now, {section: frozenset({key})})
                # THEN it is the full facts' value (absent when the full facts lack it)
                expected = {key: full[section][key]} if key in full[section] else {}
                assert part == {section: expected}, (section, key, event.id)
                checked += 1
    assert checked > 500


def test_needs_of_whole_sections_and_the_whole_data(scenario: Callable[[str], list[Event]]) -> None:
    # GIVEN a delivered journey
    state, event = _journeys(scenario)[-1]
    now = event.time
    full = build_facts(state, event, History(), now)
    # WHEN needs name whole sections, or the whole data
    sections = fact_needs(["customer", "history.rules.x", "now", "order"])
    everything = fact_needs(["order.is_paid", ""])
    # THEN whole sections equal the full ones, and the whole data is every fact
    assert sections is not None
    assert build_facts_for(state, event, History(), now, sections) == {
        key: full[key] for key in ("customer", "history", "now", "order")
    }
    assert everything is None
    assert build_facts_for(state, event, History(), now, everything) == full


def test_merged_needs_keep_both_sides() -> None:
    # GIVEN the needs of two rules
    first = fact_needs(["order.is_paid", "event.rating"])
    second = fact_needs(["order.is_cancelled", "customer"])
    # WHEN merged
    merged = merge_needs(first, second)
    # THEN every key of both is there, a whole section stays whole, and "everything" absorbs all
    assert merged == {
        "order": frozenset({"is_paid", "is_cancelled"}),
        "event": frozenset({"rating"}),
        "customer": None,
    }
    assert merge_needs(first, None) is None


@given(moment=st.datetimes(timezones=st.just(UTC)))
def test_timestamps_are_spelled_as_strftime_spells_them(moment: datetime) -> None:
    # GIVEN any UTC moment (years below 1000 included)  WHEN the stamp and the timer time are spelled
    event = SimpleNamespace(time=moment, key_digests=("k1",))
    # THEN they are strftime's text, which stored states and timer names already hold
    assert event_stamp(event) == moment.strftime("%Y%m%dT%H%M%S.%f") + "|k1"  # type: ignore[arg-type]
    assert format_seconds(moment) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
