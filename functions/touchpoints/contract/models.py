"""Pydantic models of the event details platforms send, one per detail-type (docs/CONTRACT.md section 1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from touchpoints.contract.limits import ITEMS_MAX, SKUS_MAX
from touchpoints.contract.types import (
    CurrencyCode,
    DecimalString,
    E164Phone,
    EmailAddress,
    EventTimestamp,
    Identifier,
    Label,
    LocaleTag,
    Name,
    NonEmptyLabel,
    Note,
    ReviewBody,
    Timestamp,
    TimeZoneName,
    Url,
    _fail,
)

__all__ = [
    "CANCEL_REASONS",
    "DELAY_REASONS",
    "DETAIL_MODELS",
    "EXCEPTION_KINDS",
    "ORDER_EVENT_TYPES",
    "PAYMENT_FAILURE_REASONS",
    "RETURN_REASONS",
    "SURVEY_CHANNELS",
    "SURVEY_SCALES",
    "TIERS",
    "CancelReason",
    "Consent",
    "Customer",
    "DelayReason",
    "Detail",
    "DetailBase",
    "ExceptionKind",
    "LineItem",
    "Money",
    "OrderCancelled",
    "OrderPlaced",
    "PaymentFailed",
    "PaymentFailureReason",
    "PaymentSucceeded",
    "ReturnReason",
    "ReturnRequested",
    "ReviewSubmitted",
    "ShipmentDelayed",
    "ShipmentDelivered",
    "ShipmentDispatched",
    "ShipmentException",
    "SurveyAnswered",
    "SurveyChannel",
    "SurveyScale",
    "Tier",
    "TimerFired",
]

Tier = Literal["standard", "silver", "gold", "platinum"]
CancelReason = Literal["customer_request", "payment_failed", "out_of_stock", "fraud", "other"]
PaymentFailureReason = Literal[
    "card_declined", "insufficient_funds", "bank_timeout", "authentication_failed", "expired_card", "other"
]
DelayReason = Literal["weather", "carrier_capacity", "address_issue", "customs", "other"]
ExceptionKind = Literal["lost", "damaged", "returned_to_sender", "failed_attempt"]
ReturnReason = Literal["damaged", "wrong_item", "not_as_described", "late", "changed_mind", "other"]
SurveyScale = Literal["nps", "csat"]
SurveyChannel = Literal["email", "sms", "web", "app", "phone", "other"]

TIERS: tuple[str, ...] = get_args(Tier)
CANCEL_REASONS: tuple[str, ...] = get_args(CancelReason)
PAYMENT_FAILURE_REASONS: tuple[str, ...] = get_args(PaymentFailureReason)
DELAY_REASONS: tuple[str, ...] = get_args(DelayReason)
EXCEPTION_KINDS: tuple[str, ...] = get_args(ExceptionKind)
RETURN_REASONS: tuple[str, ...] = get_args(ReturnReason)
SURVEY_SCALES: Mapping[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5)}
"""The scores each survey scale allows: NPS 0-10 (how likely to recommend), CSAT 1-5 (how satisfied)."""
SURVEY_CHANNELS: tuple[str, ...] = get_args(SurveyChannel)

# Producers may add fields (extra="ignore"); the typed ones are validated.
_EVENT_CONFIG = ConfigDict(extra="ignore", frozen=True)


class Money(BaseModel):
    """An amount of money: an exact decimal string plus its ISO 4217 currency."""

    model_config = _EVENT_CONFIG

    amount: DecimalString = Field(description="decimal amount, e.g. 59.90")
    currency: CurrencyCode = Field(description="ISO 4217 currency code, e.g. USD")


class Consent(BaseModel):
    """What the customer agreed to receive beyond transactional messages; absent means no."""

    model_config = _EVENT_CONFIG

    marketing: bool = Field(default=False, description="customer accepts marketing messages")
    sms: bool = Field(default=False, description="customer accepts text messages")


class Customer(BaseModel):
    """Who the order belongs to, how to reach them, and in which language and zone to speak."""

    model_config = _EVENT_CONFIG

    id: Identifier = Field(description="customer id")
    email: EmailAddress | None = Field(default=None, description="email address")
    phone: E164Phone | None = Field(default=None, description="E.164 phone number")
    name: Name | None = Field(default=None, description="display name")
    locale: LocaleTag = Field(default="en", description="BCP 47 language tag (en, zh-Hans, zh-Hant, ...)")
    timezone: TimeZoneName = Field(default="UTC", description="IANA time zone")
    tier: Tier = Field(default="standard", description="loyalty tier: standard, silver, gold, platinum")
    consent: Consent = Field(default_factory=Consent, description="opt-ins")


class LineItem(BaseModel):
    """One line of an order."""

    model_config = _EVENT_CONFIG

    sku: Identifier = Field(description="stock keeping unit")
    name: Name = Field(description="product name")
    quantity: Annotated[int, Field(ge=1, strict=True)] = Field(description="units ordered (>= 1)")
    unit_price: Money = Field(description="price of one unit")


class DetailBase(BaseModel):
    """What every detail carries: the order it is about and, optionally, the customer.

    Every detail model declares its business key in `key_fields`: the fields that say *which fact*
    the event reports (the order, the payment and attempt, the parcel and its new estimate, ...).
    Two events of one order with the same detail-type and the same key values report the same
    fact: the second is a duplicate whatever its EventBridge id (`touchpoints.contract.keys`;
    docs/events.md). A model without a declaration of its own fails
    tests/unit/contract/test_business_keys.py.
    """

    model_config = _EVENT_CONFIG

    key_fields: ClassVar[tuple[str, ...]] = ()
    """The fields whose values identify the fact this detail reports (with the detail-type and order)."""

    order_id: Identifier = Field(description="the order this event is about")
    customer: Customer | None = Field(default=None, description="the customer, when the platform sends it")
    idempotency_key: Identifier | None = Field(
        default=None,
        description="the platform's id of this occurrence (e.g. a webhook id), the same on every resend",
    )


class OrderPlaced(DetailBase):
    """The customer placed an order: the start of the journey and the promises made."""

    key_fields = ("order_id",)  # the order: it is placed once

    customer: Customer = Field(description="the customer who placed the order")
    total: Money = Field(description="order total")
    items: list[LineItem] = Field(min_length=1, max_length=ITEMS_MAX, description="order lines")
    promised_ship_by: EventTimestamp | None = Field(default=None, description="promised dispatch time")
    promised_delivery_by: EventTimestamp | None = Field(default=None, description="promised delivery time")
    sales_channel: Label | None = Field(default=None, description="web, app, marketplace, ...")


class OrderCancelled(DetailBase):
    """The order was cancelled, and why."""

    key_fields = ("order_id",)  # the order: it is cancelled once

    reason: CancelReason = Field(description="why the order was cancelled")
    cancelled_by: Label | None = Field(default=None, description="customer, merchant, system, ...")


class PaymentSucceeded(DetailBase):
    """The order was paid."""

    key_fields = ("payment_id",)  # the payment

    payment_id: Identifier = Field(description="payment id")
    amount: Money = Field(description="amount paid")
    method: Label | None = Field(default=None, description="card, paypal, alipay, ...")


class PaymentFailed(DetailBase):
    """A payment attempt failed; `attempt` counts from 1."""

    key_fields = ("payment_id", "attempt")  # the payment and the attempt

    payment_id: Identifier = Field(description="payment id")
    amount: Money = Field(description="amount attempted")
    reason_code: PaymentFailureReason = Field(description="why the payment failed")
    attempt: Annotated[int, Field(ge=1, strict=True)] = Field(description="attempt number, 1-based")
    method: Label | None = Field(default=None, description="card, paypal, alipay, ...")
    retry_url: Url | None = Field(default=None, description="where the customer can pay again")


class ShipmentDispatched(DetailBase):
    """A parcel left the warehouse."""

    key_fields = ("shipment_id",)  # the parcel: it leaves once

    shipment_id: Identifier = Field(description="shipment id")
    carrier: NonEmptyLabel = Field(description="carrier name")
    tracking_number: Identifier = Field(description="carrier tracking number")
    tracking_url: Url | None = Field(default=None, description="tracking page")
    estimated_delivery: EventTimestamp | None = Field(default=None, description="carrier's delivery estimate")


class ShipmentDelayed(DetailBase):
    """The carrier moved its delivery estimate."""

    key_fields = ("shipment_id", "new_estimate")  # the parcel and the estimate it announces

    shipment_id: Identifier = Field(description="shipment id")
    new_estimate: EventTimestamp = Field(description="new delivery estimate")
    previous_estimate: EventTimestamp | None = Field(
        default=None, description="estimate before this delay (filled from the journey when absent)"
    )
    reason: DelayReason | None = Field(default=None, description="why the parcel is late")


class ShipmentException(DetailBase):
    """Something went wrong with a parcel: lost, damaged, returned to sender, or a failed attempt."""

    key_fields = ("shipment_id", "kind")  # the parcel and what happened to it

    shipment_id: Identifier = Field(description="shipment id")
    kind: ExceptionKind = Field(description="lost, damaged, returned_to_sender or failed_attempt")
    note: Note | None = Field(default=None, description="carrier's note")


class ShipmentDelivered(DetailBase):
    """A parcel arrived."""

    key_fields = ("shipment_id",)  # the parcel: it arrives once

    shipment_id: Identifier = Field(description="shipment id")
    signed_by: Name | None = Field(default=None, description="who signed for it")


class ReturnRequested(DetailBase):
    """The customer asked to return goods."""

    key_fields = ("return_id",)  # the return

    return_id: Identifier = Field(description="return id")
    reason: ReturnReason = Field(description="why the goods are returned")
    skus: list[Identifier] | None = Field(default=None, max_length=SKUS_MAX, description="returned SKUs")


class ReviewSubmitted(DetailBase):
    """The customer reviewed the order or one of its products."""

    key_fields = ("review_id",)  # the review

    review_id: Identifier = Field(description="review id")
    rating: Annotated[int, Field(ge=1, le=5, strict=True)] = Field(description="stars, integer 1-5")
    title: Name | None = Field(default=None, description="review title")
    body: ReviewBody | None = Field(default=None, description="review text")
    sku: Identifier | None = Field(default=None, description="reviewed SKU")


class SurveyAnswered(DetailBase):
    """The customer answered a survey about the order: a score on the survey's `scale`, maybe a comment.

    `comment` is the customer's own words (personal free text): it is never logged, never kept in
    the journey state, and erased by `touchpoints forget` with the rest of the customer's data.
    """

    # The business key (which fact this is, whatever the envelope's id): the order's answer on this
    # scale with this score; a re-click or a webhook retry is the same answer, a changed score a new one.
    key_fields: ClassVar[tuple[str, ...]] = ("scale", "score")

    scale: SurveyScale = Field(description="the survey's scale: nps (score 0-10) or csat (score 1-5)")
    score: Annotated[int, Field(strict=True)] = Field(
        description="the answer on the scale: nps 0-10, csat 1-5"
    )
    comment: ReviewBody | None = Field(default=None, description="what the customer wrote (never logged)")
    channel: SurveyChannel = Field(description="where the answer came in: email, sms, web, app, phone, other")
    survey_id: Identifier | None = Field(default=None, description="the survey platform's id of the answer")

    @field_validator("score")
    @classmethod
    def _score_on_the_scale(cls, score: int, info: ValidationInfo) -> int:
        scale = info.data.get("scale")
        if scale is None:
            return score  # the scale itself is wrong: that is the problem reported
        low, high = SURVEY_SCALES[scale]
        if not low <= score <= high:
            raise _fail("survey_score", f"must be on the {scale} scale, {low} to {high}", score)
        return score


class TimerFired(DetailBase):
    """Internal: a delayed rule or deferred action is due (sent only by `touchpoints.timers`)."""

    key_fields = ("rule_id", "trigger_event_id", "due_at")  # the timer (what its name is made of)

    rule_id: Identifier = Field(description="the rule the timer was set for")
    trigger_event_id: Identifier = Field(description="the event that started the timer")
    due_at: Timestamp = Field(description="when the timer was due")


Detail = (
    OrderPlaced
    | OrderCancelled
    | PaymentSucceeded
    | PaymentFailed
    | ShipmentDispatched
    | ShipmentDelayed
    | ShipmentException
    | ShipmentDelivered
    | ReturnRequested
    | ReviewSubmitted
    | SurveyAnswered
    | TimerFired
)

DETAIL_MODELS: Mapping[str, type[DetailBase]] = {
    model.__name__: model
    for model in (
        OrderPlaced,
        OrderCancelled,
        PaymentSucceeded,
        PaymentFailed,
        ShipmentDispatched,
        ShipmentDelayed,
        ShipmentException,
        ShipmentDelivered,
        ReturnRequested,
        ReviewSubmitted,
        SurveyAnswered,
        TimerFired,
    )
}

# The detail-types platforms send about an order (everything but the internal TimerFired).
ORDER_EVENT_TYPES: tuple[str, ...] = tuple(name for name in DETAIL_MODELS if name != "TimerFired")
