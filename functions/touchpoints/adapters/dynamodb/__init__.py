"""The DecisionStore on one DynamoDB table: one read and one transactional write per event.

Split along its seams: `rows` (the row models, keys and attribute codec), `table` (the client
plumbing every part shares), `store` (the hot path: load, commit, load_action, update_action),
`queries` (audit and redrive reads) and `erasure` (`touchpoints forget`). The store serialises
the core's `CommitPlan` and keeps nothing between calls.
"""

from __future__ import annotations

from touchpoints.adapters.dynamodb.rows import (
    CUSTOMER_INDEX,
    ORDERS_INDEX,
    RULE_INDEX,
    ActionRow,
    CustomerLinkRow,
    EventMarkerRow,
    LedgerRow,
    StateRow,
    record_from_image,
)
from touchpoints.adapters.dynamodb.store import DynamoDBDecisionStore
from touchpoints.erasure import ERASED
from touchpoints.ports import ForgetReport

__all__ = [
    "CUSTOMER_INDEX",
    "ERASED",
    "ORDERS_INDEX",
    "RULE_INDEX",
    "ActionRow",
    "CustomerLinkRow",
    "DynamoDBDecisionStore",
    "EventMarkerRow",
    "ForgetReport",
    "LedgerRow",
    "StateRow",
    "record_from_image",
]
