"""The order journey: state built from an order's events, and the pure reducer `apply_event`.

Events may arrive twice, late or out of order. The reducer therefore never trusts arrival order:
every fact remembers the (event time, event id) that set it and is only overwritten by a later
one, and the status is derived from the facts, never from the last event seen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from touchpoints.construct import shallow_copy
from touchpoints.contract import (
    Customer,
    Event,
    LineItem,
    Money,
    OrderCancelled,
    OrderPlaced,
    PaymentFailed,
    PaymentSucceeded,
    ReturnRequested,
    ReviewSubmitted,
    ShipmentDelayed,
    ShipmentDelivered,
    ShipmentDispatched,
    ShipmentException,
    SurveyAnswered,
)
from touchpoints.errors import TouchpointsError
from touchpoints.timestamps import format_sort_stamp

__all__ = [
    "EstimateFact",
    "JourneyError",
    "JourneyStatus",
    "OrderJourney",
    "PaymentFailure",
    "ReturnInfo",
    "ReviewInfo",
    "Shipment",
    "ShipmentIssue",
    "ShipmentStatus",
    "SurveyInfo",
    "apply_event",
    "event_stamp",
]

JourneyStatus = Literal["new", "placed", "payment_failed", "paid", "shipped", "delivered", "cancelled"]
ShipmentStatus = Literal["pending", "dispatched", "delayed", "exception", "delivered"]


class JourneyError(TouchpointsError):
    """Raised when an event is applied to the journey of another order (a wiring bug, not bad input)."""


def event_stamp(event: Event) -> str:
    """A sortable key of when a fact was set: UTC time (fixed width) then event id, for exact ties."""
    return format_sort_stamp(event.time) + "|" + event.id


class ShipmentIssue(BaseModel):
    """One ShipmentException: what happened to the parcel, and when."""

    kind: str
    note: str | None = None
    at: datetime
    event_id: str


class Shipment(BaseModel):
    """One parcel of the order, merged from its dispatched / delayed / exception / delivered events."""

    shipment_id: str
    status: ShipmentStatus = "pending"
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    dispatched_at: datetime | None = None
    estimated_delivery: datetime | None = None
    delay_reason: str | None = None
    delivered_at: datetime | None = None
    signed_by: str | None = None
    exceptions: list[ShipmentIssue] = Field(default_factory=list)


class PaymentFailure(BaseModel):
    """One failed payment attempt (distinct by payment id and attempt number)."""

    payment_id: str
    attempt: int
    reason_code: str
    at: datetime
    retry_url: str | None = None


class ReturnInfo(BaseModel):
    """A return the customer asked for."""

    return_id: str
    reason: str
    at: datetime
    skus: list[str] | None = None


class ReviewInfo(BaseModel):
    """A review the customer wrote."""

    review_id: str
    rating: int
    at: datetime
    title: str | None = None
    sku: str | None = None


class SurveyInfo(BaseModel):
    """The customer's answer to a survey on one scale (the latest by event time; never the comment)."""

    scale: str
    score: int
    channel: str
    at: datetime
    has_comment: bool = False


class EstimateFact(BaseModel):
    """A delivery estimate as announced by one event; the journey keeps them all to know the previous one."""

    stamp: str
    value: datetime
    shipment_id: str
    declared_previous: datetime | None = None


class OrderJourney(BaseModel):
    """Everything known about one order, whatever order its events arrived in.

    `stamps` maps each fact to the `event_stamp` of the event that set it; `version` counts applied
    events and is the optimistic-locking version the store checks.
    """

    model_config = ConfigDict(extra="ignore")

    order_id: str
    status: JourneyStatus = "new"
    placed_at: datetime | None = None
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    promised_ship_by: datetime | None = None
    promised_delivery_by: datetime | None = None
    estimated_delivery: datetime | None = None
    previous_estimated_delivery: datetime | None = None
    total: Money | None = None
    items: list[LineItem] = Field(default_factory=list)
    sales_channel: str | None = None
    payment_id: str | None = None
    payment_failures: int = 0
    last_payment_failure_reason: str | None = None
    last_payment_failure_at: datetime | None = None
    retry_url: str | None = None
    failed_payments: dict[str, PaymentFailure] = Field(default_factory=dict)
    shipments: dict[str, Shipment] = Field(default_factory=dict)
    estimates: list[EstimateFact] = Field(default_factory=list)
    returns: dict[str, ReturnInfo] = Field(default_factory=dict)
    reviews: dict[str, ReviewInfo] = Field(default_factory=dict)
    surveys: dict[str, SurveyInfo] = Field(default_factory=dict)
    customer: Customer | None = None
    seen_event_ids: list[str] = Field(default_factory=list)
    version: int = 0
    stamps: dict[str, str] = Field(default_factory=dict)


