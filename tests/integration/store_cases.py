"""What the store tests commit: orders, decision records, contact entries, and a commit through the plan.

Shared by the store contract suite (both stores) and the DynamoDB-only tests (calls, items), so
both commit exactly what `service.process_event` would: `plan_commit` then `store.commit(plan)`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.events import event, order_placed_detail

from touchpoints.commit import plan_commit
from touchpoints.contract import DecisionRecord, Event, mask_address
from touchpoints.journey import ContactEntry, apply_event
from touchpoints.outcome import Decision, action_id_for
from touchpoints.policy.retention import Retention
from touchpoints.ports import DecisionStore, StoredOrder

ids = itertools.count(1)
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)


def order_placed(
    order_id: str, customer_id: str, *, event_id: str | None = None, time: datetime = T0
) -> Event:
    """An OrderPlaced of this order and customer (an email address, so records have one masked)."""
    customer = {"id": customer_id, "email": "jane.doe@example.com", "locale": "en"}
    return event(
        "OrderPlaced",
        time,
        order_placed_detail(customer),
        order_id=order_id,
        event_id=event_id or f"ev-{next(ids)}",
        source="shop.orders",
    )


def order_event(
    order_id: str, customer_id: str, *, event_id: str | None = None, time: datetime | None = None
) -> Event:
    """A later event of the order naming its customer, a fact of its own on every call (a new review).

    A second OrderPlaced of one order is the same fact as the first (its business key is the
    order): a duplicate, whatever its id.
    """
    customer = {"id": customer_id, "email": "jane.doe@example.com", "locale": "en"}
    n = next(ids)
    return event(
        "ReviewSubmitted",
        time or T0 + timedelta(minutes=n),  # later than the order's other events: its customer is the latest
        {"customer": customer, "review_id": f"V{n}", "rating": 4},
        order_id=order_id,
        event_id=event_id or f"ev-{n}",
        source="shop.reviews",
    )


def record(
    event: Event,
    rule_id: str,
    *,
    status: str = "pending",
    decided_at: datetime = T0,
    customer_id: str | None = None,
) -> DecisionRecord:
    """A decision record of the event's order for this rule (email), as decide would write it."""
    customer = event.customer
    assert customer is not None
    return DecisionRecord(
        action_id=action_id_for(event.key_digests[0], rule_id, "email"),
        order_id=event.order_id,
        customer_id=customer_id or customer.id,
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


def contact(record: DecisionRecord) -> ContactEntry:
    """The contact entry a (not suppressed) decision record leaves in the history and the ledger."""
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


def decision(state_of: Any, event: Event, records: Sequence[DecisionRecord]) -> Decision:
    """The decision of `event` on `state_of` that writes these records and their contacts."""
    return Decision(
        state=apply_event(state_of, event), records=list(records), contacts=[contact(r) for r in records]
    )


def commit(
    store: DecisionStore,
    loaded: StoredOrder,
    event: Event,
    decided: Decision,
    *,
    retention: Retention | None = None,
    now: datetime = NOW,
) -> None:
    """Commit as the service does: plan in the core, then the store writes the plan."""
    store.commit(plan_commit(loaded, event, decided, retention=retention or Retention(), now=now))
