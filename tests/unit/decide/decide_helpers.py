"""Helpers for decide tests: the fixture catalog's path, an event factory and sample details."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.events import event

from touchpoints.contract import Event

FIXTURE_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "decide" / "rules"

TAIPEI = {
    "id": "C-TW",
    "email": "mei@example.com",
    "phone": "+886912345678",
    "locale": "zh-Hant",
    "timezone": "Asia/Taipei",
    "consent": {"marketing": True, "sms": True},
}

EventFactory = Callable[..., Event]


def make_event(
    detail_type: str,
    time: str,
    detail: dict[str, Any] | None = None,
    *,
    event_id: str | None = None,
    order_id: str = "A1",
    customer: dict[str, Any] | None = None,
) -> Event:
    """An envelope for the order, with the Taipei customer unless another (or none: {}) is given."""
    body: dict[str, Any] = {"order_id": order_id, **(detail or {})}
    chosen = TAIPEI if customer is None else customer
    if chosen:
        body.setdefault("customer", chosen)
    source = None if detail_type == "TimerFired" else "tests"
    return event(
        detail_type,
        time,
        body,
        event_id=event_id or f"{detail_type}-{time}",
        order_id=None,
        source=source,
        account="000000000000",
    )


ORDER = {
    "total": {"amount": "10.00", "currency": "USD"},
    "items": [
        {"sku": "S1", "name": "Mug", "quantity": 1, "unit_price": {"amount": "10.00", "currency": "USD"}}
    ],
}
PAYMENT_FAILED = {
    "payment_id": "P1",
    "amount": {"amount": "10.00", "currency": "USD"},
    "reason_code": "card_declined",
    "attempt": 1,
}