def apply_event(state: OrderJourney | None, event: Event) -> OrderJourney:
    """Fold one event into the journey and return the new state; the given state is never changed.

    An event id already seen returns the state unchanged (same object), so retries are free.
    """
    detail = event.detail
    order_id = detail.order_id
    if state is None:
        state = OrderJourney(order_id=order_id)
    elif event.id in state.seen_event_ids:
        return state
    elif state.order_id != order_id:
        raise JourneyError(
            f"event {event.id} is for order {order_id}, not for the journey of order {state.order_id}"
        )
    # A private copy changed through its __dict__: pydantic's __setattr__ costs microseconds per
    # field and the values set here are already validated (they come from a parsed event).
    new = shallow_copy(state)
    fields = new.__dict__  # the four fields every event sets, written at once (what `_put` does)
    fields["stamps"] = dict(state.stamps)
    fields["seen_event_ids"] = [*state.seen_event_ids, event.id]
    fields["version"] = state.version + 1
    new.__pydantic_fields_set__.update(_ALWAYS_SET)
    stamp = event_stamp(event)
    if detail.customer is not None:
        _set(new, "customer", stamp, customer=detail.customer)
    handler = _HANDLERS.get(type(detail))
    if handler is not None:
        handler(new, detail, event, stamp)
    fields["status"] = _derive_status(new)
    return new


_ALWAYS_SET = ("stamps", "seen_event_ids", "version", "status")
"""The fields `apply_event` sets on every event (they count as set, as `_put` would mark them)."""


def _put(model: BaseModel, name: str, value: Any) -> None:
    """`model.name = value` as pydantic does it (field value + fields set), without its overhead."""
    model.__dict__[name] = value
    model.__pydantic_fields_set__.add(name)


def _set(state: OrderJourney, key: str, stamp: str, **values: Any) -> bool:
    """Set `values` on the state if `stamp` is newer than the one that last set `key`."""
    current = state.stamps.get(key)
    if current is not None and current >= stamp:
        return False
    state.stamps[key] = stamp
    for name, value in values.items():
        _put(state, name, value)
    return True


