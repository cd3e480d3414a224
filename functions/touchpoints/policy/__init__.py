"""The contact policy (pure): limits, exclusion groups, address, consent, caps, quiet hours, retention."""

from __future__ import annotations

from touchpoints.policy.contact import (
    EXPIRED,
    GROUP_EXCLUSION,
    NO_CONSENT,
    NO_CONTACT,
    POLICY_ORDER,
    QUIET_HOURS,
    RATE_LIMIT,
    RESOLVED,
    RULE_LIMIT,
    ContactLedger,
    Verdict,
    address_for,
    capped_until,
    evaluate_action,
    exceeds_cap,
    exceeds_rule_limit,
    has_consent,
    is_expired,
    is_group_taken,
)
from touchpoints.policy.quiet_hours import customer_zone, quiet_until
from touchpoints.policy.retention import Retention, retention_for

__all__ = [
    "EXPIRED",
    "GROUP_EXCLUSION",
    "NO_CONSENT",
    "NO_CONTACT",
    "POLICY_ORDER",
    "QUIET_HOURS",
    "RATE_LIMIT",
    "RESOLVED",
    "RULE_LIMIT",
    "ContactLedger",
    "Retention",
    "Verdict",
    "address_for",
    "capped_until",
    "customer_zone",
    "evaluate_action",
    "exceeds_cap",
    "exceeds_rule_limit",
    "has_consent",
    "is_expired",
    "is_group_taken",
    "quiet_until",
    "retention_for",
]
