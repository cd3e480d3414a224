"""The local stack is template.yaml: resources, filters and settings come from it, not from copies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from touchpoints.local import TemplateError, load_template, matches_pattern
from touchpoints.settings import SettingsError, load_settings


def test_the_table_is_created_with_the_templates_keys_indexes_and_stream(
    clients: dict[str, Any], stack: Any, repo_root: Path
) -> None:
    # GIVEN the table as template.yaml declares it
    declared = load_template(repo_root / "template.yaml")["Resources"]["DecisionTable"]["Properties"]
    # WHEN moto describes the created table
    table = clients["dynamodb"].describe_table(TableName=stack.outputs["TableName"])["Table"]
    # THEN keys, GSIs and the stream are the template's
    assert table["KeySchema"] == declared["KeySchema"]
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == sorted(
        i["IndexName"] for i in declared["GlobalSecondaryIndexes"]
    )
    assert table["StreamSpecification"]["StreamViewType"] == declared["StreamSpecification"]["StreamViewType"]


def test_the_queue_redrives_to_the_dead_letter_queue_as_declared(clients: dict[str, Any], stack: Any) -> None:
    # GIVEN the events queue WHEN its attributes are read
    attributes = clients["sqs"].get_queue_attributes(
        QueueUrl=stack.outputs["QueueUrl"], AttributeNames=["All"]
    )["Attributes"]
    # THEN it redrives to the DLQ after 5 receives, with the declared visibility timeout
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":touchpoints-local-events-dlq")
    assert int(redrive["maxReceiveCount"]) == 5
    assert attributes["VisibilityTimeout"] == "180"


def test_the_functions_environment_is_resolved_from_the_template(stack: Any) -> None:
    # GIVEN the resolved Globals environment WHEN settings are read from it
    settings = load_settings(stack.environment)
    # THEN every name points at a created resource
    assert settings.table_name == stack.outputs["TableName"]
    assert settings.queue_arn == stack.outputs["QueueArn"]
    assert settings.scheduler_group == stack.outputs["ScheduleGroupName"]
    assert settings.event_bus_name == stack.outputs["EventBusName"]


def test_settings_without_a_table_name_name_the_variable() -> None:
    # GIVEN an environment without TABLE_NAME WHEN settings load THEN the error names the variable
    with pytest.raises(SettingsError, match="TABLE_NAME"):
        load_settings({"EVENT_BUS_NAME": "bus"})


@pytest.mark.parametrize(
    ("image", "passes"),
    [
        (
            {
                "sk": {"S": "ACTION#2026-03-01T10:00:00Z#a"},
                "status": {"S": "pending"},
                "error": {"NULL": True},
            },
            True,
        ),
        # the in-flight mark the dispatcher writes just before a send does not come back to it
        (
            {
                "sk": {"S": "ACTION#2026-03-01T10:00:00Z#a"},
                "status": {"S": "pending"},
                "error": {"S": "dispatch in flight"},
            },
            False,
        ),
        ({"sk": {"S": "ACTION#2026-03-01T10:00:00Z#a"}, "status": {"S": "sent"}}, False),
        ({"sk": {"S": "STATE"}, "status": {"S": "pending"}}, False),
    ],
)
def test_the_dispatch_filter_of_the_template_passes_only_pending_actions(
    local: Any, image: dict[str, Any], passes: bool
) -> None:
    # GIVEN the DispatchFunction's FilterCriteria as the driver read them from template.yaml
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": image}}
    # WHEN a stream record is matched THEN only pending action rows pass
    assert any(matches_pattern(p, record) for p in local.driver.stream_filters) is passes


def test_anything_but_and_prefix_patterns() -> None:
    # GIVEN the rule's pattern shapes WHEN matched THEN they behave as EventBridge's
    assert matches_pattern({"source": [{"anything-but": ["touchpoints"]}]}, {"source": "shop.orders"})
    assert not matches_pattern({"source": [{"anything-but": ["touchpoints"]}]}, {"source": "touchpoints"})
    assert matches_pattern({"sk": [{"prefix": "ACTION#"}]}, {"sk": "ACTION#x"})
    assert not matches_pattern({"sk": [{"prefix": "ACTION#"}]}, {"other": "ACTION#x"})


def test_a_template_that_is_not_yaml_is_a_template_error(tmp_path: Path) -> None:
    # GIVEN a broken template WHEN loaded THEN TemplateError names the file
    broken = tmp_path / "template.yaml"
    broken.write_text("Resources: [unclosed\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"template\.yaml: not valid YAML"):
        load_template(broken)


def test_the_driver_fires_a_due_schedule_into_the_queue_and_deletes_it(
    local: Any, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    from touchpoints.adapters.scheduler import SchedulerTimerService
    from touchpoints.outcome import TimerRequest

    # GIVEN a timer scheduled through the real adapter, due in the driver's future
    outputs = local.resources.outputs
    service = SchedulerTimerService(
        group=outputs["ScheduleGroupName"],
        queue_arn=outputs["QueueArn"],
        role_arn=outputs["SchedulerRoleArn"],
        client=local.clients["scheduler"],
    )
    local.driver.settle()
    timer = TimerRequest("DRV-1", "follow-up-survey", "ev-drv", local.driver.now.replace(year=2030))
    service.schedule(timer)
    # WHEN the clock passes it
    local.driver.now = timer.due_at
    fired = local.driver.fire_due_timers()
    # THEN its TimerFired is in the queue and the schedule is gone
    assert fired >= 1
    names = [
        s["Name"]
        for s in local.clients["scheduler"].list_schedules(GroupName=outputs["ScheduleGroupName"])[
            "Schedules"
        ]
    ]
    assert timer.name not in names
    bodies: list[dict[str, Any]] = []
    while True:  # other tests' timers were due too: read the whole queue
        batch = local.clients["sqs"].receive_message(QueueUrl=outputs["QueueUrl"], MaxNumberOfMessages=10)
        if not batch.get("Messages"):
            break
        bodies.extend(json.loads(m["Body"]) for m in batch["Messages"])
    assert timer.name in [b["id"] for b in bodies]
    for message_body in bodies:  # hand them back, so the queue is as the other tests expect it
        local.clients["sqs"].send_message(QueueUrl=outputs["QueueUrl"], MessageBody=json.dumps(message_body))
    local.driver.drain_queue()


def test_a_pump_behind_more_than_a_page_of_stream_records_still_dispatches_the_newest(
    clients: dict[str, Any], repo_root: Path, sample_events: dict[str, list[dict[str, Any]]]
) -> None:
    from datetime import UTC, datetime

    from touchpoints.local import create_stack, start_local_stack

    # GIVEN a stack of its own whose stream holds 1,200 records no pump has read (more than the
    # 1,000 one GetRecords call returns), then an order placed and processed
    resources = create_stack(repo_root / "template.yaml", clients, parameters={"Stage": "pump"})
    local = start_local_stack(clients=clients, resources=resources, rules_dir=repo_root / "rules")
    local.install()
    try:
        table = local.table_name
        for n in range(1200):
            clients["dynamodb"].put_item(
                TableName=table, Item={"pk": {"S": f"NOISE#{n}"}, "sk": {"S": "NOISE"}}
            )
        placed = sample_events["happy-path"][0]
        local.driver.now = datetime.fromisoformat(placed["time"].replace("Z", "+00:00")).astimezone(UTC)
        local.driver.put_events([placed])
        local.driver.drain_queue()
        # WHEN the stream is pumped once
        local.driver.pump_stream()
        # THEN the confirmation decided after the backlog was dispatched and sent
        records = local.store.records_for_order(placed["detail"]["order_id"])
        assert [(r.rule_id, r.status) for r in records if r.rule_id == "order-confirmation"] == [
            ("order-confirmation", "sent")
        ]
    finally:
        clients["dynamodb"].delete_table(TableName=table)
