"""The DecisionStore on one DynamoDB table: one read and one transactional write per event."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from touchpoints.erasure import ERASED, erase_event_fields, erased_journey
from touchpoints.ports import (
    ConflictError,
    DispatchView,
    DuplicateEventError,
    ForgetReport,
    StoredOrder,
    StoreError,
)
from touchpoints.timestamps import epoch_seconds, format_day, format_seconds

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from touchpoints.catalog import Catalog
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.journey import ContactEntry, OrderJourney
    from touchpoints.outcome import Decision

__all__ = [
    "CUSTOMER_INDEX",
    "ERASED",
    "ORDERS_INDEX",
    "RULE_INDEX",
    "ActionRow",
    "CustomerLinkRow",
    "DynamoDBDecisionStore",
    "EventMarkerRow",
    "ForgetReport",
    "LedgerRetention",
    "LedgerRow",
    "StateRow",
    "ledger_retention",
]

CUSTOMER_INDEX = "by-customer"
RULE_INDEX = "by-rule"
ORDERS_INDEX = "orders-by-customer"
"""Sparse GSI on `gsi3pk` (KEYS_ONLY): every order whose journey named the customer, for `forget`."""
STATE_SK = "STATE"
LEDGER_SK = "CONTACTS"
_DEFAULT_RETENTION = timedelta(days=400)


def order_pk(order_id: str) -> str:
    """Partition of everything about one order."""
    return f"ORDER#{order_id}"


def customer_pk(customer_id: str) -> str:
    """Partition of a customer's contact ledger (and GSI key of their actions)."""
    return f"CUSTOMER#{customer_id}"


# ---------------------------------------------------------------------------------------- rows
# Rows are what DynamoDB holds, separate from the domain models: the domain can change shape
# without a data migration as long as the row still parses, and the row names the keys.


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore")

    pk: str
    sk: str

    def to_item(self) -> dict[str, Any]:
        """The row as DynamoDB attribute values (strings, numbers and nulls only)."""
        return {name: _attribute(value) for name, value in self.model_dump(mode="json").items()}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Any:
        """Parse a DynamoDB item; StoreError names the key of a corrupt row."""
        plain = {name: _plain(value) for name, value in item.items()}
        try:
            return cls.model_validate(plain)
        except ValidationError as exc:
            raise StoreError(f"corrupt {cls.__name__} {plain.get('pk')}/{plain.get('sk')}: {exc}") from None


class StateRow(_Row):
    """`ORDER#<id> / STATE`: the journey, the order's history and the keys of its action rows."""

    customer_id: str | None = None
    state: str = Field(description="OrderJourney JSON")
    history: str = Field(default="[]", description="the order's ContactEntries, JSON")
    action_keys: str = Field(default="{}", description="action id -> sort key of its action row, JSON")
    version: int
    ledger_snapshot: str | None = Field(
        default=None, description="the customer's ledger entries as of this order's last commit, JSON"
    )
    ledger_version: int = Field(default=0, description="the ledger version the snapshot was taken at")
    gsi3pk: str | None = Field(
        default=None, description="CUSTOMER#<the journey's customer id>: the orders-by-customer index"
    )

    def to_item(self) -> dict[str, Any]:
        """Like every row, but without a null index key (an order that has not named its customer yet)."""
        item = super().to_item()
        if item.get("gsi3pk") == {"NULL": True}:
            del item["gsi3pk"]
        return item


class CustomerLinkRow(_Row):
    """`ORDER#<id> / CUSTOMER#<customer id>`: the order once named this customer, and no longer does.

    The STATE row indexes the journey's current customer only (a GSI key holds one value); when an
    order's customer id changes, this row keeps the previous id in the orders-by-customer index,
    so `forget` still finds the order from either id. Ids only, no personal data.
    """

    customer_id: str
    gsi3pk: str


class EventMarkerRow(_Row):
    """`ORDER#<id> / EVENT#<event id>`: the event was processed (idempotency), kept for dispatch."""

    event: str = Field(description="the EventBridge envelope JSON")
    processed_at: str
    expires_at: int


