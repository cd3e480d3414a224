"""The pipeline over HTTP: PutEvents -> rule -> queue -> ProcessEvents -> table -> stream -> Dispatch."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any


def _ses_messages(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data.get("ses", {}).get("Message", []))


def test_a_journey_put_on_the_bus_ends_as_emails_and_an_audit_trail(
    stack: Any, journeys: dict[str, list[dict[str, Any]]], moto_data: Any
) -> None:
    # GIVEN the happy-path journey (placed, paid, dispatched, delivered, reviewed)
    stack.install()
    events = journeys["happy-path"]
    order_id = events[0]["detail"]["order_id"]
    # WHEN the platform PutEvents them onto the bus and the driver runs the handlers and timers
    stack.driver.replay(events)
    # THEN every decision for the order is recorded, and every pending one was sent
    records = stack.store.records_for_order(order_id)
    assert {r.rule_id for r in records} >= {"order-confirmation", "dispatch-notice"}
    assert not [r for r in records if r.status in ("pending", "failed")]
    sent = [r for r in records if r.status == "sent" and r.channel == "email"]
    assert sent
    # AND SES (read over HTTP from moto) holds exactly those emails, to the customer
    by_id = {m["id"]: m for m in _ses_messages(moto_data())}
    for record in sent:
        mail = by_id[record.message_id]
        assert mail["destinations"]["ToAddresses"] == [events[0]["detail"]["customer"]["email"]]
        assert order_id in mail["subject"]
    # AND the audit trail by customer (the GSI) lists the same decisions
    customer_id = events[0]["detail"]["customer"]["id"]
    assert {r.action_id for r in stack.store.records_for_customer(customer_id)} >= {
        r.action_id for r in records
    }


def test_a_redelivered_event_sends_nothing_twice(
    stack: Any, journeys: dict[str, list[dict[str, Any]]], moto_data: Any
) -> None:
    # GIVEN an order placed and processed once
    stack.install()
    event = copy.deepcopy(journeys["happy-path"][0])
    event["id"] = "redelivered-1"
    event["detail"]["order_id"] = "E2E-DUP"
    stack.driver.now = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).astimezone(UTC)
    sqs = stack.clients["sqs"]
    queue_url = stack.resources.outputs["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
    stack.driver.settle()
    mails = len(_ses_messages(moto_data()))
    records = stack.store.records_for_order("E2E-DUP")
    # WHEN the queue delivers the same event again (at-least-once delivery)
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
    stack.driver.settle()
    # THEN no new decision and no new email
    assert stack.store.records_for_order("E2E-DUP") == records
    assert len(_ses_messages(moto_data())) == mails


def test_a_malformed_event_lands_in_the_dead_letter_queue_and_the_rest_proceeds(
    stack: Any, journeys: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN a valid order and a malformed one (no total) sent together
    stack.install()
    good = copy.deepcopy(journeys["happy-path"][0])
    good["detail"]["order_id"] = "E2E-GOOD"
    bad = copy.deepcopy(good)
    bad["detail"]["order_id"] = "E2E-BAD"
    del bad["detail"]["total"]
    stack.driver.now = datetime.fromisoformat(good["time"].replace("Z", "+00:00")).astimezone(UTC)
    # WHEN both go through the bus and the queue (the bad one is retried until maxReceiveCount)
    stack.driver.put_events([good, bad])
    stack.driver.settle()
    # THEN the good order was decided, the bad one was not, and the bad one waits in the DLQ
    assert stack.store.records_for_order("E2E-GOOD") != []
    assert stack.store.records_for_order("E2E-BAD") == []
    dlq = stack.resources.outputs["DeadLetterQueueUrl"]
    messages = stack.clients["sqs"].receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["detail"]["order_id"] for m in messages] == ["E2E-BAD"]
