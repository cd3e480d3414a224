"""The DecisionStore contract, one suite for both stores: in memory and DynamoDB (moto, the template's table).

Every commit goes through the core's `plan_commit`, as `service.process_event` does, so what is
tested here is that each store writes the plan and nothing else: the same locking and
idempotency, the same reads, the same ledger pruning. The simulator decides on the in-memory
store; this suite is why that is what production decides on too. What only DynamoDB has (calls
per operation, item sizes and keys) is in test_dynamodb_store.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import store_cases as cases
from tests.support.events import envelope, money
from tests.support.events import event as make_event

from touchpoints.catalog import Catalog, load_catalog
from touchpoints.contract import parse_event
from touchpoints.journey import ContactEntry
from touchpoints.journey.state import SHORT_KEY, window_keys
from touchpoints.policy.retention import HISTORY_FACTS_WINDOW, Retention, retention_for
from touchpoints.ports import ConflictError, DecisionStore, DuplicateEventError, StoreError
from touchpoints.service import process_event

_runs = itertools.count(1)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "dynamodb"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], DecisionStore]:
    """A fresh store of either kind (the DynamoDB one on the session's moto table)."""
    if request.param == "memory":
        from touchpoints.adapters import InMemoryDecisionStore

        return InMemoryDecisionStore
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore

    clients, table = request.getfixturevalue("clients"), request.getfixturevalue("table_name")
    return lambda: DynamoDBDecisionStore(table, client=clients["dynamodb"])


@pytest.fixture
def store(make_store: Callable[[], DecisionStore]) -> DecisionStore:
    return make_store()


def _new_ids() -> tuple[str, str]:
    return f"O{next(cases.ids)}", f"C{next(cases.ids)}"


def _everything(store: DecisionStore, order_id: str, customer_id: str) -> Any:
    """What the store holds about an order (raw items on DynamoDB), to compare before and after."""
    client = getattr(store, "client", None)
    if client is not None:
        return client.query(
            TableName=store.table_name,  # type: ignore[attr-defined]
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
            ConsistentRead=True,
        )["Items"]
    loaded = store.load(order_id, customer_id)
    return (loaded, store.records_for_order(order_id), store.records_for_customer(customer_id))


# ---------------------------------------------------------------------------------------- load and commit


def test_commit_then_load_round_trips_state_history_ledger_and_versions(store: DecisionStore) -> None:
    # GIVEN an order's first event committed with one pending action
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    assert (loaded.state, loaded.state_version, loaded.ledger_version, dict(loaded.actions)) == (
        None,
        0,
        0,
        {},
    )
    record = cases.record(event, "order-confirmation")
    cases.commit(store, loaded, event, cases.decision(loaded.state, event, [record]))
    # WHEN the order is loaded again with its customer
    again = store.load(order_id, customer_id)
    # THEN the state, the order history, the ledger and both versions are as committed
    assert again.state is not None
    assert window_keys(again.state) == [key[:SHORT_KEY] for key in event.key_digests]
    assert [e.action_id for e in again.history.order] == [record.action_id]
    assert [e.action_id for e in again.history.customer] == [record.action_id]
    assert (again.state_version, again.ledger_version, again.has_ledger) == (1, 1, True)
    # AND what the next commit needs: the action's first decision, the customer the order is listed under
    assert dict(again.actions) == {record.action_id: cases.T0}
    assert again.indexed_customer_id == customer_id
    # AND the record reads back as written, by order and by customer, with a masked address
    assert store.records_for_order(order_id) == [record]
    assert store.records_for_customer(customer_id) == [record]
    assert record.address == "j***@example.com"
    # AND the triggering event is kept with its marker for the dispatcher
    assert store.load_event(order_id, event.id) == event
    assert store.load_event(order_id, "no-such-event") is None


def test_load_without_customer_names_the_customer_and_its_ledger_from_the_state(store: DecisionStore) -> None:
    # GIVEN a committed order with one contact
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, store.load(order_id, customer_id), event, cases.decision(None, event, [record]))
    # WHEN it is loaded without the customer id (an event that does not carry the customer)
    again = store.load(order_id, None)
    # THEN the customer id comes from the stored state, with the ledger as this order left it
    assert again.customer_id == customer_id
    assert again.has_ledger
    assert [e.action_id for e in again.history.customer] == [record.action_id]
    assert again.ledger_version == 1


