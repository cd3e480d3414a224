"""The DecisionStore on one DynamoDB table, its hot path: one read and one transactional write per event.

`load` and `load_action` read; `commit` writes a `CommitPlan` (computed in the core, see
`touchpoints.commit`) as one TransactWriteItems; `update_action` marks a dispatched action. The
store keeps nothing between calls: what a commit or a mark needs comes in with the plan or call.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from touchpoints.adapters.dynamodb.erasure import CustomerErasure
from touchpoints.adapters.dynamodb.rows import (
    ACTION_PREFIX,
    LEDGER_SK,
    STATE_SK,
    ActionRow,
    CustomerLinkRow,
    EventMarkerRow,
    KeyMarkerRow,
    LedgerRow,
    StateRow,
    action_sk,
    attribute,
    customer_pk,
    dump_entries,
    dump_json,
    dump_state,
    first_decided_at,
    key_sk,
    order_pk,
    parse_entries,
    parse_model,
    record_from_item,
)
from touchpoints.adapters.dynamodb.table import error_text
from touchpoints.ports import ConflictError, DispatchView, DuplicateEventError, StoredOrder, StoreError
from touchpoints.timestamps import epoch_seconds, format_seconds

if TYPE_CHECKING:
    from touchpoints.commit import CommitPlan
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.journey import ContactEntry, OrderJourney

__all__ = ["DynamoDBDecisionStore"]


class DynamoDBDecisionStore(CustomerErasure):
    """DecisionStore on the single table of DESIGN.md "Storage".

    Reads per event: one `BatchGetItem` (STATE, the customer's CONTACTS when the customer id is
    known, and the event's `KEY#` markers); without keys or customer a `GetItem` of STATE. An
    event that does not carry its customer may cost a second read (the service re-loads with the
    customer id found in the state when the state holds no copy of the ledger). Writes per event:
    one `TransactWriteItems` (markers, state, action rows, ledger); nothing for a duplicate.
    `calls` counts the DynamoDB requests this instance made, by operation name.
    """

    # -- reads ----------------------------------------------------------------------------------

    def load(self, order_id: str, customer_id: str | None, keys: Sequence[str] = ()) -> StoredOrder:
        """One request: the order's STATE, the customer's ledger (with `customer_id`), `keys`' markers."""
        pk = order_pk(order_id)
        if customer_id is None and not keys:
            return self._stored(order_id, None, self._get(pk, STATE_SK), None)
        request = [{"pk": {"S": pk}, "sk": {"S": STATE_SK}}]
        if customer_id is not None:
            request.append({"pk": {"S": customer_pk(customer_id)}, "sk": {"S": LEDGER_SK}})
        request.extend({"pk": {"S": pk}, "sk": {"S": key_sk(key)}} for key in dict.fromkeys(keys))
        items = self._batch_get(request)
        stored = self._stored(
            order_id,
            customer_id,
            items.get((pk, STATE_SK)),
            items.get((customer_pk(customer_id), LEDGER_SK)) if customer_id is not None else None,
        )
        for key in keys:
            marker = items.get((pk, key_sk(key)))
            if marker is not None:
                row: KeyMarkerRow = KeyMarkerRow.from_item(marker)
                return dataclasses.replace(stored, applied_by=row.event_id)
        return stored

    def _stored(
        self,
        order_id: str,
        customer_id: str | None,
        state_item: Mapping[str, Any] | None,
        ledger_item: Mapping[str, Any] | None,
    ) -> StoredOrder:
        from touchpoints.journey import History, OrderJourney

        state: OrderJourney | None = None
        snapshot: str | None = None
        order_history: list[ContactEntry] = []
        actions: dict[str, datetime] = {}
        indexed: str | None = None
        state_version = 0
        if state_item is not None:
            row: StateRow = StateRow.from_item(state_item)
            state = parse_model(OrderJourney, row.state, row)
            order_history = parse_entries(row.history, row)
            state_version = row.version
            actions = {
                action_id: first_decided_at(sk) for action_id, sk in json.loads(row.action_keys).items()
            }
            indexed = row.customer_id
            if customer_id is None:
                customer_id = row.customer_id
                snapshot = row.ledger_snapshot if row.customer_id is not None else None
        customer_history: list[ContactEntry] = []
        ledger_version = 0
        if snapshot is not None and state_item is not None:
            # The event did not name the customer: use the ledger as this order last saw it. The
            # commit checks the ledger's version, so a stale snapshot is a ConflictError, never a
            # wrong decision, and the retry reads the ledger itself.
            customer_history = parse_entries(snapshot, row)
            ledger_version = row.ledger_version
        if ledger_item is not None:
            ledger: LedgerRow = LedgerRow.from_item(ledger_item)
            customer_history = parse_entries(ledger.entries, ledger)
            ledger_version = ledger.version
        return StoredOrder(
            order_id=order_id,
            customer_id=customer_id,
            state=state,
            history=History(order=order_history, customer=customer_history),
            state_version=state_version,
            ledger_version=ledger_version,
            has_ledger=ledger_item is not None or snapshot is not None or customer_id is None,
            actions=actions,
            indexed_customer_id=indexed,
        )

    def load_event(self, order_id: str, event_id: str) -> Event | None:
        """The event kept with its marker, or None."""
        item = self._get(order_pk(order_id), f"EVENT#{event_id}")
        return _trigger(item) if item is not None else None

    def load_action(self, record: DecisionRecord, row_key: str | None = None) -> DispatchView:
        """The dispatcher's one read: the action row, STATE, trigger event and ledger in one BatchGetItem.

        `row_key` is the action row's sort key (the stream record's `sk`). Without it the key comes
        from the STATE's action keys and the row costs one more GetItem: the key cannot be computed
        from the record, since a released action keeps the row (and key) of its first decision.
        The returned order's `actions` address the row for `update_action` (a single UpdateItem).
        """
        order_id, action_id = record.order_id, record.action_id
        pk = order_pk(order_id)
        event_sk = f"EVENT#{record.event_id}"
        keys = [{"pk": {"S": pk}, "sk": {"S": STATE_SK}}, {"pk": {"S": pk}, "sk": {"S": event_sk}}]
        if record.customer_id is not None:
            keys.append({"pk": {"S": customer_pk(record.customer_id)}, "sk": {"S": LEDGER_SK}})
        if row_key is not None:
            keys.append({"pk": {"S": pk}, "sk": {"S": row_key}})
        items = self._batch_get(keys)
        ledger_item = items.get((customer_pk(record.customer_id), LEDGER_SK)) if record.customer_id else None
        order = self._stored(order_id, record.customer_id, items.get((pk, STATE_SK)), ledger_item)
        action_item: Mapping[str, Any] | None = None
        if row_key is not None:
            action_item = items.get((pk, row_key))
        elif action_id in order.actions:
            action_item = self._get(pk, action_sk(order.actions[action_id], action_id))
        action = record_from_item(action_item) if action_item is not None else None
        if action is not None and action.action_id != action_id:
            raise StoreError(f"row {pk}/{row_key} holds action {action.action_id}, not {action_id}")
        if row_key is not None and action is not None and action_id not in order.actions:
            # Not indexed (final when decided, e.g. a redriven row): its key addresses the marks.
            order = dataclasses.replace(
                order, actions={**order.actions, action_id: first_decided_at(row_key)}
            )
        event_item = items.get((pk, event_sk))
        return DispatchView(
            action=action, order=order, trigger=_trigger(event_item) if event_item is not None else None
        )

    # -- writes ---------------------------------------------------------------------------------

    def commit(self, plan: CommitPlan) -> None:
        """One TransactWriteItems: marker, state, action rows and ledger, each under its condition."""
        from botocore.exceptions import ClientError

        items, roles = self._transaction(plan)
        event = plan.event
        try:
            self._call("TransactWriteItems", TransactItems=items)
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons", [])
            failed = [
                roles[index]
                for index, reason in enumerate(reasons)
                if reason.get("Code") == "ConditionalCheckFailed" and index < len(roles)
            ]
            if "marker" in failed:
                raise DuplicateEventError(
                    f"event {event.id} was already processed for order {plan.order_id} "
                    "(its id or its business key is stored)"
                ) from exc
            if "action" in failed and not {"state", "ledger", "release"} & set(failed):
                # A new action row exists although no version moved: this fact was decided before
                # (its markers are gone, e.g. expired). Retrying would fail the same way forever.
                raise DuplicateEventError(
                    f"event {event.id}: an action it decides already exists for order {plan.order_id}"
                ) from exc
            if failed or any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                what = ", ".join(sorted(set(failed))) or "a concurrent transaction"
                raise ConflictError(
                    f"order {plan.order_id} changed since it was loaded ({what}); event {event.id}"
                ) from exc
            raise StoreError(
                f"DynamoDB TransactWriteItems on {self.table_name} failed for event {event.id}: "
                f"{error_text(exc)}"
            ) from exc

    def _transaction(self, plan: CommitPlan) -> tuple[list[dict[str, Any]], list[str]]:
        """The plan as the transaction's items, and what each one is (to read cancellation reasons)."""
        pk = order_pk(plan.order_id)
        items: list[dict[str, Any]] = []
        roles: list[str] = []

        event = plan.event
        marker = EventMarkerRow(
            pk=pk,
            sk=f"EVENT#{event.id}",
            event=dump_json(event.to_dict()),
            processed_at=format_seconds(plan.processed_at),
            expires_at=epoch_seconds(plan.marker_expires_at),
        )
        items.append(self._put(marker, "attribute_not_exists(pk)"))
        roles.append("marker")
        for key in event.key_digests:
            applied = KeyMarkerRow(
                pk=pk, sk=key_sk(key), event_id=event.id, expires_at=epoch_seconds(plan.marker_expires_at)
            )
            items.append(self._put(applied, "attribute_not_exists(pk)"))
            roles.append("marker")

        for write in plan.actions:
            row = ActionRow.of(
                write.record, action_sk(write.first_decided_at, write.record.action_id), write.expires_at
            )
            # A released action (scheduled -> pending) replaces its row; a new one must be new.
            items.append(
                self._put(row, "attribute_exists(pk)" if write.replaces else "attribute_not_exists(pk)")
            )
            roles.append("release" if write.replaces else "action")

        customer_id = plan.ledger_customer_id
        ledger_version = plan.ledger_version + 1 if plan.is_ledger_changed else plan.ledger_version
        indexed = plan.indexed_customer_id
        linked = plan.linked_customer_id
        if linked is not None:
            link = CustomerLinkRow(
                pk=pk, sk=customer_pk(linked), customer_id=linked, gsi3pk=customer_pk(linked)
            )
            items.append({"Put": {"TableName": self.table_name, "Item": link.to_item()}})
            roles.append("link")
        # The ledger as this transaction leaves it, kept with the state: the next event of this
        # order that does not name its customer decides on it without a second read.
        snapshot = customer_id is not None and indexed == customer_id
        state_row = StateRow(
            pk=pk,
            sk=STATE_SK,
            customer_id=indexed,
            state=dump_state(plan.state),
            history=dump_entries(plan.order_history),
            action_keys=json.dumps(
                {action_id: action_sk(first, action_id) for action_id, first in plan.action_index.items()},
                separators=(",", ":"),
                sort_keys=True,
            ),
            version=plan.state_version + 1,
            ledger_snapshot=dump_entries(plan.ledger) if snapshot else None,
            ledger_version=ledger_version if snapshot else 0,
            gsi3pk=customer_pk(indexed) if indexed is not None else None,
        )
        items.append(self._versioned_put(state_row, plan.state_version))
        roles.append("state")

        if customer_id is not None:
            if plan.is_ledger_changed:
                ledger_row = LedgerRow(
                    pk=customer_pk(customer_id),
                    sk=LEDGER_SK,
                    entries=dump_entries(plan.ledger),
                    version=ledger_version,
                )
                items.append(self._versioned_put(ledger_row, plan.ledger_version))
            else:
                # Nothing to add, but the decision read the ledger: it must not have moved meanwhile.
                items.append(self._version_check(customer_pk(customer_id), LEDGER_SK, plan.ledger_version))
            roles.append("ledger")
        return items, roles

    def update_action(
        self,
        order_id: str,
        action_id: str,
        status: str,
        message_id: str | None = None,
        error: str | None = None,
        *,
        first_decided_at: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        """Mark an action row `sent`/`failed` (or `suppressed` with a `reason`): one UpdateItem.

        The row is the one `first_decided_at` addresses; without it the row's sort key is looked
        up first (one Query). `reason`, when given, is set too (`expired`, `template_error`);
        otherwise the row's reason is left alone.
        """
        if first_decided_at is not None:
            sk: str | None = action_sk(first_decided_at, action_id)
        else:
            sk = self._action_sk(order_id, action_id)
        if sk is None:
            raise StoreError(f"order {order_id} has no action {action_id}")
        update = "SET #status = :status, message_id = :message_id, #error = :error"
        names = {"#status": "status", "#error": "error"}
        values = {":status": {"S": status}, ":message_id": attribute(message_id), ":error": attribute(error)}
        if reason is not None:
            update += ", #reason = :reason"
            names["#reason"] = "reason"
            values[":reason"] = {"S": reason}
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": {"S": order_pk(order_id)}, "sk": {"S": sk}},
            UpdateExpression=update,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def _action_sk(self, order_id: str, action_id: str) -> str | None:
        """The action row's sort key, found by a Query of the order's partition (None: no such action)."""
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            FilterExpression="action_id = :action_id",
            ProjectionExpression="sk",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(order_id)},
                ":prefix": {"S": ACTION_PREFIX},
                ":action_id": {"S": action_id},
            },
            ConsistentRead=True,
        )
        for item in items:
            return str(item["sk"]["S"])
        return None


def _trigger(item: Mapping[str, Any]) -> Event:
    """The event kept with a marker: our own validated JSON, read on the contract's fast path."""
    from touchpoints.contract import parse_event, parse_valid_event_json

    marker: EventMarkerRow = EventMarkerRow.from_item(item)
    return parse_valid_event_json(marker.event) or parse_event(marker.event)
