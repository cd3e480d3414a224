"""ProcessEvents Lambda: SQS batch of platform events and timers -> `service.process_event` per record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from touchpoints.contract import InvalidEventError, format_timestamp, parse_event
from touchpoints.handlers.runtime import count, get_runtime, process_batch, redact, wrap_handler
from touchpoints.service import process_event

__all__ = ["handler", "record_handler"]

logger = Logger()
metrics = Metrics()


def record_handler(record: Mapping[str, Any]) -> None:
    """One queued event: parse it (a bad one is this record's failure, with a readable reason), decide."""
    runtime = get_runtime()
    logger.remove_keys(
        ["correlation_id", "order_id", "detail_type"]
    )  # keys of the previous record must not leak into this one
    try:
        event = parse_event(record["body"])
    except InvalidEventError as exc:
        _reject(runtime, record, exc)
        return
    logger.set_correlation_id(event.id)
    logger.append_keys(order_id=event.order_id, detail_type=event.detail_type)
    result = process_event(
        event,
        catalog=runtime.catalog,
        store=runtime.store,
        timers=runtime.timers,
        now=runtime.clock(),
        retention=runtime.retention,
    )
    logger.info(
        "event processed",
        extra={
            "duplicate": result.is_duplicate,
            # A business duplicate reports a fact another event (another EventBridge id) applied.
            "duplicate_kind": _duplicate_kind(result.duplicate_of, event.id) if result.is_duplicate else None,
            "duplicate_of": result.duplicate_of,
            "decisions": [(r.rule_id, r.channel, r.status, r.reason) for r in result.records],
            "timers": len(result.timers),
            "attempts": result.attempts,
        },
    )
    metrics.add_metric(name="EventsProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=int(result.is_duplicate))
    for decided in result.records:
        count("Decisions", {"rule": decided.rule_id, "status": decided.status}, metrics.namespace)


def _duplicate_kind(first: str | None, event_id: str) -> str:
    """ "business duplicate" (a resend under a new id), "redelivery" (the same id) or "duplicate"."""
    if first is None:
        return "duplicate"  # caught by the journey's recent keys or the commit: the first id is not known
    return "redelivery" if first == event_id else "business duplicate"


def _reject(runtime: Any, record: Mapping[str, Any], exc: InvalidEventError) -> None:
    """A record that can never parse: logged, counted, and put on the events DLQ once, with its reason.

    It is then processed (not a batch item failure): retrying it could only fail the same way.
    If the DLQ is not configured, or does not take it, the record fails instead, and SQS's redrive
    moves it after `maxReceiveCount` receives.
    """
    reason = redact(str(exc))
    kind = "unknown_detail_type" if any(p.field == "detail-type" for p in exc.problems) else "invalid_event"
    queue = runtime.dead_letters
    logger.warning(
        "event rejected",
        extra={
            "message_id": record.get("messageId"),
            "event_id": exc.event_id,
            "kind": kind,
            "reason": reason,
            "dead_lettered": queue is not None,
        },
    )
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
    count("EventsRejected", {"kind": kind}, metrics.namespace)
    if queue is None:
        raise exc
    queue.send(
        record["body"],
        {
            "reason": reason,
            "kind": kind,
            "event_id": exc.event_id,
            "detail_type": exc.detail_type,
            "source_message_id": record.get("messageId"),
            "rejected_at": format_timestamp(runtime.clock()),
            "receive_count": str((record.get("attributes") or {}).get("ApproximateReceiveCount", "")),
        },
    )


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    get_runtime()  # a broken catalog fails the whole invocation here, not each record
    # A bad record is dead-lettered by the handler itself and processed; a batch whose records fail
    # (a store error) still answers with batchItemFailures instead of failing the invocation.
    return process_batch(event, record_handler, "SQS", logger, context)


handler = wrap_handler(_handle, logger, metrics)
