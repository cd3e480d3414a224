"""What one event costs in DynamoDB: item sizes and capacity units, metered on the real handler's client.

Used by tests/integration/test_state_budget.py and bench/state/bench.py. moto does not report
consumed capacity, so the units are computed here from what the client sends and receives, with
DynamoDB's documented rules (Developer Guide, "Read/write capacity mode" and "Item sizes"):

- item size: for each attribute, the UTF-8 length of its name plus its value (a string: its UTF-8
  length; a number: 1 byte plus 1 per two significant digits; a boolean or null: 1 byte);
- a strongly consistent read (what the store's `GetItem` and `BatchGetItem` ask for): 1 RCU per
  4 KB of each item, rounded up per item, and 1 RCU for a key that holds no item;
- a transactional write (`TransactWriteItems`): 2 WCU per 1 KB of each item, rounded up per item;
  a `Put` counts the larger of the new item and the one it replaces, a `ConditionCheck` the item
  it checks. Global secondary index writes are not counted (base table only).

Sizes of items written or read earlier are remembered by key, so a Put knows what it replaces and
a ConditionCheck what it checks.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = ["CapacityMeter", "Cost", "attribute_value_size", "item_size", "tracking_order"]

_KB = 1024


def attribute_value_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value (S, N, BOOL, NULL, and nested M / L)."""
    if "S" in value:
        return len(value["S"].encode())
    if "N" in value:
        digits = value["N"].lstrip("-").replace(".", "").strip("0") or "0"
        return 1 + math.ceil(len(digits) / 2)
    if "BOOL" in value or "NULL" in value:
        return 1
    if "M" in value:
        return 3 + sum(len(k.encode()) + attribute_value_size(v) + 1 for k, v in value["M"].items())
    if "L" in value:
        return 3 + sum(attribute_value_size(v) + 1 for v in value["L"])
    raise ValueError(f"unsupported attribute value {sorted(value)}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """An item's size in bytes, as DynamoDB counts it for capacity and for its 400 KB limit."""
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in item.items())


def _key(item: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    return (item["pk"]["S"], item["sk"]["S"])


@dataclass
class Cost:
    """The capacity one event consumed, and the STATE item its commit wrote."""

    read_units: float = 0.0
    write_units: float = 0.0
    state_size: int = 0
    items_written: int = 0
    calls: list[str] = field(default_factory=list)

    @property
    def units(self) -> tuple[float, float]:
        """(read units, transactional write units)."""
        return (self.read_units, self.write_units)


class CapacityMeter:
    """botocore hooks on a DynamoDB client that price every call it makes; `take()` returns the cost."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._sizes: dict[tuple[str, str], int] = {}
        self._cost = Cost()
        self._pending: dict[str, Any] = {}
        # The API parameters (before-call only sees the serialised request) and the parsed answer.
        client.meta.events.register(
            "before-parameter-build.dynamodb", self._before, unique_id="capacity-before"
        )
        client.meta.events.register("after-call.dynamodb", self._after, unique_id="capacity-after")

    def close(self) -> None:
        """Unregister the hooks."""
        self._client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="capacity-before")
        self._client.meta.events.unregister("after-call.dynamodb", unique_id="capacity-after")

    def take(self) -> Cost:
        """The cost of the calls since the last `take`."""
        cost, self._cost = self._cost, Cost()
        return cost

    def _before(self, model: Any, params: Mapping[str, Any], **_: Any) -> None:
        self._pending = {"operation": model.name, "params": params}

    def _after(self, http_response: Any, parsed: Mapping[str, Any], model: Any, **_: Any) -> None:
        params = self._pending.get("params", {})
        operation = model.name
        self._cost.calls.append(operation)
        if getattr(http_response, "status_code", 200) != 200:
            return  # a refused call (a cancelled transaction): its retry is what is priced
        if operation == "GetItem":
            item = parsed.get("Item")
            size = item_size(item) if item else 0
            if item:
                self._sizes[_key(item)] = size
            self._cost.read_units += max(1, math.ceil(size / (4 * _KB)))
        elif operation == "BatchGetItem":
            for table, request in params.get("RequestItems", {}).items():
                found = {_key(item): item for item in parsed.get("Responses", {}).get(table, [])}
                for key in request["Keys"]:
                    item = found.get((key["pk"]["S"], key["sk"]["S"]))
                    size = item_size(item) if item else 0
                    if item:
                        self._sizes[_key(item)] = size
                    self._cost.read_units += max(1, math.ceil(size / (4 * _KB)))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                ((kind, op),) = entry.items()
                if kind == "Put":
                    item = op["Item"]
                    key = _key(item)
                    size = item_size(item)
                    priced = max(size, self._sizes.get(key, 0))
                    self._sizes[key] = size
                    self._cost.items_written += 1
                    if key[1] == "STATE":
                        self._cost.state_size = size
                else:
                    priced = self._sizes.get((op["Key"]["pk"]["S"], op["Key"]["sk"]["S"]), 0)
                self._cost.write_units += 2 * max(1, math.ceil(priced / _KB))


def tracking_order(
    order_id: str, customer_id: str, *, tracking_events: int, shipments: int = 5, start: datetime
) -> Iterator[dict[str, Any]]:
    """An order's envelopes: OrderPlaced, one ShipmentDispatched per parcel, then carrier updates.

    The updates are ShipmentDelayed events over the parcels in turn, every 20 seconds, each with a
    new estimate past the promised date: the delay apology matches every one of them (sent once,
    then excluded by its group), so every update decides and writes a record, as a busy carrier
    feed would make the playbook do. EventBridge-style ids (UUIDs).
    """

    def envelope(detail_type: str, at: datetime, source: str, detail: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{order_id}/{detail_type}/{at.isoformat()}/{detail}")),
            "detail-type": detail_type,
            "source": source,
            "account": "123456789012",
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": "us-east-1",
            "resources": [],
            "detail": {"order_id": order_id, **detail},
        }

    promise = start + timedelta(days=2)
    price = {"amount": "19.90", "currency": "USD"}
    customer = {"id": customer_id, "email": "parcel.watcher@example.com", "timezone": "UTC"}
    yield envelope(
        "OrderPlaced",
        start,
        "shop.orders",
        {
            "customer": customer,
            "total": price,
            "items": [{"sku": "MUG-1", "name": "Mug", "quantity": 1, "unit_price": price}],
            "promised_delivery_by": promise.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    )
    for n in range(shipments):
        yield envelope(
            "ShipmentDispatched",
            start + timedelta(minutes=10 + n),
            "shop.logistics",
            {"shipment_id": f"S{n + 1}", "carrier": "UPS", "tracking_number": f"1Z{order_id}{n}"},
        )
    for n in range(tracking_events):
        estimate = promise + timedelta(minutes=n + 1)
        yield envelope(
            "ShipmentDelayed",
            start + timedelta(hours=1, seconds=20 * n),
            "carrier.tracking",
            {
                "shipment_id": f"S{n % shipments + 1}",
                "new_estimate": estimate.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reason": "carrier_capacity",
            },
        )


def sqs_batch(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """A one-record SQS batch holding this envelope, as Lambda hands it to ProcessEvents."""
    return {
        "Records": [
            {
                "messageId": str(envelope["id"]),
                "receiptHandle": "rh",
                "body": json.dumps(envelope),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:touchpoints-local-events",
                "awsRegion": "us-east-1",
            }
        ]
    }
