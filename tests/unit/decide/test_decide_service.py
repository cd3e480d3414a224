"""service.process_event and service.dispatch_action over the in-memory adapters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from decide_helpers import ORDER, PAYMENT_FAILED, make_event

from touchpoints.adapters import InMemoryChannel, InMemoryDecisionStore, InMemoryTimerService
from touchpoints.catalog import Catalog
from touchpoints.commit import CommitPlan
from touchpoints.contract import DecisionRecord, Event, parse_event
from touchpoints.journey import History
from touchpoints.outcome import Decision, TimerRequest
from touchpoints.ports import ConflictError, StoredOrder, TimerError
from touchpoints.service import ProcessResult, dispatch_action, process_event


class ConflictingStore(InMemoryDecisionStore):
    """A store in which another writer commits first, `conflicts` times."""

    def __init__(self, conflicts: int) -> None:
        super().__init__()
        self.conflicts = conflicts
        self.loads = 0

    def load(self, order_id: str, customer_id: str | None, keys: Sequence[str] = ()) -> StoredOrder:
        self.loads += 1
        return super().load(order_id, customer_id, keys)

    def commit(self, plan: CommitPlan) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise ConflictError("someone else committed first")
        super().commit(plan)


def process(
    event: Event, catalog: Catalog, store: InMemoryDecisionStore, timers: InMemoryTimerService | None = None
) -> ProcessResult:
    return process_event(
        event,
        catalog=catalog,
        store=store,
        timers=timers if timers is not None else InMemoryTimerService(),
        now=event.time,
    )


def test_process_event_commits_and_schedules_timers(catalog: Catalog) -> None:
    # GIVEN an empty store and a failed payment
    store, timers = InMemoryDecisionStore(), InMemoryTimerService()
    event = make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED)
    # WHEN it is processed
    result = process(event, catalog, store, timers)
    # THEN the recovery is stored and the reminder timer is waiting
    assert not result.is_duplicate
    assert [r.rule_id for r in store.records_for_order("A1")] == ["recovery"]
    assert [r.rule_id for r in store.records_for_customer("C-TW")] == ["recovery"]
    assert [t.rule_id for t in timers.due(event.time + timedelta(days=2))] == ["reminder"]
    assert store.load_event("A1", event.id) == event


def test_the_same_event_twice_is_a_no_op(catalog: Catalog) -> None:
    # GIVEN an event already processed
    store, timers = InMemoryDecisionStore(), InMemoryTimerService()
    event = make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED)
    process(event, catalog, store, timers)
    commits = store.commits
    # WHEN it comes again
    again = process(event, catalog, store, timers)
    # THEN nothing was written and no new timer set
    assert again.is_duplicate
    assert again.records == []
    assert store.commits == commits
    assert len(timers) == 1


def test_conflicts_are_retried_with_a_fresh_load(catalog: Catalog) -> None:
    # GIVEN a store where the first commit loses a race
    store = ConflictingStore(conflicts=1)
    # WHEN an event is processed
    result = process(make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER), catalog, store)
    # THEN it was decided again on a fresh load and committed
    assert result.attempts == 2
    assert store.loads >= 2
    assert store.commits == 1


def test_conflicts_beyond_the_bound_are_raised_and_their_timers_decide_nothing(catalog: Catalog) -> None:
    # GIVEN a store that always loses the race
    store, timers = ConflictingStore(conflicts=99), InMemoryTimerService()
    event = make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED)
    # WHEN the event is processed: the ConflictError reaches the caller (the queue redelivers)
    with pytest.raises(ConflictError):
        process_event(event, catalog=catalog, store=store, timers=timers, now=event.time, max_attempts=3)
    assert store.commits == 0
    # THEN the reminder timer was set once (idempotent by name across the three attempts) ...
    due = timers.due(event.time + timedelta(days=2))
    assert [t.rule_id for t in due] == ["reminder"]
    # ... and when it fires, it decides nothing: no committed state waits for it
    store.conflicts = 0
    fired = parse_event(due[0].to_event())
    result = process_event(fired, catalog=catalog, store=store, timers=timers, now=fired.time)
    assert result.records == []
    assert store.records_for_order("A1") == []


class FailingTimers(InMemoryTimerService):
    """A scheduler that refuses the first `failures` requests (throttled, unreachable)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def schedule(self, timer: TimerRequest) -> None:
        if self.failures:
            self.failures -= 1
            raise TimerError("scheduler unavailable")
        super().schedule(timer)


