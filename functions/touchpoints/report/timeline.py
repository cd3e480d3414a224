"""Per-order timelines for the report: what happened to the order, what was decided, what went out.

The events are read back from the journey state (every fact keeps when it happened), so a timeline
from a simulation and one from the production table are built the same way. A message's subject is
rendered as the dispatcher renders it: the template in the record's locale, on the facts of the
journey, its trigger event and the order's history, at the record's `send_at`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from touchpoints.timestamps import format_timestamp, parse_sort_stamp

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord
    from touchpoints.journey import OrderJourney
    from touchpoints.report.inputs import ReportInput

__all__ = ["journey_events", "timelines"]

_MESSAGES = frozenset({"sent", "pending", "scheduled", "failed"})
"""Records whose message went out, will go out, or was tried: their subject is shown."""


def journey_events(journey: OrderJourney) -> list[tuple[datetime, str, str]]:
    """(when, detail-type, what) for every event the journey remembers, oldest first."""
    found: list[tuple[datetime, str, str]] = []
    if journey.placed_at is not None:
        total = f"{journey.total.amount} {journey.total.currency}" if journey.total is not None else ""
        found.append((journey.placed_at, "OrderPlaced", total))
    for failure in journey.failed_payments.values():
        found.append((failure.at, "PaymentFailed", f"{failure.reason_code}, attempt {failure.attempt}"))
    if journey.paid_at is not None:
        found.append((journey.paid_at, "PaymentSucceeded", ""))
    for shipment in journey.shipments.values():
        if shipment.dispatched_at is not None:
            found.append((shipment.dispatched_at, "ShipmentDispatched", shipment.carrier or ""))
        for issue in shipment.exceptions:
            found.append((issue.at, "ShipmentException", issue.kind))
        if shipment.delivered_at is not None:
            found.append((shipment.delivered_at, "ShipmentDelivered", ""))
    dispatched = {s.dispatched_at for s in journey.shipments.values()}
    for estimate in journey.estimates:
        at = parse_sort_stamp(estimate.stamp)
        if at not in dispatched:
            found.append((at, "ShipmentDelayed", f"new estimate {format_timestamp(estimate.value)}"))
    for info in journey.returns.values():
        found.append((info.at, "ReturnRequested", info.reason))
    for review in journey.reviews.values():
        found.append((review.at, "ReviewSubmitted", f"{review.rating} stars"))
    for answer in journey.surveys.values():
        found.append((answer.at, "SurveyAnswered", f"{answer.scale} {answer.score} ({answer.channel})"))
    if journey.cancelled_at is not None:
        found.append((journey.cancelled_at, "OrderCancelled", journey.cancel_reason or ""))
    return sorted(found, key=lambda item: (item[0], item[1]))


def _subject(data: ReportInput, record: DecisionRecord) -> str | None:
    """The message's subject as the dispatcher renders it (the detail-type for an event action)."""
    if record.channel == "event":
        return record.detail_type
    if record.template is None or record.status not in _MESSAGES:
        return None
    from touchpoints.catalog import TemplateRenderError, render_template
    from touchpoints.journey import build_facts

    journey = data.journeys.get(record.order_id)
    template = data.catalog.templates.get((record.template, record.locale))
    trigger = data.store.load_event(record.order_id, record.event_id)
    if journey is None or template is None or trigger is None:
        return "(not rendered: the template, the order or its event is gone)"
    history = data.histories.get(record.order_id)
    if history is None:
        history = data.store.load(record.order_id, record.customer_id).history
        data.histories[record.order_id] = history
    try:
        return render_template(template, build_facts(journey, trigger, history, record.send_at)).subject
    except TemplateRenderError as exc:
        return f"(not rendered: {exc})"


def _pick(by_order: Mapping[str, Sequence[DecisionRecord]], limit: int, chosen: Sequence[str]) -> list[str]:
    """The chosen orders, then the busiest (held-out first): a sample worth reading, in a stable order."""
    picked = [order_id for order_id in chosen if order_id in by_order]
    ranked = sorted(
        (order_id for order_id in by_order if order_id not in picked),
        key=lambda o: (
            -any(r.status == "held_out" for r in by_order[o]),
            -len({r.status for r in by_order[o]}),
            -len(by_order[o]),
            o,
        ),
    )
    return picked + ranked[: max(limit - len(picked), 0)]


def timelines(
    data: ReportInput,
    by_order: Mapping[str, Sequence[DecisionRecord]],
    *,
    limit: int,
    chosen: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One timeline per picked order: entries `{at, kind, what, ...}` in time order."""
    found: list[dict[str, Any]] = []
    for order_id in _pick(by_order, limit, chosen):
        journey = data.journeys.get(order_id)
        entries: list[dict[str, Any]] = []
        if journey is not None:
            for at, detail_type, what in journey_events(journey):
                entries.append(
                    {"at": format_timestamp(at), "kind": "event", "type": detail_type, "what": what}
                )
        for record in by_order[order_id]:
            entries.append(
                {
                    "at": format_timestamp(record.decided_at),
                    "kind": "decision",
                    "rule_id": record.rule_id,
                    "channel": record.channel,
                    "status": record.status,
                    "reason": record.reason,
                    "locale": record.locale,
                    "send_at": format_timestamp(record.send_at),
                    "subject": _subject(data, record),
                }
            )
        # Ties (two actions of one decision) in a fixed order, whatever order the source listed them in.
        entries.sort(
            key=lambda e: (
                e["at"],
                e["kind"] != "event",
                e.get("type", ""),
                e.get("rule_id", ""),
                e.get("channel", ""),
            )
        )
        customer = journey.customer.id if journey is not None and journey.customer is not None else None
        found.append({"order_id": order_id, "customer_id": customer, "entries": entries})
    return found
