"""The audit and redrive reads of the DynamoDB store: records by order, customer and rule, stale actions.

None of these is on the hot path (an event or a dispatch); they serve `touchpoints audit`,
`touchpoints redrive` and `touchpoints forget`, through the table's partitions and its indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from touchpoints.adapters.dynamodb.rows import (
    ACTION_PREFIX,
    CUSTOMER_INDEX,
    ORDERS_INDEX,
    RULE_INDEX,
    ActionRow,
    customer_pk,
    order_pk,
    record_from_item,
)
from touchpoints.adapters.dynamodb.table import DynamoDBTable
from touchpoints.timestamps import format_seconds

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord

__all__ = ["AuditQueries"]


class AuditQueries(DynamoDBTable):
    """Reads for audit, erasure and redrive, and the conditional writes `touchpoints redrive` makes."""

    def records_for_order(self, order_id: str) -> list[DecisionRecord]:
        """The order's action rows (one Query on its partition), oldest decision first."""
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}, ":prefix": {"S": ACTION_PREFIX}},
            ConsistentRead=True,
        )
        return [record_from_item(item) for item in items]

    def records_for_customer(self, customer_id: str) -> list[DecisionRecord]:
        """The customer's action rows across orders (the by-customer GSI; audit only, never hot)."""
        items = self._query(
            IndexName=CUSTOMER_INDEX,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": customer_pk(customer_id)}},
        )
        return [record_from_item(item) for item in items]

    def orders_for_customer(self, customer_id: str) -> list[str]:
        """Every order whose journey ever named the customer (the orders-by-customer index, paginated).

        The index is a GSI, so an order committed a moment ago may be missing for a moment:
        `forget_customer` also looks at the decision records and the ledger.
        """
        items = self._query(
            IndexName=ORDERS_INDEX,
            KeyConditionExpression="gsi3pk = :pk",
            ExpressionAttributeValues={":pk": {"S": customer_pk(customer_id)}},
        )
        prefix = order_pk("")
        return sorted({str(item["pk"]["S"]).removeprefix(prefix) for item in items})

    def records_for_rule(
        self, rule_id: str, day: str | None = None, *, since: datetime | None = None
    ) -> list[DecisionRecord]:
        """A rule's action rows (the by-rule GSI): of one UTC day (`YYYY-MM-DD`), or from `since`'s day on.

        `since` narrows the index's key range to the days from its UTC day, then drops the rows
        decided before it (`touchpoints report --table --since`).
        """
        values: dict[str, Any] = {":pk": {"S": f"RULE#{rule_id}"}}
        condition = "gsi2pk = :pk"
        if day is not None:
            condition += " AND begins_with(gsi2sk, :day)"
            values[":day"] = {"S": f"{day}#"}
        elif since is not None:
            condition += " AND gsi2sk >= :since"
            values[":since"] = {"S": f"{since.astimezone(UTC):%Y-%m-%d}#"}
        items = self._query(
            IndexName=RULE_INDEX, KeyConditionExpression=condition, ExpressionAttributeValues=values
        )
        records = [record_from_item(item) for item in items]
        return records if since is None else [r for r in records if r.decided_at >= since]

    def stale_pending_actions(
        self, rule_ids: Iterable[str], *, decided_since: datetime, due_before: datetime
    ) -> list[tuple[DecisionRecord, str]]:
        """`pending` action rows due before `due_before`, decided since `decided_since`, with their sort keys.

        Dispatch takes a pending action within seconds of its stream record; one still pending long
        after its `send_at` lost its stream record (its retries ended in the dispatch DLQ, which
        holds only the stream position, not the record) or stopped in flight. `touchpoints redrive`
        finds them here: one by-rule index Query per rule per UTC day, filtered to `pending`.
        """
        found: list[tuple[DecisionRecord, str]] = []
        start = decided_since.astimezone(UTC).date()
        days = [
            start + timedelta(days=n) for n in range((due_before.astimezone(UTC).date() - start).days + 1)
        ]
        for rule_id in rule_ids:
            for day in days:
                items = self._query(
                    IndexName=RULE_INDEX,
                    KeyConditionExpression="gsi2pk = :pk AND begins_with(gsi2sk, :day)",
                    FilterExpression="#status = :pending AND send_at < :due",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":pk": {"S": f"RULE#{rule_id}"},
                        ":day": {"S": f"{day:%Y-%m-%d}#"},
                        ":pending": {"S": "pending"},
                        ":due": {"S": format_seconds(due_before)},
                    },
                )
                for item in items:
                    row: ActionRow = ActionRow.from_item(item)
                    if row.decided_at >= format_seconds(decided_since):
                        found.append((row.to_record(), row.sk))
        return found

    def redrive_action(
        self, order_id: str, sk: str, now: datetime, *, retry_prefix: str | None = None
    ) -> bool:
        """Touch a `pending` action row without the in-flight mark, so the stream hands it to Dispatch again.

        The row gets `redriven_at`, and `error` becomes null: its new image is `pending` with
        `error` null, which passes Dispatch's stream filter. A row whose `error` starts with
        `retry_prefix` (its last attempt certainly did not send, or was to be sent again) is
        redriven too. False when it is no longer pending and unmarked (dispatched meanwhile):
        then nothing is written.
        """
        condition = "#status = :pending AND (attribute_not_exists(#error) OR attribute_type(#error, :null)"
        values: dict[str, Any] = {
            ":now": {"S": format_seconds(now)},
            ":pending": {"S": "pending"},
            ":null": {"S": "NULL"},
            ":none": {"NULL": True},
        }
        if retry_prefix:
            condition += " OR begins_with(#error, :retry)"
            values[":retry"] = {"S": retry_prefix}
        update = "SET redriven_at = :now, #error = :none"
        return self._update_if(order_id, sk, update=update, condition=condition + ")", values=values)

    def expire_action(self, order_id: str, sk: str) -> bool:
        """Record `suppressed` / `expired` for a `pending` action without the in-flight mark.

        For `touchpoints redrive`: an overdue action past its rule's `expires_after` is not handed
        back to Dispatch. False when the row is no longer pending and unmarked: nothing is written.
        """
        return self._update_if(
            order_id,
            sk,
            update="SET #status = :suppressed, #reason = :expired",
            condition=(
                "#status = :pending AND (attribute_not_exists(#error) OR attribute_type(#error, :null))"
            ),
            values={
                ":suppressed": {"S": "suppressed"},
                ":expired": {"S": "expired"},
                ":pending": {"S": "pending"},
                ":null": {"S": "NULL"},
            },
            names={"#reason": "reason"},
        )

    def settle_in_flight(self, order_id: str, sk: str, *, mark: str, error: str) -> bool:
        """Record `failed` with `error` for a `pending` action still carrying the in-flight `mark`.

        Nobody can know whether the provider took its message, so it is never sent again; the audit
        says why. False when the row is not (any more) pending with that mark: nothing is written.
        """
        return self._update_if(
            order_id,
            sk,
            update="SET #status = :failed, #error = :error",
            condition="#status = :pending AND #error = :mark",
            values={
                ":failed": {"S": "failed"},
                ":error": {"S": error},
                ":pending": {"S": "pending"},
                ":mark": {"S": mark},
            },
        )
