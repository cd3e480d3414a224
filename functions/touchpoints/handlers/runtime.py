"""What a warm Lambda keeps between invocations: settings, the compiled catalog, adapters, a clock."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from touchpoints.settings import Settings, load_settings

if TYPE_CHECKING:
    from touchpoints.adapters.dead_letters import SqsDeadLetterQueue
    from touchpoints.catalog import Catalog
    from touchpoints.policy.retention import Retention
    from touchpoints.ports import Channel, DecisionStore, TimerService

__all__ = [
    "Runtime",
    "build_runtime",
    "count",
    "get_runtime",
    "process_batch",
    "redact",
    "set_runtime",
    "wall_clock",
    "wrap_handler",
]


def wall_clock() -> datetime:
    """The production clock. The local driver replaces it with its virtual clock."""
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything the handlers need, built once per cold start (or injected by tests and the driver).

    `retention` is the catalog's (`retention_for`): built once here, not per event. A runtime
    built without it (tests, the local driver) derives it from its catalog on first use.
    `dead_letters` is where ProcessEvents puts a record that can never parse (None: not
    configured, such a record fails and SQS's redrive dead-letters it after `maxReceiveCount`).
    """

    settings: Settings
    catalog: Catalog
    store: DecisionStore
    timers: TimerService
    channels: Mapping[str, Channel]
    clock: Callable[[], datetime] = field(default=wall_clock)
    retention: Retention | None = None
    dead_letters: SqsDeadLetterQueue | None = None

    def __post_init__(self) -> None:
        if self.retention is None:
            from touchpoints.policy.retention import retention_for

            self.retention = retention_for(self.catalog)


_runtime: Runtime | None = None


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else "000000000000"


def build_runtime(
    settings: Settings | None = None,
    *,
    clients: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] = wall_clock,
) -> Runtime:
    """Load and compile the catalog and wire the AWS adapters (`clients` by service name, optional).

    A catalog that does not validate raises CatalogError whose text is the full report
    (`file:line: message` per problem), so the function fails at its first call, loudly.
    """
    from touchpoints.adapters.channels import EventBridgeChannel, SesEmailChannel, SnsSmsChannel
    from touchpoints.adapters.dead_letters import SqsDeadLetterQueue
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore
    from touchpoints.adapters.scheduler import SchedulerTimerService
    from touchpoints.catalog import load_catalog, load_compiled_catalog

    settings = settings or load_settings()
    clients = clients or {}
    # The catalog layer's build validated the rules and wrote their compiled file; it is used only
    # if it matches the files in the layer (content hash) and this code, else the full load runs.
    # Templates are linted by `touchpoints validate` in CI (their Jinja2 parse is the costliest part
    # of a load); at send time the sandbox refuses what the lint would have (tests/security).
    catalog = load_compiled_catalog(settings.rules_dir) or load_catalog(
        settings.rules_dir, check_templates=False
    )
    endpoint, region = settings.endpoint_url, settings.region
    store = DynamoDBDecisionStore(
        settings.table_name, client=clients.get("dynamodb"), endpoint_url=endpoint, region=region
    )
    timers = SchedulerTimerService(
        group=settings.scheduler_group,
        queue_arn=settings.queue_arn,
        role_arn=settings.scheduler_role_arn,
        client=clients.get("scheduler"),
        account=_account_of(settings.queue_arn),
        endpoint_url=endpoint,
        region=region,
    )
    channels: dict[str, Channel] = {
        "email": SesEmailChannel(
            settings.sender_email, client=clients.get("sesv2"), endpoint_url=endpoint, region=region
        ),
        "sms": SnsSmsChannel(client=clients.get("sns"), endpoint_url=endpoint, region=region),
        "event": EventBridgeChannel(
            settings.event_bus_name, client=clients.get("events"), endpoint_url=endpoint, region=region
        ),
    }
    dead_letters = None
    if settings.dead_letter_queue_url:
        dead_letters = SqsDeadLetterQueue(
            settings.dead_letter_queue_url, client=clients.get("sqs"), endpoint_url=endpoint, region=region
        )
    return Runtime(
        settings=settings,
        catalog=catalog,
        store=store,
        timers=timers,
        channels=channels,
        clock=clock,
        dead_letters=dead_letters,
    )


