"""DynamoDBDecisionStore on the table of template.yaml in moto: what only DynamoDB has (calls, items, keys).

The behaviour both stores share (locking, idempotency, reads, pruning) is in test_store_contract.py.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import store_cases as cases

from touchpoints.adapters.dynamodb import DynamoDBDecisionStore
from touchpoints.adapters.dynamodb.rows import action_sk
from touchpoints.contract import Event
from touchpoints.journey.state import SHORT_KEY, window_keys
from touchpoints.policy.retention import Retention
from touchpoints.ports import ConflictError, StoreError
from touchpoints.timestamps import epoch_seconds


@pytest.fixture
def store(clients: dict[str, Any], table_name: str) -> DynamoDBDecisionStore:
    return DynamoDBDecisionStore(table_name, client=clients["dynamodb"])


def test_commit_then_load_round_trips_state_history_and_ledger_in_one_read(
    store: DynamoDBDecisionStore,
) -> None:
    # GIVEN an order's first event committed with one pending action
    order_id, customer_id = f"O{next(cases.ids)}", f"C{next(cases.ids)}"
    event = cases.order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    record = cases.record(event, "order-confirmation")
    cases.commit(store, loaded, event, cases.decision(loaded.state, event, [record]))
    store.calls.clear()
    # WHEN the order is loaded again with its customer
    again = store.load(order_id, customer_id)
    # THEN one BatchGetItem returned the state, the order history, the ledger and both versions
    assert store.calls == {"BatchGetItem": 1}
    assert again.state is not None
    assert window_keys(again.state) == [key[:SHORT_KEY] for key in event.key_digests]
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
    order_id, customer_id = f"O{next(cases.ids)}", f"C{next(cases.ids)}"
    event = cases.order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    cases.commit(store, loaded, event, cases.decision(None, event, []))
    store.calls.clear()
    # WHEN it is loaded without the customer id (an event that does not carry the customer)
    again = store.load(order_id, None)
    # THEN one GetItem, and the customer id comes from the stored state
    assert store.calls == {"GetItem": 1}
    assert again.customer_id == customer_id


def test_commit_writes_everything_in_one_transaction(store: DynamoDBDecisionStore) -> None:
    # GIVEN a decision with two records
    order_id, customer_id = f"O{next(cases.ids)}", f"C{next(cases.ids)}"
    event = cases.order_placed(order_id, customer_id)
    loaded = store.load(order_id, customer_id)
    records = [cases.record(event, "rule-a"), cases.record(event, "rule-b")]
    store.calls.clear()
    # WHEN it is committed
    cases.commit(store, loaded, event, cases.decision(None, event, records))
    # THEN exactly one TransactWriteItems was made
    assert store.calls == {"TransactWriteItems": 1}
    assert {r.rule_id for r in store.records_for_order(order_id)} == {"rule-a", "rule-b"}


def test_marking_an_action_after_loading_its_order_is_a_single_update(store: DynamoDBDecisionStore) -> None:
    # GIVEN a pending action, and its order loaded (as the dispatcher does to render the message)
    order_id, customer_id = f"O{next(cases.ids)}", f"C{next(cases.ids)}"
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, store.load(order_id, customer_id), event, cases.decision(None, event, [record]))
    fresh = DynamoDBDecisionStore(store.table_name, client=store.client)
    loaded = fresh.load(order_id, customer_id)
    fresh.calls.clear()
    # WHEN it is marked failed, addressed by what the load returned (the store keeps nothing)
    fresh.update_action(
        order_id,
        record.action_id,
        "failed",
        error="SES refused",
        first_decided_at=loaded.actions[record.action_id],
    )
    # THEN the sort key came from the loaded state: one UpdateItem, no Query
    assert fresh.calls == {"UpdateItem": 1}
    (stored,) = store.records_for_order(order_id)
    assert (stored.status, stored.error) == ("failed", "SES refused")


def test_marking_an_action_without_its_address_looks_the_row_up_first(store: DynamoDBDecisionStore) -> None:
    # GIVEN a pending action, its order not loaded by this store
    order_id, customer_id = f"O{next(cases.ids)}", f"C{next(cases.ids)}"
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, store.load(order_id, customer_id), event, cases.decision(None, event, [record]))
    fresh = DynamoDBDecisionStore(store.table_name, client=store.client)
    # WHEN it is marked sent without `first_decided_at`
    fresh.update_action(order_id, record.action_id, "sent", message_id="m-1")
    # THEN one Query found the row, one UpdateItem marked it
    assert fresh.calls == {"Query": 1, "UpdateItem": 1}
    (stored,) = store.records_for_order(order_id)
    assert (stored.status, stored.message_id) == ("sent", "m-1")


def test_items_expire_at_the_plans_times_and_keys_name_the_first_decision(
    store: DynamoDBDecisionStore, clients: dict[str, Any], table_name: str
) -> None:
    # GIVEN a decision committed with a 30-day record lifetime
    order_id, customer_id = f"O{next(cases.ids)}", f"C{next(cases.ids)}"
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a", decided_at=cases.T0 + timedelta(seconds=7, microseconds=5))
    retention = Retention(record_ttl=timedelta(days=30))
    cases.commit(
        store,
        store.load(order_id, customer_id),
        event,
        cases.decision(None, event, [record]),
        retention=retention,
    )
    # WHEN the order's items are read raw
    items = clients["dynamodb"].query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
    )["Items"]
    by_kind = {item["sk"]["S"].split("#", 1)[0]: item for item in items}
    # THEN the marker expires 30 days after the event, the action 30 days after its decision, and the
    # marker's processing time is the caller's `now` (the store reads no clock)
    assert by_kind["EVENT"]["expires_at"] == {"N": str(epoch_seconds(event.time + timedelta(days=30)))}
    assert by_kind["EVENT"]["processed_at"] == {"S": "2026-03-01T10:00:05Z"}
    assert by_kind["ACTION"]["expires_at"] == {
        "N": str(epoch_seconds(record.decided_at + timedelta(days=30)))
    }
    # AND the action's key names its first decision in whole seconds
    assert by_kind["ACTION"]["sk"] == {"S": f"ACTION#2026-03-01T10:00:07Z#{record.action_id}"}
    assert store.load(order_id, customer_id).actions == {record.action_id: cases.T0 + timedelta(seconds=7)}


def test_a_customer_id_the_order_leaves_behind_keeps_a_link_row(
    store: DynamoDBDecisionStore, clients: dict[str, Any], table_name: str
) -> None:
    # GIVEN an order committed under one customer id, then under another
    order_id, old_id, new_id = f"O{next(cases.ids)}", f"C{next(cases.ids)}", f"C{next(cases.ids)}"
    first = cases.order_placed(order_id, old_id)
    cases.commit(store, store.load(order_id, old_id), first, cases.decision(None, first, []))
    loaded = store.load(order_id, new_id)
    second = cases.order_event(order_id, new_id)
    cases.commit(store, loaded, second, cases.decision(loaded.state, second, []))
    # WHEN the order's items are read raw
    items = clients["dynamodb"].query(
        TableName=table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :customer)",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}, ":customer": {"S": "CUSTOMER#"}},
    )["Items"]
    # THEN one link row keeps the old id in the orders-by-customer index (ids only)
    assert [(item["sk"]["S"], item["gsi3pk"]["S"]) for item in items] == [
        (f"CUSTOMER#{old_id}", f"CUSTOMER#{old_id}")
    ]
    assert set(items[0]) == {"pk", "sk", "customer_id", "gsi3pk"}


def test_the_dispatchers_read_takes_the_stored_trigger_on_the_contracts_fast_path(
    store: DynamoDBDecisionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import touchpoints.contract

    # GIVEN a pending action whose trigger event the marker keeps (our own validated JSON)
    order_id, customer_id = f"O{next(cases.ids)}", f"C{next(cases.ids)}"
    event = cases.order_placed(order_id, customer_id)
    record = cases.record(event, "rule-a")
    cases.commit(store, store.load(order_id, customer_id), event, cases.decision(None, event, [record]))
    first = store.load(order_id, customer_id).actions[record.action_id]

    # WHEN the dispatcher reads it with the stream row's key, the full validating parser unavailable
    def no_second_validation(raw: Any) -> Any:
        raise AssertionError("the stored trigger was validated again")

    monkeypatch.setattr(touchpoints.contract, "parse_event", no_second_validation)
    store.calls.clear()
    view = store.load_action(record, action_sk(first, record.action_id))
    # THEN one BatchGetItem brought the action, its order and the trigger, parsed once
    assert store.calls == {"BatchGetItem": 1}
    assert (view.action, view.trigger) == (record, event)
    assert view.order.actions == {record.action_id: first}


def test_a_missing_table_is_a_store_error_not_a_client_error(clients: dict[str, Any]) -> None:
    # GIVEN a store on a table that does not exist
    store = DynamoDBDecisionStore("no-such-table", client=clients["dynamodb"])
    # WHEN it reads THEN the provider error becomes a StoreError naming the table
    with pytest.raises(StoreError, match="no-such-table"):
        store.load("O1", "C1")


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
    event = cases.order_placed(f"O{next(cases.ids)}", f"C{next(cases.ids)}")
    loaded = _empty_load(event)  # no read: the stub answers only the write
    with Stubber(client) as stub:
        extra = {"CancellationReasons": reasons} if reasons is not None else {}
        stub.add_client_error("transact_write_items", code, "refused", modeled_fields=extra)
        # WHEN the decision is committed THEN a domain error comes out, never a botocore one
        with pytest.raises(error) as caught:
            cases.commit(store, loaded, event, cases.decision(None, event, [cases.record(event, "rule-a")]))
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
