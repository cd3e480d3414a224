"""Dispatch Lambda: DynamoDB stream of pending action rows -> `service.dispatch_action` per record."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from touchpoints.adapters.dynamodb import ActionRow
from touchpoints.handlers.runtime import count, get_runtime
from touchpoints.service import dispatch_action

__all__ = ["handler", "record_handler"]

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def record_handler(record: DynamoDBRecord) -> None:
    """One stream record of an action row: send it if it is still pending, then mark it."""
    runtime = get_runtime()
    logger.remove_keys(
        ["correlation_id", "order_id", "rule_id", "channel"]
    )  # keys of the previous record must not leak into this one
    image = record.dynamodb.new_image if record.dynamodb is not None else {}
    action = ActionRow.model_validate(image).to_record()
    logger.set_correlation_id(action.action_id)
    logger.append_keys(order_id=action.order_id, rule_id=action.rule_id, channel=action.channel)
    result = dispatch_action(
        action, catalog=runtime.catalog, store=runtime.store, channels=runtime.channels, now=runtime.clock()
    )
    # The error text comes from our own code or the provider and names ids, never the address.
    logger.info("action dispatched", extra={"status": result.status, "error": result.error})
    count("Sends", {"channel": action.channel, "status": result.status}, metrics.namespace)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    get_runtime()  # a broken catalog fails the whole invocation here, not each record
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


def _wrap(function: Any) -> Any:
    """Logger context and metrics always; the (costly to import) Tracer only when tracing is on."""
    wrapped = metrics.log_metrics(logger.inject_lambda_context(function, clear_state=True))
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() not in ("1", "true"):
        from aws_lambda_powertools import Tracer

        wrapped = Tracer().capture_lambda_handler(wrapped)
    return wrapped


handler = _wrap(_handle)
