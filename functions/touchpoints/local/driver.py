"""The local driver: does what AWS would do and the emulation cannot (invoke Lambdas, fire schedules).

moto routes PutEvents through the rule into the queue, keeps the table's stream and stores
Scheduler schedules, but it never invokes a Lambda function and never fires a schedule. The
driver fills exactly those two gaps, on a virtual clock:

- `drain_queue`: receive from the events queue and call `process_events.handler` with the SQS
  event Lambda would send; delete what succeeded, make failures visible again (after the queue's
  `maxReceiveCount` receives, the queue's redrive moves them to the DLQ, as in AWS);
- `pump_stream`: read the table's stream, keep the records the DispatchFunction's FilterCriteria
  (from template.yaml) would pass, and call `dispatch.handler` with them in batches;
- `fire_due_timers`: when the virtual clock passes a schedule's `at(...)`, send its Input to its
  target queue and delete it (ActionAfterCompletion: DELETE).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from touchpoints.local.template import ACCOUNT_ID, REGION, StackResources
from touchpoints.timestamps import parse_loose

_READ_LIMIT = 1000
"""Records per GetRecords call (DynamoDB Streams' maximum)."""

__all__ = ["Driver", "FakeLambdaContext", "matches_pattern"]


@dataclass
class FakeLambdaContext:
    """The LambdaContext attributes Powertools reads."""

    function_name: str = "touchpoints-local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:touchpoints-local"
    aws_request_id: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        """Plenty: the local driver never times out."""
        return 300_000


def matches_pattern(pattern: Any, data: Any) -> bool:
    """EventBridge/Lambda filter patterns, as far as the template uses them: values, prefix, anything-but."""
    if isinstance(pattern, Mapping):
        if not isinstance(data, Mapping):
            return False
        return all(key in data and matches_pattern(value, data[key]) for key, value in pattern.items())
    if isinstance(pattern, list):
        return any(_matches_value(option, data) for option in pattern)
    return bool(pattern == data)


def _matches_value(option: Any, value: Any) -> bool:
    if isinstance(option, Mapping):
        if "prefix" in option:
            return isinstance(value, str) and value.startswith(option["prefix"])
        if "anything-but" in option:
            excluded = option["anything-but"]
            excluded = excluded if isinstance(excluded, list) else [excluded]
            return value not in excluded
        if "exists" in option:
            return (value is not None) == bool(option["exists"])
        return False
    return bool(option == value)


@dataclass
class DriverStats:
    """What the driver did, for the demo's summary and the tests."""

    queue_batches: int = 0
    events_processed: int = 0
    batch_item_failures: int = 0
    stream_batches: int = 0
    stream_records: int = 0
    dispatched: int = 0
    timers_fired: int = 0
    dead_lettered: int = 0
    failures: list[str] = field(default_factory=list)


class Driver:
    """Drives the stack's handlers and timers on a virtual clock; see the module docstring."""

    def __init__(
        self,
        stack: StackResources,
        clients: Mapping[str, Any],
        *,
        start: datetime | None = None,
        batch_size: int = 10,
    ) -> None:
        self.stack = stack
        self.clients = clients
        self.now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self.batch_size = batch_size
        self.stats = DriverStats()
        self.queue_url: str = stack.outputs["QueueUrl"]
        self.group: str = stack.outputs["ScheduleGroupName"]
        self.bus: str = stack.outputs["EventBusName"]
        dispatch = stack.resource("DispatchFunction")["Properties"]["Events"]["Stream"]["Properties"]
        self.stream_filters = [json.loads(f["Pattern"]) for f in dispatch["FilterCriteria"]["Filters"]]
        self.max_stream_retries = int(dispatch.get("MaximumRetryAttempts", 3))
        self.stream_dlq_url: str = stack.outputs["DispatchDeadLetterQueueUrl"]
        self._positions: dict[str, str | None] = {}  # shard id -> last sequence number read
        self._iterators: dict[str, str] = {}  # shard id -> the iterator the last read returned
        self._schedules: dict[str, tuple[datetime, dict[str, Any]]] = {}
        self.history: dict[str, list[str]] = {}
        """action id -> the statuses its row went through (`scheduled: quiet_hours`, `pending`, `sent`)."""
        self.actions: dict[str, tuple[str, str, str]] = {}
        """action id -> (order id, rule id, channel), for logging what happens to it."""
        self.first_decided: dict[str, datetime] = {}
        """action id -> when it was first decided (a released row's `decided_at` is its release)."""
        self._context = FakeLambdaContext()

    def clock(self) -> datetime:
        """The virtual clock the handlers' runtime reads as `now`."""
        return self.now

    # -- in ---------------------------------------------------------------------------------------

    def put_events(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """PutEvents onto the bus as a platform would (the envelope's time is kept); returns event ids."""
        ids: list[str] = []
        entries = [
            {
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event.get("detail", {})),
                "EventBusName": self.bus,
                "Time": event["time"],
                "Resources": event.get("resources", []),
            }
            for event in events
        ]
        for start in range(0, len(entries), 10):
            response = self.clients["events"].put_events(Entries=entries[start : start + 10])
            if response.get("FailedEntryCount"):
                failed = [e for e in response["Entries"] if "ErrorCode" in e]
                raise RuntimeError(f"PutEvents rejected {len(failed)} event(s): {failed[:1]}")
            ids.extend(e["EventId"] for e in response["Entries"])
        return ids

    # -- Lambda: ProcessEvents --------------------------------------------------------------------

    def drain_queue(self) -> int:
        """Feed every message of the events queue to ProcessEvents; returns how many were received."""
        from touchpoints.handlers import process_events

        sqs = self.clients["sqs"]
        received = 0
        while True:
            response = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                AttributeNames=["All"],
                VisibilityTimeout=30,
            )
            messages = response.get("Messages", [])
            if not messages:
                return received
            received += len(messages)
            event = {"Records": [self._sqs_record(m) for m in messages]}
            try:
                result = process_events.handler(event, self._context)
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except Exception as exc:  # as in Lambda: a failed invocation fails the whole batch
                self.stats.failures.append(f"ProcessEvents: {type(exc).__name__}: {exc}")
                failed = {m["MessageId"] for m in messages}
            self.stats.queue_batches += 1
            self.stats.events_processed += len(messages) - len(failed)
            self.stats.batch_item_failures += len(failed)
            for message in messages:
                if message["MessageId"] in failed:
                    # Visible again at once: the driver's clock is virtual, the retry is the next receive.
                    sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def _sqs_record(self, message: Mapping[str, Any]) -> dict[str, Any]:
        body = message["Body"]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": body,
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", hashlib.md5(body.encode()).hexdigest()),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.stack.outputs["QueueArn"],
            "awsRegion": REGION,
        }

    # -- Lambda: Dispatch -------------------------------------------------------------------------

    def pump_stream(self) -> int:
        """Feed new stream records that pass the template's filter to Dispatch; returns how many."""
        records = [r for r in self._read_stream() if self._passes_filter(r)]
        for start in range(0, len(records), self.batch_size):
            self._dispatch_batch(records[start : start + self.batch_size])
        return len(records)

    def _read_stream(self) -> list[dict[str, Any]]:
        """The stream records written since the last read, shard by shard.

        Each shard is read from the iterator the last read returned; when that finds nothing, once
        more from a fresh iterator after the last sequence number read. When a transaction is
        cancelled (a conflict the service retries), moto restores a copy of the table, stream
        included: an iterator taken before it reads the old copy and would miss every record after.
        """
        streams = self.clients["dynamodbstreams"]
        stream_arn = self.stack.attributes["DecisionTable"]["StreamArn"]
        if not self._positions:
            shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
            self._positions = {shard["ShardId"]: None for shard in shards}
        records: list[dict[str, Any]] = []
        for shard_id, position in list(self._positions.items()):
            found: list[dict[str, Any]] = []
            iterator = self._iterators.get(shard_id)
            if iterator is not None:
                found = self._read_from(streams, shard_id, iterator)
            if not found:
                where: dict[str, str] = (
                    {"ShardIteratorType": "TRIM_HORIZON"}
                    if position is None
                    else {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": position}
                )
                fresh = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, **where)[
                    "ShardIterator"
                ]
                found = self._read_from(streams, shard_id, fresh)
            records.extend(found)
            if found:
                self._positions[shard_id] = found[-1]["dynamodb"]["SequenceNumber"]
        self.stats.stream_records += len(records)
        for record in records:
            self._note_transition(record)
        return records

    def _read_from(self, streams: Any, shard_id: str, iterator: str) -> list[dict[str, Any]]:
        """Every record of the shard from `iterator` on, keeping where the read stopped.

        A full page means more may wait behind it: read on, as Lambda's poller does, so a busy
        table's newest records are not left for a later pump.
        """
        found: list[dict[str, Any]] = []
        while True:
            response = streams.get_records(ShardIterator=iterator, Limit=_READ_LIMIT)
            page = response.get("Records", [])
            iterator = response.get("NextShardIterator") or iterator
            found.extend(page)
            if len(page) < _READ_LIMIT:
                break
        self._iterators[shard_id] = iterator
        return found

    def _note_transition(self, record: Mapping[str, Any]) -> None:
        """Remember each action's statuses as the stream shows them (an audit row keeps only the last)."""
        image = record.get("dynamodb", {}).get("NewImage") or {}
        if not image.get("sk", {}).get("S", "").startswith("ACTION#"):
            return
        status = image.get("status", {}).get("S", "?")
        reason = image.get("reason", {}).get("S")
        step = f"{status}: {reason}" if reason else status
        action_id = image.get("action_id", {}).get("S", "?")
        order, rule, channel = (
            image.get(name, {}).get("S", "?") for name in ("order_id", "rule_id", "channel")
        )
        self.actions[action_id] = (order, rule, channel)
        steps = self.history.setdefault(action_id, [])
        if not steps or steps[-1] != step:
            steps.append(step)
        if action_id not in self.first_decided:
            from touchpoints.adapters.dynamodb.rows import first_decided_at

            self.first_decided[action_id] = first_decided_at(image["sk"]["S"])  # the row's key keeps it

    def _passes_filter(self, record: Mapping[str, Any]) -> bool:
        return any(matches_pattern(pattern, _jsonable(record)) for pattern in self.stream_filters)

    def _dispatch_batch(self, records: Sequence[Mapping[str, Any]]) -> None:
        from touchpoints.handlers import dispatch

        pending = [self._stream_record(r) for r in records]
        for _ in range(self.max_stream_retries + 1):
            self.stats.stream_batches += 1
            try:
                result = dispatch.handler({"Records": pending}, self._context)
                failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
            except Exception as exc:  # as in Lambda: a failed invocation fails the whole batch
                self.stats.failures.append(f"Dispatch: {type(exc).__name__}: {exc}")
                failed = {r["dynamodb"]["SequenceNumber"] for r in pending}
            self.stats.dispatched += len(pending) - len(failed)
            pending = [r for r in pending if r["dynamodb"]["SequenceNumber"] in failed]
            if not pending:
                return
        # Retries exhausted: the on-failure destination gets a description of the batch.
        self.stats.dead_lettered += len(pending)
        self.clients["sqs"].send_message(
            QueueUrl=self.stream_dlq_url,
            MessageBody=json.dumps({"failed": [r["dynamodb"]["Keys"] for r in pending]}, default=str),
        )

    def _stream_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = _jsonable(record)
        data.setdefault("eventSource", "aws:dynamodb")
        data.setdefault("awsRegion", REGION)
        data["eventSourceARN"] = self.stack.attributes["DecisionTable"]["StreamArn"]
        return data

    # -- Scheduler ----------------------------------------------------------------------------------

    def due_schedules(self) -> list[tuple[datetime, str]]:
        """(due time, name) of every schedule in the group, earliest first.

        A schedule never changes after creation (names are deterministic per timer), so each one
        is read once with `get_schedule` and remembered; later calls only list the group.
        """
        scheduler = self.clients["scheduler"]
        names: set[str] = set()
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"GroupName": self.group}
            if token:
                kwargs["NextToken"] = token
            response = scheduler.list_schedules(**kwargs)
            names.update(summary["Name"] for summary in response.get("Schedules", []))
            token = response.get("NextToken")
            if not token:
                break
        for name in names - self._schedules.keys():
            schedule = scheduler.get_schedule(Name=name, GroupName=self.group)
            self._schedules[name] = (_parse_at(schedule["ScheduleExpression"]), schedule["Target"])
        for name in self._schedules.keys() - names:
            del self._schedules[name]
        return sorted((due, name) for name, (due, _) in self._schedules.items())

    def fire_due_timers(self) -> int:
        """Deliver every schedule due at or before the virtual clock to its target, then delete it."""
        scheduler, sqs = self.clients["scheduler"], self.clients["sqs"]
        fired = 0
        for due, name in self.due_schedules():
            if due > self.now:
                break
            target = self._schedules[name][1]
            queue_url = sqs.get_queue_url(QueueName=target["Arn"].rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(QueueUrl=queue_url, MessageBody=target["Input"])
            scheduler.delete_schedule(Name=name, GroupName=self.group)
            del self._schedules[name]
            fired += 1
        self.stats.timers_fired += fired
        return fired

    # -- the loop -----------------------------------------------------------------------------------

    def settle(self, *, max_rounds: int = 50) -> None:
        """Fire due timers, drain the queue and pump the stream until nothing moves."""
        for _ in range(max_rounds):
            moved = self.fire_due_timers() + self.drain_queue() + self.pump_stream()
            if not moved:
                return

    def advance(self, until: datetime) -> None:
        """Move the clock to `until`, stopping at each due timer on the way (time order is kept)."""
        while True:
            upcoming = [due for due, _ in self.due_schedules() if due <= until]
            if not upcoming:
                break
            self.now = max(self.now, upcoming[0])
            self.settle()  # fires every timer due by now, which may schedule new ones
        self.now = max(self.now, until)
        self.settle()

    def replay(self, events: Sequence[Mapping[str, Any]], *, until: datetime | None = None) -> None:
        """Send events in time order, each when the virtual clock reaches its time, then run to `until`."""
        ordered = sorted(events, key=lambda e: _parse_time(e["time"]))
        for event in ordered:
            self.advance(_parse_time(event["time"]))
            self.put_events([event])
            self.settle()
        if until is None and ordered:
            until = _parse_time(ordered[-1]["time"]) + timedelta(days=30)
        if until is not None:
            self.advance(until)


def _parse_time(text: str) -> datetime:
    return parse_loose(text)


def _parse_at(expression: str) -> datetime:
    inner = expression.strip()
    if not (inner.startswith("at(") and inner.endswith(")")):
        return datetime.max.replace(tzinfo=UTC)  # rate()/cron() schedules are not ours to fire
    return datetime.fromisoformat(inner[3:-1]).replace(tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    """boto3 returns datetimes in stream records; Lambda's event is JSON."""
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.timestamp()
    return value