def test_a_scheduler_failure_commits_nothing_so_the_redelivery_loses_no_timer(catalog: Catalog) -> None:
    # GIVEN a scheduler that fails once
    store, timers = InMemoryDecisionStore(), FailingTimers(failures=1)
    event = make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED)
    # WHEN the event is processed, fails, and is redelivered by the queue
    with pytest.raises(TimerError):
        process(event, catalog, store, timers)
    assert store.commits == 0
    again = process(event, catalog, store, timers)
    # THEN the redelivery is not a duplicate: it decides, commits and sets the reminder
    assert not again.is_duplicate
    assert [r.rule_id for r in store.records_for_order("A1")] == ["recovery"]
    assert [t.rule_id for t in timers.due(event.time + timedelta(days=2))] == ["reminder"]


class StaleStore(InMemoryDecisionStore):
    """A store whose reads always lag: every load looks as if nothing was committed yet."""

    def load(self, order_id: str, customer_id: str | None, keys: Sequence[str] = ()) -> StoredOrder:
        return StoredOrder(order_id=order_id, customer_id=customer_id, state=None, history=History())


def test_duplicate_event_error_from_the_store_is_a_no_op(catalog: Catalog) -> None:
    # GIVEN two deliveries of one event, the second deciding on a stale read
    store = StaleStore()
    event = make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER)
    first = process(event, catalog, store)
    # WHEN the second commits, the store finds the event marker
    second = process(event, catalog, store)
    # THEN it is reported as a duplicate, nothing more was written
    assert not first.is_duplicate
    assert second.is_duplicate
    assert second.records == []
    assert store.commits == 1


def _pending(catalog: Catalog, store: InMemoryDecisionStore, event: Event, rule_id: str) -> DecisionRecord:
    process(event, catalog, store)
    return next(r for r in store.records_for_order(event.order_id) if r.rule_id == rule_id)


def test_dispatch_renders_in_the_record_locale_sends_and_marks_sent(catalog: Catalog) -> None:
    # GIVEN a pending confirmation for a zh-Hant customer
    store = InMemoryDecisionStore()
    record = _pending(catalog, store, make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER), "confirm")
    email = InMemoryChannel("ses")
    # WHEN it is dispatched
    result = dispatch_action(
        record, catalog=catalog, store=store, channels={"email": email}, now=record.send_at
    )
    # THEN the unmasked address got the zh-Hant text, and the record is sent with the message id
    assert result.status == "sent"
    assert result.message_id == "ses-1"
    (message,) = email.sent
    assert message.to == "mei@example.com"
    assert message.subject == "關於訂單 A1"
    stored = next(r for r in store.records_for_order("A1") if r.action_id == record.action_id)
    assert (stored.status, stored.message_id) == ("sent", "ses-1")


def test_dispatch_never_sends_twice(catalog: Catalog) -> None:
    # GIVEN an action already dispatched
    store = InMemoryDecisionStore()
    record = _pending(catalog, store, make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER), "confirm")
    email = InMemoryChannel("ses")
    dispatch_action(record, catalog=catalog, store=store, channels={"email": email}, now=record.send_at)
    # WHEN the stream delivers the same pending record again
    again = dispatch_action(
        record, catalog=catalog, store=store, channels={"email": email}, now=record.send_at
    )
    # THEN it is skipped
    assert again.status == "skipped"
    assert len(email.sent) == 1


def test_dispatch_skips_scheduled_and_suppressed_actions(catalog: Catalog) -> None:
    # GIVEN a survey deferred by quiet hours
    store = InMemoryDecisionStore()
    event = make_event("ShipmentDelivered", "2026-03-10T14:30:00Z", {"shipment_id": "S1"})
    record = _pending(catalog, store, event, "survey-now")
    email = InMemoryChannel("ses")
    # WHEN / THEN it is not sent
    assert (
        dispatch_action(
            record, catalog=catalog, store=store, channels={"email": email}, now=event.time
        ).status
        == "skipped"
    )
    assert email.sent == []


