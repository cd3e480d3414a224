"""The order journey: state, the pure reducer, contact history, and the facts builder."""

from __future__ import annotations

from touchpoints.journey.facts import DEFAULT_CUSTOMER_FACTS, build_facts, build_facts_for
from touchpoints.journey.history import ContactEntry, History
from touchpoints.journey.state import (
    JourneyError,
    JourneyStatus,
    OrderJourney,
    PaymentFailure,
    ReturnInfo,
    ReviewInfo,
    Shipment,
    ShipmentIssue,
    SurveyInfo,
    apply_event,
    is_applied,
    note_timers,
    window_keys,
)

__all__ = [
    "DEFAULT_CUSTOMER_FACTS",
    "ContactEntry",
    "History",
    "JourneyError",
    "JourneyStatus",
    "OrderJourney",
    "PaymentFailure",
    "ReturnInfo",
    "ReviewInfo",
    "Shipment",
    "ShipmentIssue",
    "SurveyInfo",
    "apply_event",
    "build_facts",
    "build_facts_for",
    "is_applied",
    "note_timers",
    "window_keys",
]
