"""The TimerFired event, in one place: the envelope a timer comes back as, as JSON and as a model.

A timer (a delayed rule, a deferred action) is delivered to the pipeline as an ordinary event of
the internal detail-type `TimerFired`, from the reserved source `touchpoints.timers`. Production
puts `timer_envelope` on the queue through EventBridge Scheduler; the simulator hands the same
event, as `timer_event`, straight to the decision path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from touchpoints.construct import construct
from touchpoints.contract.envelope import EVENT_MODELS, TIMER_SOURCE, Event
from touchpoints.contract.models import TimerFired
from touchpoints.timestamps import format_seconds

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_REGION", "TIMER_TYPE", "timer_envelope", "timer_event"]

TIMER_TYPE = "TimerFired"
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"

_TIMER_EVENT = EVENT_MODELS[TIMER_TYPE]


def timer_envelope(
    *,
    name: str,
    order_id: str,
    rule_id: str,
    trigger_event_id: str,
    due_at: datetime,
    account: str = DEFAULT_ACCOUNT,
    region: str = DEFAULT_REGION,
) -> dict[str, Any]:
    """The TimerFired EventBridge envelope (JSON) delivered when a timer is due; its id is the timer's name.

    The id is deterministic, so a timer delivered twice is recognised as a duplicate event.
    """
    due = format_seconds(due_at)
    return {
        "version": "0",
        "id": name,
        "detail-type": TIMER_TYPE,
        "source": TIMER_SOURCE,
        "account": account,
        "time": due,
        "region": region,
        "resources": [],
        "detail": {
            "order_id": order_id,
            "rule_id": rule_id,
            "trigger_event_id": trigger_event_id,
            "due_at": due,
        },
    }


def timer_event(*, name: str, order_id: str, rule_id: str, trigger_event_id: str, due_at: datetime) -> Event:
    """The event `timer_envelope` describes, as the parsed model, built without re-validating it.

    Every value comes from a validated timer, and the simulator builds one per fired timer
    (tens of thousands per replay): `construct` skips pydantic's validation (see construct.py).
    """
    detail = construct(
        TimerFired,
        {
            "order_id": order_id,
            "customer": None,
            "idempotency_key": None,
            "rule_id": rule_id,
            "trigger_event_id": trigger_event_id,
            "due_at": due_at,
        },
    )
    return construct(
        _TIMER_EVENT,
        {
            "version": "0",
            "id": name,
            "detail_type": TIMER_TYPE,
            "source": TIMER_SOURCE,
            "account": DEFAULT_ACCOUNT,
            "time": due_at,
            "region": DEFAULT_REGION,
            "resources": [],
            "detail": detail,
        },
    )
