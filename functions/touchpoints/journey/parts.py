"""The parts of an order journey: its parcels, payment attempts, returns, reviews and estimates.

Value types only; `touchpoints.journey.state` folds events into them (and re-exports them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "EstimateFact",
    "PaymentFailure",
    "ReturnInfo",
    "ReviewInfo",
    "Shipment",
    "ShipmentIssue",
    "ShipmentStatus",
    "SurveyInfo",
]

ShipmentStatus = Literal["pending", "dispatched", "delayed", "exception", "delivered"]


class ShipmentIssue(BaseModel):
    """One ShipmentException: what happened to the parcel, and when.

    `key` is the business-key digest of the report (the same for every copy of it, whatever its
    EventBridge id), which orders two reports of the same moment.
    """

    kind: str
    note: str | None = None
    at: datetime
    key: str = ""


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


class EstimateFact(BaseModel):
    """A delivery estimate as announced by one event; the journey keeps them all to know the previous one."""

    stamp: str
    value: datetime
    shipment_id: str
    declared_previous: datetime | None = None


class SurveyInfo(BaseModel):
    """The customer's answer to a survey on one scale (the latest by event time; never the comment)."""

    scale: str
    score: int
    channel: str
    at: datetime
    has_comment: bool = False
