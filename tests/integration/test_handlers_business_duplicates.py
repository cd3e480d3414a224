"""The issue's reproduction on the emulated stack: one PutEvents entry sent twice is one message.

EventBridge gives each PutEvents call a new event id, so a platform (or an SDK retrying) that sends
the same entry twice makes two events. Through the bus, the queue, ProcessEvents, the table's
stream and Dispatch (the real handlers on moto), the second is a business duplicate: logged as
such, counted in DuplicateEvents, and nothing is decided, written or sent.
"""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest

_runs = itertools.count(1)


def _fresh(event: dict[str, Any]) -> dict[str, Any]:
    """The sample OrderPlaced for a new order and customer (the session shares one table)."""
    run = next(_runs)
    fresh = copy.deepcopy(event)
    fresh["detail"]["order_id"] = f"{event['detail']['order_id']}-bk{run}"
    fresh["detail"]["customer"]["id"] = f"{event['detail']['customer']['id']}-bk{run}"
    return fresh


def _metric(stdout: str, name: str) -> list[float]:
    """The values of one metric in the EMF documents Powertools printed."""
    values: list[float] = []
    for line in stdout.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        document = json.loads(line)
        if name in document:
            value = document[name]
            values.extend(value if isinstance(value, list) else [value])
    return values


def test_the_same_put_events_entry_twice_sends_one_confirmation(
    local: Any,
    sample_events: dict[str, list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN an OrderPlaced put on the bus, decided and dispatched: one confirmation sent
    placed = _fresh(sample_events["happy-path"][0])
    order_id = placed["detail"]["order_id"]
    local.driver.now = datetime.fromisoformat(placed["time"].replace("Z", "+00:00")).astimezone(UTC)
    (first_id,) = local.driver.put_events([placed])
    local.driver.drain_queue()
    local.driver.pump_stream()
    records = local.store.records_for_order(order_id)
    assert [(r.rule_id, r.status) for r in records if r.rule_id == "order-confirmation"] == [
        ("order-confirmation", "sent")
    ]
    emails = len(local.sent_emails())
    capsys.readouterr()
    caplog.clear()
    # WHEN the platform sends the very same entry again: EventBridge gives it a new id
    (second_id,) = local.driver.put_events([placed])
    assert second_id != first_id
    local.driver.drain_queue()
    local.driver.pump_stream()
    # THEN nothing was decided, written or sent
    assert local.store.records_for_order(order_id) == records
    assert local.store.load_event(order_id, second_id) is None
    assert len(local.sent_emails()) == emails
    # AND the log says it was a business duplicate of the first event, and DuplicateEvents counts it
    (line,) = [r for r in caplog.records if r.getMessage() == "event processed"]
    assert vars(line)["duplicate"] is True
    assert vars(line)["duplicate_kind"] == "business duplicate"
    assert vars(line)["duplicate_of"] == first_id
    assert _metric(capsys.readouterr().out, "DuplicateEvents") == [1.0]


def test_a_redelivery_with_its_own_id_is_logged_as_a_redelivery(
    local: Any, sample_events: dict[str, list[dict[str, Any]]], caplog: pytest.LogCaptureFixture
) -> None:
    from touchpoints.handlers import process_events
    from touchpoints.local import FakeLambdaContext

    # GIVEN an event processed once (straight from the queue, as EventBridge redelivers it)
    placed = _fresh(sample_events["happy-path"][0])
    placed["id"] = f"{placed['id']}-{placed['detail']['order_id']}"
    record = {"messageId": "m-1", "receiptHandle": "rh", "body": json.dumps(placed), "attributes": {}}
    process_events.handler({"Records": [record]}, FakeLambdaContext())
    caplog.clear()
    # WHEN the same event (same id) arrives again
    process_events.handler({"Records": [record]}, FakeLambdaContext())
    # THEN it is a duplicate, named a redelivery of itself
    (line,) = [r for r in caplog.records if r.getMessage() == "event processed"]
    assert (vars(line)["duplicate_kind"], vars(line)["duplicate_of"]) == ("redelivery", placed["id"])


def test_a_resend_costs_one_read_and_no_write(
    local: Any, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    from touchpoints.handlers import process_events
    from touchpoints.local import FakeLambdaContext

    # GIVEN an event processed once
    placed = _fresh(sample_events["happy-path"][0])
    placed["id"] = f"first-{placed['detail']['order_id']}"
    resend = {**placed, "id": f"again-{placed['detail']['order_id']}"}
    process_events.handler({"Records": [{"messageId": "m", "body": json.dumps(placed)}]}, FakeLambdaContext())
    calls: list[str] = []
    client = local.clients["dynamodb"]
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name), "count")
    try:
        # WHEN the platform resends it under a new id
        process_events.handler(
            {"Records": [{"messageId": "m", "body": json.dumps(resend)}]}, FakeLambdaContext()
        )
    finally:
        client.meta.events.unregister("before-call.dynamodb", unique_id="count")
    # THEN the handler read the state and the key markers once, and wrote nothing
    assert calls == ["BatchGetItem"]
