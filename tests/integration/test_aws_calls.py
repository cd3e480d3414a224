"""AWS calls per event, counted with botocore `before-call` hooks around the real ProcessEvents handler."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.events import for_new_order

from touchpoints.contract import ORDER_EVENT_TYPES
from touchpoints.local import ACCOUNT_ID, REGION, FakeLambdaContext

CONTEXT = FakeLambdaContext()
READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
_runs = itertools.count(1)


class CallCounter:
    """Every AWS API call the handler makes, as (service, operation), via each client's event hooks."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.calls: list[tuple[str, str]] = []
        self._clients = [clients[name] for name in ("dynamodb", "scheduler", "sesv2", "sns", "events", "sqs")]
        for client in self._clients:
            client.meta.events.register("before-call", self._record, unique_id="aws-call-counter")

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append((model.service_model.service_name, model.name))

    def close(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-call", unique_id="aws-call-counter")

    def dynamodb(self) -> Counter[str]:
        return Counter(operation for service, operation in self.calls if service == "dynamodb")

    def reads(self) -> int:
        return sum(n for op, n in self.dynamodb().items() if op in READS)

    def writes(self) -> int:
        return sum(n for op, n in self.dynamodb().items() if op in WRITES)


def _schedules(local: Any, clients: dict[str, Any]) -> set[str]:
    group = local.resources.outputs["ScheduleGroupName"]
    pages = clients["scheduler"].get_paginator("list_schedules").paginate(GroupName=group)
    return {schedule["Name"] for page in pages for schedule in page["Schedules"]}


@pytest.fixture
def counter(local: Any, clients: dict[str, Any]) -> Iterator[CallCounter]:
    """Hooks on the very clients the handlers' runtime uses (the local stack shares them).

    The session shares the stack: the timers these tests schedule are deleted afterwards and the
    driver's clock is put back, so no other test fires them or starts at a later time.
    """
    clock, before = local.driver.now, _schedules(local, clients)
    counting = CallCounter(clients)
    yield counting
    counting.close()
    group = local.resources.outputs["ScheduleGroupName"]
    for name in _schedules(local, clients) - before:
        clients["scheduler"].delete_schedule(Name=name, GroupName=group)
    local.driver.now = clock


def _fresh(event: dict[str, Any], run: int) -> dict[str, Any]:
    """The sample event for a new order and customer (the session shares one table)."""
    return for_new_order(event, f"calls-{run}")


def _process(local: Any, counter: CallCounter, event: dict[str, Any]) -> CallCounter:
    """Run one event through ProcessEvents as a one-record SQS batch, counting only its calls."""
    from touchpoints.handlers import process_events

    local.driver.now = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).astimezone(UTC)
    record = {
        "messageId": event["id"],
        "receiptHandle": "rh",
        "body": json.dumps(event),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:touchpoints-local-events",
        "awsRegion": REGION,
    }
    counter.calls.clear()
    response = process_events.handler({"Records": [record]}, CONTEXT)
    assert response == {"batchItemFailures": []}
    return counter


def _journey(sample_events: dict[str, list[dict[str, Any]]], *scenarios: str) -> list[dict[str, Any]]:
    run = next(_runs)
    return [_fresh(event, run) for scenario in scenarios for event in sample_events[scenario]]


# Every detail-type of the contract, in journeys where it is meaningful.
SCENARIOS = (
    "happy-path",
    "payment-recovered",
    "carrier-delay",
    "damaged-parcel",
    "cancelled",
    "survey-detractor",
)


