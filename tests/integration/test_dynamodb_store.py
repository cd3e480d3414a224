"""DynamoDBDecisionStore against the table of template.yaml in moto: keys, locking, idempotency, reads."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from touchpoints.adapters.dynamodb import DynamoDBDecisionStore, LedgerRetention
from touchpoints.contract import DecisionRecord, Event, mask_address, parse_event
from touchpoints.journey import ContactEntry, apply_event
from touchpoints.outcome import Decision, action_id_for
from touchpoints.ports import ConflictError, DuplicateEventError, StoreError

_ids = itertools.count(1)
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def _order_placed(order_id: str, customer_id: str, *, event_id: str | None = None) -> Event:
    return parse_event(
        {
            "id": event_id or f"ev-{next(_ids)}",
            "detail-type": "OrderPlaced",
            "source": "shop.orders",
            "time": "2026-03-01T10:00:00Z",
            "detail": {
                "order_id": order_id,
                "customer": {"id": customer_id, "email": "jane.doe@example.com", "locale": "en"},
                "total": {"amount": "10.00", "currency": "USD"},
                "items": [
                    {
                        "sku": "S1",
                        "name": "Mug",
                        "quantity": 1,
                        "unit_price": {"amount": "10.00", "currency": "USD"},
                    }
                ],
            },
        }
    )


def _record(
    event: Event, rule_id: str, *, status: str = "pending", decided_at: datetime = T0
) -> DecisionRecord:
    customer = event.customer
    assert customer is not None
    return DecisionRecord(
        action_id=action_id_for(event.id, rule_id, "email"),
        order_id=event.order_id,
        customer_id=customer.id,
        rule_id=rule_id,
        trigger=event.detail_type,
        event_id=event.id,
        channel="email",
        template="order-confirmation",
        locale="en",
        status=status,  # type: ignore[arg-type]
        reason="quiet_hours" if status == "scheduled" else None,
        decided_at=decided_at,
        send_at=decided_at,
        catalog_version="sha256:test",
        address=mask_address(customer.email),
    )


def _contact(record: DecisionRecord) -> ContactEntry:
    return ContactEntry(
        action_id=record.action_id,
        order_id=record.order_id,
        customer_id=record.customer_id,
        rule_id=record.rule_id,
        event_id=record.event_id,
        channel=record.channel,
        category="service",
        status=record.status,
        at=record.send_at,
    )


def _decision(state_of: Any, event: Event, records: list[DecisionRecord]) -> Decision:
    return Decision(
        state=apply_event(state_of, event), records=records, contacts=[_contact(r) for r in records]
    )


@pytest.fixture
def store(clients: dict[str, Any], table_name: str) -> DynamoDBDecisionStore:
    return DynamoDBDecisionStore(table_name, client=clients["dynamodb"])


def test_commit_then_load_round_trips_state_history_and_ledger_in_one_read(
    store: DynamoDBDecisionStore,
) -> None:
    # GIVEN an order's first event committed with one pending action
    order_id, customer_id = f"O{next(_ids)}", f"C{next(_ids)}"
    event = _order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    record = _record(event, "order-confirmation")
    store.commit(loaded, event, _decision(loaded.state, event, [record]))
    store.calls.clear()
    # WHEN the order is loaded again with its customer
    again = store.load(order_id, customer_id)
    # THEN one BatchGetItem returned the state, the order history, the ledger and both versions
    assert store.calls == {"BatchGetItem": 1}
    assert again.state is not None
    assert event.id in again.state.seen_event_ids
    assert [e.action_id for e in again.history.order] == [record.action_id]
    assert [e.action_id for e in again.history.customer] == [record.action_id]
    assert (again.state_version, again.ledger_version) == (1, 1)
    # AND the record reads back as written, by order and (GSI) by customer, with a masked address
    assert store.records_for_order(order_id) == [record]
    assert store.records_for_customer(customer_id) == [record]
    assert record.address == "j***@example.com"
    # AND the triggering event is kept with its marker for the dispatcher
    assert store.load_event(order_id, event.id) == event


def test_load_without_customer_reads_only_the_state_and_names_its_customer(
    store: DynamoDBDecisionStore,
) -> None:
    # GIVEN a committed order
    order_id, customer_id = f"O{next(_ids)}", f"C{next(_ids)}"
    event = _order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    store.commit(loaded, event, _decision(None, event, []))
    store.calls.clear()
    # WHEN it is loaded without the customer id (an event that does not carry the customer)
    again = store.load(order_id, None)
    # THEN one GetItem, and the customer id comes from the stored state
    assert store.calls == {"GetItem": 1}
    assert again.customer_id == customer_id


def test_commit_writes_everything_in_one_transaction(store: DynamoDBDecisionStore) -> None:
    # GIVEN a decision with two records
    order_id, customer_id = f"O{next(_ids)}", f"C{next(_ids)}"
    event = _order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    records = [_record(event, "rule-a"), _record(event, "rule-b")]
    store.calls.clear()
    # WHEN it is committed
    store.commit(loaded, event, _decision(None, event, records))
    # THEN exactly one TransactWriteItems was made
    assert store.calls == {"TransactWriteItems": 1}
    assert {r.rule_id for r in store.records_for_order(order_id)} == {"rule-a", "rule-b"}


def test_the_same_event_committed_twice_is_a_duplicate_and_writes_nothing(
    store: DynamoDBDecisionStore, clients: dict[str, Any], table_name: str
) -> None:
    # GIVEN an event committed from one load
    order_id, customer_id = f"O{next(_ids)}", f"C{next(_ids)}"
    event = _order_placed(order_id, customer_id)
    first = store.load(order_id, customer_id)
    store.commit(first, event, _decision(None, event, [_record(event, "rule-a")]))
    before = clients["dynamodb"].query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
    )["Items"]
    # WHEN a concurrent delivery of the same event commits from the same (stale) load
    # THEN the marker's condition reports a duplicate, not a conflict
    with pytest.raises(DuplicateEventError, match=event.id):
        store.commit(first, event, _decision(None, event, [_record(event, "rule-a")]))
    after = clients["dynamodb"].query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
    )["Items"]
    assert after == before


def test_a_concurrent_event_for_the_same_order_is_a_conflict(store: DynamoDBDecisionStore) -> None:
    # GIVEN two different events decided from the same load of an order
    order_id, customer_id = f"O{next(_ids)}", f"C{next(_ids)}"
    first_event = _order_placed(order_id, customer_id)
    second_event = _order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    store.commit(loaded, first_event, _decision(None, first_event, []))
    # WHEN the second commits from the stale load
    # THEN the state's version condition fails: ConflictError, nothing written
    with pytest.raises(ConflictError, match="state"):
        store.commit(loaded, second_event, _decision(None, second_event, [_record(second_event, "rule-a")]))
    assert store.records_for_order(order_id) == []
    assert store.load_event(order_id, second_event.id) is None


def test_the_ledger_version_guards_other_orders_of_the_customer(store: DynamoDBDecisionStore) -> None:
    # GIVEN two orders of one customer, each loaded before either commits
    customer_id = f"C{next(_ids)}"
    event_a = _order_placed(f"O{next(_ids)}", customer_id)
    event_b = _order_placed(f"O{next(_ids)}", customer_id)
    loaded_a = store.load(event_a.order_id, customer_id)
    loaded_b = store.load(event_b.order_id, customer_id)
    store.commit(loaded_a, event_a, _decision(None, event_a, [_record(event_a, "rule-a")]))
    # WHEN the other order commits a contact from a ledger that moved since its load
    # THEN the ledger's version condition fails
    with pytest.raises(ConflictError, match="ledger"):
        store.commit(loaded_b, event_b, _decision(None, event_b, [_record(event_b, "rule-a")]))


def test_a_released_action_replaces_its_scheduled_row(store: DynamoDBDecisionStore) -> None:
    # GIVEN an action deferred by quiet hours
    order_id, customer_id = f"O{next(_ids)}", f"C{next(_ids)}"
    event = _order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    scheduled = _record(event, "rule-a", status="scheduled")
    store.commit(loaded, event, _decision(None, event, [scheduled]))
    # WHEN a later event releases it (same action id, decided again later)
    timer_event = parse_event(
        {
            "id": f"timer-{next(_ids)}",
            "detail-type": "TimerFired",
            "source": "touchpoints.timers",
            "time": "2026-03-01T14:00:00Z",
            "detail": {
                "order_id": order_id,
                "rule_id": "rule-a",
                "trigger_event_id": event.id,
                "due_at": "2026-03-01T14:00:00Z",
            },
        }
    )
    reloaded = store.load(order_id, customer_id)
    released = scheduled.model_copy(
        update={"status": "pending", "reason": None, "decided_at": T0 + timedelta(hours=4)}
    )
    store.commit(reloaded, timer_event, _decision(reloaded.state, timer_event, [released]))
    # THEN the order still has one row for the action, now pending, and the ledger entry was replaced
    assert [(r.action_id, r.status) for r in store.records_for_order(order_id)] == [
        (scheduled.action_id, "pending")
    ]
    assert [e.status for e in store.load(order_id, customer_id).history.customer] == ["pending"]


def test_update_action_marks_sent_with_the_provider_message_id(store: DynamoDBDecisionStore) -> None:
    # GIVEN a pending action
    order_id, customer_id = f"O{next(_ids)}", f"C{next(_ids)}"
    event = _order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    record = _record(event, "rule-a")
    store.commit(loaded, event, _decision(None, event, [record]))
    # WHEN the dispatcher marks it sent
    store.update_action(order_id, record.action_id, "sent", message_id="msg-1")
    # THEN the stored record says so
    (stored,) = store.records_for_order(order_id)
    assert (stored.status, stored.message_id, stored.error) == ("sent", "msg-1", None)


def test_marking_an_action_after_loading_its_order_is_a_single_update(store: DynamoDBDecisionStore) -> None:
    # GIVEN a pending action, and its order loaded (as the dispatcher does to render the message)
    order_id, customer_id = f"O{next(_ids)}", f"C{next(_ids)}"
    event = _order_placed(order_id, customer_id)
    record = _record(event, "rule-a")
    store.commit(store.load(order_id, customer_id), event, _decision(None, event, [record]))
    fresh = DynamoDBDecisionStore(store.table_name, client=store.client)
    fresh.load(order_id, customer_id)
    fresh.calls.clear()
    # WHEN it is marked failed
    fresh.update_action(order_id, record.action_id, "failed", error="SES refused")
    # THEN the sort key came from the loaded state: one UpdateItem, no Query
    assert fresh.calls == {"UpdateItem": 1}
    (stored,) = store.records_for_order(order_id)
    assert (stored.status, stored.error) == ("failed", "SES refused")


def test_update_of_an_unknown_action_is_a_store_error(store: DynamoDBDecisionStore) -> None:
    # GIVEN no such action WHEN it is updated THEN StoreError names it
    with pytest.raises(StoreError, match="no action nope"):
        store.update_action(f"O{next(_ids)}", "nope", "sent")


def test_a_missing_table_is_a_store_error_not_a_client_error(clients: dict[str, Any]) -> None:
    # GIVEN a store on a table that does not exist
    store = DynamoDBDecisionStore("no-such-table", client=clients["dynamodb"])
    # WHEN it reads THEN the provider error becomes a StoreError naming the table
    with pytest.raises(StoreError, match="no-such-table"):
        store.load("O1", "C1")


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
            at=T0 - timedelta(days=days),
        )

    retention = LedgerRetention(window=timedelta(days=30), keep_rules=frozenset({"once-ever"}))
    # WHEN the ledger is pruned
    kept = retention.prune([entry("a", 0), entry("a", 1), entry("a", 40), entry("once-ever", 40)])
    # THEN only the old entry of an ordinary rule is dropped
    assert sorted(e.action_id for e in kept) == ["a-0", "a-1", "once-ever-40"]


@pytest.mark.parametrize(
    ("code", "reasons", "error"),
    [
        ("ProvisionedThroughputExceededException", None, StoreError),
        ("TransactionCanceledException", [{"Code": "None"}, {"Code": "TransactionConflict"}], ConflictError),
        ("TransactionCanceledException", [{"Code": "ThrottlingError"}], StoreError),
    ],
)
def test_provider_errors_on_commit_become_domain_errors(
    table_name: str, code: str, reasons: list[dict[str, str]] | None, error: type[Exception]
) -> None:
    import boto3
    from botocore.stub import Stubber

    # GIVEN DynamoDB answering the transaction with a throttle, a conflict, or a throttled cancellation
    client = boto3.client("dynamodb", region_name="us-east-1")
    store = DynamoDBDecisionStore(table_name, client=client)
    event = _order_placed(f"O{next(_ids)}", f"C{next(_ids)}")
    loaded = _empty_load(event)  # no read: the stub answers only the write
    with Stubber(client) as stub:
        extra = {"CancellationReasons": reasons} if reasons is not None else {}
        stub.add_client_error("transact_write_items", code, "refused", modeled_fields=extra)
        # WHEN the decision is committed THEN a domain error comes out, never a botocore one
        with pytest.raises(error) as caught:
            store.commit(loaded, event, _decision(None, event, [_record(event, "rule-a")]))
    assert type(caught.value) is error
    assert event.id in str(caught.value) or table_name in str(caught.value)


def _empty_load(event: Event) -> Any:
    from touchpoints.journey import History
    from touchpoints.ports import StoredOrder

    customer = event.customer
    return StoredOrder(
        order_id=event.order_id,
        customer_id=customer.id if customer else None,
        state=None,
        history=History(order=[], customer=[]),
    )
