"""GDPR erasure on the DynamoDB table (`touchpoints forget`): personal data out, the audit trail kept."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from touchpoints.adapters.dynamodb.queries import AuditQueries
from touchpoints.adapters.dynamodb.rows import (
    LEDGER_SK,
    STATE_SK,
    EventMarkerRow,
    LedgerRow,
    StateRow,
    customer_pk,
    dump_json,
    dump_state,
    order_pk,
    parse_model,
)
from touchpoints.adapters.dynamodb.table import error_code
from touchpoints.erasure import (
    ERASED,
    erase_event_fields,
    erased_journey,
    personal_values,
    scrub_text,
)
from touchpoints.ports import ForgetReport, StoreError

if TYPE_CHECKING:
    from touchpoints.journey import OrderJourney

__all__ = ["CustomerErasure"]


class CustomerErasure(AuditQueries):
    """`forget_customer`: finds the customer's orders through the audit reads, then erases item by item."""

    def forget_customer(self, customer_id: str) -> ForgetReport:
        """Erase a customer's personal data and keep the audit trail's shape (GDPR right to erasure).

        - the contact ledger `CUSTOMER#<id> / CONTACTS` is deleted;
        - their orders are found through the orders-by-customer index (every order whose journey
          named them, decided on or not), the by-customer index of decision records and the ledger;
        - every item of those orders is read first, and the customer's values collected from all of
          them (`personal_values`: emails, phones, names, who signed); then each item is scrubbed:
          the journey state loses the customer's email, phone and name and the parcels'
          `signed_by`; the stored events lose the same fields; the action rows' masked `address`
          becomes `[erased]`; and in every attribute of every item, each of those values (and, in
          free texts such as a provider's `error`, any address or phone number, masked or not)
          becomes `[erased]`.

        Action rows are never deleted and keep their status, rule and times: "how many messages
        did this rule send" still has the same answer. Safe to re-run; the STATE write is
        version-checked, so an event processed meanwhile is retried, never overwritten.
        """
        from touchpoints.journey import OrderJourney

        orders = set(self.orders_for_customer(customer_id))
        orders |= {record.order_id for record in self.records_for_customer(customer_id)}
        ledger_item = self._get(customer_pk(customer_id), LEDGER_SK)
        if ledger_item is not None:
            ledger: LedgerRow = LedgerRow.from_item(ledger_item)
            orders |= {entry["order_id"] for entry in json.loads(ledger.entries) if entry.get("order_id")}
        report = ForgetReport(customer_id=customer_id, orders=sorted(orders))
        items = {
            order_id: list(
                self._query(
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}},
                    ConsistentRead=True,
                )
            )
            for order_id in report.orders
        }
        states: list[OrderJourney | None] = []
        events: list[dict[str, Any]] = []
        for item in (item for order_items in items.values() for item in order_items):
            sk = str(item["sk"]["S"])
            if sk == STATE_SK:
                row: StateRow = StateRow.from_item(item)
                states.append(parse_model(OrderJourney, row.state, row))
            elif sk.startswith("EVENT#"):
                loaded = json.loads(EventMarkerRow.from_item(item).event)
                if isinstance(loaded, dict):
                    events.append(loaded)
        values = personal_values(customer_id, states, events)
        for order_id, order_items in items.items():
            for item in order_items:
                sk = str(item["sk"]["S"])
                if sk == STATE_SK:
                    report.states += self._erase_state(order_id, customer_id, values)
                elif sk.startswith("EVENT#"):
                    report.events += self._erase_event(item, customer_id, values)
                elif sk.startswith("ACTION#"):
                    report.actions += self._erase_action(item, customer_id, values)
        if ledger_item is not None:
            key = {"pk": {"S": customer_pk(customer_id)}, "sk": {"S": LEDGER_SK}}
            self._call("DeleteItem", TableName=self.table_name, Key=key)
            report.ledger_deleted = True
        return report

    def _erase_state(self, order_id: str, customer_id: str, values: frozenset[str], attempts: int = 5) -> int:
        """Blank the customer's contact fields, scrub the journey's texts (version-checked); 1 if changed."""
        from touchpoints.journey import OrderJourney

        for _ in range(attempts):
            item = self._get(order_pk(order_id), STATE_SK)
            if item is None:
                return 0
            row: StateRow = StateRow.from_item(item)
            state: OrderJourney = parse_model(OrderJourney, row.state, row)
            customer = state.customer
            if row.customer_id != customer_id and (customer is None or customer.id != customer_id):
                return 0
            erased = erased_journey(state, values)
            if erased == state and row.ledger_snapshot is None:
                return 0  # erased before
            updated = row.model_copy(
                update={
                    "state": dump_state(erased),
                    "version": row.version + 1,
                    "ledger_snapshot": None,
                    "ledger_version": 0,
                }
            )
            put = self._versioned_put(updated, row.version)["Put"]
            try:
                self._call("PutItem", **put)
            except StoreError as exc:
                if error_code(exc.__cause__) == "ConditionalCheckFailedException":
                    continue  # an event was committed meanwhile: erase its state instead
                raise
            return 1
        raise StoreError(f"order {order_id} kept changing while erasing customer {customer_id}; run again")

    def _erase_event(self, item: Mapping[str, Any], customer_id: str, values: frozenset[str]) -> int:
        """Drop the customer's contact fields from a stored event and scrub its texts; 1 if changed."""
        row: EventMarkerRow = EventMarkerRow.from_item(item)
        event = json.loads(row.event)
        if not isinstance(event, dict) or not erase_event_fields(event, customer_id, values):
            return 0
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": {"S": row.pk}, "sk": {"S": row.sk}},
            UpdateExpression="SET #event = :event",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#event": "event"},
            ExpressionAttributeValues={":event": {"S": dump_json(event)}},
        )
        return 1

    def _erase_action(self, item: Mapping[str, Any], customer_id: str, values: frozenset[str]) -> int:
        """`[erased]` for an action row's address, and every other text attribute scrubbed; 1 if changed.

        Status, rule, times and counts are untouched; so are the keys (they hold ids only).
        """
        owner = item.get("customer_id", {}).get("S")
        if owner not in (None, customer_id):
            return 0
        changes: dict[str, str] = {}
        address = item.get("address", {}).get("S")
        if address not in (None, ERASED):
            changes["address"] = ERASED
        for name, value in item.items():
            text = value.get("S") if isinstance(value, Mapping) else None
            if text is None or name in _KEY_ATTRIBUTES or name == "address":
                continue
            scrubbed = scrub_text(name, text, values)
            if scrubbed != text:
                changes[name] = scrubbed
        if not changes:
            return 0
        names = {f"#a{index}": name for index, name in enumerate(changes)}
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET " + ", ".join(f"{alias} = :v{alias[2:]}" for alias in names),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                f":v{alias[2:]}": {"S": changes[name]} for alias, name in names.items()
            },
        )
        return 1


_KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk"})
"""Table and index keys: ids and times only, and rewriting them would move the item."""
