"""SES/SNS/EventBridge channels and Scheduler timers against the moto stack of template.yaml."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from touchpoints.adapters.channels import EventBridgeChannel, SesEmailChannel, SnsSmsChannel
from touchpoints.adapters.scheduler import SchedulerTimerService, at_expression
from touchpoints.contract import parse_event
from touchpoints.local import ACCOUNT_ID, REGION
from touchpoints.outcome import TimerRequest
from touchpoints.ports import ChannelError, OutboundMessage, TimerError


def _message(channel: str, to: str | None, **extra: Any) -> OutboundMessage:
    return OutboundMessage(
        action_id="a1b2c3",
        order_id="A1",
        customer_id="C1",
        rule_id="negative-review-apology",
        channel=channel,
        to=to,
        locale="en",
        **extra,
    )


def _ses_messages() -> list[Any]:
    from moto.backends import get_backend

    return list(get_backend("ses")[ACCOUNT_ID][REGION].sent_messages)


def test_email_goes_out_through_ses_v2_with_the_rendered_subject_and_body(
    clients: dict[str, Any], stack: Any
) -> None:
    # GIVEN the email channel with the stack's verified sender
    channel = SesEmailChannel(stack.parameters["SenderEmail"], client=clients["sesv2"])
    before = len(_ses_messages())
    # WHEN a rendered message is sent
    message_id = channel.send(
        _message("email", "jane@example.com", subject="We are sorry", body="Hello Jane")
    )
    # THEN SES accepted it from the sender to the customer, with our subject and body
    sent = _ses_messages()[before:]
    assert [(m.id, m.source, m.subject, m.body) for m in sent] == [
        (message_id, "care@example.com", "We are sorry", "Hello Jane")
    ]
    assert sent[0].destinations["ToAddresses"] == ["jane@example.com"]


def test_an_unverified_sender_is_a_channel_error_naming_the_action(
    clients: dict[str, Any], stack: Any
) -> None:
    # GIVEN a sender SES does not know
    channel = SesEmailChannel("nobody@unverified.example", client=clients["sesv2"])
    # WHEN sending THEN ChannelError names the action, and not the recipient's address
    with pytest.raises(ChannelError, match="a1b2c3") as caught:
        channel.send(_message("email", "jane@example.com", subject="s", body="b"))
    assert "jane@example.com" not in str(caught.value)


def test_sms_goes_out_through_sns_to_the_phone_number(clients: dict[str, Any], stack: Any) -> None:
    from moto.backends import get_backend

    # GIVEN the SMS channel
    channel = SnsSmsChannel(client=clients["sns"])
    # WHEN a text is sent
    message_id = channel.send(_message("sms", "+12125550143", body="Your parcel is late, sorry"))
    # THEN SNS holds that text for that number
    assert get_backend("sns")[ACCOUNT_ID][REGION].sms_messages[message_id] == (
        "+12125550143",
        "Your parcel is late, sorry",
    )


def test_an_event_action_is_put_on_the_bus_with_ids_only(clients: dict[str, Any], stack: Any) -> None:
    # GIVEN a rule on the stack's bus capturing Touchpoints' own events into a test queue
    sqs, events = clients["sqs"], clients["events"]
    bus = stack.outputs["EventBusName"]
    url = sqs.create_queue(QueueName="capture-touchpoints")["QueueUrl"]
    events.put_rule(Name="capture", EventBusName=bus, EventPattern=json.dumps({"source": ["touchpoints"]}))
    events.put_targets(
        Rule="capture",
        EventBusName=bus,
        Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:capture-touchpoints"}],
    )
    channel = EventBridgeChannel(bus, client=events)
    # WHEN a goodwill-credit action is sent
    event_id = channel.send(
        _message("event", None, detail_type="GoodwillCreditRequested", detail={"trigger": "ShipmentDelayed"})
    )
    # THEN the bus routed a GoodwillCreditRequested from `touchpoints` carrying the ids
    (received,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(received["Body"])
    assert (body["id"], body["source"], body["detail-type"]) == (
        event_id,
        "touchpoints",
        "GoodwillCreditRequested",
    )
    assert body["detail"] == {
        "order_id": "A1",
        "customer_id": "C1",
        "rule_id": "negative-review-apology",
        "action_id": "a1b2c3",
        "trigger": "ShipmentDelayed",
    }


def _timer(rule_id: str = "follow-up-survey") -> TimerRequest:
    return TimerRequest("A1", rule_id, "ev-1", datetime(2026, 3, 9, 12, 30, tzinfo=UTC))


def test_a_timer_is_a_one_time_schedule_that_delivers_timer_fired_to_the_queue(
    clients: dict[str, Any], stack: Any
) -> None:
    # GIVEN the timer service configured from the stack's outputs
    outputs = stack.outputs
    timers = SchedulerTimerService(
        group=outputs["ScheduleGroupName"],
        queue_arn=outputs["QueueArn"],
        role_arn=outputs["SchedulerRoleArn"],
        client=clients["scheduler"],
    )
    timer = _timer()
    # WHEN it is scheduled twice (a retried event)
    timers.schedule(timer)
    timers.schedule(timer)
    # THEN one schedule exists, at the due time in UTC, deleting itself, targeting the queue with a TimerFired
    schedule = clients["scheduler"].get_schedule(Name=timer.name, GroupName=outputs["ScheduleGroupName"])
    assert schedule["ScheduleExpression"] == "at(2026-03-09T12:30:00)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert (schedule["Target"]["Arn"], schedule["Target"]["RoleArn"]) == (
        outputs["QueueArn"],
        outputs["SchedulerRoleArn"],
    )
    fired = parse_event(schedule["Target"]["Input"])
    assert (fired.detail_type, fired.id, fired.order_id) == ("TimerFired", timer.name, "A1")
    names = [
        s["Name"]
        for s in clients["scheduler"].list_schedules(GroupName=outputs["ScheduleGroupName"])["Schedules"]
    ]
    assert names.count(timer.name) == 1


def test_a_refused_schedule_is_a_timer_error(stack: Any) -> None:
    import boto3
    from botocore.stub import Stubber

    # GIVEN Scheduler refusing the request (moto raises a bare KeyError here, so stub AWS's answer)
    client = boto3.client("scheduler", region_name=REGION)
    timers = SchedulerTimerService(
        group="no-such-group",
        queue_arn=stack.outputs["QueueArn"],
        role_arn="arn:aws:iam::1:role/r",
        client=client,
    )
    with Stubber(client) as stub:
        stub.add_client_error(
            "create_schedule", "ResourceNotFoundException", "Schedule group no-such-group does not exist."
        )
        # WHEN scheduling THEN TimerError names the rule, the order and AWS's reason
        with pytest.raises(TimerError, match=r"follow-up-survey, order A1\): ResourceNotFoundException"):
            timers.schedule(_timer())


def test_at_expressions_round_fractions_of_a_second_up() -> None:
    # GIVEN a due time with microseconds WHEN it becomes an expression THEN it never fires early
    timer = TimerRequest("A1", "r", "e", datetime(2026, 3, 9, 12, 30, 0, 500, tzinfo=UTC))
    assert at_expression(timer) == "at(2026-03-09T12:30:01)"