def test_the_same_event_committed_twice_is_a_duplicate_and_writes_nothing(store: DecisionStore) -> None:
    # GIVEN an event committed from one load
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    first = store.load(order_id, customer_id)
    cases.commit(store, first, event, cases.decision(None, event, [cases.record(event, "rule-a")]))
    before = _everything(store, order_id, customer_id)
    # WHEN a concurrent delivery of the same event commits from the same (stale) load
    # THEN the marker's condition reports a duplicate, not a conflict
    with pytest.raises(DuplicateEventError, match=event.id):
        cases.commit(store, first, event, cases.decision(None, event, [cases.record(event, "rule-a")]))
    after = _everything(store, order_id, customer_id)
    assert after == before


def test_a_concurrent_event_for_the_same_order_is_a_conflict(store: DecisionStore) -> None:
    # GIVEN two different events decided from the same load of an order
    order_id, customer_id = _new_ids()
    first_event = cases.order_placed(order_id, customer_id)
    second_event = cases.order_event(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    cases.commit(store, loaded, first_event, cases.decision(None, first_event, []))
    # WHEN the second commits from the stale load
    # THEN the state's version condition fails: ConflictError, nothing written
    with pytest.raises(ConflictError, match="state"):
        cases.commit(
            store,
            loaded,
            second_event,
            cases.decision(None, second_event, [cases.record(second_event, "rule-a")]),
        )
    assert store.records_for_order(order_id) == []
    assert store.load_event(order_id, second_event.id) is None


def test_the_ledger_version_guards_other_orders_of_the_customer(store: DecisionStore) -> None:
    # GIVEN two orders of one customer, each loaded before either commits
    customer_id = f"C{next(cases.ids)}"
    event_a = cases.order_placed(f"O{next(cases.ids)}", customer_id)
    event_b = cases.order_placed(f"O{next(cases.ids)}", customer_id)
    loaded_a = store.load(event_a.order_id, customer_id)
    loaded_b = store.load(event_b.order_id, customer_id)
    cases.commit(store, loaded_a, event_a, cases.decision(None, event_a, [cases.record(event_a, "rule-a")]))
    # WHEN the other order commits a contact from a ledger that moved since its load
    # THEN the ledger's version condition fails
    with pytest.raises(ConflictError, match="ledger"):
        cases.commit(
            store, loaded_b, event_b, cases.decision(None, event_b, [cases.record(event_b, "rule-a")])
        )


def test_a_ledger_the_decision_only_read_is_still_version_checked(store: DecisionStore) -> None:
    # GIVEN two orders of one customer loaded together; the first commits a contact
    customer_id = f"C{next(cases.ids)}"
    event_a = cases.order_placed(f"O{next(cases.ids)}", customer_id)
    event_b = cases.order_placed(f"O{next(cases.ids)}", customer_id)
    loaded_a = store.load(event_a.order_id, customer_id)
    loaded_b = store.load(event_b.order_id, customer_id)
    cases.commit(store, loaded_a, event_a, cases.decision(None, event_a, [cases.record(event_a, "rule-a")]))
    # WHEN the second commits no contact at all (a cap may have suppressed it on the stale ledger)
    # THEN the commit still fails: the plan says "unchanged, but version-checked"
    with pytest.raises(ConflictError, match="ledger"):
        cases.commit(store, loaded_b, event_b, cases.decision(None, event_b, []))
    assert store.load_event(event_b.order_id, event_b.id) is None


def test_a_released_action_replaces_its_scheduled_row(store: DecisionStore) -> None:
    # GIVEN an action deferred by quiet hours
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    scheduled = cases.record(event, "rule-a", status="scheduled")
    cases.commit(store, loaded, event, cases.decision(None, event, [scheduled]))
    # WHEN a later event releases it (same action id, decided again later)
    timer_event = make_event(
        "TimerFired",
        "2026-03-01T14:00:00Z",
        {"rule_id": "rule-a", "trigger_event_id": event.id, "due_at": "2026-03-01T14:00:00Z"},
        event_id=f"timer-{next(cases.ids)}",
        order_id=order_id,
    )
    reloaded = store.load(order_id, customer_id)
    released = scheduled.model_copy(
        update={"status": "pending", "reason": None, "released_at": cases.T0 + timedelta(hours=4)}
    )
    cases.commit(store, reloaded, timer_event, cases.decision(reloaded.state, timer_event, [released]))
    # THEN the order still has one row for the action, now pending, and the ledger entry was replaced
    assert [(r.action_id, r.status) for r in store.records_for_order(order_id)] == [
        (scheduled.action_id, "pending")
    ]
    # AND the row keeps the first decision time and says when it was released
    (stored,) = store.records_for_order(order_id)
    assert (stored.decided_at, stored.released_at) == (cases.T0, cases.T0 + timedelta(hours=4))
    assert [e.status for e in store.load(order_id, customer_id).history.customer] == ["pending"]
    # AND the customer's records and the action's address (its first decision) did not double
    assert [r.status for r in store.records_for_customer(customer_id)] == ["pending"]
    assert dict(store.load(order_id, customer_id).actions) == {scheduled.action_id: cases.T0}


# ------------------------------------------------------------------------- dispatch reads and marks


def test_load_action_reads_the_action_its_order_and_its_trigger(store: DecisionStore) -> None:
    # GIVEN a pending action
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, store.load(order_id, customer_id), event, cases.decision(None, event, [record]))
    # WHEN the dispatcher reads it (without the store's own row key)
    view = store.load_action(record)
    # THEN it gets the action as stored, the order with the ledger and its address, and the trigger
    assert view.action == record
    assert view.order.state is not None
    assert [e.action_id for e in view.order.history.customer] == [record.action_id]
    assert view.order.actions[record.action_id] == cases.T0
    assert view.trigger == event
    # AND an action the store does not have reads as None, its order still there
    other = cases.record(event, "rule-b")
    missing = store.load_action(other)
    assert missing.action is None
    assert missing.order.state is not None