def test_each_event_costs_one_read_and_one_transactional_write(
    local: Any, counter: CallCounter, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN journeys covering every platform detail-type
    events = _journey(sample_events, *SCENARIOS)
    assert {e["detail-type"] for e in events} >= set(ORDER_EVENT_TYPES)
    costs = []
    for event in events:
        # WHEN each event is processed for the first time
        calls = _process(local, counter, event)
        costs.append((event["detail-type"], dict(calls.dynamodb())))
        # THEN DynamoDB sees exactly one read and one TransactWriteItems, and nothing else
        assert calls.dynamodb()["TransactWriteItems"] == 1, costs[-1]
        assert calls.writes() == 1, costs[-1]
        assert calls.reads() == 1, costs[-1]
    # ... and the only other service a decision calls is Scheduler, once per timer
    assert {service for service, _ in counter.calls} <= {"dynamodb", "scheduler"}


def test_a_duplicate_event_reads_once_and_writes_nothing(
    local: Any, counter: CallCounter, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN a journey whose events were all processed once
    events = _journey(sample_events, *SCENARIOS)
    for event in events:
        _process(local, counter, event)
    for event in events:
        # WHEN each is delivered again
        calls = _process(local, counter, event)
        # THEN it costs one read and no write of any kind, and schedules nothing
        assert calls.writes() == 0, (event["detail-type"], dict(calls.dynamodb()))
        assert calls.reads() == 1, (event["detail-type"], dict(calls.dynamodb()))
        assert [c for c in calls.calls if c[0] != "dynamodb"] == []


def test_a_timer_costs_one_read_and_one_write(
    local: Any, counter: CallCounter, clients: dict[str, Any], sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN an order whose OrderPlaced scheduled timers (delayed rules)
    placed = _journey(sample_events, "not-shipped-on-time")[0]
    calls = _process(local, counter, placed)
    created = [op for service, op in calls.calls if service == "scheduler"]
    assert created
    assert set(created) == {"CreateSchedule"}
    group = local.resources.outputs["ScheduleGroupName"]
    order_id = placed["detail"]["order_id"]
    names = [
        s["Name"]
        for page in clients["scheduler"].get_paginator("list_schedules").paginate(GroupName=group)
        for s in page["Schedules"]
    ]
    timers = []
    for name in names:
        target = clients["scheduler"].get_schedule(Name=name, GroupName=group)["Target"]
        fired = json.loads(target["Input"])
        if fired["detail"]["order_id"] == order_id:
            timers.append(fired)
    assert len(timers) == len(created)
    for timer in timers:
        # WHEN the timer fires (its TimerFired event reaches the queue)
        timer["time"] = timer["detail"]["due_at"]
        calls = _process(local, counter, timer)
        # THEN it too costs one read and one transactional write
        assert (calls.reads(), calls.writes()) == (1, 1), dict(calls.dynamodb())


def test_a_stale_ledger_copy_costs_a_retry_not_a_wrong_decision(
    local: Any, counter: CallCounter, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN order A of a customer, then order B of the same customer (the ledger moves on)
    first = _journey(sample_events, "happy-path")
    second = _journey(sample_events, "happy-path")
    customer_id = first[0]["detail"]["customer"]["id"]
    second[0]["detail"]["customer"]["id"] = customer_id
    _process(local, counter, first[0])
    _process(local, counter, second[0])
    # WHEN an event of order A that does not name the customer arrives (A's ledger copy is stale)
    paid = first[1]
    assert "customer" not in paid["detail"]
    calls = _process(local, counter, paid)
    # THEN the commit is refused and retried on the real ledger: two reads, one cancelled transaction
    assert dict(calls.dynamodb()) == {"BatchGetItem": 2, "TransactWriteItems": 2}
    # ... and nothing is lost: the ledger still holds both orders' contacts, the payment is recorded
    loaded = local.store.load(paid["detail"]["order_id"], customer_id)
    assert {entry.order_id for entry in loaded.history.customer} == {
        first[0]["detail"]["order_id"],
        second[0]["detail"]["order_id"],
    }
    assert loaded.state.paid_at is not None
    # ... and the next such event is back to one read (the copy was refreshed by that commit)
    calls = _process(local, counter, first[2])
    assert (calls.reads(), calls.writes()) == (1, 1), dict(calls.dynamodb())


class StreamTap:
    """The table's stream from now on, read with the stream client (which the counter does not count).

    The tests read the stream themselves rather than through the driver, whose shard iterators
    the session shares (moto replaces a table's shard object when it rolls back a transaction).
    """

    def __init__(self, local: Any) -> None:
        self.local = local
        self.streams = local.clients["dynamodbstreams"]
        arn = local.resources.attributes["DecisionTable"]["StreamArn"]
        (shard,) = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]

    def new_records(self) -> list[dict[str, Any]]:
        """Stream records written since the last call, as Lambda hands them over (JSON)."""
        response = self.streams.get_records(ShardIterator=self.iterator, Limit=1000)
        self.iterator = response["NextShardIterator"]
        return [json.loads(json.dumps(record, default=str)) for record in response["Records"]]


def _dispatch_rounds(
    local: Any, counter: CallCounter, tap: StreamTap
) -> list[tuple[int, Counter[str], list[tuple[str, str]]]]:
    """Run Dispatch on the stream until nothing passes its filter: per round, records passed and calls."""
    from touchpoints.handlers import dispatch
    from touchpoints.local import matches_pattern

    rounds = []
    while True:
        records = [
            record
            for record in tap.new_records()
            if any(matches_pattern(pattern, record) for pattern in local.driver.stream_filters)
        ]
        if not records:
            return rounds
        counter.calls.clear()
        response = dispatch.handler({"Records": records}, CONTEXT)
        assert response == {"batchItemFailures": []}
        rounds.append((len(records), counter.dynamodb(), [c for c in counter.calls if c[0] != "dynamodb"]))


def test_dispatching_an_action_costs_one_read_two_marks_and_one_invocation(
    local: Any, counter: CallCounter, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN an order placed, whose confirmation email is a pending action (older stream records dispatched)
    tap = StreamTap(local)
    placed = _journey(sample_events, "happy-path")[0]
    _process(local, counter, placed)
    order_id = placed["detail"]["order_id"]
    pending = [r for r in local.store.records_for_order(order_id) if r.status == "pending"]
    assert [r.channel for r in pending] == ["email"]
    # WHEN the table's stream runs through the real Dispatch handler until nothing passes its filter
    rounds = _dispatch_rounds(local, counter, tap)
    # THEN one invocation sent it: the in-flight mark does not pass the template's filter
    # (was: a second invocation that read the order again to skip it)
    assert len(rounds) == 1, rounds
    passed, dynamodb, others = rounds[0]
    assert passed == 1
    # ... with one read (action, order, trigger event, ledger together), the in-flight mark and
    # the `sent` mark (was: Query + BatchGetItem + GetItem + 2 UpdateItem, then a Query)
    assert dict(dynamodb) == {"BatchGetItem": 1, "UpdateItem": 2}
    assert others == [("sesv2", "SendEmail")]
    (sent,) = [r for r in local.store.records_for_order(order_id) if r.action_id == pending[0].action_id]
    assert (sent.status, sent.error) == ("sent", None)
    assert sent.message_id


def test_a_redelivered_stream_record_costs_one_read_and_sends_nothing(
    local: Any, counter: CallCounter, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    from touchpoints.handlers import dispatch

    # GIVEN an action already dispatched
    tap = StreamTap(local)
    placed = _journey(sample_events, "happy-path")[0]
    _process(local, counter, placed)
    _dispatch_rounds(local, counter, tap)
    items = local.clients["dynamodb"].query(
        TableName=local.table_name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :action)",
        ExpressionAttributeValues={
            ":pk": {"S": f"ORDER#{placed['detail']['order_id']}"},
            ":action": {"S": "ACTION#"},
        },
    )["Items"]
    (row,) = [item for item in items if item["channel"]["S"] == "email"]
    assert row["status"]["S"] == "sent"
    # WHEN its original stream record (as written: pending, no mark) is delivered again
    image = {**row, "status": {"S": "pending"}, "error": {"NULL": True}, "message_id": {"NULL": True}}
    stale = {
        "eventID": "redelivered",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {"Keys": {"pk": row["pk"], "sk": row["sk"]}, "NewImage": image, "SequenceNumber": "1"},
    }
    counter.calls.clear()
    response = dispatch.handler({"Records": [stale]}, CONTEXT)
    # THEN it is skipped after a single read, and nothing is sent or written
    assert response == {"batchItemFailures": []}
    assert dict(counter.dynamodb()) == {"BatchGetItem": 1}
    assert [c for c in counter.calls if c[0] != "dynamodb"] == []


def test_a_timer_releasing_a_waiting_action_reads_the_event_it_was_decided_on_too(
    local: Any, counter: CallCounter, clients: dict[str, Any]
) -> None:
    from tests.support.events import envelope

    # GIVEN a 5-star review at 23:00 in Taipei: the thank-you waits for 09:00 local (a schedule)
    run = next(_runs)
    customer = {
        "id": f"C-calls-{run}",
        "email": "mei@example.com",
        "timezone": "Asia/Taipei",
        "consent": {"marketing": True, "sms": False},
    }
    order_id = f"REL-calls-{run}"
    review = envelope(
        "ReviewSubmitted",
        "2026-03-10T15:00:00Z",
        {"customer": customer, "review_id": "R1", "rating": 5},
        event_id=f"calls-{run}-review",
        order_id=order_id,
    )
    before = _schedules(local, clients)
    _process(local, counter, review)
    group = local.resources.outputs["ScheduleGroupName"]
    (name,) = _schedules(local, clients) - before
    timer = json.loads(clients["scheduler"].get_schedule(Name=name, GroupName=group)["Target"]["Input"])
    timer["time"] = timer["detail"]["due_at"]
    # WHEN the schedule fires and releases the thank-you
    calls = _process(local, counter, timer)
    # THEN the release reads the order and, to decide the rule again on the review's own rating,
    # the review kept with its marker: two reads, one transactional write
    assert (calls.reads(), calls.writes()) == (2, 1), dict(calls.dynamodb())
    (released,) = [r for r in local.store.records_for_order(order_id) if r.rule_id == "review-thanks"]
    assert (released.status, released.released_at is not None) == ("pending", True)
