"""The domain functions the Lambda handlers and the simulator call, with their ports passed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from touchpoints.catalog.templates import TemplateRenderError
from touchpoints.commit import plan_commit
from touchpoints.contract.redaction import redact
from touchpoints.contract.timers import TIMER_TYPE
from touchpoints.decide import decide, waiting_actions
from touchpoints.errors import TouchpointsError
from touchpoints.policy import EXPIRED, is_expired
from touchpoints.ports import (
    Channel,
    ChannelError,
    ChannelTimeoutError,
    ChannelUnavailableError,
    ConflictError,
    DecisionStore,
    DuplicateEventError,
    OutboundMessage,
    StoreError,
    TimerService,
)

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.outcome import TimerRequest
    from touchpoints.policy.retention import Retention

__all__ = [
    "IN_FLIGHT",
    "RETRYING",
    "TEMPLATE_ERROR",
    "UNKNOWN_OUTCOME",
    "DispatchResult",
    "DispatchRetryError",
    "ProcessResult",
    "dispatch_action",
    "process_event",
    "render_action",
]


@dataclass(frozen=True)
class ProcessResult:
    """What processing one event did: the records written and the timers scheduled.

    `is_duplicate` is True when the event, or the fact it reports (its business key), had been
    applied before (by an earlier delivery or copy, or by a concurrent one that won the commit):
    then nothing was written and nothing scheduled. `duplicate_of` is the id of the event that
    applied it, when the store's marker says so: another id than `event_id` means a *business
    duplicate* (a resend under a new EventBridge id). `attempts` counts load-decide-commit rounds
    (more than 1 after optimistic-lock conflicts).
    """

    event_id: str
    order_id: str
    is_duplicate: bool
    records: list[DecisionRecord] = field(default_factory=list)
    timers: list[TimerRequest] = field(default_factory=list)
    attempts: int = 1
    duplicate_of: str | None = None


@dataclass(frozen=True)
class DispatchResult:
    """What dispatching one action did: `sent` (with the provider's message id), `failed`, and so on.

    `status` is `sent`, `failed`, `expired` or `skipped`. `skipped` means the action was not
    `pending` (already sent, failed, suppressed or still scheduled), so nothing was sent and the
    store was not touched: a redelivered stream record can never send a message twice.
    `expired`: it was pending past its rule's `expires_after` (a stuck dispatch, redriven late),
    so it was recorded `suppressed` / `expired`, not sent. `reason` is `template_error` when the
    template could not be rendered (a null printed, the render budget exceeded): nothing was sent.
    """

    action_id: str
    status: str
    message_id: str | None = None
    error: str | None = None
    reason: str | None = None


def process_event(
    event: Event,
    *,
    catalog: Catalog,
    store: DecisionStore,
    timers: TimerService,
    now: datetime,
    retention: Retention | None = None,
    max_attempts: int = 3,
) -> ProcessResult:
    """Load the order, decide, schedule the decision's timers, then commit what `plan_commit` plans.

    `retention` (how long the ledger keeps entries, how long records live) is the catalog's, built
    once by the caller with `retention_for(catalog)` (the handlers at cold start, the simulator per
    replay); None derives it from `catalog` on every call, for one-off callers. The store writes
    the plan as it is, so every store prunes the ledger the same way.

    Duplicates are found before anything is decided: the load reads the markers of the event's
    business keys with the state (`StoredOrder.applied_by`), so a copy of a fact under any
    EventBridge id decides, schedules and writes nothing, however long after the original it
    comes; `decide` also knows the journey's recent keys. Two copies racing are told apart by
    the commit: the loser's markers (and its new action rows, whose ids derive from the same
    business key) already exist, a DuplicateEventError, or its version moved, and the retry's
    load then finds the markers.

    On ConflictError (another event for the same order or customer committed in between) the
    order is re-loaded and the event decided again, up to `max_attempts` rounds; the last
    ConflictError is re-raised so the queue redelivers the event.

    A TimerFired that releases waiting actions (`decide.waiting_actions`) also loads the event
    they were first decided on (`store.load_event`), which `decide` re-evaluates their rule on.

    Timers are scheduled *before* the commit. Scheduled after it, a scheduler failure would be
    lost for good: the redelivered event is a duplicate and decides (and schedules) nothing.
    Before it, a failure leaves nothing committed and the redelivery does it all again; a timer
    whose trigger never got committed is harmless, because timers are idempotent by name and
    `decide` ignores a TimerFired the order's committed state is not waiting for.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if retention is None:
        from touchpoints.policy.retention import retention_for

        retention = retention_for(catalog)
    customer = event.customer
    customer_id = customer.id if customer is not None else None
    keys = event.key_digests
    trigger: Event | None = None
    attempt = 0
    while True:
        attempt += 1
        loaded = store.load(event.order_id, customer_id, keys)
        if loaded.applied_by is not None:
            return ProcessResult(
                event_id=event.id,
                order_id=event.order_id,
                is_duplicate=True,
                attempts=attempt,
                duplicate_of=loaded.applied_by,
            )
        if customer_id is None and loaded.customer_id is not None and not loaded.has_ledger:
            # The event does not carry the customer but the journey knows it: load the ledger too,
            # so caps and customer-scoped limits see the customer's other orders.
            loaded = store.load(event.order_id, loaded.customer_id)
        if trigger is None and event.detail_type == TIMER_TYPE:
            # A timer releasing waiting actions decides them again on the event they were first
            # decided on (the rule's `event.*` facts): one more read, only for such a timer.
            waiting = waiting_actions(loaded.history, event, now)
            if waiting:
                trigger = store.load_event(event.order_id, waiting[0].event_id)
        decision = decide(loaded.state, event, catalog, loaded.history, now, trigger=trigger)
        if decision.is_duplicate:
            return ProcessResult(
                event_id=event.id, order_id=event.order_id, is_duplicate=True, attempts=attempt
            )
        for timer in decision.timers:
            timers.schedule(timer)
        try:
            store.commit(plan_commit(loaded, event, decision, retention=retention, now=now))
        except DuplicateEventError:
            return ProcessResult(
                event_id=event.id, order_id=event.order_id, is_duplicate=True, attempts=attempt
            )
        except ConflictError:
            if attempt >= max_attempts:
                raise
            # Retry on fresh data: with the customer id, the store reads the ledger itself rather
            # than a copy kept with the order (which may be what went stale).
            customer_id = customer_id or loaded.customer_id
            continue
        result = _new(ProcessResult)  # ProcessResult(...) without the frozen dataclass's per-field setattr
        result.__dict__.update(
            event_id=event.id,
            order_id=event.order_id,
            is_duplicate=False,
            records=list(decision.records),
            timers=list(decision.timers),
            attempts=attempt,
            duplicate_of=None,
        )
        return result


