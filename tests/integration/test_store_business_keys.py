"""Duplicates by business key, through `process_event` on both stores (in memory and DynamoDB on moto).

A platform's resend of a fact under a new EventBridge id is a duplicate: right away (the journey's
recent keys know it), long after (beyond that window only the store's KEY# marker knows it, read
with the state), and in a race (the commit of the second copy fails on the markers, or on its new
action rows, whose ids derive from the business key). In every case nothing is decided, nothing
written, and the event is not retried forever.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import store_cases as cases
from tests.support.events import event as make_event
from tests.support.events import money, order_placed_detail

from touchpoints.adapters import InMemoryTimerService
from touchpoints.catalog import Catalog, load_catalog
from touchpoints.commit import plan_commit
from touchpoints.contract import Event
from touchpoints.journey import is_applied
from touchpoints.journey.state import RECENT_KEYS
from touchpoints.outcome import Decision
from touchpoints.policy.retention import Retention
from touchpoints.ports import DecisionStore, DuplicateEventError
from touchpoints.service import ProcessResult, process_event

_runs = itertools.count(1)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> DecisionStore:
    """A fresh store of either kind (the DynamoDB one on the session's moto table)."""
    if request.param == "memory":
        from touchpoints.adapters import InMemoryDecisionStore

        return InMemoryDecisionStore()
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore

    clients, table = request.getfixturevalue("clients"), request.getfixturevalue("table_name")
    return DynamoDBDecisionStore(table, client=clients["dynamodb"])


@pytest.fixture(scope="module")
def catalog(repo_root: Path) -> Catalog:
    return load_catalog(repo_root / "rules")


def _process(
    store: DecisionStore, catalog: Catalog, event: Event, now: datetime | None = None
) -> ProcessResult:
    return process_event(
        event, catalog=catalog, store=store, timers=InMemoryTimerService(), now=now or event.time
    )


def _placed(order_id: str, event_id: str) -> Event:
    customer = {"id": f"C-{order_id}", "email": "jane@example.com", "timezone": "UTC"}
    detail = order_placed_detail(customer, promised_delivery_by="2026-03-09T09:00:00Z")
    return make_event("OrderPlaced", T0, detail, order_id=order_id, event_id=event_id, source="shop.orders")


def _resend(event: Event, event_id: str, *, later: timedelta = timedelta(0)) -> Event:
    """The platform sending the same fact again: a new id (and, without an explicit time, a new time)."""
    envelope = event.to_dict()
    return make_event(
        event.detail_type,
        event.time + later,
        envelope["detail"],
        order_id=None,
        event_id=event_id,
        source=event.source,
    )


def _what_is_stored(store: DecisionStore, order_id: str) -> Any:
    loaded = store.load(order_id, None)
    return (loaded.state, loaded.state_version, loaded.history, store.records_for_order(order_id))


def test_a_resend_under_a_new_id_decides_and_writes_nothing(store: DecisionStore, catalog: Catalog) -> None:
    # GIVEN an order confirmed once
    order_id = f"BK{next(_runs)}"
    first = _process(store, catalog, _placed(order_id, f"{order_id}-a"))
    assert [r.rule_id for r in first.records] == ["order-confirmation"]
    before = _what_is_stored(store, order_id)
    # WHEN the platform resends the same OrderPlaced (new EventBridge id, a minute later)
    again = _process(
        store, catalog, _resend(_placed(order_id, "x"), f"{order_id}-b", later=timedelta(minutes=1))
    )
    # THEN it is a business duplicate of the first: nothing decided, nothing written
    assert (again.is_duplicate, again.duplicate_of, again.records, again.timers) == (
        True,
        f"{order_id}-a",
        [],
        [],
    )
    assert _what_is_stored(store, order_id) == before
    assert store.load_event(order_id, f"{order_id}-b") is None


def test_a_resend_beyond_the_journeys_window_is_still_a_duplicate(
    store: DecisionStore, catalog: Catalog
) -> None:
    # GIVEN an order whose payment failed, then more tracking events than the journey's window holds
    order_id = f"BK{next(_runs)}"
    _process(store, catalog, _placed(order_id, f"{order_id}-placed"))
    failed = make_event(
        "PaymentFailed",
        T0 + timedelta(minutes=5),
        {"payment_id": "P1", "amount": money("10.00"), "reason_code": "card_declined", "attempt": 1},
        order_id=order_id,
        event_id=f"{order_id}-failed",
    )
    assert _process(store, catalog, failed).records
    for n in range(RECENT_KEYS + 2):
        delay = {"shipment_id": "S1", "new_estimate": (T0 + timedelta(days=2, hours=n)).isoformat()}
        _process(
            store,
            catalog,
            make_event("ShipmentDelayed", T0 + timedelta(hours=1, minutes=n), delay, order_id=order_id),
        )
    before = _what_is_stored(store, order_id)
    resend = _resend(failed, f"{order_id}-failed-again")
    # (the journey alone no longer knows it: only the store's marker does)
    assert before[0] is not None
    assert not is_applied(before[0], resend)
    # WHEN the platform resends the failure a day later
    result = _process(store, catalog, resend, now=T0 + timedelta(days=1))
    # THEN it is still a duplicate: no second payment email, no timer, nothing written
    assert (result.is_duplicate, result.duplicate_of, result.records, result.timers) == (
        True,
        f"{order_id}-failed",
        [],
        [],
    )
    assert _what_is_stored(store, order_id) == before


def test_two_copies_racing_end_with_one_decision_and_no_retry(store: DecisionStore, catalog: Catalog) -> None:
    # GIVEN two copies of one fact (two ids) decided from the same load, before either committed
    order_id = f"BK{next(_runs)}"
    first, second = _placed(order_id, f"{order_id}-a"), _placed(order_id, f"{order_id}-b")
    loaded = store.load(order_id, f"C-{order_id}", first.key_digests)
    from touchpoints.decide import decide

    one = decide(loaded.state, first, catalog, loaded.history, T0)
    two = decide(loaded.state, second, catalog, loaded.history, T0)
    # (both name the same action: its id derives from the business key, not the event id)
    assert [r.action_id for r in one.records] == [r.action_id for r in two.records]
    store.commit(plan_commit(loaded, first, one, retention=Retention(), now=T0))
    # WHEN the second commits from the stale load
    # THEN it is refused as a duplicate, not a conflict (a conflict would be retried)
    with pytest.raises(DuplicateEventError):
        store.commit(plan_commit(loaded, second, two, retention=Retention(), now=T0))
    assert [r.event_id for r in store.records_for_order(order_id)] == [first.id]
    # AND through the service the second copy is a duplicate at once, in one attempt
    result = _process(store, catalog, second)
    assert (result.is_duplicate, result.attempts, result.duplicate_of) == (True, 1, first.id)


def test_an_existing_action_fails_the_commit_as_a_duplicate_not_a_conflict(store: DecisionStore) -> None:
    # GIVEN an order with one suppressed action (final: the order's index of open actions omits it),
    # and a later event whose decision names that same action (what a copy of the first fact
    # decides once its markers are gone, e.g. expired)
    order_id, customer_id = f"BK{next(_runs)}", f"C{next(_runs)}"
    placed = cases.order_placed(order_id, customer_id)
    action = cases.record(placed, "order-confirmation", status="suppressed")
    cases.commit(store, store.load(order_id, customer_id), placed, cases.decision(None, placed, [action]))
    later = cases.order_event(order_id, customer_id)
    loaded = store.load(order_id, customer_id, later.key_digests)
    assert loaded.applied_by is None  # no marker knows it
    decided = Decision(state=cases.decision(loaded.state, later, []).state, records=[action])
    plan = plan_commit(loaded, later, decided, retention=Retention(), now=cases.NOW)
    assert [write.replaces for write in plan.actions] == [False]  # a *new* action, as far as the plan knows
    # WHEN it commits  THEN the existing action row refuses it as a duplicate (retrying could never pass)
    with pytest.raises(DuplicateEventError, match="action"):
        store.commit(plan)
    assert store.load(order_id, customer_id).state_version == loaded.state_version


def test_an_idempotency_key_makes_a_changed_resend_a_duplicate(
    store: DecisionStore, catalog: Catalog
) -> None:
    # GIVEN a delay reported with the carrier's webhook id
    order_id = f"BK{next(_runs)}"
    _process(store, catalog, _placed(order_id, f"{order_id}-placed"))
    detail = {"shipment_id": "S1", "new_estimate": "2026-03-12T09:00:00Z", "idempotency_key": "wh-77"}
    first = make_event(
        "ShipmentDelayed", T0 + timedelta(hours=1), detail, order_id=order_id, source="carrier.hub"
    )
    assert not _process(store, catalog, first).is_duplicate
    # WHEN the connector resends that webhook with the estimate recomputed (another business key)
    changed = {**detail, "new_estimate": "2026-03-12T10:00:00Z"}
    again = make_event(
        "ShipmentDelayed", T0 + timedelta(hours=2), changed, order_id=order_id, source="carrier.hub"
    )
    assert again.business_key != first.business_key
    # THEN the idempotency key alone makes it a duplicate; the same id from another source does not
    assert _process(store, catalog, again).duplicate_of == first.id
    elsewhere = {**detail, "new_estimate": "2026-03-13T09:00:00Z"}
    other = make_event(
        "ShipmentDelayed", T0 + timedelta(hours=3), elsewhere, order_id=order_id, source="other.hub"
    )
    assert not _process(store, catalog, other).is_duplicate
