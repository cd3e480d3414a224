"""The table's rows and keys, and the codec between DynamoDB attribute values and the domain.

Rows are what DynamoDB holds, separate from the domain models: the domain can change shape
without a data migration as long as the row still parses, and the row names the keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from touchpoints.ports import StoreError
from touchpoints.timestamps import epoch_seconds, format_day, format_seconds, parse_strict

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord
    from touchpoints.journey import ContactEntry

__all__ = [
    "CUSTOMER_INDEX",
    "LEDGER_SK",
    "ORDERS_INDEX",
    "RULE_INDEX",
    "STATE_SK",
    "ActionRow",
    "CustomerLinkRow",
    "EventMarkerRow",
    "KeyMarkerRow",
    "LedgerRow",
    "StateRow",
    "action_sk",
    "customer_pk",
    "dump_state",
    "key_sk",
    "order_pk",
    "record_from_image",
]

CUSTOMER_INDEX = "by-customer"
RULE_INDEX = "by-rule"
ORDERS_INDEX = "orders-by-customer"
"""Sparse GSI on `gsi3pk` (KEYS_ONLY): every order whose journey named the customer, for `forget`."""
STATE_SK = "STATE"
LEDGER_SK = "CONTACTS"
ACTION_PREFIX = "ACTION#"
KEY_PREFIX = "KEY#"


def order_pk(order_id: str) -> str:
    """Partition of everything about one order."""
    return f"ORDER#{order_id}"


def customer_pk(customer_id: str) -> str:
    """Partition of a customer's contact ledger (and GSI key of their actions)."""
    return f"CUSTOMER#{customer_id}"


def key_sk(digest: str) -> str:
    """An idempotency marker's sort key: the digest of one business key of an applied event."""
    return f"{KEY_PREFIX}{digest}"


def action_sk(first_decided_at: datetime, action_id: str) -> str:
    """An action row's sort key: its first decision time (whole seconds) and its id."""
    return f"{ACTION_PREFIX}{format_seconds(first_decided_at)}#{action_id}"


def first_decided_at(sk: str) -> datetime:
    """The first decision time an action row's sort key names (the inverse of `action_sk`)."""
    return parse_strict(sk.split("#", 2)[1], derived=True)


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore")

    pk: str
    sk: str

    def to_item(self) -> dict[str, Any]:
        """The row as DynamoDB attribute values (strings, numbers and nulls only)."""
        return {name: attribute(value) for name, value in self.model_dump(mode="json").items()}

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
    """`ORDER#<id> / EVENT#<event id>`: the event was processed under this id, kept for dispatch."""

    event: str = Field(description="the EventBridge envelope JSON")
    processed_at: str
    expires_at: int


class KeyMarkerRow(_Row):
    """`ORDER#<id> / KEY#<digest>`: a business key applied to the order (idempotency, with a TTL).

    One per key of each applied event (its business key, and its idempotency key if it sent
    one): a copy of the fact under a new EventBridge id finds it when the state is read, and a
    racing copy's commit fails on it. Ids and a digest only, no personal data.
    """

    event_id: str = Field(description="the event that applied the key")
    expires_at: int


class ActionRow(_Row):
    """`ORDER#<id> / ACTION#<first decided_at>#<action id>`: one decision record, masked, with GSI keys.

    A released action (decided again when its timer fired) replaces its row: same key, same
    `decided_at` (the first decision's), so the index keys do not move; `released_at` says when.
    """

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
    released_at: str | None = None
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
    def of(cls, record: DecisionRecord, sk: str, expires: datetime | timedelta) -> ActionRow:
        """The row of a decision record (its address is already masked by decide).

        `expires` is when the row may go (the plan's `expires_at`), or a lifetime counted from the
        record's decision time.
        """
        data = record.model_dump(mode="json")
        decided = record.decided_at
        expires_at = decided + expires if isinstance(expires, timedelta) else expires
        return cls.model_validate(
            {
                **data,
                "pk": order_pk(record.order_id),
                "sk": sk,
                "gsi1pk": customer_pk(record.customer_id) if record.customer_id else None,
                "gsi1sk": f"{data['decided_at']}#{record.action_id}" if record.customer_id else None,
                "gsi2pk": f"RULE#{record.rule_id}",
                "gsi2sk": f"{format_day(decided)}#{data['decided_at']}#{record.action_id}",
                "expires_at": epoch_seconds(expires_at),
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


def record_from_image(image: Mapping[str, Any]) -> DecisionRecord:
    """The decision record of an action row given as plain values (a stream image, deserialized).

    Validated straight into the record (the row's keys and index attributes are ignored), once:
    the dispatcher has nothing else to parse. StoreError names the key of anything else.
    """
    from touchpoints.contract import DecisionRecord

    sk = image.get("sk")
    if not isinstance(sk, str) or not sk.startswith(ACTION_PREFIX):
        raise StoreError(f"not an action row: {image.get('pk')}/{sk}")
    try:
        return DecisionRecord.model_validate(image)
    except ValidationError as exc:
        raise StoreError(f"corrupt ActionRow {image.get('pk')}/{sk}: {exc}") from None


def record_from_item(item: Mapping[str, Any]) -> DecisionRecord:
    """The decision record of an action row as DynamoDB returned it (attribute values)."""
    return record_from_image({name: _plain(value) for name, value in item.items()})


def attribute(value: Any) -> dict[str, Any]:
    """A plain value as a DynamoDB attribute value."""
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


def parse_model(model: Any, raw: Any, row: _Row) -> Any:
    """A domain model from a row's JSON (or plain) field; StoreError names the row if it is corrupt."""
    try:
        if isinstance(raw, str):
            return model.model_validate_json(raw)
        return model.model_validate(raw)
    except ValidationError as exc:
        raise StoreError(f"corrupt {model.__name__} in {row.pk}/{row.sk}: {exc}") from None


def parse_entries(raw: str, row: _Row) -> list[ContactEntry]:
    """A row's ContactEntries JSON (order history, ledger, ledger snapshot)."""
    from touchpoints.journey import ContactEntry

    return [parse_model(ContactEntry, entry, row) for entry in json.loads(raw)]


def dump_entries(entries: Iterable[ContactEntry]) -> str:
    """ContactEntries as the JSON a row holds (UTF-8 as is: escaped, a 4-byte character takes 12)."""
    return json.dumps(
        [entry.model_dump(mode="json") for entry in entries], separators=(",", ":"), ensure_ascii=False
    )


def dump_state(state: BaseModel) -> str:
    """The journey as the STATE row holds it: JSON without the fields at their defaults.

    Parsing fills them in again (every journey field has a default), and the row, read and
    written on every event and priced per KB, is a tenth smaller (bench/state).
    """
    return state.model_dump_json(exclude_defaults=True)


def dump_json(value: Any) -> str:
    """Compact JSON, UTF-8 as is (the contract refuses lone surrogates)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
