"""The stack of template.yaml in in-process moto, driven through the real Lambda handlers on a virtual clock.

Differences from `touchpoints.local.Driver` (which sends through EventBridge and SQS one event
at a time): events are handed to `process_events.handler` as the SQS batches Lambda would
build, in hourly "buckets" whose clock is the end of the bucket, so two runs of the same stream
decide at the same instants whatever else (duplicates, bad records) is mixed into the batches;
schedules and stream records are read from moto's in-process backends (no API round trip per
poll, which matters over a 1,000-order stream).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.streams import event_time

__all__ = ["BatchReport", "Pipeline", "RunReport", "fast_moto_transactions", "sent_emails", "sent_sms"]

_HOUR = timedelta(hours=1)


# ------------------------------------------------------------------------------------ moto speed-up


@contextmanager
def fast_moto_transactions() -> Iterator[None]:
    """Make moto's TransactWriteItems and base-table Query O(items involved) instead of O(table size).

    moto deep-copies every table a transaction touches, to roll back on failure: with the
    single-table design that is the whole table per event, quadratic over a 5,000-event stream.
    Here only the items the transaction names are saved (and the stream's length); on failure
    they are put back, which is the same all-or-nothing outcome. A Query on the base table
    scans every item of the table for the partition key; here it looks at that partition only.
    """
    from moto.core.responses import ActionResult
    from moto.dynamodb import models as typed_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    # Patched at runtime: typed as Any so the assignments below are allowed.
    models: Any = typed_models
    table_class: Any = Table
    result_class: Any = ActionResult

    original = models.DynamoDBBackend.transact_write_items
    real_copy = models.copy
    lock = threading.RLock()

    class _CopyShim:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            # moto's "backup" of a table becomes the table itself: its rollback is then a no-op
            # assignment, and the saved items below are what is put back.
            if isinstance(value, Table):
                return value
            return real_copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        # DynamoDB serialises transactions on the same items; moto does not (threads could interleave).
        with lock:
            _transact(self, transact_items)

    def _transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[Any, Any, Any, Any]] = []
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            attrs = op.get("Item") or op.get("Key") or {}
            if table.hash_key_attr not in attrs:
                continue
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr in attrs else None
            try:
                existing = table.get_item(hash_key, range_key)
            except Exception:
                continue
            saved.append((table, hash_key, range_key, real_copy.deepcopy(existing)))
            if table.stream_shard is not None:
                streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        models.copy = _CopyShim
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, existing in reversed(saved):
                _restore(table, hash_key, range_key, existing)
            for shard, length in streams.values():
                del shard.items[length:]
            raise
        finally:
            models.copy = real_copy

    original_query = table_class.query
    original_all_items = table_class.all_items
    scoped = threading.local()  # per thread: a server thread's query must not see another's partition

    def all_items(self: Any) -> Any:
        partition = getattr(scoped, "partition", None)
        if partition is not None and partition[0] is self:
            return list(partition[1])
        return original_all_items(self)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("index_name") or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        found = self.items.get(hash_key)
        members = list(found.values()) if isinstance(found, dict) else []
        previous = getattr(scoped, "partition", None)
        scoped.partition = (self, members)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            scoped.partition = previous

    original_execute = result_class.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        # DynamoDB data-plane answers are JSON already: skip the model-driven serializer.
        result = self.result
        if (
            isinstance(result, dict)
            and context.service_model.service_name == "dynamodb"
            and context.operation_model.name in _PLAIN_JSON_OPERATIONS
        ):
            try:
                body = json.dumps(result)
            except TypeError:
                return original_execute(self, context)
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return original_execute(self, context)

    models.DynamoDBBackend.transact_write_items = transact_write_items
    table_class.query = query
    table_class.all_items = all_items
    result_class.execute_result = execute_result
    try:
        yield
    finally:
        models.DynamoDBBackend.transact_write_items = original
        table_class.query = original_query
        table_class.all_items = original_all_items
        result_class.execute_result = original_execute


_PLAIN_JSON_OPERATIONS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem"}
)


def _restore(table: Any, hash_key: Any, range_key: Any, existing: Any) -> None:
    if range_key is None:
        if existing is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = existing
        return
    partition = table.items[hash_key]
    if existing is None:
        partition.pop(range_key, None)
    else:
        partition[range_key] = existing


# ------------------------------------------------------------------------------------ the pipeline


@dataclass
class BatchReport:
    """What one ProcessEvents invocation answered: the message ids it reported as failed."""

    message_ids: list[str]
    failed: list[str]


@dataclass
class RunReport:
    """What a whole run did, counted by the harness (not by the code under test)."""

    batches: int = 0
    records: int = 0
    failed_records: list[str] = field(default_factory=list)
    timers_fired: int = 0
    dispatched: int = 0
    dispatch_failures: int = 0
    dead_lettered: list[dict[str, Any]] = field(default_factory=list)
    dead_lettered_events: list[str] = field(default_factory=list)


class Pipeline:
    """One stack (its own Stage, so its own table/queues) with the handlers' runtime bound to it."""

    def __init__(
        self, clients: Mapping[str, Any], repo_root: Path, *, stage: str, rules_dir: Path | None = None
    ):
        from touchpoints.handlers.runtime import get_runtime
        from touchpoints.local import create_stack, start_local_stack

        self.clients = clients
        self.stage = stage
        self.resources = create_stack(repo_root / "template.yaml", clients, parameters={"Stage": stage})
        self.local = start_local_stack(
            clients=clients, resources=self.resources, rules_dir=rules_dir or repo_root / "rules"
        )
        self.runtime = get_runtime()
        self.driver = self.local.driver
        self.table_name = self.local.table_name
        dispatch = self.resources.resource("DispatchFunction")["Properties"]["Events"]["Stream"]["Properties"]
        self.stream_filters = [json.loads(f["Pattern"]) for f in dispatch["FilterCriteria"]["Filters"]]
        self.max_stream_retries = int(dispatch.get("MaximumRetryAttempts", 3))
        redrive = self.resources.resource("EventsQueue")["Properties"].get("RedrivePolicy", {})
        self.max_receives = int(redrive.get("maxReceiveCount", 5))
        self.report = RunReport()
        self._stream_offset = len(self._shard().items)
        self._messages = 0
        self._drained_dead_letters: list[dict[str, Any]] = []

    # -- clock and runtime ------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The virtual clock both handlers read."""
        return self.driver.now

    @now.setter
    def now(self, moment: datetime) -> None:
        self.driver.now = moment

    def activate(self) -> None:
        """Install this pipeline's runtime for the handlers (several pipelines share one process)."""
        from touchpoints.handlers.runtime import set_runtime

        set_runtime(self.runtime)

    # -- ProcessEvents ----------------------------------------------------------------------------

    def sqs_record(self, body: str | Mapping[str, Any]) -> dict[str, Any]:
        """The SQS record Lambda would hand over for a message with this body."""
        text = body if isinstance(body, str) else json.dumps(body)
        self._messages += 1
        return {
            "messageId": f"{self.stage}-{self._messages:07d}",
            "receiptHandle": f"rh-{self._messages}",
            "body": text,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(text.encode()).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.resources.outputs["QueueArn"],
            "awsRegion": "us-east-1",
        }

    def deliver(
        self, bodies: Sequence[str | Mapping[str, Any]], *, batch_size: int = 10, receives: int | None = None
    ) -> list[BatchReport]:
        """Hand the bodies to ProcessEvents in batches; redeliver failures as SQS would, then dead-letter.

        A record reported as a batch item failure is received again, up to `receives` times in all
        (default: the queue's `maxReceiveCount` from template.yaml); after that it lands in
        `report.dead_lettered_events` (SQS's redrive). A record that can never parse is not a
        failure: the handler puts it on the events DLQ itself (`events_dead_letters()`). Returns
        what each invocation reported, first deliveries first.
        """
        from touchpoints.handlers import process_events
        from touchpoints.local import FakeLambdaContext

        self.activate()
        limit = receives if receives is not None else self.max_receives
        reports: list[BatchReport] = []
        for start in range(0, len(bodies), batch_size):
            pending = [self.sqs_record(body) for body in bodies[start : start + batch_size]]
            for _ in range(limit):
                answer = process_events.handler({"Records": pending}, FakeLambdaContext())
                failed = [item["itemIdentifier"] for item in answer.get("batchItemFailures", [])]
                reports.append(BatchReport([r["messageId"] for r in pending], failed))
                self.report.batches += 1
                self.report.records += len(pending)
                self.report.failed_records.extend(failed)
                pending = [r for r in pending if r["messageId"] in failed]
                if not pending:
                    break
            self.report.dead_lettered_events.extend(r["body"] for r in pending)
        self._drain_events_dead_letters()
        return reports

    # -- Scheduler --------------------------------------------------------------------------------

    def _schedules(self) -> dict[str, Any]:
        from moto.backends import get_backend

        backend = get_backend("scheduler")["123456789012"]["us-east-1"]
        group = backend.schedule_groups[self.resources.outputs["ScheduleGroupName"]]
        return group.schedules

    def next_timer_due(self) -> datetime | None:
        """The earliest due time of this stack's pending schedules."""
        dues = [_parse_at(s.schedule_expression) for s in self._schedules().values()]
        return min(dues) if dues else None

    def fire_due_timers(self, *, twice: bool = False) -> int:
        """Deliver the Input of every schedule due at or before `now` (twice: at-least-once), delete it."""
        fired = 0
        while True:
            schedules = self._schedules()
            due = sorted(
                (_parse_at(s.schedule_expression), name, s.target["Input"])
                for name, s in schedules.items()
                if _parse_at(s.schedule_expression) <= self.now
            )
            if not due:
                return fired
            bodies: list[str] = []
            for _, name, body in due:
                bodies.append(body)
                if twice:
                    bodies.append(body)
                schedules.pop(name)  # ActionAfterCompletion: DELETE
            self.deliver(bodies)
            fired += len(due)
            self.report.timers_fired += len(due)

    # -- Dispatch ---------------------------------------------------------------------------------

    def _shard(self) -> Any:
        from moto.backends import get_backend

        backend = get_backend("dynamodb")["123456789012"]["us-east-1"]
        return backend.tables[self.table_name].stream_shard

    def pending_stream_records(self) -> list[dict[str, Any]]:
        """New stream records that pass the DispatchFunction's FilterCriteria (template.yaml)."""
        from touchpoints.local import matches_pattern

        items = self._shard().items
        new = [copy.deepcopy(item.to_json()) for item in items[self._stream_offset :]]
        self._stream_offset = len(items)
        selected = []
        for record in new:
            record["dynamodb"]["ApproximateCreationDateTime"] = 0
            record["eventSourceARN"] = self.resources.attributes["DecisionTable"]["StreamArn"]
            if any(matches_pattern(pattern, record) for pattern in self.stream_filters):
                selected.append(record)
        return selected

    def dispatch(self, *, twice: bool = False) -> int:
        """Run Dispatch on the new stream records (batches of 10, retried as Lambda would, then DLQ)."""
        from touchpoints.handlers import dispatch
        from touchpoints.local import FakeLambdaContext

        self.activate()
        records = self.pending_stream_records()
        if twice:
            records = [r for record in records for r in (record, copy.deepcopy(record))]
        for start in range(0, len(records), 10):
            pending = records[start : start + 10]
            for _ in range(self.max_stream_retries + 1):
                answer = dispatch.handler({"Records": pending}, FakeLambdaContext())
                failed = {item["itemIdentifier"] for item in answer.get("batchItemFailures", [])}
                self.report.dispatched += len(pending) - len(failed)
                self.report.dispatch_failures += len(failed)
                pending = [r for r in pending if r["dynamodb"]["SequenceNumber"] in failed]
                if not pending:
                    break
            self.report.dead_lettered.extend(r["dynamodb"]["Keys"] for r in pending)
        return len(records)

    # -- a whole stream ---------------------------------------------------------------------------

    def run(
        self,
        events: Sequence[Mapping[str, Any] | str],
        *,
        twice: bool = False,
        until: datetime | None = None,
        arrange: Callable[[list[Any]], list[Any]] | None = None,
        arrivals: Sequence[datetime] | None = None,
    ) -> RunReport:
        """Deliver the stream hour by hour (clock = end of the hour), firing timers and dispatching.

        `twice` delivers every event and every timer twice (at-least-once) and feeds every stream
        record to Dispatch twice. `arrange` reorders each hour's deliveries; `arrivals` says when
        each event arrives (default: its envelope time), e.g. for a stream shuffled within orders.
        """
        from tests.support.streams import deliver_twice

        times = list(arrivals) if arrivals is not None else [_arrival(body) for body in events]
        buckets: dict[datetime, list[Any]] = {}
        for body, moment in zip(events, times, strict=True):
            buckets.setdefault(_bucket_end(moment), []).append(body)
        ends = sorted(buckets)
        last = until or (ends[-1] + timedelta(days=30) if ends else self.now)
        index = 0
        while True:
            next_event = ends[index] if index < len(ends) else None
            due = self.next_timer_due()
            next_timer = _bucket_end(due) if due is not None else None
            candidates = [m for m in (next_event, next_timer) if m is not None and m <= last]
            if not candidates:
                break
            self.now = max(self.now, min(candidates))
            if next_event is not None and next_event <= self.now:
                batch = list(buckets[next_event])
                if twice:
                    batch = deliver_twice(batch)
                if arrange is not None:
                    batch = arrange(batch)
                self.deliver(batch)
                index += 1
            self.fire_due_timers(twice=twice)
            self.dispatch(twice=twice)
        self.now = max(self.now, last)
        return self.report

    # -- what the table and the providers hold ----------------------------------------------------

    def items(self, prefix: str) -> list[dict[str, Any]]:
        """Every item whose sort key starts with `prefix`, as plain values (from moto's backend)."""
        from moto.backends import get_backend

        backend = get_backend("dynamodb")["123456789012"]["us-east-1"]
        table = backend.tables[self.table_name]
        found = []
        for partition in table.items.values():
            for item in partition.values():
                plain = {name: _plain(value.to_json()) for name, value in item.attrs.items()}
                if str(plain.get("sk", "")).startswith(prefix):
                    found.append(plain)
        return found

    def actions(self) -> list[dict[str, Any]]:
        """Every decision record row."""
        return self.items("ACTION#")

    def events_dead_letters(self) -> list[dict[str, Any]]:
        """Every message put on this stack's events DLQ (moto's backend): body and attributes by name.

        Includes the messages `deliver` already took off the queue (see `_drain_events_dead_letters`).
        """
        self._drain_events_dead_letters()
        return list(self._drained_dead_letters)

    def _drain_events_dead_letters(self) -> None:
        """Move the events DLQ's messages into this harness, as an operator draining it would.

        moto's SendMessage computes the queue's attributes, which walks every message on it: with
        10,000 rejections on one DLQ each rejection cost the whole queue (quadratic; the 10,000
        malformed records took over ten minutes). The handler's SendMessage is unchanged; the
        queue it sends to is just kept short.
        """
        from moto.backends import get_backend

        backend = get_backend("sqs")["123456789012"]["us-east-1"]
        name = str(self.resources.outputs["DeadLetterQueueUrl"]).rsplit("/", 1)[-1]
        queue = backend.queues[name]
        self._drained_dead_letters.extend(
            {
                "body": message.body,
                "attributes": {
                    key: value.get("string_value", value.get("StringValue"))
                    for key, value in message.message_attributes.items()
                },
            }
            for message in queue._messages
        )
        queue._messages.clear()

    def journeys(self) -> dict[str, dict[str, Any]]:
        """Every order's journey state (the STATE rows' `state` JSON), by order id."""
        return {
            str(row["pk"]).removeprefix("ORDER#"): json.loads(row["state"]) for row in self.items("STATE")
        }


def sent_emails() -> list[dict[str, Any]]:
    """Every email moto's SES accepted (all stacks of the process), oldest first."""
    from moto.backends import get_backend

    backend = get_backend("ses")["123456789012"]["us-east-1"]
    return [
        {"to": tuple(m.destinations.get("ToAddresses", [])), "subject": m.subject, "body": m.body}
        for m in backend.sent_messages
        if hasattr(m, "subject")
    ]


def sent_sms() -> list[dict[str, Any]]:
    """Every SMS moto's SNS accepted (all stacks of the process), oldest first."""
    from moto.backends import get_backend

    backend = get_backend("sns")["123456789012"]["us-east-1"]
    return [{"to": phone, "body": text} for phone, text in backend.sms_messages.values()]


def _plain(value: Mapping[str, Any]) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        return float(value["N"]) if "." in value["N"] else int(value["N"])
    if "BOOL" in value:
        return value["BOOL"]
    return None


def _arrival(body: Mapping[str, Any] | str) -> datetime:
    """When an event arrives by default: its envelope time."""
    return event_time(json.loads(body) if isinstance(body, str) else body)


def _bucket_end(moment: datetime) -> datetime:
    floor = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return floor + _HOUR


def _parse_at(expression: str) -> datetime:
    inner = expression.strip()
    if not (inner.startswith("at(") and inner.endswith(")")):
        return datetime.max.replace(tzinfo=UTC)
    return datetime.fromisoformat(inner[3:-1]).replace(tzinfo=UTC)
