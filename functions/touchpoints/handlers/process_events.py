"""ProcessEvents Lambda: SQS batch of platform events and timers -> `service.process_event` per record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from touchpoints.contract import InvalidEventError, parse_event
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
        logger.warning(
            "event rejected",
            extra={
                "message_id": record.get("messageId"),
                "event_id": exc.event_id,
                "reason": redact(str(exc)),
            },
        )
        metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=1)
        raise
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


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    get_runtime()  # a broken catalog fails the whole invocation here, not each record
    # A batch whose every record is bad still answers with batchItemFailures (each record retried,
    # then dead-lettered on its own) instead of failing the invocation.
    return process_batch(event, record_handler, "SQS", logger, context)


handler = wrap_handler(_handle, logger, metrics)
