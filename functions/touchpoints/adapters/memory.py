"""In-memory twins of the ports, for the simulator, `touchpoints test` and unit tests (no AWS)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from touchpoints.construct import construct
from touchpoints.erasure import (
    ERASED,
    erase_event_fields,
    erased_journey,
    personal_values,
    scrub_text,
)
from touchpoints.journey import History
from touchpoints.ports import (
    ChannelError,
    ConflictError,
    DispatchView,
    DuplicateEventError,
    ForgetReport,
    OutboundMessage,
    StoredOrder,
    StoreError,
)

if TYPE_CHECKING:
    from touchpoints.commit import CommitPlan
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.journey import ContactEntry, OrderJourney
    from touchpoints.outcome import TimerRequest

__all__ = ["InMemoryChannel", "InMemoryDecisionStore", "InMemoryTimerService"]


@dataclass(slots=True)
class _Order:
    """One order as the store holds it: what `load` hands out besides the lists."""

    state: OrderJourney | None = None
    version: int = 0
    actions: Mapping[str, datetime] = field(default_factory=dict)
    indexed_customer_id: str | None = None


_NO_ORDER = _Order()
"""An order the store has never seen (read-only: never committed to)."""


class InMemoryDecisionStore:
    """A DecisionStore in dictionaries, with the same optimistic locking and idempotency as DynamoDB.

    Versions start at 0 for an item that does not exist and grow by one per commit, so tests can
    provoke a ConflictError by committing twice from the same load. A commit writes its
    `CommitPlan` as it is (the ledger already merged and pruned by the core), like DynamoDB.
    """

    def __init__(self) -> None:
        self._orders: dict[str, _Order] = {}
        self._events: dict[str, dict[str, Event]] = {}
        # order id -> business-key digest -> the id of the event that applied it (the KEY# markers).
        self._keys: dict[str, dict[str, str]] = {}
        self._records: dict[str, dict[str, DecisionRecord]] = {}
        self._customer_records: dict[str, dict[str, DecisionRecord]] = {}
        # The order histories and ledgers as the lists History holds, handed out as they are: a
        # commit replaces a list, never changes it, so a loaded History stays as it was.
        self._order_lists: dict[str, Sequence[ContactEntry]] = {}
        self._ledger_lists: dict[str, Sequence[ContactEntry]] = {}
        self._ledger_versions: dict[str, int] = {}
        self._histories: dict[str, tuple[Sequence[ContactEntry], Sequence[ContactEntry], History]] = {}
        # customer id -> every order whose journey was committed naming it (DynamoDB's
        # orders-by-customer index): a customer id the order later leaves behind stays listed.
        self._customer_orders: dict[str, set[str]] = {}
        self.commits = 0

    def load(self, order_id: str, customer_id: str | None, keys: Sequence[str] = ()) -> StoredOrder:
        """The order's state and history, the customer's ledger (with `customer_id`), `keys`' markers."""
        order = self._orders.get(order_id, _NO_ORDER)
        state = order.state
        if customer_id is None and state is not None and state.customer is not None:
            customer_id = state.customer.id
        order_list = self._order_lists.get(order_id, _NONE)
        ledger_list = self._ledger_lists.get(customer_id, _NONE) if customer_id is not None else _NONE
        # The History of the last load, handed out again while both of its lists are the same
        # objects (a commit replaces a list, never changes it): most loads follow no contact.
        cached = self._histories.get(order_id)
        if cached is not None and cached[0] is order_list and cached[1] is ledger_list:
            history = cached[2]
        else:
            history = _history(order_list, ledger_list)
            self._histories[order_id] = (order_list, ledger_list, history)
        loaded = _new(StoredOrder)  # StoredOrder(...) without the frozen dataclass's per-field setattr
        loaded.__dict__.update(
            order_id=order_id,
            customer_id=customer_id,
            state=state,
            history=history,
            state_version=order.version,
            ledger_version=self._ledger_versions.get(customer_id, 0) if customer_id is not None else 0,
            has_ledger=customer_id is not None,
            actions=order.actions,
            indexed_customer_id=order.indexed_customer_id,
            applied_by=_applied_by(self._keys.get(order_id), keys) if keys else None,
        )
        return loaded

    def commit(self, plan: CommitPlan) -> None:
        """Check the markers, the new actions and both versions, then write the plan (all or nothing).

        As DynamoDB's transaction does: the event id, each of its business keys and each new
        action must not be stored yet (DuplicateEventError), the versions must not have moved.
        """
        # One unpacking instead of fifteen attribute reads (the simulator commits ~170k times).
        (
            order_id,
            event,
            _processed_at,
            _marker_expires_at,
            state,
            state_version,
            order_history,
            action_index,
            actions,
            customer_id,
            ledger,
            is_ledger_changed,
            ledger_version,
            indexed,
            _linked,
        ) = plan
        events = self._events.setdefault(order_id, {})
        if event.id in events:
            raise DuplicateEventError(f"event {event.id} was already processed for order {order_id}")
        applied = self._keys.setdefault(order_id, {})
        keys = event.key_digests
        first = _applied_by(applied, keys)
        if first is not None:
            raise DuplicateEventError(
                f"event {event.id} reports what event {first} already applied to order {order_id}"
            )
        stored = self._records.get(order_id)
        if stored and actions:
            for write in actions:
                if not write.replaces and write.record.action_id in stored:
                    raise DuplicateEventError(
                        f"event {event.id}: action {write.record.action_id} of order {order_id} exists"
                    )
        order = self._orders.get(order_id)
        current = order.version if order is not None else 0
        if current != state_version:
            raise ConflictError(
                f"order {order_id} changed since it was loaded (state version {state_version} -> {current})"
            )
        if customer_id is not None and self._ledger_versions.get(customer_id, 0) != ledger_version:
            raise ConflictError(f"the contact ledger of customer {customer_id} changed since it was loaded")
        # All checks passed: from here on nothing can fail, so the write is atomic.
        events[event.id] = event
        for key in keys:
            applied[key] = event.id
        if order is None:
            order = self._orders[order_id] = _Order()
        order.state = state  # loads copy the version out, so the holder is updated in place
        order.version = current + 1
        order.actions = action_index
        if indexed is not None and indexed != order.indexed_customer_id:
            # Listed once per id, and never unlisted: the id the order leaves behind stays linked
            # (the plan's `linked_customer_id` is always listed already).
            self._customer_orders.setdefault(indexed, set()).add(order_id)
        order.indexed_customer_id = indexed
        if actions:
            records = self._records.setdefault(order_id, {})
            for write in actions:
                record = write.record
                records[record.action_id] = record
                if record.customer_id is not None:
                    self._customer_records.setdefault(record.customer_id, {})[record.action_id] = record
        if order_history:
            self._order_lists[order_id] = order_history
        if is_ledger_changed and customer_id is not None:
            self._ledger_lists[customer_id] = ledger
            self._ledger_versions[customer_id] = ledger_version + 1
        self.commits += 1

    def load_event(self, order_id: str, event_id: str) -> Event | None:
        """The event committed under this id for the order, or None."""
        return self._events.get(order_id, {}).get(event_id)

    def load_action(self, record: DecisionRecord, row_key: str | None = None) -> DispatchView:
        """The stored action, its order (with the customer's ledger) and trigger event (`row_key` unused)."""
        order_id = record.order_id
        return DispatchView(
            action=self._records.get(order_id, {}).get(record.action_id),
            order=self.load(order_id, record.customer_id),
            trigger=self.load_event(order_id, record.event_id),
        )

    def records_for_order(self, order_id: str) -> list[DecisionRecord]:
        """The order's decision records, in the order they were first decided."""
        return list(self._records.get(order_id, {}).values())

    def orders_for_customer(self, customer_id: str) -> list[str]:
        """Every order whose journey was ever committed naming the customer, sorted."""
        return sorted(self._customer_orders.get(customer_id, ()))

    def forget_customer(self, customer_id: str) -> ForgetReport:
        """Erase the customer's personal data as DynamoDBDecisionStore.forget_customer does.

        Same orders (journey index, decision records, ledger), same fields, same counts, and the
        journey's version moves on, so a load taken before the erasure cannot commit over it.
        """
        from touchpoints.contract import parse_event

        orders = set(self.orders_for_customer(customer_id))
        orders |= {record.order_id for record in self.records_for_customer(customer_id)}
        ledger = self._ledger_lists.get(customer_id)
        if ledger is not None:
            orders |= {entry.order_id for entry in ledger if entry.order_id}
        report = ForgetReport(customer_id=customer_id, orders=sorted(orders))
        kept = [self._orders[order_id] for order_id in report.orders if order_id in self._orders]
        stored = [event for order_id in report.orders for event in self._events.get(order_id, {}).values()]
        values = personal_values(
            customer_id, (order.state for order in kept), (event.to_dict() for event in stored)
        )
        for order_id in report.orders:
            order = self._orders.get(order_id)
            state = order.state if order is not None else None
            if order is not None and state is not None and state.customer is not None:
                erased = erased_journey(state, values) if state.customer.id == customer_id else state
                if erased != state:
                    order.state = erased
                    order.version += 1
                    report.states += 1
            events = self._events.get(order_id, {})
            for event_id, event in list(events.items()):
                envelope = event.to_dict()
                if erase_event_fields(envelope, customer_id, values):
                    events[event_id] = parse_event(envelope)
                    report.events += 1
            records = self._records.get(order_id, {})
            for action_id, record in list(records.items()):
                if record.customer_id not in (None, customer_id):
                    continue
                erased_record = _erased_record(record, values)
                if erased_record == record:
                    continue
                records[action_id] = erased_record
                if record.customer_id is not None:
                    self._customer_records.setdefault(record.customer_id, {})[action_id] = erased_record
                report.actions += 1
        if ledger is not None:
            del self._ledger_lists[customer_id]
            self._ledger_versions.pop(customer_id, None)
            report.ledger_deleted = True
        return report

    def records_for_customer(self, customer_id: str) -> list[DecisionRecord]:
        """The customer's decision records across orders, in the order they were first decided."""
        return list(self._customer_records.get(customer_id, {}).values())

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
        """Set an action's status (and message id or error, and `reason` when given); StoreError if unknown.

        `first_decided_at` is not needed here: the records are kept by action id.
        """
        records = self._records.get(order_id, {})
        record = records.get(action_id)
        if record is None:
            raise StoreError(f"order {order_id} has no action {action_id}")
        changes: dict[str, Any] = {"status": status, "message_id": message_id, "error": error}
        if reason is not None:
            changes["reason"] = reason
        updated = record.model_copy(update=changes)
        records[action_id] = updated
        if updated.customer_id is not None:
            self._customer_records.setdefault(updated.customer_id, {})[action_id] = updated

    def all_records(self) -> list[DecisionRecord]:
        """Every record in the store (for the simulator's summaries and tests)."""
        return [record for records in self._records.values() for record in records.values()]