def test_update_action_marks_sent_with_the_provider_message_id(store: DecisionStore) -> None:
    # GIVEN a pending action
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, loaded, event, cases.decision(None, event, [record]))
    # WHEN the dispatcher marks it sent
    store.update_action(order_id, record.action_id, "sent", message_id="msg-1")
    # THEN the stored record says so
    (stored,) = store.records_for_order(order_id)
    assert (stored.status, stored.message_id, stored.error) == ("sent", "msg-1", None)


def test_update_action_addressed_by_the_load_marks_failed(store: DecisionStore) -> None:
    # GIVEN a pending action and its order loaded as the dispatcher loads it
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, store.load(order_id, customer_id), event, cases.decision(None, event, [record]))
    view = store.load_action(record)
    # WHEN it is marked failed at the address the load returned
    store.update_action(
        order_id,
        record.action_id,
        "failed",
        error="SES refused",
        first_decided_at=view.order.actions[record.action_id],
    )
    # THEN the stored record says so, by order and by customer
    assert [(r.status, r.error) for r in store.records_for_order(order_id)] == [("failed", "SES refused")]
    assert [(r.status, r.error) for r in store.records_for_customer(customer_id)] == [
        ("failed", "SES refused")
    ]


def test_update_action_records_a_reason_when_given(store: DecisionStore) -> None:
    # GIVEN a pending action
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, store.load(order_id, customer_id), event, cases.decision(None, event, [record]))
    view = store.load_action(record)
    # WHEN the dispatcher finds it past its rule's expires_after and settles it
    store.update_action(
        order_id,
        record.action_id,
        "suppressed",
        reason="expired",
        first_decided_at=view.order.actions[record.action_id],
    )
    # THEN status and reason are both stored, and a later mark without a reason keeps it
    assert [(r.status, r.reason) for r in store.records_for_order(order_id)] == [("suppressed", "expired")]
    store.update_action(order_id, record.action_id, "suppressed")
    assert [(r.status, r.reason) for r in store.records_for_customer(customer_id)] == [
        ("suppressed", "expired")
    ]


