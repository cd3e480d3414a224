"""The ports the domain needs from the outside world: a decision store, channels and timers.

They are the core's: `service` codes against them, and each adapter (in-memory twins, DynamoDB,
SES/SNS/EventBridge, Scheduler) implements one; no port imports an adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from touchpoints.errors import TouchpointsError

if TYPE_CHECKING:
    from touchpoints.commit import CommitPlan
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.journey import History, OrderJourney
    from touchpoints.outcome import TimerRequest

__all__ = [
    "Channel",
    "ChannelError",
    "ChannelTimeoutError",
    "ChannelUnavailableError",
    "ConflictError",
    "DecisionStore",
    "DispatchView",
    "DuplicateEventError",
    "ForgetReport",
    "OutboundMessage",
    "StoreError",
    "StoredOrder",
    "TimerError",
    "TimerService",
]


class StoreError(TouchpointsError):
    """Raised by a DecisionStore when the storage itself fails (throttled, unreachable, corrupt row)."""


class ConflictError(StoreError):
    """Raised by `DecisionStore.commit` when the order state or the customer's ledger changed since `load`.

    The caller re-loads and decides again (optimistic locking); nothing was written.
    """


class DuplicateEventError(StoreError):
    """Raised by `DecisionStore.commit` when this event, or the fact it reports, was already committed.

    Its id, one of its business keys (`Event.key_digests`) or one of its new actions is already
    stored: another delivery or copy of the same fact won the race. Nothing was written and
    nothing must be.
    """


class ChannelError(TouchpointsError):
    """Raised by a Channel when the provider refused the message for good (a rejected address, too large).

    Its text names the action and the provider's reason, with every address masked.
    """


class ChannelUnavailableError(ChannelError):
    """Raised by a Channel when the message was certainly not sent: no connection, throttled, a 5xx.

    Trying again later is safe and right: the action stays `pending` and the stream retries it.
    """


class ChannelTimeoutError(ChannelError):
    """Raised by a Channel when the request left but no answer came (a read timeout, a dropped answer).

    The provider may or may not have taken the message: sending again may deliver it twice.
    """


class TimerError(TouchpointsError):
    """Raised by a TimerService when a timer could not be scheduled."""


@dataclass(frozen=True)
class StoredOrder:
    """What `DecisionStore.load` returns: the order's journey and history, plus the versions to lock on.

    `state` is None for an order the store has never seen. Versions are 0 when the item does not
    exist yet; `commit` must fail with ConflictError if either version moved since this load.
    `has_ledger` is True when the customer's ledger was read (a store that learns the customer
    from the state may read it in the same call); otherwise the service loads again with the id.

    The rest is what the commit after this load needs to know, so that no store keeps anything
    between calls: `actions` maps the id of each of the order's actions that may still change
    (`pending` or `scheduled` when decided) to when it was first decided (a released action
    keeps the row of its first decision, addressed by that time), and `indexed_customer_id` is
    the customer id the order is listed under now (None before its first commit naming one), so
    a commit that changes it keeps the old id linked.

    `applied_by` answers the `keys` the load was asked about: the id of the event that applied
    one of them to the order (its idempotency marker exists), else None. The event being loaded
    for is then a duplicate: nothing is decided and nothing written.
    """

    order_id: str
    customer_id: str | None
    state: OrderJourney | None
    history: History
    state_version: int = 0
    ledger_version: int = 0
    has_ledger: bool = False
    actions: Mapping[str, datetime] = field(default_factory=dict)
    indexed_customer_id: str | None = None
    applied_by: str | None = None


@dataclass(frozen=True)
class DispatchView:
    """What `DecisionStore.load_action` returns: everything dispatching one action reads.

    `action` is the action as stored *now* (None if the store has no such action): the stream
    record that triggered the dispatch may be stale, and only the stored status says whether it
    is still to be sent. `order` is the action's order loaded with its customer's ledger (as
    `load` returns it); `trigger` is the event that triggered the decision, or None if not kept.
    """

    action: DecisionRecord | None
    order: StoredOrder
    trigger: Event | None


@dataclass
class ForgetReport:
    """What `DecisionStore.forget_customer` changed: the orders found and how many items of each kind.

    `states`, `events` and `actions` count the items this run changed (0 on a second run), so
    the CLI's report says what was erased now, not what was once there.
    """

    customer_id: str
    orders: list[str]
    states: int = 0
    events: int = 0
    actions: int = 0
    ledger_deleted: bool = False


@dataclass(frozen=True)
class OutboundMessage:
    """One rendered message for a Channel: everything needed to send it, nothing to look up.

    `to` is the unmasked address (email or E.164 phone) and is None for the `event` channel.
    For email, `subject` and `body` are set; for sms, `body` is the text message; for the `event`
    channel, `detail_type` and `detail` describe the EventBridge event to put on the bus.
    """

    action_id: str
    order_id: str
    customer_id: str | None
    rule_id: str
    channel: str
    to: str | None
    locale: str
    template: str | None = None
    subject: str | None = None
    body: str | None = None
    detail_type: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class DecisionStore(Protocol):
    """Journey state, event markers, decision records and the contact ledger (DynamoDB in production)."""

    def load(self, order_id: str, customer_id: str | None, keys: Sequence[str] = ()) -> StoredOrder:
        """Read the order's state and history and, when `customer_id` is given, the customer's ledger.

        `keys` are an event's business-key digests: whether one was applied to the order (its
        marker exists) comes back as `applied_by`, read in the same request as the state.
        """
        ...

    def commit(self, plan: CommitPlan) -> None:
        """Write what `touchpoints.commit.plan_commit` planned, atomically, and nothing else.

        The markers (one per business key, and the event by its id, kept for dispatch), the new
        state and order history, the action records (a replacing one over its existing row), the
        ledger (or only a check of its version), the customer link. Raises ConflictError if a
        version moved since the plan's load, DuplicateEventError if the event id, one of its keys
        or one of its new actions was already committed; then nothing was written.
        """
        ...

    def load_event(self, order_id: str, event_id: str) -> Event | None:
        """The event committed under this id for the order (kept with its marker), or None."""
        ...

    def load_action(self, record: DecisionRecord, row_key: str | None = None) -> DispatchView:
        """The action as stored now, its order (state, history, ledger) and its trigger event.

        For the dispatcher, in as few reads as the store can (DynamoDB: one BatchGetItem when
        `row_key`, the store's own key of the action as the stream record carries it, is given).
        The order's `actions` address the action's row for the `update_action` marks that follow.
        """
        ...

    def records_for_order(self, order_id: str) -> list[DecisionRecord]:
        """Every decision record of the order, oldest decision first."""
        ...

    def orders_for_customer(self, customer_id: str) -> list[str]:
        """Every order whose journey ever named this customer, decided on or not, sorted.

        An order whose customer id changed is listed under each id it was ever committed with.
        """
        ...

    def forget_customer(self, customer_id: str) -> ForgetReport:
        """Erase the customer's personal data, keep the decision records (see `touchpoints forget`)."""
        ...

    def records_for_customer(self, customer_id: str) -> list[DecisionRecord]:
        """Every decision record of the customer across orders, oldest decision first."""
        ...

    def update_action(
        self,
        order_id: str,
        action_id: str,
        status: str,
        message_id: str | None = None,
        error: str | None = None,
        *,
        first_decided_at: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        """Set an action's status (`sent` with the provider message id, or `failed` with the error).

        `first_decided_at` addresses the action's row (`StoredOrder.actions[action_id]`, which
        `load_action` returned with the order); without it a store may have to look the row up.
        `reason`, when given, replaces the record's reason (`suppressed` / `expired` at send time,
        `template_error` for a failed render); otherwise the reason is left as it was.
        """
        ...


@runtime_checkable
class Channel(Protocol):
    """A way to reach the customer (email, sms) or another system (event bus)."""

    def send(self, message: OutboundMessage) -> str:
        """Hand the message to the provider and return its message id.

        ChannelUnavailableError when it certainly did not go out, ChannelTimeoutError when nobody
        can know, ChannelError when the provider refused it for good.
        """
        ...


@runtime_checkable
class TimerService(Protocol):
    """Delivers a TimerFired event back to the pipeline at a given time (EventBridge Scheduler)."""

    def schedule(self, timer: TimerRequest) -> None:
        """Arrange for `timer.to_event()` to arrive at `timer.due_at`; idempotent on `timer.name`."""
        ...
