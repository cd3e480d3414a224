"""Replay events through the real handlers on moto in a fresh process, so that ALL its output is the log.

Usage: python replay_on_moto.py EVENTS_JSON DUMP_JSON

Lambda sends a function's stdout and stderr to CloudWatch: everything this process writes is
what the logs would hold (Powertools JSON lines, EMF metrics, warnings, the root logger, Lambda's
report of an invocation error). It writes nothing else there; the table's items and the driver's
statistics go to DUMP_JSON for the audit-record checks.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "touchpoints",
    "POWERTOOLS_METRICS_NAMESPACE": "TouchpointsSecurity",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # The most talkative level an operator can pick in template.yaml (Parameter LogLevel).
    "POWERTOOLS_LOG_LEVEL": "DEBUG",
}


def _invoke_like_lambda(handler: Any, event: dict[str, Any], context: Any) -> None:
    """Call a handler; an exception is reported the way the Lambda runtime logs it (message + trace)."""
    try:
        handler(event, context)
    except Exception as exc:
        report = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_exception(exc),
        }
        print(json.dumps(report), file=sys.stderr)


def _sqs_record(number: int, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": f"direct-{number}",
        "receiptHandle": f"direct-{number}",
        "body": json.dumps(event),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:touchpoints-dev-events",
        "awsRegion": "us-east-1",
    }


def _refuse_every_fourth(operation: str, params: Any, call: int) -> Exception | None:
    """SES refusing a send with a text that quotes the recipient, as its sandbox does."""
    from tests.support.faults import refused

    if call % 4:
        return None
    to = params["Destination"]["ToAddresses"][0]
    return refused(operation, "MessageRejected", f"Email address is not verified: {to}")


def main(events_path: Path, dump_path: Path) -> None:
    """Replay valid events through bus -> queue -> handlers -> stream -> dispatch; invalid ones directly.

    SES refuses every fourth email with a text naming the recipient: the provider-error path
    (the "action dispatched" log line, the action row's `error`) is part of what is searched.
    """
    sys.path.insert(0, str(REPO_ROOT))  # tests.support (the fault helpers)
    os.environ.update(ENVIRONMENT)
    # The Lambda runtime installs a root handler: whatever a library logs at INFO+ would show up.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    from moto import mock_aws

    events: list[dict[str, Any]] = json.loads(events_path.read_text(encoding="utf-8"))
    with mock_aws():
        from touchpoints.contract import InvalidEventError, parse_event
        from touchpoints.handlers import process_events
        from touchpoints.local import FakeLambdaContext, make_clients, start_local_stack

        valid, invalid = [], []
        for event in events:
            try:
                parse_event(event)
                valid.append(event)
            except InvalidEventError:
                invalid.append(event)
        from tests.support.faults import inject

        clients = make_clients()
        local = start_local_stack(clients=clients, rules_dir=REPO_ROOT / "rules")
        with inject(clients, "sesv2", "SendEmail", _refuse_every_fourth) as refusals:
            local.driver.replay(valid)
        context = FakeLambdaContext()
        # A batch of only bad events (each reported as a failed item, or the invocation fails) ...
        _invoke_like_lambda(
            process_events.handler,
            {"Records": [_sqs_record(n, e) for n, e in enumerate(invalid)]},
            context,
        )
        # ... and a mixed batch reports each bad record as a partial failure.
        mixed = [*invalid, *valid[:2]]
        _invoke_like_lambda(
            process_events.handler,
            {"Records": [_sqs_record(100 + n, e) for n, e in enumerate(mixed)]},
            context,
        )
        table = local.table_name
        items: list[dict[str, Any]] = []
        for page in clients["dynamodb"].get_paginator("scan").paginate(TableName=table):
            items.extend(page["Items"])
        dump = {
            "items": items,
            "valid": len(valid),
            "invalid": len(invalid),
            "emails": len(local.sent_emails()),
            "refused": refusals["raised"],
            "sms": len(local.sent_sms()),
            "stats": {
                "events_processed": local.driver.stats.events_processed,
                "dispatched": local.driver.stats.dispatched,
                "timers_fired": local.driver.stats.timers_fired,
            },
        }
        dump_path.write_text(json.dumps(dump, default=str), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
