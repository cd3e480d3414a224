"""Dispatch Lambda: DynamoDB stream of pending action rows -> `service.dispatch_action` per record."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from touchpoints.adapters.dynamodb import record_from_image
from touchpoints.handlers.runtime import count, get_runtime, process_batch, redact, wrap_handler
from touchpoints.service import TEMPLATE_ERROR, DispatchRetryError, dispatch_action

__all__ = ["handler", "record_handler"]

logger = Logger()
metrics = Metrics()


def record_handler(record: DynamoDBRecord) -> None:
    """One stream record of an action row: send it if it is still pending, then mark it.

    The batch processor hands in Powertools' typed stream record; its `new_image` is the row
    deserialized once, from which the decision record is validated once (`record_from_image`).
    """
    runtime = get_runtime()
    logger.remove_keys(
        ["correlation_id", "order_id", "rule_id", "channel"]
    )  # keys of the previous record must not leak into this one
    stream = record.dynamodb
    image = stream.new_image if stream is not None else {}
    action = record_from_image(image)
    logger.set_correlation_id(action.action_id)
    logger.append_keys(order_id=action.order_id, rule_id=action.rule_id, channel=action.channel)
    try:
        result = dispatch_action(
            action,
            catalog=runtime.catalog,
            store=runtime.store,
            channels=runtime.channels,
            now=runtime.clock(),
            row_key=image["sk"],  # the row's own key: the action is re-read in the same request as its order
        )
    except DispatchRetryError as exc:
        # Still pending: this record fails, and the stream's retry sends (then the DLQ, `redrive`).
        logger.warning("action not sent, retried", extra={"status": "pending", "error": redact(str(exc))})
        count("Sends", {"channel": action.channel, "status": "retried"}, metrics.namespace)
        raise
    # The error text names ids and the provider's reason, masked at the source; masked again here.
    error = redact(result.error) if result.error is not None else None
    logger.info("action dispatched", extra={"status": result.status, "reason": result.reason, "error": error})
    count("Sends", {"channel": action.channel, "status": result.status}, metrics.namespace)
    if result.reason == TEMPLATE_ERROR:  # nothing was sent: the template printed a null or ran away
        logger.warning("template failed", extra={"template": action.template, "locale": action.locale})
        count("TemplateErrors", {"rule": action.rule_id}, metrics.namespace)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(event.get("Records", [])))
    get_runtime()  # a broken catalog fails the whole invocation here, not each record
    return process_batch(event, record_handler, "DynamoDBStreams", logger, context)


handler = wrap_handler(_handle, logger, metrics)