def test_update_of_an_unknown_action_is_a_store_error(store: DecisionStore) -> None:
    # GIVEN no such action WHEN it is updated THEN StoreError names it
    with pytest.raises(StoreError, match="no action nope"):
        store.update_action(f"O{next(cases.ids)}", "nope", "sent")


# ---------------------------------------------------------------------------------------- audit reads


def test_records_for_customer_span_their_orders_oldest_decision_first(store: DecisionStore) -> None:
    # GIVEN two orders of one customer, decided an hour apart
    customer_id = f"C{next(cases.ids)}"
    first = cases.order_placed(f"O{next(cases.ids)}", customer_id)
    second = cases.order_placed(f"O{next(cases.ids)}", customer_id)
    early = cases.record(first, "rule-a")
    late = cases.record(second, "rule-a", decided_at=cases.T0 + timedelta(hours=1))
    cases.commit(store, store.load(first.order_id, customer_id), first, cases.decision(None, first, [early]))
    cases.commit(
        store, store.load(second.order_id, customer_id), second, cases.decision(None, second, [late])
    )
    # WHEN the audit reads them THEN by customer both come, oldest first; by order each its own
    assert store.records_for_customer(customer_id) == [early, late]
    assert store.records_for_order(first.order_id) == [early]
    assert store.records_for_order(second.order_id) == [late]
    assert store.orders_for_customer(customer_id) == sorted([first.order_id, second.order_id])


def test_orders_for_customer_lists_an_order_under_every_customer_id_it_was_committed_with(
    store: DecisionStore,
) -> None:
    # GIVEN an order committed under one customer id, then under another, then again under the second
    order_id, old_id = _new_ids()
    new_id = f"{old_id}-new"
    first = cases.order_placed(order_id, old_id)
    cases.commit(store, store.load(order_id, old_id), first, cases.decision(None, first, []))
    for minutes in (1, 2):
        loaded = store.load(order_id, new_id)
        later = cases.order_event(order_id, new_id, time=cases.T0 + timedelta(minutes=minutes))
        cases.commit(store, loaded, later, cases.decision(loaded.state, later, []))
    # WHEN either id is looked up THEN the order is listed under both, once
    assert store.orders_for_customer(old_id) == [order_id]
    assert store.orders_for_customer(new_id) == [order_id]
    assert store.load(order_id, None).indexed_customer_id == new_id
    assert store.orders_for_customer(f"nobody-{next(cases.ids)}") == []


# --------------------------------------------------------------------- ledger pruning and retention


def _entry(rule: str, days: int, *, customer_id: str = "C", order_id: str = "O") -> ContactEntry:
    return ContactEntry(
        action_id=f"{rule}-{days}-{order_id}",
        order_id=order_id,
        customer_id=customer_id,
        rule_id=rule,
        event_id="e",
        channel="email",
        category="service",
        status="sent",
        at=cases.T0 - timedelta(days=days),
    )


def test_ledger_retention_keeps_the_window_and_lifetime_limits() -> None:
    # GIVEN entries 1 and 40 days before the newest, one of a lifetime-limited rule
    def entry(rule: str, days: int) -> ContactEntry:
        return ContactEntry(
            action_id=f"{rule}-{days}",
            order_id="O",
            customer_id="C",
            rule_id=rule,
            event_id="e",
            channel="email",
            category="service",
            status="sent",
            at=cases.T0 - timedelta(days=days),
        )

    retention = Retention(window=timedelta(days=30), keep_rules=frozenset({"once-ever"}))
    # WHEN the ledger is pruned
    kept = retention.prune([entry("a", 0), entry("a", 1), entry("a", 40), entry("once-ever", 40)])
    # THEN only the old entry of an ordinary rule is dropped
    assert sorted(e.action_id for e in kept) == ["a-0", "a-1", "once-ever-40"]


