"""What was already done for an order and a customer: the input of limits, caps and `history.*` facts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from touchpoints.contract import Channel, DecisionStatus, Timestamp

__all__ = ["ContactEntry", "History"]


class ContactEntry(BaseModel):
    """An action already taken (not suppressed); `at` is its send time, so caps count what customers see.

    `decided_at` is when the action was first decided: a `scheduled` one is decided again when
    released, and its record keeps this time (None on entries written before it was kept).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    action_id: str
    order_id: str
    customer_id: str | None
    rule_id: str
    event_id: str
    channel: Channel
    category: str
    group: str | None = None
    status: DecisionStatus
    at: Timestamp
    decided_at: Timestamp | None = None


class History(BaseModel):
    """The actions already decided for this order, and the customer's contact ledger across orders."""

    model_config = ConfigDict(extra="ignore")

    order: list[ContactEntry] = Field(default_factory=list)
    customer: list[ContactEntry] = Field(default_factory=list)