_new = object.__new__


def _applied_by(applied: Mapping[str, str] | None, keys: Sequence[str]) -> str | None:
    """The id of the event that applied one of `keys` (a marker of the order), or None."""
    if applied:
        for key in keys:
            first = applied.get(key)
            if first is not None:
                return first
    return None


_NONE: list[ContactEntry] = []
"""No contacts: one shared list, read-only like every list a loaded History holds."""


def _history(order: Sequence[ContactEntry], customer: Sequence[ContactEntry]) -> History:
    """A History holding these lists as they are (already ContactEntry objects: no re-validation)."""
    return construct(History, {"order": order, "customer": customer})


class InMemoryChannel:
    """A Channel that keeps what it was asked to send; `fail_with` makes every send fail."""

    def __init__(self, name: str = "memory", *, fail_with: str | None = None) -> None:
        self.name = name
        self.fail_with = fail_with
        self.sent: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> str:
        """Record the message and return a deterministic message id (`<name>-<n>`)."""
        if self.fail_with is not None:
            raise ChannelError(f"{self.name}: {self.fail_with}")
        self.sent.append(message)
        return f"{self.name}-{len(self.sent)}"


def _erased_record(record: DecisionRecord, values: frozenset[str]) -> DecisionRecord:
    """The record as DynamoDB's erasure leaves its row: `[erased]` address, every text scrubbed."""
    update: dict[str, object] = {}
    if record.address not in (None, ERASED):
        update["address"] = ERASED
    for name, value in record.__dict__.items():
        if isinstance(value, str) and name != "address":
            scrubbed = scrub_text(name, value, values)
            if scrubbed != value:
                update[name] = scrubbed
    return record.model_copy(update=update) if update else record


class InMemoryTimerService:
    """A TimerService as a heap of due timers; the simulator pops them as its clock passes.

    Scheduling the same timer (same name) twice keeps one, like EventBridge Scheduler names do.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, TimerRequest]] = []
        self._names: set[str] = set()
        self._sequence = itertools.count()

    def schedule(self, timer: TimerRequest) -> None:
        """Keep the timer until `due` is asked for its time."""
        name = timer.name
        if name in self._names:
            return
        self._names.add(name)
        heapq.heappush(self._heap, (timer.due_at, next(self._sequence), timer))

    def due(self, until: datetime) -> list[TimerRequest]:
        """Remove and return, earliest first, every timer due at or before `until`."""
        ready: list[TimerRequest] = []
        while self._heap and self._heap[0][0] <= until:
            ready.append(heapq.heappop(self._heap)[2])
        return ready

    def next_due(self) -> datetime | None:
        """When the earliest waiting timer is due, or None when none waits."""
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