_new = object.__new__
"""Speed trick, kept here: the simulator builds a ProcessResult per event (~170k per 100k events)
and a frozen dataclass's __init__ costs three times the fields set straight into the instance's
`__dict__` (bench/simulate; tests/unit/decide/test_decide_service.py checks the two are equal)."""


def dispatch_action(
    record: DecisionRecord,
    *,
    catalog: Catalog,
    store: DecisionStore,
    channels: Mapping[str, Channel],
    now: datetime,
    row_key: str | None = None,
) -> DispatchResult:
    """Render and send one `pending` action, then mark it `sent` or `failed` in the store.

    Facts for the template come from the store, not from the stream record: the order's journey
    state (which also holds the unmasked address of the latest customer), its history, and the
    event that triggered the decision (kept with the event marker), built with `build_facts` at
    `now`. The current status is read back from the store first, so an action that is not
    `pending` any more is skipped and never sent twice, and one past its rule's `expires_after`
    (counted from its first decision) is recorded `suppressed` / `expired` instead of sent. All
    of it is one `store.load_action` (on DynamoDB one BatchGetItem when `row_key`, the stream
    record's sort key, is given), whose order also addresses the action's row
    (`StoredOrder.actions`): an action costs that read, the in-flight mark, the send and the
    `sent` mark, and the store keeps nothing between them.

    A StoreError (throttled, timed out) before the send is raised, not recorded: nothing was
    sent, and the stream retries the record. Just before the send the action is marked in flight
    (still `pending`, `error` = IN_FLIGHT); a retry that finds that mark cannot know whether the
    provider took the message, so it records `failed` with that explanation instead of sending
    it a second time. A failed `sent` update after an accepted send is retried a few times first.

    What the provider answers decides the rest (the channels classify it):

    - refused for good (ChannelError: a rejected address, a message too large): `failed`, with
      the provider's reason, addresses masked;
    - certainly not sent (ChannelUnavailableError: no connection, throttled, a 5xx): the mark
      becomes `RETRYING ...` (still `pending`) and DispatchRetryError is raised, so the stream
      retries the record and the retry sends (bounded by the stream's retries, then the
      dispatch DLQ and `touchpoints redrive`);
    - no answer (ChannelTimeoutError: a read timeout): for a transactional or service message
      the same retry, at least once (the customer may get it twice, both carrying the action id
      as a tag and a header); for a marketing message `failed` with the unknown outcome, at
      most once.
    """
    from touchpoints.journey import build_facts

    view = store.load_action(record, row_key)
    current = view.action
    if current is None or current.status != "pending":
        return DispatchResult(action_id=record.action_id, status="skipped")
    # The row's address, read with the order in the same request: each mark is one write.
    first = view.order.actions.get(current.action_id)
    if current.error == IN_FLIGHT:
        return _fail(store, current, first, UNKNOWN_OUTCOME)
    compiled = catalog.rules.get(current.rule_id)
    if compiled is not None and is_expired(compiled.rule, current.decided_at, now):
        # Too late to be true any more (stuck in the stream, redriven hours later): never sent.
        store.update_action(
            current.order_id, current.action_id, "suppressed", reason=EXPIRED, first_decided_at=first
        )
        return DispatchResult(action_id=current.action_id, status="expired")
    try:
        loaded, trigger = view.order, view.trigger
        if loaded.state is None or trigger is None:
            raise _DispatchError(
                f"action {current.action_id}: order {current.order_id} or event {current.event_id} "
                "is not in the store"
            )
        facts = build_facts(loaded.state, trigger, loaded.history, now)
        message = _build_message(current, catalog, loaded.state, facts)
        channel = channels.get(current.channel)
        if channel is None:
            raise _DispatchError(f"action {current.action_id}: no channel configured for {current.channel!r}")
    except StoreError:
        raise  # transient: nothing was sent, the stream retries the record
    except TemplateRenderError as exc:  # never sent: a null, a blank or a runaway template
        return _fail(store, current, first, redact(str(exc)), reason=TEMPLATE_ERROR)
    except TouchpointsError as exc:
        return _fail(store, current, first, str(exc))
    store.update_action(
        current.order_id, current.action_id, "pending", error=IN_FLIGHT, first_decided_at=first
    )
    try:
        message_id = channel.send(message)
    except ChannelUnavailableError as exc:
        _mark(store, current, first, "pending", error=f"{RETRYING}not sent: {exc}")
        raise DispatchRetryError(f"action {current.action_id} not sent, retried: {exc}") from exc
    except ChannelTimeoutError as exc:
        if _category(catalog, current) == "marketing":
            return _fail(store, current, first, f"{exc}; {NOT_RETRIED}")
        _mark(store, current, first, "pending", error=f"{RETRYING}no answer, sent again: {exc}")
        raise DispatchRetryError(f"action {current.action_id} unanswered, retried: {exc}") from exc
    except ChannelError as exc:  # refused for good
        return _fail(store, current, first, str(exc))
    except TouchpointsError as exc:  # a channel of our own (the in-memory twin) failing its way
        return _fail(store, current, first, str(exc))
    _mark(store, current, first, "sent", message_id=message_id)
    return DispatchResult(action_id=current.action_id, status="sent", message_id=message_id)