def test_dispatch_failure_is_recorded(catalog: Catalog) -> None:
    # GIVEN a provider that refuses everything
    store = InMemoryDecisionStore()
    record = _pending(catalog, store, make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER), "confirm")
    # WHEN dispatched
    result = dispatch_action(
        record,
        catalog=catalog,
        store=store,
        channels={"email": InMemoryChannel("ses", fail_with="throttled")},
        now=record.send_at,
    )
    # THEN the action is failed with the provider's error; a missing channel fails too
    assert (result.status, result.error) == ("failed", "ses: throttled")
    stored = store.records_for_order("A1")[0]
    assert (stored.status, stored.error) == ("failed", "ses: throttled")
    other = next(r for r in store.records_for_order("A1") if r.rule_id == "text-update")
    missing = dispatch_action(other, catalog=catalog, store=store, channels={}, now=record.send_at)
    assert missing.status == "failed"
    assert "no channel" in (missing.error or "")


def test_dispatch_event_channel(catalog: Catalog) -> None:
    # GIVEN a pending support-case event action
    store = InMemoryDecisionStore()
    event = make_event("ShipmentException", "2026-03-10T04:00:00Z", {"shipment_id": "S1", "kind": "lost"})
    record = _pending(catalog, store, event, "helpdesk")
    bus = InMemoryChannel("events")
    # WHEN dispatched
    dispatch_action(
        record,
        catalog=catalog,
        store=store,
        channels={"event": bus, "sms": InMemoryChannel()},
        now=event.time,
    )
    # THEN the bus got the detail-type and the action's identity, no address
    (message,) = bus.sent
    assert (message.detail_type, message.to) == ("SupportCaseRequested", None)
    assert message.detail["order_id"] == "A1"
    assert message.detail["action_id"] == record.action_id


def test_timer_service_orders_and_deduplicates() -> None:
    # GIVEN three timers, one scheduled twice
    from touchpoints.outcome import TimerRequest

    base = datetime(2026, 3, 10, tzinfo=UTC)
    timers = InMemoryTimerService()
    late = TimerRequest("A1", "r", "e1", base + timedelta(hours=5))
    early = TimerRequest("A1", "r", "e2", base + timedelta(hours=1))
    for timer in (late, early, late, TimerRequest("A1", "r", "e3", base + timedelta(days=9))):
        timers.schedule(timer)
    # WHEN / THEN due() pops the due ones earliest first, once
    assert timers.due(base + timedelta(days=1)) == [early, late]
    assert timers.due(base + timedelta(days=1)) == []
    assert timers.next_due() == base + timedelta(days=9)


def test_an_event_without_customer_still_sees_the_customers_ledger(catalog: Catalog) -> None:
    # GIVEN two orders of the Taipei customer, each sent a service text (the cap is 2 per 24h)
    store = InMemoryDecisionStore()
    for order_id in ("A1", "B1"):
        process(
            make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER, order_id=order_id, event_id=order_id),
            catalog,
            store,
        )
    # WHEN a carrier event without any customer arrives for A1 and wants to text
    lost = make_event(
        "ShipmentException", "2026-03-10T05:00:00Z", {"shipment_id": "S1", "kind": "lost"}, customer={}
    )
    result = process(lost, catalog, store)
    # THEN the customer is known from the journey and the ledger caps the text
    sms = next(r for r in result.records if r.channel == "sms")
    assert (sms.customer_id, sms.status, sms.reason) == ("C-TW", "suppressed", "rate_limit")


def test_a_process_result_is_the_one_its_dataclass_builds(catalog: Catalog) -> None:
    # GIVEN an event processed (the result is built without the frozen dataclass's __init__)
    store = InMemoryDecisionStore()
    result = process(make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED), catalog, store)
    # WHEN it is compared with the one its constructor builds THEN they are the same, field for field
    built = ProcessResult(
        event_id=result.event_id,
        order_id=result.order_id,
        is_duplicate=result.is_duplicate,
        records=list(result.records),
        timers=list(result.timers),
        attempts=result.attempts,
    )
    assert result == built
    assert vars(result) == vars(built)


