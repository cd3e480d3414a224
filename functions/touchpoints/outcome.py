"""What a decision is: the outcome of one event (records, timers, contacts) and the ids it names.

These are the core's own types. `decide` produces them; the ports (`touchpoints.ports`), the
service and every adapter read them, so they live below all of those and import none of them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from touchpoints.contract.keys import computed_once, timer_key
from touchpoints.contract.timers import DEFAULT_ACCOUNT, DEFAULT_REGION, timer_envelope, timer_event
from touchpoints.timestamps import format_seconds

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.journey import ContactEntry, OrderJourney

__all__ = ["Decision", "TimerRequest", "action_id_for"]


def action_id_for(event_key: str, rule_id: str, channel: str) -> str:
    """The deterministic action id: the same fact, rule and channel always give the same id.

    `event_key` is the trigger event's business-key digest (`Event.key_digests[0]`), not its
    EventBridge id: a platform's resend of a fact under a new id names the same actions, so the
    commit's `attribute_not_exists` on a new action row can never let two copies both act.
    """
    digest = hashlib.sha256(f"{event_key}\x1f{rule_id}\x1f{channel}".encode()).hexdigest()
    return digest[:32]


@dataclass(frozen=True)
class TimerRequest:
    """Ask the TimerService to come back for this rule at `due_at` (a delayed rule or a deferred action)."""

    order_id: str
    rule_id: str
    trigger_event_id: str
    due_at: datetime

    @computed_once
    def name(self) -> str:
        """A deterministic schedule name (<= 64 chars of [0-9A-Za-z-_.]): the same timer is set once."""
        key = f"{self.order_id}\x1f{self.rule_id}\x1f{self.trigger_event_id}\x1f{format_seconds(self.due_at)}"
        return "tp-" + hashlib.sha256(key.encode()).hexdigest()[:48]

    @computed_once
    def key(self) -> str:
        """The business-key digest of the TimerFired this timer comes back as (the journey waits for it)."""
        return timer_key(self.order_id, self.rule_id, self.trigger_event_id, self.due_at)

    def to_event(self, *, account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION) -> dict[str, Any]:
        """The TimerFired EventBridge envelope delivered when the timer is due (id = the timer's name)."""
        return timer_envelope(
            name=self.name,
            order_id=self.order_id,
            rule_id=self.rule_id,
            trigger_event_id=self.trigger_event_id,
            due_at=self.due_at,
            account=account,
            region=region,
        )

    def to_parsed_event(self) -> Event:
        """The same event as the parsed model, without re-validating it (the simulator's timers).

        Its key digests are this timer's `key`, already computed when the decision listed it: set
        into the event's cache rather than computed again (a unit test checks they are equal).
        """
        event = timer_event(
            name=self.name,
            order_id=self.order_id,
            rule_id=self.rule_id,
            trigger_event_id=self.trigger_event_id,
            due_at=self.due_at,
        )
        event.__dict__["key_digests"] = (self.key,)
        return event


@dataclass(frozen=True)
class Decision:
    """Everything one event changes; the store writes it in one transaction."""

    state: OrderJourney
    records: list[DecisionRecord] = field(default_factory=list)
    timers: list[TimerRequest] = field(default_factory=list)
    contacts: list[ContactEntry] = field(default_factory=list)
    is_duplicate: bool = False
