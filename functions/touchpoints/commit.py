"""What a commit writes, computed once in the core: every store only serialises this plan.

`plan_commit` turns a load and the decision made on it into a `CommitPlan`: the order's merged
history, the customer's merged and pruned ledger (or "unchanged, only check its version"), the
action records with whether each one is new or replaces an existing row, the customer id the
order is listed under (and the one it leaves behind), the expiry times, and `now` as the time of
processing. The in-memory store and DynamoDB write the same plan, so the simulator decides on
exactly the ledger production keeps (one contract suite holds both stores to it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.journey import ContactEntry, OrderJourney
    from touchpoints.outcome import Decision
    from touchpoints.policy.retention import Retention
    from touchpoints.ports import StoredOrder

__all__ = ["ActionWrite", "CommitPlan", "plan_commit"]


class ActionWrite(NamedTuple):
    """One decision record to write: a new action, or one replacing the row of an existing action.

    `first_decided_at` addresses the row (DynamoDB's sort key): the record's own decision time for
    a new action, the first decision's for a released one (`scheduled` -> `pending`), which keeps
    its row. `expires_at` is when the store may drop the row (DynamoDB TTL).
    """

    record: DecisionRecord
    first_decided_at: datetime
    replaces: bool
    expires_at: datetime


class CommitPlan(NamedTuple):
    """Everything one commit writes, under which conditions; a store adds nothing of its own.

    - `event`, `processed_at` (the caller's `now`), `marker_expires_at`: the idempotency marker,
      which must not exist yet (else DuplicateEventError);
    - `state`, `order_history`, `state_version` (as loaded; the store writes version + 1 and fails
      with ConflictError if it moved), `action_index` (the order's actions that may still change
      after the commit, `pending` or `scheduled` when decided: id -> first decision time, handed
      back by the next load; a suppressed action is final and never listed, so the index grows
      with contacts, not with events);
    - `actions`: the records to write, each new or replacing its row;
    - `ledger_customer_id` (None: the decision read no ledger, nothing written or checked),
      `ledger` (the ledger as the commit leaves it: merged and pruned when `is_ledger_changed`,
      else as loaded), `ledger_version` (as loaded: written as version + 1 when changed, else
      only checked, since the decision read it);
    - `indexed_customer_id`: the customer id the order is listed under after the commit;
      `linked_customer_id`: the id it was listed under before, when that changed (kept linked,
      so the order is still found from the old id).

    Both are named tuples: immutable and built in a fraction of a frozen dataclass's time (the
    simulator plans about 170k commits per 100k events, bench/simulate).
    """

    order_id: str
    event: Event
    processed_at: datetime
    marker_expires_at: datetime
    state: OrderJourney
    state_version: int
    order_history: Sequence[ContactEntry]
    action_index: Mapping[str, datetime]
    actions: Sequence[ActionWrite]
    ledger_customer_id: str | None
    ledger: Sequence[ContactEntry]
    is_ledger_changed: bool
    ledger_version: int
    indexed_customer_id: str | None
    linked_customer_id: str | None


_OPEN = frozenset({"pending", "scheduled"})
"""Statuses a later commit or mark can still change (a release, `sent`, `failed`): their rows stay indexed."""

_NO_ENTRIES: tuple[ContactEntry, ...] = ()
_NO_WRITES: tuple[ActionWrite, ...] = ()

# Speed trick, kept here: a NamedTuple's generated __new__ is a Python function taking keywords;
# a plan is built ~170k times per 100k simulated events, so it and its action writes are made by
# tuple.__new__ with the fields in their declared order (bench/simulate; a unit test in
# tests/unit/decide/test_decide_service.py checks both equal what their constructors build).
_tuple = tuple.__new__


def plan_commit(
    loaded: StoredOrder, event: Event, decision: Decision, *, retention: Retention, now: datetime
) -> CommitPlan:
    """The plan of committing `decision`, made on `loaded`, for `event` (never a duplicate's decision)."""
    if decision.is_duplicate:
        raise ValueError(f"event {event.id}: a duplicate's decision writes nothing and has no plan")
    contacts = decision.contacts
    history = loaded.history
    order_history: Sequence[ContactEntry] = history.order
    if contacts:
        order_history = _merge(order_history, contacts)

    known = loaded.actions
    ttl = retention.record_ttl
    actions: Sequence[ActionWrite] = _NO_WRITES
    action_index = known
    records = decision.records
    if records:
        writes: list[ActionWrite] = []
        index: dict[str, datetime] | None = None
        for record in records:
            action_id, decided_at = record.action_id, record.decided_at
            first = known.get(action_id)
            if first is None:
                first = decided_at
                writes.append(_tuple(ActionWrite, (record, decided_at, False, decided_at + ttl)))
            else:
                writes.append(_tuple(ActionWrite, (record, first, True, decided_at + ttl)))
            is_open = record.status in _OPEN
            if is_open != (action_id in known):  # listed from now on, or final from now on
                if index is None:
                    index = dict(known)
                if is_open:
                    index[action_id] = first
                else:
                    index.pop(action_id, None)
        actions = writes
        if index is not None:
            action_index = index

    customer_id = loaded.customer_id
    ledger: Sequence[ContactEntry] = _NO_ENTRIES
    changed = False
    if customer_id is not None:
        ledger = history.customer
        if contacts:
            theirs = contacts  # the usual case: every contact is this customer's
            for entry in contacts:
                if entry.customer_id != customer_id and entry.customer_id is not None:
                    theirs = [e for e in contacts if e.customer_id in (None, customer_id)]
                    break
            if theirs:
                ledger = retention.prune(_merge(ledger, theirs))
                changed = True

    # The orders-by-customer index lists the journey's customer (or the one the load named); a
    # customer id the order leaves behind stays linked, so the order is found from either id.
    customer = decision.state.customer
    indexed = customer.id if customer is not None else customer_id
    previous = loaded.indexed_customer_id
    linked = previous if previous is not None and previous != indexed else None
    return _tuple(
        CommitPlan,
        (
            loaded.order_id,
            event,
            now,  # processed_at
            event.time + ttl,  # marker_expires_at
            decision.state,
            loaded.state_version,
            order_history,
            action_index,
            actions,
            customer_id,  # ledger_customer_id
            ledger,
            changed,  # is_ledger_changed
            loaded.ledger_version,
            indexed,  # indexed_customer_id
            linked,  # linked_customer_id
        ),
    )


def _merge(existing: Iterable[ContactEntry], added: Iterable[ContactEntry]) -> list[ContactEntry]:
    """Existing entries with `added` appended; an added entry replaces the one with its action id.

    A scan instead of a dict by action id: a decision adds one or two entries to a short list,
    where building the dict cost more than the scans (bench/simulate).
    """
    merged = list(existing)
    for entry in added:
        action_id = entry.action_id
        for index, old in enumerate(merged):
            if old.action_id == action_id:
                merged[index] = entry
                break
        else:
            merged.append(entry)
    return merged