class ActionRow(_Row):
    """`ORDER#<id> / ACTION#<decided_at>#<action id>`: one decision record, masked, with GSI keys."""

    action_id: str
    order_id: str
    customer_id: str | None
    rule_id: str
    trigger: str
    event_id: str
    channel: str
    template: str | None
    locale: str
    status: str
    reason: str | None
    decided_at: str
    send_at: str
    catalog_version: str
    address: str | None
    detail_type: str | None = None
    message_id: str | None = None
    error: str | None = None
    gsi1pk: str | None = None
    gsi1sk: str | None = None
    gsi2pk: str
    gsi2sk: str
    expires_at: int

    @classmethod
    def of(cls, record: DecisionRecord, sk: str, retention: timedelta) -> ActionRow:
        """The row of a decision record (its address is already masked by decide)."""
        data = record.model_dump(mode="json")
        decided = record.decided_at
        return cls.model_validate(
            {
                **data,
                "pk": order_pk(record.order_id),
                "sk": sk,
                "gsi1pk": customer_pk(record.customer_id) if record.customer_id else None,
                "gsi1sk": f"{data['decided_at']}#{record.action_id}" if record.customer_id else None,
                "gsi2pk": f"RULE#{record.rule_id}",
                "gsi2sk": f"{format_day(decided)}#{data['decided_at']}#{record.action_id}",
                "expires_at": epoch_seconds(decided + retention),
            }
        )

    def to_record(self) -> DecisionRecord:
        """The decision record this row holds."""
        from touchpoints.contract import DecisionRecord

        return DecisionRecord.model_validate(self.model_dump())

    def to_item(self) -> dict[str, Any]:
        """Like every row, but without null GSI keys (a null key attribute is rejected by DynamoDB)."""
        item = super().to_item()
        for key in ("gsi1pk", "gsi1sk"):
            if item[key] == {"NULL": True}:
                del item[key]
        return item


class LedgerRow(_Row):
    """`CUSTOMER#<id> / CONTACTS`: the customer's recent contacts across orders, for caps and limits."""

    entries: str = Field(default="[]", description="ContactEntries JSON")
    version: int