def _mark(
    store: DecisionStore,
    current: DecisionRecord,
    first_decided_at: datetime | None,
    status: str,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> None:
    """Write an outcome after the send, retried a few times: losing it would leave the mark in flight.

    If every attempt fails, the StoreError goes up; the retry then finds IN_FLIGHT and records the
    unknown outcome (nothing is ever sent twice because a write failed).
    """
    for attempt in range(_MARK_ATTEMPTS):
        try:
            store.update_action(
                current.order_id,
                current.action_id,
                status,
                message_id=message_id,
                error=error,
                first_decided_at=first_decided_at,
            )
            return
        except StoreError:
            if attempt + 1 == _MARK_ATTEMPTS:
                raise


def _category(catalog: Catalog, record: DecisionRecord) -> str | None:
    """The category of the record's rule in the catalog (None when the rule is gone)."""
    compiled = catalog.rules.get(record.rule_id)
    return compiled.rule.category if compiled is not None else None


class DispatchRetryError(TouchpointsError):
    """Raised by `dispatch_action` when the provider did not take the message (or did not answer).

    The action stays `pending`, marked `RETRYING ...`; the stream record fails, and its retry sends.
    """


def render_action(
    record: DecisionRecord, *, catalog: Catalog, store: DecisionStore, now: datetime
) -> OutboundMessage:
    """The message Dispatch would send for `record` at `now`, built as dispatch builds it; nothing is sent.

    For `simulate`, `test` and `diff` (rendered subjects, event payloads, content assertions): the
    same facts from the same store reads and the same `_build_message`, without the in-flight mark,
    the send or the status update. Raises a TouchpointsError where Dispatch would record `failed`.
    """
    from touchpoints.journey import build_facts

    view = store.load_action(record)
    loaded, trigger = view.order, view.trigger
    if loaded.state is None or trigger is None:
        raise _DispatchError(
            f"action {record.action_id}: order {record.order_id} or event {record.event_id} is not stored"
        )
    facts = build_facts(loaded.state, trigger, loaded.history, now)
    return _build_message(record, catalog, loaded.state, facts)


IN_FLIGHT = "dispatch in flight"
"""`error` of a `pending` action whose message is being handed to the provider right now."""

UNKNOWN_OUTCOME = (
    "an earlier dispatch attempt stopped after handing the message to the provider and before recording "
    "the result; it is not sent again, so the customer never gets it twice"
)
RETRYING = "retrying: "
"""Prefix of `error` of a `pending` action whose last attempt the provider did not take (or answer).

Unlike IN_FLIGHT, a retry that finds it sends: the attempt certainly did not send (or, after an
unanswered request, the category is sent at least once). `touchpoints redrive` hands such an
action back to Dispatch when its stream record ended in the DLQ."""
NOT_RETRIED = "not sent again: a marketing message goes out at most once, and the provider may have taken it"
_MARK_ATTEMPTS = 3


def _fail(
    store: DecisionStore,
    current: DecisionRecord,
    first_decided_at: datetime | None,
    error: str,
    *,
    reason: str | None = None,
) -> DispatchResult:
    """Record the action as `failed` with `error` (the audit says why), and `reason` if given."""
    store.update_action(
        current.order_id,
        current.action_id,
        "failed",
        error=error,
        first_decided_at=first_decided_at,
        reason=reason,
    )
    return DispatchResult(action_id=current.action_id, status="failed", error=error, reason=reason)


TEMPLATE_ERROR = "template_error"
"""The reason of a `failed` action whose template could not be rendered (contract DecisionReason)."""


class _DispatchError(TouchpointsError):
    """Raised inside dispatch when an action cannot be turned into a message; recorded as `failed`."""


def _build_message(
    record: DecisionRecord, catalog: Catalog, state: Any, facts: Mapping[str, Any]
) -> OutboundMessage:
    """Render the record's template in its locale and address it to the journey's latest customer."""
    from touchpoints.catalog import render_template

    compiled = catalog.rules.get(record.rule_id)
    spec = None
    if compiled is not None:
        spec = next((a for a in compiled.rule.then if a.channel == record.channel), None)
    customer = getattr(state, "customer", None)
    to: str | None = None
    if record.channel == "email":
        to = getattr(customer, "email", None)
    elif record.channel == "sms":
        to = getattr(customer, "phone", None)
    if record.channel != "event" and not to:
        raise _DispatchError(
            f"action {record.action_id}: the customer has no {record.channel} address any more"
        )
    subject = body = None
    if record.template is not None:
        template = catalog.templates.get((record.template, record.locale))
        if template is None:
            raise _DispatchError(
                f"action {record.action_id}: template {record.template!r} has no locale {record.locale!r}"
            )
        rendered = render_template(template, facts)
        subject = rendered.subject
        body = rendered.sms if record.channel == "sms" and rendered.sms else rendered.body
    detail: dict[str, Any] = {}
    detail_type: str | None = None
    if record.channel == "event":
        detail_type = record.detail_type or (spec.detail_type if spec is not None else None)
        if detail_type is None:
            raise _DispatchError(f"action {record.action_id}: an event action needs a detail-type")
        detail = {
            "order_id": record.order_id,
            "customer_id": record.customer_id,
            "rule_id": record.rule_id,
            "action_id": record.action_id,
            "trigger": record.trigger,
            "event_id": record.event_id,
            "template": record.template,
            "locale": record.locale,
        }
        if subject is not None:
            detail["subject"] = subject
        if body is not None:
            detail["body"] = body
    return OutboundMessage(
        action_id=record.action_id,
        order_id=record.order_id,
        customer_id=record.customer_id,
        rule_id=record.rule_id,
        channel=record.channel,
        to=to,
        locale=record.locale,
        template=record.template,
        subject=subject,
        body=body,
        detail_type=detail_type,
        detail=detail,
    )