def _commit_contacts(
    store: DecisionStore, order_id: str, customer_id: str, entries: list[ContactEntry], retention: Retention
) -> None:
    from touchpoints.journey import apply_event
    from touchpoints.outcome import Decision

    loaded = store.load(order_id, customer_id)
    event = cases.order_event(order_id, customer_id)
    decided = Decision(state=apply_event(loaded.state, event), contacts=entries)
    cases.commit(store, loaded, event, decided, retention=retention)


def test_the_ledger_is_pruned_on_commit_and_the_order_history_is_not(store: DecisionStore) -> None:
    # GIVEN a customer's ledger with contacts 40 and 35 days old, one of a lifetime-limited rule
    order_id, customer_id = _new_ids()
    retention = Retention(window=timedelta(days=30), keep_rules=frozenset({"once-ever"}))
    old = [_entry("a", 40, customer_id=customer_id, order_id=order_id)]
    old.append(_entry("once-ever", 35, customer_id=customer_id, order_id=order_id))
    _commit_contacts(store, order_id, customer_id, old, retention)
    # WHEN a new contact is committed: the newest entry is now 40 days later than the oldest
    new = [_entry("a", 0, customer_id=customer_id, order_id=order_id)]
    _commit_contacts(store, order_id, customer_id, new, retention)
    # THEN the ledger lost the ordinary old entry, kept the lifetime-limited one and the new one
    loaded = store.load(order_id, customer_id)
    assert [e.action_id for e in loaded.history.customer] == [
        f"once-ever-35-{order_id}",
        f"a-0-{order_id}",
    ]
    # AND the order's own history keeps everything (rule limits per order look at all of it)
    assert [e.action_id for e in loaded.history.order] == [
        f"a-40-{order_id}",
        f"once-ever-35-{order_id}",
        f"a-0-{order_id}",
    ]


def test_pruning_counts_back_from_the_newest_entry_not_from_the_clock(store: DecisionStore) -> None:
    # GIVEN contacts 40 and 1 days before T0, committed a year after T0
    order_id, customer_id = _new_ids()
    retention = Retention(window=timedelta(days=30))
    entries = [
        _entry("a", 40, customer_id=customer_id, order_id=order_id),
        _entry("a", 1, customer_id=customer_id, order_id=order_id),
    ]
    loaded = store.load(order_id, customer_id)
    event = cases.order_placed(order_id, customer_id)
    from touchpoints.journey import apply_event
    from touchpoints.outcome import Decision

    decided = Decision(state=apply_event(loaded.state, event), contacts=entries)
    cases.commit(store, loaded, event, decided, retention=retention, now=cases.T0 + timedelta(days=365))
    # WHEN the ledger is read THEN only the entry more than the window before the newest is gone
    assert [e.action_id for e in store.load(order_id, customer_id).history.customer] == [f"a-1-{order_id}"]


def test_a_contact_of_another_customer_stays_out_of_the_ledger(store: DecisionStore) -> None:
    # GIVEN a decision whose contacts name the loaded customer and, oddly, another one
    order_id, customer_id = _new_ids()
    other = f"{customer_id}-other"
    mine = _entry("a", 0, customer_id=customer_id, order_id=order_id)
    theirs = _entry("b", 0, customer_id=other, order_id=order_id)
    # WHEN they are committed
    _commit_contacts(store, order_id, customer_id, [mine, theirs], Retention())
    # THEN the loaded customer's ledger holds only its own; the order's history holds both
    loaded = store.load(order_id, customer_id)
    assert [e.action_id for e in loaded.history.customer] == [mine.action_id]
    assert [e.action_id for e in loaded.history.order] == [mine.action_id, theirs.action_id]
    assert store.load(f"O{next(cases.ids)}", other).history.customer == []


