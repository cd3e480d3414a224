"""The order journey: state, the pure reducer, contact history, and the facts rules read."""

from __future__ import annotations

from touchpoints.journey.facts import (
    DEFAULT_CUSTOMER_FACTS,
    FactNeeds,
    build_facts,
    build_facts_for,
    fact_needs,
    merge_needs,
)
from touchpoints.journey.history import ContactEntry, History
from touchpoints.journey.schema import (
    FACTS_SCHEMA,
    FactField,
    FactType,
    facts_table_markdown,
    is_fact_path,
    suggest_fact_path,
    timestamp_fact_paths,
)
from touchpoints.journey.state import (
    JourneyError,
    JourneyStatus,
    OrderJourney,
    PaymentFailure,
    ReturnInfo,
    ReviewInfo,
    Shipment,
    ShipmentIssue,
    apply_event,
)

__all__ = [
    "DEFAULT_CUSTOMER_FACTS",
    "FACTS_SCHEMA",
    "ContactEntry",
    "FactField",
    "FactNeeds",
    "FactType",
    "History",
    "JourneyError",
    "JourneyStatus",
    "OrderJourney",
    "PaymentFailure",
    "ReturnInfo",
    "ReviewInfo",
    "Shipment",
    "ShipmentIssue",
    "apply_event",
    "build_facts",
    "build_facts_for",
    "fact_needs",
    "facts_table_markdown",
    "is_fact_path",
    "merge_needs",
    "suggest_fact_path",
    "timestamp_fact_paths",
]
