"""The one event-envelope factory of the test suite: EventBridge envelopes as dicts, or parsed.

Tests used to carry their own copies of the envelope (eight of them, each with its own account,
source and defaults). Build envelopes here instead:

    envelope("OrderPlaced", "2026-03-01T10:00:00Z", {"customer": {...}, ...}, event_id="e1")
    event("ShipmentDelivered", "2026-03-05T12:00:00Z", {"shipment_id": "S1"}, order_id="A2")

`detail` is merged over `{"order_id": order_id}`; `TimerFired` gets the reserved timer source.
Times may be RFC 3339 text or aware datetimes (written as `...Z`).
"""

from __future__ import annotations

import copy
import itertools
from datetime import datetime
from typing import Any

from touchpoints.contract import TIMER_SOURCE, Event, parse_event
from touchpoints.timestamps import format_timestamp

__all__ = [
    "ACCOUNT",
    "REGION",
    "SOURCE",
    "envelope",
    "event",
    "for_new_order",
    "money",
    "order_placed_detail",
]

ACCOUNT = "123456789012"
REGION = "us-east-1"
SOURCE = "shop.tests"

_ids = itertools.count(1)


def envelope(
    detail_type: str,
    time: str | datetime,
    detail: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
    order_id: str | None = "A1",
    source: str | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """An EventBridge envelope dict; `order_id=None` leaves the detail's own (or no) order id."""
    body: dict[str, Any] = {} if order_id is None else {"order_id": order_id}
    body.update(detail or {})
    moment = format_timestamp(time) if isinstance(time, datetime) else time
    return {
        "version": "0",
        "id": event_id or f"{detail_type}-{next(_ids)}",
        "detail-type": detail_type,
        "source": source or (TIMER_SOURCE if detail_type == "TimerFired" else SOURCE),
        "account": account,
        "time": moment,
        "region": region,
        "resources": [],
        "detail": body,
    }


def event(
    detail_type: str,
    time: str | datetime,
    detail: dict[str, Any] | None = None,
    **options: Any,
) -> Event:
    """The parsed event of `envelope(...)` (same arguments): it must be valid."""
    return parse_event(envelope(detail_type, time, detail, **options))


def money(amount: str, currency: str = "USD") -> dict[str, str]:
    """A contract Money value."""
    return {"amount": amount, "currency": currency}


def order_placed_detail(customer: dict[str, Any], *, amount: str = "10.00", **extra: Any) -> dict[str, Any]:
    """A minimal valid OrderPlaced detail (one item) for this customer."""
    return {
        "customer": customer,
        "total": money(amount),
        "items": [{"sku": "S1", "name": "Mug", "quantity": 1, "unit_price": money(amount)}],
        **extra,
    }


def for_new_order(event: dict[str, Any], tag: str) -> dict[str, Any]:
    """A sample event as one of a new order and customer: event, order and customer ids end in `-tag`.

    The integration and e2e tiers share one stack per session or package, and another test may
    have processed (and will process again) the sample orders; a tag of its own keeps a test's
    audit, caps and duplicates to itself.
    """
    fresh = copy.deepcopy(event)
    fresh["id"] = f"{event['id']}-{tag}"
    detail = fresh["detail"]
    detail["order_id"] = f"{detail['order_id']}-{tag}"
    if isinstance(detail.get("customer"), dict):
        detail["customer"]["id"] = f"{detail['customer']['id']}-{tag}"
    return fresh