def test_both_stores_keep_the_same_ledger_through_process_event(
    make_store: Callable[[], DecisionStore], catalog: Catalog
) -> None:
    from touchpoints.adapters import InMemoryDecisionStore, InMemoryTimerService

    # GIVEN one customer's orders a week apart and a retention of two days
    customer_id = f"C{next(cases.ids)}"
    retention = Retention(window=timedelta(days=2))
    stores = [make_store(), InMemoryDecisionStore()]
    for store in stores:
        for week in range(3):
            placed = cases.order_placed(
                f"O{customer_id}-{week}",
                customer_id,
                event_id=f"{customer_id}-{week}",
                time=cases.T0 + timedelta(weeks=week),
            )
            process_event(
                placed,
                catalog=catalog,
                store=store,
                timers=InMemoryTimerService(),
                now=placed.time,
                retention=retention,
            )
    # WHEN each store's ledger is read
    ledgers = [
        [e.action_id for e in s.load(f"O{customer_id}-2", customer_id).history.customer] for s in stores
    ]
    # THEN the store under test kept exactly what the in-memory twin kept: only the last week's contacts
    assert ledgers[0] == ledgers[1]
    assert ledgers[0]
    order_ids = {e.order_id for e in stores[0].load(f"O{customer_id}-2", customer_id).history.customer}
    assert order_ids == {f"O{customer_id}-2"}


def test_the_catalogs_retention_covers_its_longest_window(catalog: Catalog) -> None:
    # GIVEN the shipped catalog WHEN its retention is derived
    retention = retention_for(catalog)
    # THEN the ledger keeps a day more than any cap, group, rule limit or history fact looks back
    windows = [HISTORY_FACTS_WINDOW, *(cap.per for cap in catalog.policy.caps.values())]
    windows += [g.window for g in catalog.policy.groups.values() if isinstance(g.window, timedelta)]
    windows += [c.rule.limit.per for c in catalog.rules.values() if c.rule.limit and c.rule.limit.per]
    assert retention.window == max([timedelta(days=1), *windows]) + timedelta(days=1)
    # AND keeps for good the entries of rules limited per customer for a lifetime
    lifetime = {
        c.rule.id
        for c in catalog.rules.values()
        if c.rule.limit and c.rule.limit.per is None and c.rule.limit.scope == "customer"
    }
    assert retention.keep_rules == frozenset(lifetime)
    assert retention.record_ttl == timedelta(days=400)


# ---------------------------------------------------------------------------------------- erasure


class _NoTimers:
    def schedule(self, timer: Any) -> None:
        raise AssertionError(f"these events set no timer, got {timer}")


@pytest.fixture(scope="module")
def catalog(repo_root: Path) -> Catalog:
    return load_catalog(repo_root / "rules")


def _customer(customer_id: str, who: str) -> dict[str, Any]:
    return {"id": customer_id, "email": f"{who}@example.com", "phone": "+15550100", "name": who.title()}


def _paid(order_id: str, customer: dict[str, Any]) -> dict[str, Any]:
    detail = {"payment_id": f"P-{order_id}", "amount": money("10.00"), "customer": customer}
    return envelope(
        "PaymentSucceeded",
        "2026-03-02T10:00:00Z",
        detail,
        event_id=f"paid-{order_id}",
        order_id=order_id,
        source="shop.payments",
    )


def _cancelled(order_id: str, customer: dict[str, Any]) -> dict[str, Any]:
    return envelope(
        "OrderCancelled",
        "2026-03-02T11:00:00Z",
        {"reason": "customer_request", "customer": customer},
        event_id=f"cancelled-{order_id}",
        order_id=order_id,
        source="shop.orders",
    )


def _play(store: DecisionStore, catalog: Catalog, *raw: dict[str, Any]) -> None:
    for event in raw:
        result = process_event(parse_event(event), catalog=catalog, store=store, timers=_NoTimers(), now=NOW)
        assert not result.is_duplicate


def _ids(run: int) -> tuple[str, str, str]:
    return f"Q{run}", f"CQ{run}", f"CQ{run}-new"


