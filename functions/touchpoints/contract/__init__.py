"""The public event contract: EventBridge envelope, detail models, parsing, decision records."""

from __future__ import annotations

from touchpoints.contract.decisions import (
    Channel,
    DecisionReason,
    DecisionRecord,
    DecisionStatus,
    mask_address,
)
from touchpoints.contract.envelope import (
    EVENT_MODELS,
    TIMER_SOURCE,
    Event,
    parse_event,
    parse_valid_event_json,
)
from touchpoints.contract.errors import FieldProblem, InvalidEventError
from touchpoints.contract.models import (
    DETAIL_MODELS,
    ORDER_EVENT_TYPES,
    Consent,
    Customer,
    Detail,
    DetailBase,
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
    TimerFired,
)
from touchpoints.contract.redaction import ERASED, erase, header_text, redact
from touchpoints.contract.types import Timestamp, format_timestamp, parse_timestamp

__all__ = [
    "DETAIL_MODELS",
    "ERASED",
    "EVENT_MODELS",
    "ORDER_EVENT_TYPES",
    "TIMER_SOURCE",
    "Channel",
    "Consent",
    "Customer",
    "DecisionReason",
    "DecisionRecord",
    "DecisionStatus",
    "Detail",
    "DetailBase",
    "Event",
    "FieldProblem",
    "InvalidEventError",
    "LineItem",
    "Money",
    "OrderCancelled",
    "OrderPlaced",
    "PaymentFailed",
    "PaymentSucceeded",
    "ReturnRequested",
    "ReviewSubmitted",
    "ShipmentDelayed",
    "ShipmentDelivered",
    "ShipmentDispatched",
    "ShipmentException",
    "TimerFired",
    "Timestamp",
    "erase",
    "format_timestamp",
    "header_text",
    "mask_address",
    "parse_event",
    "parse_timestamp",
    "parse_valid_event_json",
    "redact",
]
