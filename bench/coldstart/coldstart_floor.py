"""The floor of a cold start under the house rules: pydantic and the required Powertools pieces alone.

The handlers must parse with pydantic and use Powertools' Logger, Metrics and BatchProcessor, so
no handler can start faster than this module: the first pydantic model built and used, a Logger
and a Metrics, and the batch utility imported. `handler` handles an SQS batch the way the real
handler does (logger context, metrics flushed, BatchProcessor, one model validated per record, one
log line), for the bench's "init + first record" column.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from pydantic import BaseModel, ConfigDict


class Envelope(BaseModel):
    """The least an event parser checks: an id and a detail-type (the first model pydantic builds)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    id: str
    source: str


logger = Logger()
metrics = Metrics()


def record_handler(record: Any) -> None:
    """Validate the record's body and log one line, as the real record handler does at least."""
    event = Envelope.model_validate_json(record["body"])
    logger.info("event processed", extra={"event_id": event.id})
    metrics.add_metric(name="EventsProcessed", unit=MetricUnit.Count, value=1)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch through Powertools' BatchProcessor (partial failures), like ProcessEvents."""
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