def test_plan_commit_plans_what_the_store_writes(catalog: Catalog) -> None:
    from touchpoints.commit import ActionWrite, CommitPlan, plan_commit
    from touchpoints.decide import decide
    from touchpoints.policy.retention import Retention

    # GIVEN a failed payment decided on an empty store
    store = InMemoryDecisionStore()
    event = make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED)
    loaded = store.load(event.order_id, "C-TW")
    decided = decide(loaded.state, event, catalog, loaded.history, event.time)
    now = event.time + timedelta(seconds=3)
    retention = Retention(record_ttl=timedelta(days=10))
    # WHEN its commit is planned
    plan = plan_commit(loaded, event, decided, retention=retention, now=now)
    # THEN the plan is a CommitPlan field by field (it is built without its keyword constructor)
    assert type(plan) is CommitPlan
    assert plan == CommitPlan(**plan._asdict())
    assert (plan.order_id, plan.event, plan.processed_at) == ("A1", event, now)
    assert plan.marker_expires_at == event.time + timedelta(days=10)
    assert (plan.state, plan.state_version, plan.ledger_version) == (decided.state, 0, 0)
    # AND each record is a new action, addressed by its own decision time, living ten days
    (record,) = decided.records
    assert list(plan.actions) == [
        ActionWrite(record, record.decided_at, False, record.decided_at + timedelta(days=10))
    ]
    assert type(plan.actions[0]) is ActionWrite
    assert dict(plan.action_index) == {record.action_id: record.decided_at}
    # AND the contact goes to the order history and the (changed) ledger of the loaded customer
    assert [e.action_id for e in plan.order_history] == [record.action_id]
    assert (plan.ledger_customer_id, plan.is_ledger_changed) == ("C-TW", True)
    assert [e.action_id for e in plan.ledger] == [record.action_id]
    assert (plan.indexed_customer_id, plan.linked_customer_id) == ("C-TW", None)


def test_a_released_action_is_planned_over_its_first_row_and_an_old_customer_id_stays_linked(
    catalog: Catalog,
) -> None:
    from dataclasses import replace

    from touchpoints.commit import plan_commit
    from touchpoints.policy.retention import Retention

    # GIVEN an order whose action was first decided an hour ago, listed under another customer id
    store = InMemoryDecisionStore()
    first = make_event("PaymentFailed", "2026-03-10T04:00:00Z", PAYMENT_FAILED)
    process(first, catalog, store)
    (record,) = store.records_for_order("A1")
    loaded = replace(store.load("A1", "C-TW"), indexed_customer_id="C-OLD")
    released = record.model_copy(update={"decided_at": record.decided_at + timedelta(hours=1)})
    event = make_event(
        "ShipmentDelayed",
        "2026-03-10T05:00:00Z",
        {"shipment_id": "S1", "new_estimate": "2026-03-12T00:00:00Z"},
    )
    decided = Decision(state=loaded.state, records=[released])  # type: ignore[arg-type]
    # WHEN the commit is planned
    plan = plan_commit(loaded, event, decided, retention=Retention(), now=event.time)
    # THEN the record replaces the row of its first decision, the ledger is unchanged (only checked)
    (write,) = plan.actions
    assert (write.replaces, write.first_decided_at) == (True, record.decided_at)
    assert plan.action_index == loaded.actions
    assert (plan.is_ledger_changed, list(plan.ledger)) == (False, list(loaded.history.customer))
    # AND the customer id the order leaves behind is kept linked
    assert (plan.indexed_customer_id, plan.linked_customer_id) == ("C-TW", "C-OLD")


def test_a_duplicates_decision_has_no_plan(catalog: Catalog) -> None:
    from touchpoints.commit import plan_commit
    from touchpoints.policy.retention import Retention

    # GIVEN a duplicate's decision WHEN its commit is planned THEN that is a mistake, said so
    store = InMemoryDecisionStore()
    event = make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER)
    loaded = store.load("A1", "C-TW")
    duplicate = Decision(state=loaded.state, is_duplicate=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duplicate"):
        plan_commit(loaded, event, duplicate, retention=Retention(), now=event.time)


def test_dispatch_builds_the_facts_once(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    import touchpoints.journey

    # GIVEN a pending confirmation, and the facts builder counted
    store = InMemoryDecisionStore()
    record = _pending(catalog, store, make_event("OrderPlaced", "2026-03-10T04:00:00Z", ORDER), "confirm")
    built = []
    real = touchpoints.journey.build_facts

    def counted(*args: Any) -> Any:
        built.append(args)
        return real(*args)

    monkeypatch.setattr(touchpoints.journey, "build_facts", counted)
    # WHEN it is dispatched THEN it was sent on facts built once (template and address from the same)
    result = dispatch_action(
        record, catalog=catalog, store=store, channels={"email": InMemoryChannel()}, now=record.send_at
    )
    assert result.status == "sent"
    assert len(built) == 1