def test_an_order_nothing_was_decided_on_is_found_and_erased(
    make_store: Callable[[], DecisionStore], catalog: Catalog
) -> None:
    # GIVEN an order whose events carry the customer but on which no rule decides anything
    order_id, customer_id, _ = _ids(next(_runs))
    store = make_store()
    quiet = _customer(customer_id, "quinn.quiet")
    _play(store, catalog, _paid(order_id, quiet), _cancelled(order_id, quiet))
    assert store.records_for_order(order_id) == []
    assert store.records_for_customer(customer_id) == []
    # WHEN the customer's orders are listed, and the customer is forgotten
    listed = store.orders_for_customer(customer_id)
    report = store.forget_customer(customer_id)
    # THEN the order is found, its journey state and both stored events are erased
    assert listed == [order_id]
    assert report.orders == [order_id]
    assert (report.states, report.events, report.actions, report.ledger_deleted) == (1, 2, 0, False)
    state = store.load(order_id, None).state
    assert state is not None
    assert state.customer is not None
    assert (state.customer.id, state.customer.email, state.customer.phone, state.customer.name) == (
        customer_id,
        None,
        None,
        None,
    )
    for event_id in (f"paid-{order_id}", f"cancelled-{order_id}"):
        event = store.load_event(order_id, event_id)
        assert event is not None
        assert event.customer is not None
        assert (event.customer.email, event.customer.phone, event.customer.name) == (None, None, None)
    # AND a second run finds the order again and has nothing left to erase
    again = store.forget_customer(customer_id)
    assert again.orders == [order_id]
    assert (again.states, again.events, again.actions, again.ledger_deleted) == (0, 0, 0, False)


def test_an_order_whose_customer_id_changed_is_found_from_both_ids(
    make_store: Callable[[], DecisionStore], catalog: Catalog
) -> None:
    # GIVEN an order first committed naming one customer id, then another (a merged account)
    order_id, old_id, new_id = _ids(next(_runs))
    store = make_store()
    _play(store, catalog, _paid(order_id, _customer(old_id, "olive.old")))
    _play(store, catalog, _cancelled(order_id, _customer(new_id, "nina.new")))
    # WHEN either id is looked up THEN the order is listed under both
    assert store.orders_for_customer(old_id) == [order_id]
    assert store.orders_for_customer(new_id) == [order_id]
    # WHEN the old id is forgotten THEN its event is erased, the journey (the new customer's) is not
    old = store.forget_customer(old_id)
    assert old.orders == [order_id]
    assert (old.states, old.events) == (0, 1)
    paid = store.load_event(order_id, f"paid-{order_id}")
    assert paid is not None
    assert paid.customer is not None
    assert paid.customer.email is None
    state = store.load(order_id, None).state
    assert state is not None
    assert state.customer is not None
    assert state.customer.email == "nina.new@example.com"
    # WHEN the new id is forgotten THEN the journey and its event are erased too
    new = store.forget_customer(new_id)
    assert (new.orders, new.states, new.events) == ([order_id], 1, 1)
    state = store.load(order_id, None).state
    assert state is not None
    assert state.customer is not None
    assert state.customer.email is None
    # AND the order keeps working: a later event commits on the erased journey (versions moved on)
    again = _paid(order_id, _customer(new_id, "nina.new"))
    again["detail"]["payment_id"] = f"P2-{order_id}"  # another payment (the same one is a duplicate)
    _play(store, catalog, {**again, "id": f"paid-again-{order_id}"})


def test_forgetting_a_customer_erases_the_records_address_and_deletes_the_ledger(
    store: DecisionStore,
) -> None:
    # GIVEN a customer with a decided action (a ledger entry and a masked address)
    order_id, customer_id = _new_ids()
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, store.load(order_id, customer_id), event, cases.decision(None, event, [record]))
    # WHEN the customer is forgotten
    report = store.forget_customer(customer_id)
    # THEN the record keeps its status with an erased address, and the ledger is gone
    assert (report.orders, report.actions, report.ledger_deleted) == ([order_id], 1, True)
    (kept,) = store.records_for_order(order_id)
    assert (kept.status, kept.address) == ("pending", "[erased]")
    loaded = store.load(order_id, customer_id)
    assert (loaded.history.customer, loaded.ledger_version) == ([], 0)


def test_a_customer_with_no_orders_is_forgotten_without_error(
    make_store: Callable[[], DecisionStore],
) -> None:
    # GIVEN a customer the store never saw WHEN forgotten THEN nothing is found and nothing fails
    report = make_store().forget_customer(f"nobody-{next(_runs)}")
    assert (report.orders, report.states, report.events, report.actions, report.ledger_deleted) == (
        [],
        0,
        0,
        0,
        False,
    )