def get_runtime() -> Runtime:
    """The runtime of this Lambda container, built on first use."""
    global _runtime
    if _runtime is None:
        _runtime = build_runtime()
    return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install a runtime (tests, the local driver) or forget it (None: rebuilt on next use)."""
    global _runtime
    _runtime = runtime


def redact(text: str) -> str:
    """Mask anything that looks like an email address or E.164 phone number before it is logged.

    The one masking of the package (`touchpoints.contract.redact`), which the channels apply at
    the source too: every error text and log line of the handlers passes through it.
    """
    from touchpoints.contract import redact as redact_text

    return redact_text(text)


def count(name: str, dimensions: Mapping[str, str], namespace: str | None) -> None:
    """Emit one EMF count with its own dimensions (by rule, by channel...), unless metrics are disabled.

    Powertools' `single_metric` ignores POWERTOOLS_METRICS_DISABLED, which the demo and the tests set.
    """
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=namespace) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)


def process_batch(
    event: Mapping[str, Any],
    handle: Callable[[Any], None],
    event_type: str,
    logger: Any,
    context: Any = None,
) -> dict[str, Any]:
    """Lambda's partial batch response through Powertools' BatchProcessor: each record on its own.

    A failed record is reported in `batchItemFailures` and retried (then dead-lettered) alone; the
    others are done. Even a batch of only bad records answers normally
    (`raise_on_entire_batch_failure=False`), so one poison batch cannot block the queue. Failures
    are logged by `_RedactingBatchProcessor`: the record and the error, redacted, never the raw
    exception text (which can quote input).
    """
    processor = _redacting_processor(EventType[event_type], logger)
    return dict(
        process_partial_response(
            event=dict(event), record_handler=handle, processor=processor, context=context
        )
    )


def _redacting_processor(event_type: Any, logger: Any) -> Any:
    """A BatchProcessor whose failure log is redacted (Powertools' own logs the exception text)."""
    from touchpoints.errors import TouchpointsError

    class _RedactingBatchProcessor(BatchProcessor):
        def failure_handler(self, record: Any, exception: Any) -> Any:
            error = exception[1]
            details = {
                "item": _item_id(record),
                "error_type": type(error).__name__,
                "error": redact(str(error)),
            }
            if isinstance(error, TouchpointsError):
                logger.warning("record failed", extra=details)
            else:
                logger.error("record failed", extra={**details, "trace": traceback.format_tb(exception[2])})
            self.exceptions.append(exception)
            self.fail_messages.append(record)
            return ("fail", type(error).__name__, record)

    return _RedactingBatchProcessor(event_type=event_type, raise_on_entire_batch_failure=False)


def _item_id(record: Any) -> str:
    """The identifier Lambda expects back for a record: SQS message id or stream sequence number."""
    raw = getattr(record, "raw_event", record)
    if "messageId" in raw:
        return str(raw["messageId"])
    return str((raw.get("dynamodb") or {}).get("SequenceNumber", ""))


def wrap_handler(function: Any, logger: Any, metrics: Any) -> Any:
    """Logger context and metrics always; the (costly to import) Tracer only when tracing is on.

    Every invocation ends by counting itself, even when the handler raised: Powertools flushes
    a full set of 100 metric values mid-batch, and a flush of an empty set at the end warns.
    With POWERTOOLS_METRICS_DISABLED, Powertools never clears its metric set, so the set is
    cleared here after each invocation instead of growing for the container's lifetime.
    """
    from aws_lambda_powertools.metrics import MetricUnit

    def counted(event: Any, context: Any) -> Any:
        try:
            return function(event, context)
        finally:
            metrics.add_metric(name="Invocations", unit=MetricUnit.Count, value=1)

    with_context = logger.inject_lambda_context(counted, clear_state=True)
    published = metrics.log_metrics(with_context)

    def handler(event: Any, context: Any) -> Any:
        if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
            try:
                return with_context(event, context)
            finally:
                metrics.clear_metrics()
        return published(event, context)

    wrapped: Any = handler
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() not in ("1", "true"):
        from aws_lambda_powertools import Tracer

        # Only botocore: patching every library X-Ray knows imports them all (half the tracer's cost).
        wrapped = Tracer(patch_modules=["botocore"]).capture_lambda_handler(wrapped)
    return wrapped
