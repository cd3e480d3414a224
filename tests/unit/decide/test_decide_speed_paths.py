"""The simulator's speed-ups keep what is decided: the in-memory store's reused History, timer names."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

import pytest
from decide_helpers import ORDER, make_event

from touchpoints.adapters import InMemoryDecisionStore, InMemoryTimerService
from touchpoints.catalog import Catalog
from touchpoints.decide import decide
from touchpoints.outcome import Decision, TimerRequest
from touchpoints.ports import StoredOrder
from touchpoints.service import process_event


def _process(store: InMemoryDecisionStore, catalog: Catalog, order_id: str) -> None:
    event = make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER, order_id=order_id, event_id=order_id)
    process_event(event, catalog=catalog, store=store, timers=InMemoryTimerService(), now=event.time)


def test_a_reused_history_is_replaced_when_the_customers_ledger_changes(
    catalog: Catalog,
) -> None:
    # GIVEN a history loaded before anything was decided for the customer
    store = InMemoryDecisionStore()
    before = store.load("A1", "C-TW").history
    again = store.load("A1", "C-TW").history
    # WHEN one order of the customer is contacted
    _process(store, catalog, "B1")
    # THEN the other order's next load sees the customer's new contacts, the older History is unchanged
    after = store.load("A1", "C-TW").history
    assert (before.order, before.customer) == ([], [])
    assert again.customer == before.customer
    assert after.order == []
    assert after.customer, "the ledger entry of B1 must be visible from A1"
    assert {entry.order_id for entry in after.customer} == {"B1"}
    assert before.customer == []
    # AND the contacted order sees its own contacts too
    own = store.load("B1", "C-TW").history
    assert own.order == after.customer


def test_a_reused_history_holds_what_a_fresh_store_would_load(catalog: Catalog) -> None:
    # GIVEN two stores with the same commits, one of them loaded (and so caching) in between
    warm, cold = InMemoryDecisionStore(), InMemoryDecisionStore()
    warm.load("A1", "C-TW")
    for order_id in ("A1", "B1"):
        _process(warm, catalog, order_id)
        warm.load("A1", "C-TW")
        _process(cold, catalog, order_id)
    # WHEN both are loaded
    hot, fresh = warm.load("A1", "C-TW"), cold.load("A1", "C-TW")
    # THEN they hold the same history
    assert hot.history == fresh.history
    assert (hot.state_version, hot.ledger_version) == (fresh.state_version, fresh.ledger_version)


def test_a_timer_name_is_computed_once_and_the_timer_stays_frozen() -> None:
    # GIVEN a timer
    due = datetime(2026, 3, 11, 4, 0, tzinfo=UTC)
    timer = TimerRequest("A1", "reminder", "PF1", due)
    # WHEN its name is read twice
    first, second = timer.name, timer.name
    # THEN it is the documented hash of its fields, the same object, and the timer is still frozen
    key = "A1\x1freminder\x1fPF1\x1f2026-03-11T04:00:00Z"
    assert first == "tp-" + hashlib.sha256(key.encode()).hexdigest()[:48]
    assert second is first
    with pytest.raises(dataclasses.FrozenInstanceError):
        timer.rule_id = "other"  # type: ignore[misc]


def test_a_loaded_order_and_a_decision_are_the_dataclasses_their_constructors_make(catalog: Catalog) -> None:
    # GIVEN a store holding one decided order, and the decision of a new event on it
    store = InMemoryDecisionStore()
    _process(store, catalog, "A1")
    loaded = store.load("A1", None)
    event = make_event(
        "OrderCancelled", "2026-03-10T05:00:00Z", {"reason": "customer_request"}, event_id="X1"
    )
    decision = decide(loaded.state, event, catalog, loaded.history, event.time)
    # WHEN the same values go through the dataclasses' own constructors
    rebuilt_load = StoredOrder(**{f.name: getattr(loaded, f.name) for f in dataclasses.fields(StoredOrder)})
    rebuilt_decision = Decision(**{f.name: getattr(decision, f.name) for f in dataclasses.fields(Decision)})
    # THEN the fast-built ones are equal, hold every field, and stay frozen
    assert loaded == rebuilt_load
    assert vars(loaded) == vars(rebuilt_load)
    assert (loaded.state_version, loaded.customer_id, loaded.has_ledger) == (1, "C-TW", True)
    assert decision == rebuilt_decision
    assert vars(decision) == vars(rebuilt_decision)
    assert decision.state.status == "cancelled"
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.state_version = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.is_duplicate = True  # type: ignore[misc]
