"""The Lambda handlers with real SQS and DynamoDB-stream event shapes, against the moto stack."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import for_new_order

from touchpoints.local import ACCOUNT_ID, REGION, FakeLambdaContext

_runs = itertools.count(1)
CONTEXT = FakeLambdaContext()


def _fresh(event: dict[str, Any], run: int) -> dict[str, Any]:
    """The sample event for a new order and customer (the session shares one table)."""
    return for_new_order(event, str(run))


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{index}",
                "receiptHandle": f"rh-{index}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:touchpoints-local-events",
                "awsRegion": REGION,
            }
            for index, body in enumerate(bodies)
        ]
    }


def _at(local: Any, event: dict[str, Any]) -> None:
    local.driver.now = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).astimezone(UTC)


@pytest.fixture
def order_placed(local: Any, sample_events: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    event = _fresh(sample_events["happy-path"][0], next(_runs))
    _at(local, event)
    return event


def test_an_order_event_is_decided_and_recorded(local: Any, order_placed: dict[str, Any]) -> None:
    from touchpoints.handlers import process_events

    # GIVEN an OrderPlaced arriving from the queue
    # WHEN ProcessEvents handles the batch
    response = process_events.handler(_sqs_event(json.dumps(order_placed)), CONTEXT)
    # THEN no record failed and the order confirmation is recorded as pending, address masked
    assert response == {"batchItemFailures": []}
    records = local.store.records_for_order(order_placed["detail"]["order_id"])
    confirmation = [r for r in records if r.rule_id == "order-confirmation"]
    assert [(r.status, r.channel, r.address) for r in confirmation] == [
        ("pending", "email", "e***@example.com")
    ]


def test_a_delayed_rule_becomes_a_scheduler_schedule(local: Any, order_placed: dict[str, Any]) -> None:
    from touchpoints.handlers import process_events

    # GIVEN an OrderPlaced promising shipment by a future date
    # WHEN it is processed
    process_events.handler(_sqs_event(json.dumps(order_placed)), CONTEXT)
    # THEN the late-shipment check waits as a one-time schedule at the promised time, in UTC
    schedules = local.driver.due_schedules()
    inputs = [
        json.loads(
            local.clients["scheduler"].get_schedule(Name=name, GroupName=local.driver.group)["Target"][
                "Input"
            ]
        )
        for _, name in schedules
    ]
    mine = [i for i in inputs if i["detail"]["order_id"] == order_placed["detail"]["order_id"]]
    timers = [(i["detail"]["rule_id"], i["detail"]["due_at"]) for i in mine]
    assert ("shipping-late-notice", "2026-03-04T22:00:00Z") in timers
    assert all(i["detail-type"] == "TimerFired" and i["source"] == "touchpoints.timers" for i in mine)


def _dead_letters(local: Any) -> list[dict[str, Any]]:
    """Every message on the events DLQ (read and put back), with its message attributes."""
    sqs, url = local.clients["sqs"], local.resources.outputs["DeadLetterQueueUrl"]
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=30
        ).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return messages


def test_bad_records_are_dead_lettered_once_with_their_reason_and_the_batch_goes_on(
    local: Any, order_placed: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    from touchpoints.handlers import process_events

    # GIVEN a batch with invalid JSON, an event missing a required field, and a good event
    broken = copy.deepcopy(order_placed)
    broken["id"] = f"{order_placed['id']}-broken"
    del broken["detail"]["total"]
    garbage = "{not json " + broken["id"]
    batch = _sqs_event(garbage, json.dumps(broken), json.dumps(order_placed))
    # WHEN ProcessEvents handles it
    response = process_events.handler(batch, CONTEXT)
    # THEN no record is a batch item failure (the bad ones can never parse: retrying is pointless)
    assert response == {"batchItemFailures": []}
    assert local.store.records_for_order(order_placed["detail"]["order_id"]) != []
    # AND both bad records are on the events DLQ, as they arrived, with the reason as attributes
    dead = {m["Body"]: m["MessageAttributes"] for m in _dead_letters(local)}
    assert set(dead) >= {garbage, json.dumps(broken)}
    assert "not valid JSON" in dead[garbage]["touchpoints.reason"]["StringValue"]
    broken_attributes = {name: value["StringValue"] for name, value in dead[json.dumps(broken)].items()}
    assert "detail.total: is required" in broken_attributes["touchpoints.reason"]
    assert broken_attributes["touchpoints.event_id"] == broken["id"]
    assert broken_attributes["touchpoints.detail_type"] == "OrderPlaced"
    assert broken_attributes["touchpoints.kind"] == "invalid_event"
    # AND the logged reasons name the problem and the field, and never the customer's address
    reasons = [getattr(r, "reason", "") for r in caplog.records if r.getMessage() == "event rejected"]
    assert len(reasons) == 2
    assert "not valid JSON" in reasons[0]
    assert "detail.total: is required" in reasons[1]
    assert not any("emily.carter@example.com" in r.getMessage() + str(vars(r)) for r in caplog.records)
    assert not any("emily.carter@example.com" in json.dumps(attributes) for attributes in dead.values())


def test_an_unknown_detail_type_from_a_platform_reaches_the_dlq_through_the_bus(
    local: Any, order_placed: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a platform event whose detail-type the contract does not know (EventBridge accepts it)
    unknown = copy.deepcopy(order_placed)
    unknown["id"] = f"{order_placed['id']}-unknown"
    unknown["detail-type"] = "OrderRefunded"
    # WHEN it is put on the bus and the queue is drained
    local.driver.put_events([unknown])
    received = local.driver.drain_queue()
    # THEN the catch-all rule routed it to the queue, it was received once, rejected and dead-lettered
    assert received == 1
    rejected = [r for r in caplog.records if r.getMessage() == "event rejected"]
    assert [getattr(r, "kind", None) for r in rejected] == ["unknown_detail_type"]
    dead = [m for m in _dead_letters(local) if '"OrderRefunded"' in m["Body"]]
    assert len(dead) == 1
    attributes = {name: value["StringValue"] for name, value in dead[0]["MessageAttributes"].items()}
    assert attributes["touchpoints.kind"] == "unknown_detail_type"
    assert 'unknown detail-type "OrderRefunded"' in attributes["touchpoints.reason"]


def test_a_redelivered_event_changes_nothing(local: Any, order_placed: dict[str, Any]) -> None:
    from touchpoints.handlers import process_events

    # GIVEN an event already processed
    process_events.handler(_sqs_event(json.dumps(order_placed)), CONTEXT)
    store = local.store
    before = store.records_for_order(order_placed["detail"]["order_id"])
    # WHEN the queue delivers it again
    response = process_events.handler(_sqs_event(json.dumps(order_placed)), CONTEXT)
    # THEN it succeeds and nothing new is recorded
    assert response == {"batchItemFailures": []}
    assert store.records_for_order(order_placed["detail"]["order_id"]) == before


def test_the_stream_dispatches_pending_actions_through_ses_and_marks_them_sent(
    local: Any, order_placed: dict[str, Any]
) -> None:
    # GIVEN an order whose confirmation is pending in the table
    local.driver.put_events([order_placed])
    local.driver.drain_queue()
    emails_before = len(local.sent_emails())
    # WHEN the driver feeds the table's stream (filtered as the template says) to Dispatch
    local.driver.pump_stream()
    # THEN the confirmation went out through SES to the customer and is marked sent with SES's id
    (record,) = [
        r
        for r in local.store.records_for_order(order_placed["detail"]["order_id"])
        if r.rule_id == "order-confirmation"
    ]
    assert record.status == "sent"
    new = local.sent_emails()[emails_before:]
    (mail,) = [m for m in new if m["id"] == record.message_id]
    assert mail["destinations"]["ToAddresses"] == ["emily.carter@example.com"]
    # AND a second pass over the stream (the sent marks are MODIFY records, filtered out) sends nothing
    emails_after = len(local.sent_emails())
    local.driver.pump_stream()
    assert len(local.sent_emails()) == emails_after


def test_a_broken_catalog_fails_the_function_with_the_validation_report(tmp_path: Path, local: Any) -> None:
    from touchpoints.catalog import CatalogError
    from touchpoints.handlers import process_events
    from touchpoints.handlers.runtime import get_runtime, set_runtime

    # GIVEN a cold start whose RULES_DIR holds a rule with an unknown operator
    (tmp_path / "policy.yaml").write_text("caps: {}\n", encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(
        "id: bad\ndescription: d\non: OrderPlaced\nwhen: {nope: [1]}\n"
        "then:\n  - {channel: event, detail-type: X}\n",
        encoding="utf-8",
    )
    working = get_runtime()
    set_runtime(None)
    environment = {**local.resources.environment, "RULES_DIR": str(tmp_path)}
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in environment.items():
                patch.setenv(name, value)
            # WHEN the function is invoked
            # THEN it fails as a whole (not record by record) with the catalog's file:line report
            with pytest.raises(CatalogError, match=r"bad\.yaml:\d+"):
                process_events.handler(_sqs_event("{}"), CONTEXT)
    finally:
        set_runtime(working)


def test_a_journey_respects_quiet_hours_in_the_customers_time_zone(
    local: Any, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    from zoneinfo import ZoneInfo

    # GIVEN the late-night journey (a customer in Taipei whose parcel arrives at night)
    events = [_fresh(event, next(_runs)) for event in sample_events["late-night-delivery"]]
    for event in events:
        event["detail"]["order_id"] = events[0]["detail"]["order_id"]
    zone = ZoneInfo(events[0]["detail"]["customer"]["timezone"])
    # WHEN the whole journey runs through the stack, timers included, on the driver's clock
    local.driver.replay(events)
    # THEN marketing messages went out, none inside 21:00-09:00 of the customer's own clock
    records = local.store.records_for_order(events[0]["detail"]["order_id"])
    rules = local.runtime.catalog.rules
    marketing = [r for r in records if r.status == "sent" and rules[r.rule_id].rule.category == "marketing"]
    assert marketing
    local_hours = [r.send_at.astimezone(zone).hour for r in marketing]
    assert all(9 <= hour < 21 for hour in local_hours), local_hours
    # AND nothing was left waiting or failed once the timers had fired
    assert not [r for r in records if r.status in ("pending", "scheduled", "failed")]


@pytest.mark.parametrize(
    ("text", "hidden", "shown"),
    [
        ("detail.customer.email: got 'emily.carter@example.com'", "emily.carter", "e***@example.com"),
        ("detail.customer.phone: got '+12125550143'", "2125550143", "+121*****143"),
    ],
)
def test_rejection_reasons_are_redacted_before_logging(text: str, hidden: str, shown: str) -> None:
    from touchpoints.handlers.runtime import redact

    # GIVEN a rejection reason quoting a customer's address WHEN redacted THEN only the mask remains
    redacted = redact(text)
    assert hidden not in redacted
    assert shown in redacted


def test_a_refused_send_marks_the_action_failed_without_failing_the_batch(
    local: Any, order_placed: dict[str, Any]
) -> None:
    from touchpoints.adapters.channels import SesEmailChannel

    # GIVEN SES refusing the sender (an unverified identity), and a pending confirmation
    local.driver.settle()  # other tests' pending actions go out through the working channel first
    channels = local.runtime.channels
    working = channels["email"]
    channels["email"] = SesEmailChannel("nobody@unverified.example", client=local.clients["sesv2"])
    try:
        local.driver.put_events([order_placed])
        local.driver.drain_queue()
        failures_before = local.driver.stats.dead_lettered
        # WHEN the stream is dispatched
        local.driver.pump_stream()
    finally:
        channels["email"] = working
    # THEN the action is `failed` with SES's reason, and nothing was retried or dead-lettered
    (record,) = [
        r
        for r in local.store.records_for_order(order_placed["detail"]["order_id"])
        if r.rule_id == "order-confirmation"
    ]
    assert record.status == "failed"
    assert "MessageRejected" in (record.error or "")
    assert local.driver.stats.dead_lettered == failures_before


def test_a_stream_record_that_is_not_an_action_row_fails_alone(
    local: Any, order_placed: dict[str, Any]
) -> None:
    from touchpoints.handlers import dispatch

    # GIVEN a stream batch with a corrupt action image and nothing else
    corrupt = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "SequenceNumber": "111",
            "Keys": {"pk": {"S": "ORDER#X"}, "sk": {"S": "ACTION#x#y"}},
            "NewImage": {"pk": {"S": "ORDER#X"}, "sk": {"S": "ACTION#x#y"}, "status": {"S": "pending"}},
        },
    }
    # WHEN Dispatch handles it
    response = dispatch.handler({"Records": [corrupt]}, CONTEXT)
    # THEN that record is a batch item failure (retried, bisected, then sent to the on-failure DLQ)
    assert response == {"batchItemFailures": [{"itemIdentifier": "111"}]}