def _on_placed(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    placed: OrderPlaced = detail
    _set(
        state,
        "placed",
        stamp,
        placed_at=event.time,
        total=placed.total,
        items=placed.items,
        promised_ship_by=placed.promised_ship_by,
        promised_delivery_by=placed.promised_delivery_by,
        sales_channel=placed.sales_channel,
    )


def _on_cancelled(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    cancelled: OrderCancelled = detail
    _set(state, "cancelled", stamp, cancelled_at=event.time, cancel_reason=cancelled.reason)


def _on_paid(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    paid: PaymentSucceeded = detail
    _set(state, "paid", stamp, paid_at=event.time, payment_id=paid.payment_id)


def _on_payment_failed(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    failed: PaymentFailed = detail
    key = f"{failed.payment_id}#{failed.attempt}"
    if not _set_stamp(state, f"payment_failure.{key}", stamp):
        return
    failures = dict(state.failed_payments)
    failures[key] = PaymentFailure(
        payment_id=failed.payment_id,
        attempt=failed.attempt,
        reason_code=failed.reason_code,
        at=event.time,
        retry_url=failed.retry_url,
    )
    _put(state, "failed_payments", failures)
    _put(state, "payment_failures", len(failures))
    _set(
        state,
        "last_payment_failure",
        stamp,
        last_payment_failure_reason=failed.reason_code,
        last_payment_failure_at=event.time,
        retry_url=failed.retry_url,
    )


def _set_stamp(state: OrderJourney, key: str, stamp: str) -> bool:
    current = state.stamps.get(key)
    if current is not None and current >= stamp:
        return False
    state.stamps[key] = stamp
    return True


def _shipment(state: OrderJourney, shipment_id: str) -> Shipment:
    """A private copy of the shipment to change (or a new one); `_put_shipment` stores it back."""
    existing = state.shipments.get(shipment_id)
    if existing is None:
        return Shipment(shipment_id=shipment_id)
    return shallow_copy(existing)


def _put_shipment(state: OrderJourney, shipment: Shipment, stamp: str, status: ShipmentStatus | None) -> None:
    if status is not None and _set_stamp(state, f"shipment.{shipment.shipment_id}.status", stamp):
        _put(shipment, "status", status)
    if shipment.delivered_at is not None:
        _put(shipment, "status", "delivered")  # an arrived parcel stays arrived, whatever comes late
    shipments = dict(state.shipments)
    shipments[shipment.shipment_id] = shipment
    _put(state, "shipments", shipments)
    dispatched = [s.dispatched_at for s in shipments.values() if s.dispatched_at is not None]
    delivered = [s.delivered_at for s in shipments.values() if s.delivered_at is not None]
    _put(state, "shipped_at", min(dispatched) if dispatched else None)
    _put(state, "delivered_at", max(delivered) if delivered else None)


def _add_estimate(
    state: OrderJourney, stamp: str, value: datetime, shipment_id: str, declared: datetime | None = None
) -> None:
    """Record an announced estimate; current = latest announced, previous = the latest different one.

    Both are recomputed from all the estimates seen, so arrival order cannot change them; when no
    earlier estimate arrived, the previous one the latest ShipmentDelayed declared is used.
    """
    fact = EstimateFact(stamp=stamp, value=value, shipment_id=shipment_id, declared_previous=declared)
    facts = [*state.estimates, fact]
    facts.sort(key=lambda item: item.stamp)
    _put(state, "estimates", facts)
    current = facts[-1].value
    previous = next((item.value for item in reversed(facts) if item.value != current), None)
    if previous is None and facts[-1].declared_previous != current:
        previous = facts[-1].declared_previous
    _put(state, "estimated_delivery", current)
    _put(state, "previous_estimated_delivery", previous)


def _on_dispatched(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    dispatched: ShipmentDispatched = detail
    shipment = _shipment(state, dispatched.shipment_id)
    if _set_stamp(state, f"shipment.{dispatched.shipment_id}.dispatch", stamp):
        _put(shipment, "carrier", dispatched.carrier)
        _put(shipment, "tracking_number", dispatched.tracking_number)
        _put(shipment, "tracking_url", dispatched.tracking_url)
        _put(shipment, "dispatched_at", event.time)
    if dispatched.estimated_delivery is not None:
        _add_estimate(state, stamp, dispatched.estimated_delivery, dispatched.shipment_id)
        if _set_stamp(state, f"shipment.{dispatched.shipment_id}.estimate", stamp):
            _put(shipment, "estimated_delivery", dispatched.estimated_delivery)
    _put_shipment(state, shipment, stamp, "dispatched")


def _on_delayed(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    delayed: ShipmentDelayed = detail
    shipment = _shipment(state, delayed.shipment_id)
    _add_estimate(state, stamp, delayed.new_estimate, delayed.shipment_id, delayed.previous_estimate)
    if _set_stamp(state, f"shipment.{delayed.shipment_id}.estimate", stamp):
        _put(shipment, "estimated_delivery", delayed.new_estimate)
    if _set_stamp(state, f"shipment.{delayed.shipment_id}.delay", stamp):
        _put(shipment, "delay_reason", delayed.reason)
    _put_shipment(state, shipment, stamp, "delayed")


def _on_exception(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    exception: ShipmentException = detail
    shipment = _shipment(state, exception.shipment_id)
    issue = ShipmentIssue(kind=exception.kind, note=exception.note, at=event.time, event_id=event.id)
    issues = [*shipment.exceptions, issue]
    issues.sort(key=lambda item: (item.at, item.event_id))
    _put(shipment, "exceptions", issues)
    _put_shipment(state, shipment, stamp, "exception")


def _on_delivered(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    delivered: ShipmentDelivered = detail
    shipment = _shipment(state, delivered.shipment_id)
    if _set_stamp(state, f"shipment.{delivered.shipment_id}.delivery", stamp):
        _put(shipment, "delivered_at", event.time)
        _put(shipment, "signed_by", delivered.signed_by)
    _put_shipment(state, shipment, stamp, "delivered")


def _on_return(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    requested: ReturnRequested = detail
    if _set_stamp(state, f"return.{requested.return_id}", stamp):
        returns = dict(state.returns)
        returns[requested.return_id] = ReturnInfo(
            return_id=requested.return_id, reason=requested.reason, at=event.time, skus=requested.skus
        )
        _put(state, "returns", returns)


def _on_review(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    review: ReviewSubmitted = detail
    if _set_stamp(state, f"review.{review.review_id}", stamp):
        reviews = dict(state.reviews)
        reviews[review.review_id] = ReviewInfo(
            review_id=review.review_id,
            rating=review.rating,
            at=event.time,
            title=review.title,
            sku=review.sku,
        )
        _put(state, "reviews", reviews)


def _on_survey(state: OrderJourney, detail: Any, event: Event, stamp: str) -> None:
    """One answer per scale: a customer who clicks 2 and then 4 changed their mind; the later one counts."""
    answer: SurveyAnswered = detail
    if _set_stamp(state, f"survey.{answer.scale}", stamp):
        surveys = dict(state.surveys)
        surveys[answer.scale] = SurveyInfo(
            scale=answer.scale,
            score=answer.score,
            channel=answer.channel,
            at=event.time,
            has_comment=bool(answer.comment),
        )
        _put(state, "surveys", surveys)


_HANDLERS: dict[type, Any] = {
    OrderPlaced: _on_placed,
    OrderCancelled: _on_cancelled,
    PaymentSucceeded: _on_paid,
    PaymentFailed: _on_payment_failed,
    ShipmentDispatched: _on_dispatched,
    ShipmentDelayed: _on_delayed,
    ShipmentException: _on_exception,
    ShipmentDelivered: _on_delivered,
    ReturnRequested: _on_return,
    ReviewSubmitted: _on_review,
    SurveyAnswered: _on_survey,
}


def _derive_status(state: OrderJourney) -> JourneyStatus:
    """cancelled > delivered > shipped > paid > payment_failed > placed > new: facts, not arrival order."""
    if state.cancelled_at is not None:
        return "cancelled"
    if state.delivered_at is not None:
        return "delivered"
    if state.shipped_at is not None:
        return "shipped"
    if state.paid_at is not None:
        return "paid"
    if state.payment_failures:
        return "payment_failed"
    if state.placed_at is not None:
        return "placed"
    return "new"