def _attribute(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": str(value)}
    return {"S": str(value)}


def _plain(value: Mapping[str, Any]) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        number = value["N"]
        return int(number) if number.lstrip("-").isdigit() else float(number)
    if "BOOL" in value:
        return value["BOOL"]
    if "NULL" in value:
        return None
    raise StoreError(f"unexpected DynamoDB attribute type {sorted(value)}")


# ---------------------------------------------------------------------------------------- ledger


class LedgerRetention(BaseModel):
    """How long the contact ledger keeps an entry: the longest window any cap or limit looks at.

    Entries of rules with a lifetime customer-scoped limit (no `per`) are kept for good.
    """

    model_config = ConfigDict(frozen=True)

    window: timedelta = timedelta(days=35)
    keep_rules: frozenset[str] = frozenset()

    def prune(self, entries: Iterable[ContactEntry]) -> list[ContactEntry]:
        """Drop entries older than the window before the newest entry (the clock is the data's)."""
        kept = list(entries)
        if not kept:
            return kept
        newest = max(entry.at for entry in kept)
        return [e for e in kept if e.at >= newest - self.window or e.rule_id in self.keep_rules]


def ledger_retention(catalog: Catalog) -> LedgerRetention:
    """The retention the catalog needs: its longest cap, group or limit window."""
    windows: list[timedelta] = [timedelta(days=1)]
    keep: set[str] = set()
    policy: Any = catalog.policy
    for cap in getattr(policy, "caps", {}).values():
        windows.append(cap.per)
    for group in getattr(policy, "groups", {}).values():
        window = getattr(group, "window", None)
        if isinstance(window, timedelta):
            windows.append(window)
    for compiled in catalog.rules.values():
        limit = compiled.rule.limit
        if limit is None:
            continue
        if limit.per is not None:
            windows.append(limit.per)
        elif limit.scope == "customer":
            keep.add(compiled.rule.id)
    return LedgerRetention(window=max(windows) + timedelta(days=1), keep_rules=frozenset(keep))


# ---------------------------------------------------------------------------------------- erasure

# ERASED, ForgetReport and the erasure of a journey or an event are the port's (ports.py), shared
# with the in-memory store; they are re-exported here for the callers that imported them from here.


# ---------------------------------------------------------------------------------------- store


class DynamoDBDecisionStore:
    """DecisionStore on the single table of DESIGN.md "Storage".

    Reads per event: one `BatchGetItem` (STATE + the customer's CONTACTS) when the customer id is
    known, else one `GetItem` of STATE (the service then re-loads with the customer id found in
    the state: two reads for an event that does not carry its customer). Writes per event: one
    `TransactWriteItems` (marker, state, action rows, ledger); nothing for a duplicate.
    `calls` counts the DynamoDB requests this instance made, by operation name.
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        retention: timedelta = _DEFAULT_RETENTION,
        ledger: LedgerRetention | None = None,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self.retention = retention
        self.ledger = ledger or LedgerRetention()
        self.calls: dict[str, int] = {}
        self._keys_by_order: dict[str, dict[str, str]] = {}
        self._customer_by_order: dict[str, str | None] = {}

    @property
    def client(self) -> DynamoDBClient:
        """The boto3 client, created on first use (boto3 is imported only then)."""
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb", endpoint_url=self._endpoint_url, region_name=self._region)
        return self._client

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """Call DynamoDB, counting the call and turning provider errors into StoreError."""
        from botocore.exceptions import BotoCoreError, ClientError

        self.calls[operation] = self.calls.get(operation, 0) + 1
        method = getattr(self.client, _SNAKE[operation])
        try:
            return method(**kwargs)
        except ClientError as exc:
            if operation == "TransactWriteItems" and _error_code(exc) == "TransactionCanceledException":
                raise
            raise StoreError(f"DynamoDB {operation} on {self.table_name} failed: {_error_text(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB {operation} on {self.table_name} failed: {exc}") from exc

    # -- reads ----------------------------------------------------------------------------------

    def load(self, order_id: str, customer_id: str | None) -> StoredOrder:
        """Read the order's STATE and, when `customer_id` is given, the customer's ledger, in one request."""
        state_key = {"pk": {"S": order_pk(order_id)}, "sk": {"S": STATE_SK}}
        state_item: Mapping[str, Any] | None
        ledger_item: Mapping[str, Any] | None = None
        if customer_id is None:
            response = self._call("GetItem", TableName=self.table_name, Key=state_key, ConsistentRead=True)
            state_item = response.get("Item")
        else:
            ledger_key = {"pk": {"S": customer_pk(customer_id)}, "sk": {"S": LEDGER_SK}}
            items = self._batch_get([state_key, ledger_key])
            state_item = items.get((order_pk(order_id), STATE_SK))
            ledger_item = items.get((customer_pk(customer_id), LEDGER_SK))
        return self._stored(order_id, customer_id, state_item, ledger_item)

    def _batch_get(self, keys: list[dict[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
        found: dict[tuple[str, str], Mapping[str, Any]] = {}
        request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
        for _ in range(5):  # unprocessed keys come back under throttling: retry them, bounded
            response = self._call("BatchGetItem", RequestItems=request)
            for item in response.get("Responses", {}).get(self.table_name, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
        raise StoreError(f"DynamoDB BatchGetItem on {self.table_name}: keys stayed unprocessed (throttled)")

    def _stored(
        self,
        order_id: str,
        customer_id: str | None,
        state_item: Mapping[str, Any] | None,
        ledger_item: Mapping[str, Any] | None,
    ) -> StoredOrder:
        from touchpoints.journey import ContactEntry, History, OrderJourney

        state: OrderJourney | None = None
        snapshot: str | None = None
        self._keys_by_order[order_id] = {}
        self._customer_by_order[order_id] = None
        order_history: list[ContactEntry] = []
        state_version = 0
        if state_item is not None:
            row: StateRow = StateRow.from_item(state_item)
            state = _parse(OrderJourney, row.state, row)
            order_history = [_parse(ContactEntry, entry, row) for entry in json.loads(row.history)]
            state_version = row.version
            self._keys_by_order[order_id] = json.loads(row.action_keys)
            self._customer_by_order[order_id] = row.customer_id
            if customer_id is None:
                customer_id = row.customer_id
                snapshot = row.ledger_snapshot if row.customer_id is not None else None
        customer_history: list[ContactEntry] = []
        ledger_version = 0
        if snapshot is not None and state_item is not None:
            # The event did not name the customer: use the ledger as this order last saw it. The
            # commit checks the ledger's version, so a stale snapshot is a ConflictError, never a
            # wrong decision, and the retry reads the ledger itself.
            customer_history = [_parse(ContactEntry, entry, row) for entry in json.loads(snapshot)]
            ledger_version = row.ledger_version
        if ledger_item is not None:
            ledger: LedgerRow = LedgerRow.from_item(ledger_item)
            customer_history = [_parse(ContactEntry, entry, ledger) for entry in json.loads(ledger.entries)]
            ledger_version = ledger.version
        return StoredOrder(
            order_id=order_id,
            customer_id=customer_id,
            state=state,
            history=History(order=order_history, customer=customer_history),
            state_version=state_version,
            ledger_version=ledger_version,
            has_ledger=ledger_item is not None or snapshot is not None or customer_id is None,
        )

    def load_event(self, order_id: str, event_id: str) -> Event | None:
        """The event kept with its marker, or None."""
        from touchpoints.contract import parse_event

        key = {"pk": {"S": order_pk(order_id)}, "sk": {"S": f"EVENT#{event_id}"}}
        item = self._call("GetItem", TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        row: EventMarkerRow = EventMarkerRow.from_item(item)
        return parse_event(row.event)

    def load_action(self, record: DecisionRecord, row_key: str | None = None) -> DispatchView:
        """The dispatcher's one read: the action row, STATE, trigger event and ledger in one BatchGetItem.

        `row_key` is the action row's sort key (the stream record's `sk`). Without it the key comes
        from the STATE's action keys and the row costs one more GetItem: the key cannot be computed
        from the record, since a released action keeps the row (and key) of its first decision.
        Afterwards `update_action` knows the row's key, so each mark is a single UpdateItem.
        """
        from touchpoints.contract import parse_event

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
        known = self._keys_by_order[order_id]
        action_item: Mapping[str, Any] | None = None
        if row_key is not None:
            action_item = items.get((pk, row_key))
            if action_item is not None:
                known[action_id] = row_key
        elif action_id in known:
            key = {"pk": {"S": pk}, "sk": {"S": known[action_id]}}
            response = self._call("GetItem", TableName=self.table_name, Key=key, ConsistentRead=True)
            action_item = response.get("Item")
        action = ActionRow.from_item(action_item).to_record() if action_item is not None else None
        if action is not None and action.action_id != action_id:
            raise StoreError(f"row {pk}/{row_key} holds action {action.action_id}, not {action_id}")
        event_item = items.get((pk, event_sk))
        trigger = None
        if event_item is not None:
            marker: EventMarkerRow = EventMarkerRow.from_item(event_item)
            trigger = parse_event(marker.event)
        return DispatchView(action=action, order=order, trigger=trigger)

    def records_for_order(self, order_id: str) -> list[DecisionRecord]:
        """The order's action rows (one Query on its partition), oldest decision first."""
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}, ":prefix": {"S": "ACTION#"}},
            ConsistentRead=True,
        )
        return [ActionRow.from_item(item).to_record() for item in items]

    def records_for_customer(self, customer_id: str) -> list[DecisionRecord]:
        """The customer's action rows across orders (the by-customer GSI; audit only, never hot)."""
        items = self._query(
            IndexName=CUSTOMER_INDEX,
            KeyConditionExpression="gsi1pk = :pk",
            ExpressionAttributeValues={":pk": {"S": customer_pk(customer_id)}},
        )
        return [ActionRow.from_item(item).to_record() for item in items]

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

    def records_for_rule(self, rule_id: str, day: str | None = None) -> list[DecisionRecord]:
        """A rule's action rows (the by-rule GSI), optionally of one UTC day (`YYYY-MM-DD`)."""
        values: dict[str, Any] = {":pk": {"S": f"RULE#{rule_id}"}}
        condition = "gsi2pk = :pk"
        if day is not None:
            condition += " AND begins_with(gsi2sk, :day)"
            values[":day"] = {"S": f"{day}#"}
        items = self._query(
            IndexName=RULE_INDEX, KeyConditionExpression=condition, ExpressionAttributeValues=values
        )
        return [ActionRow.from_item(item).to_record() for item in items]

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

    def redrive_action(self, order_id: str, sk: str, now: datetime) -> bool:
        """Touch a `pending` action row without the in-flight mark, so the stream hands it to Dispatch again.

        The row changes only by `redriven_at`: its new image is `pending` with `error` null, which
        passes Dispatch's stream filter. False when it is no longer pending and unmarked (dispatched
        meanwhile): then nothing is written.
        """
        return self._update_if(
            order_id,
            sk,
            update="SET redriven_at = :now",
            condition=(
                "#status = :pending AND (attribute_not_exists(#error) OR attribute_type(#error, :null))"
            ),
            values={":now": {"S": format_seconds(now)}, ":pending": {"S": "pending"}, ":null": {"S": "NULL"}},
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

    def _update_if(
        self, order_id: str, sk: str, *, update: str, condition: str, values: dict[str, Any]
    ) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._call(
                "UpdateItem",
                TableName=self.table_name,
                Key={"pk": {"S": order_pk(order_id)}, "sk": {"S": sk}},
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues=values,
            )
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and _error_code(cause) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _query(self, **kwargs: Any) -> Iterator[Mapping[str, Any]]:
        start: Mapping[str, Any] | None = None
        while True:
            extra = {"ExclusiveStartKey": start} if start else {}
            response = self._call("Query", TableName=self.table_name, **kwargs, **extra)
            yield from response.get("Items", [])
            start = response.get("LastEvaluatedKey")
            if not start:
                return

    # -- writes ---------------------------------------------------------------------------------

    def commit(self, loaded: StoredOrder, event: Event, decision: Decision) -> None:
        """One TransactWriteItems: marker, state, action rows and ledger, each under its condition."""
        from botocore.exceptions import ClientError

        if decision.is_duplicate:
            return
        items, roles = self._transaction(loaded, event, decision)
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
                    f"event {event.id} was already processed for order {loaded.order_id}"
                ) from exc
            if failed or any(reason.get("Code") == "TransactionConflict" for reason in reasons):
                what = ", ".join(sorted(set(failed))) or "a concurrent transaction"
                raise ConflictError(
                    f"order {loaded.order_id} changed since it was loaded ({what}); event {event.id}"
                ) from exc
            raise StoreError(
                f"DynamoDB TransactWriteItems on {self.table_name} failed for event {event.id}: "
                f"{_error_text(exc)}"
            ) from exc

    def _transaction(
        self, loaded: StoredOrder, event: Event, decision: Decision
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The transaction's items and, in the same order, what each one is (for cancellation reasons)."""
        now = datetime.now(UTC)
        pk = order_pk(loaded.order_id)
        items: list[dict[str, Any]] = []
        roles: list[str] = []

        marker = EventMarkerRow(
            pk=pk,
            sk=f"EVENT#{event.id}",
            # UTF-8 as is (the contract refuses lone surrogates): escaped, a 4-byte character takes 12.
            event=json.dumps(event.to_dict(), separators=(",", ":"), ensure_ascii=False),
            processed_at=format_seconds(now),
            expires_at=epoch_seconds(event.time + self.retention),
        )
        items.append(self._put(marker, "attribute_not_exists(pk)"))
        roles.append("marker")

        action_keys = self._action_keys(loaded)
        new_keys: dict[str, str] = {}
        for record in decision.records:
            existing = action_keys.get(record.action_id)
            sk = existing or f"ACTION#{format_seconds(record.decided_at)}#{record.action_id}"
            new_keys[record.action_id] = sk
            row = ActionRow.of(record, sk, self.retention)
            # A released action (scheduled -> pending) replaces its row; a new one must be new.
            condition = "attribute_exists(pk)" if existing else "attribute_not_exists(pk)"
            items.append(self._put(row, condition))
            roles.append("action")

        history = _merge(loaded.history.order, decision.contacts)
        customer = decision.state.customer
        customer_id = loaded.customer_id
        ledger_entries: list[ContactEntry] | None = None
        ledger_row: LedgerRow | None = None
        if customer_id is not None:
            contacts = [entry for entry in decision.contacts if entry.customer_id in (None, customer_id)]
            ledger_entries = list(loaded.history.customer)
            if contacts:
                ledger_entries = self.ledger.prune(_merge(loaded.history.customer, contacts))
                ledger_row = LedgerRow(
                    pk=customer_pk(customer_id),
                    sk=LEDGER_SK,
                    entries=_dump_entries(ledger_entries),
                    version=loaded.ledger_version + 1,
                )
        state_customer = customer.id if customer is not None else customer_id
        # The orders-by-customer index: STATE carries the journey's customer; a customer id that
        # the order leaves behind keeps a link row, so the order is found from either id.
        previous = self._customer_by_order.get(loaded.order_id)
        if previous is not None and previous != state_customer:
            link = CustomerLinkRow(
                pk=pk, sk=customer_pk(previous), customer_id=previous, gsi3pk=customer_pk(previous)
            )
            items.append({"Put": {"TableName": self.table_name, "Item": link.to_item()}})
            roles.append("link")
        # The ledger as this transaction leaves it, kept with the state: the next event of this
        # order that does not name its customer decides on it without a second read.
        snapshot = ledger_entries is not None and state_customer == customer_id
        state_row = StateRow(
            pk=pk,
            sk=STATE_SK,
            customer_id=state_customer,
            state=decision.state.model_dump_json(),
            history=_dump_entries(history),
            action_keys=json.dumps({**action_keys, **new_keys}, separators=(",", ":"), sort_keys=True),
            version=loaded.state_version + 1,
            ledger_snapshot=_dump_entries(ledger_entries)
            if snapshot and ledger_entries is not None
            else None,
            ledger_version=(ledger_row.version if ledger_row is not None else loaded.ledger_version)
            if snapshot
            else 0,
            gsi3pk=customer_pk(state_customer) if state_customer is not None else None,
        )
        items.append(self._versioned_put(state_row, loaded.state_version))
        roles.append("state")

        if customer_id is not None:
            if ledger_row is not None:
                items.append(self._versioned_put(ledger_row, loaded.ledger_version))
            else:
                # Nothing to add, but the decision read the ledger: it must not have moved meanwhile.
                items.append(self._version_check(customer_pk(customer_id), LEDGER_SK, loaded.ledger_version))
            roles.append("ledger")
        return items, roles

    def _action_keys(self, loaded: StoredOrder) -> dict[str, str]:
        """Sort keys of the order's existing action rows, from the STATE item the last `load` read.

        StoredOrder (a port type) has no room for them, so `load` keeps them per order id; a
        commit always follows its load in the same instance (the service's load-decide-commit).
        """
        return dict(self._keys_by_order.get(loaded.order_id, {}))

    def _put(self, row: _Row, condition: str) -> dict[str, Any]:
        return {
            "Put": {"TableName": self.table_name, "Item": row.to_item(), "ConditionExpression": condition}
        }

    def _versioned_put(self, row: _Row, expected: int) -> dict[str, Any]:
        if expected == 0:
            return self._put(row, "attribute_not_exists(pk)")
        put = self._put(row, "#version = :expected")
        put["Put"]["ExpressionAttributeNames"] = {"#version": "version"}
        put["Put"]["ExpressionAttributeValues"] = {":expected": {"N": str(expected)}}
        return put

    def _version_check(self, pk: str, sk: str, expected: int) -> dict[str, Any]:
        check: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if expected:
            check["ConditionExpression"] = "#version = :expected"
            check["ExpressionAttributeNames"] = {"#version": "version"}
            check["ExpressionAttributeValues"] = {":expected": {"N": str(expected)}}
        return {"ConditionCheck": check}

    def update_action(
        self,
        order_id: str,
        action_id: str,
        status: str,
        message_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Mark an action row `sent`/`failed` (one Query for its sort key, one UpdateItem)."""
        sk = self._action_sk(order_id, action_id)
        if sk is None:
            raise StoreError(f"order {order_id} has no action {action_id}")
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": {"S": order_pk(order_id)}, "sk": {"S": sk}},
            UpdateExpression="SET #status = :status, message_id = :message_id, #error = :error",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status", "#error": "error"},
            ExpressionAttributeValues={
                ":status": {"S": status},
                ":message_id": _attribute(message_id),
                ":error": _attribute(error),
            },
        )

    def _action_sk(self, order_id: str, action_id: str) -> str | None:
        """The action row's sort key: from the order's STATE if loaded (the dispatcher does), else a Query."""
        known = self._keys_by_order.get(order_id, {}).get(action_id)
        if known is not None:
            return known
        items = self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            FilterExpression="action_id = :action_id",
            ProjectionExpression="sk",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(order_id)},
                ":prefix": {"S": "ACTION#"},
                ":action_id": {"S": action_id},
            },
            ConsistentRead=True,
        )
        for item in items:
            return str(item["sk"]["S"])
        return None

    # -- erasure (touchpoints forget) ---------------------------------------------------------------

    def forget_customer(self, customer_id: str) -> ForgetReport:
        """Erase a customer's personal data and keep the audit trail's shape (GDPR right to erasure).

        - the contact ledger `CUSTOMER#<id> / CONTACTS` is deleted;
        - in each of their orders (found through the orders-by-customer index, which lists every
          order whose journey named them, decided on or not, plus the by-customer index of decision
          records and the ledger), the journey state loses the customer's email, phone and name
          and the parcels' `signed_by`; the stored events lose the same fields; the action rows'
          masked `address` becomes `[erased]`.

        Action rows are never deleted and keep their status, rule and times: "how many messages
        did this rule send" still has the same answer. Safe to re-run; the STATE write is
        version-checked, so an event processed meanwhile is retried, never overwritten.
        """
        orders = set(self.orders_for_customer(customer_id))
        orders |= {record.order_id for record in self.records_for_customer(customer_id)}
        ledger_key = {"pk": {"S": customer_pk(customer_id)}, "sk": {"S": LEDGER_SK}}
        ledger_item = self._call(
            "GetItem", TableName=self.table_name, Key=ledger_key, ConsistentRead=True
        ).get("Item")
        if ledger_item is not None:
            ledger: LedgerRow = LedgerRow.from_item(ledger_item)
            orders |= {entry["order_id"] for entry in json.loads(ledger.entries) if entry.get("order_id")}
        report = ForgetReport(customer_id=customer_id, orders=sorted(orders))
        for order_id in report.orders:
            for item in list(
                self._query(
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": {"S": order_pk(order_id)}},
                    ConsistentRead=True,
                )
            ):
                sk = str(item["sk"]["S"])
                if sk == STATE_SK:
                    report.states += self._erase_state(order_id, customer_id)
                elif sk.startswith("EVENT#"):
                    report.events += self._erase_event(item, customer_id)
                elif sk.startswith("ACTION#"):
                    report.actions += self._erase_action(item, customer_id)
        if ledger_item is not None:
            self._call("DeleteItem", TableName=self.table_name, Key=ledger_key)
            report.ledger_deleted = True
        return report

    def _erase_state(self, order_id: str, customer_id: str, attempts: int = 5) -> int:
        """Blank the customer's contact fields in the journey (version-checked); 1 if changed."""
        from touchpoints.journey import OrderJourney

        key = {"pk": {"S": order_pk(order_id)}, "sk": {"S": STATE_SK}}
        for _ in range(attempts):
            item = self._call("GetItem", TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
            if item is None:
                return 0
            row: StateRow = StateRow.from_item(item)
            state: OrderJourney = _parse(OrderJourney, row.state, row)
            customer = state.customer
            if row.customer_id != customer_id and (customer is None or customer.id != customer_id):
                return 0
            erased = erased_journey(state)
            if erased == state and row.ledger_snapshot is None:
                return 0  # erased before
            updated = row.model_copy(
                update={
                    "state": erased.model_dump_json(),
                    "version": row.version + 1,
                    "ledger_snapshot": None,
                    "ledger_version": 0,
                }
            )
            put = self._versioned_put(updated, row.version)["Put"]
            try:
                self._call("PutItem", **put)
            except StoreError as exc:
                if _error_code(exc.__cause__) == "ConditionalCheckFailedException":
                    continue  # an event was committed meanwhile: erase its state instead
                raise
            return 1
        raise StoreError(f"order {order_id} kept changing while erasing customer {customer_id}; run again")

    def _erase_event(self, item: Mapping[str, Any], customer_id: str) -> int:
        """Drop the customer's contact fields from a stored event; 1 if changed."""
        row: EventMarkerRow = EventMarkerRow.from_item(item)
        event = json.loads(row.event)
        if not isinstance(event, dict) or not erase_event_fields(event, customer_id):
            return 0
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": {"S": row.pk}, "sk": {"S": row.sk}},
            UpdateExpression="SET #event = :event",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#event": "event"},
            ExpressionAttributeValues={
                ":event": {"S": json.dumps(event, separators=(",", ":"), ensure_ascii=False)}
            },
        )
        return 1

    def _erase_action(self, item: Mapping[str, Any], customer_id: str) -> int:
        """Replace an action row's masked address with `[erased]`, status and counts untouched."""
        address = item.get("address", {}).get("S")
        owner = item.get("customer_id", {}).get("S")
        if owner not in (None, customer_id) or address in (None, ERASED):
            return 0
        self._call(
            "UpdateItem",
            TableName=self.table_name,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET address = :erased",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":erased": {"S": ERASED}},
        )
        return 1


_SNAKE = {
    "GetItem": "get_item",
    "PutItem": "put_item",
    "DeleteItem": "delete_item",
    "BatchGetItem": "batch_get_item",
    "Query": "query",
    "TransactWriteItems": "transact_write_items",
    "UpdateItem": "update_item",
}


def _parse(model: Any, raw: Any, row: _Row) -> Any:
    try:
        if isinstance(raw, str):
            return model.model_validate_json(raw)
        return model.model_validate(raw)
    except ValidationError as exc:
        raise StoreError(f"corrupt {model.__name__} in {row.pk}/{row.sk}: {exc}") from None


def _merge(existing: Iterable[ContactEntry], added: Iterable[ContactEntry]) -> list[ContactEntry]:
    """Existing entries with `added` appended; an added entry replaces the one with its action id."""
    merged = {entry.action_id: entry for entry in existing}
    for entry in added:
        merged[entry.action_id] = entry
    return list(merged.values())


def _dump_entries(entries: Iterable[ContactEntry]) -> str:
    return json.dumps(
        [entry.model_dump(mode="json") for entry in entries], separators=(",", ":"), ensure_ascii=False
    )


def _error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _error_text(exc: Any) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', exc)}"
