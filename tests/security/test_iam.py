"""IAM in template.yaml: only the actions the code calls, on named resources, under conditions."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ADAPTERS = Path(__file__).resolve().parents[2] / "functions" / "touchpoints" / "adapters"

# TransactWriteItems has no IAM action of its own: each item kind needs the item action.
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}

# Actions a call needs besides its own (documented by the service).
IMPLIED = {"scheduler:CreateSchedule": {"iam:PassRole"}}  # the schedule's target role is passed

# Actions the Lambda *platform* performs with the function's role, not our code.
PLATFORM = {
    ("DispatchFunction", "sqs:SendMessage"): "the stream's OnFailure destination (dispatch DLQ)",
    ("SchedulerRole", "sqs:SendMessage"): "Scheduler delivers TimerFired to the events queue",
}

# Which adapter methods each function's code path runs (handlers -> service -> adapters).
# Checked against the code below: every action listed must be one the adapters really call.
FUNCTION_USES: dict[str, set[str]] = {
    # store.load (GetItem | BatchGetItem), store.commit (TransactWriteItems: Put + ConditionCheck),
    # timers.schedule (CreateSchedule, passing the scheduler role)
    "ProcessEventsFunction": {
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:ConditionCheckItem",
        "scheduler:CreateSchedule",
        "iam:PassRole",
        "sqs:SendMessage",  # a record that can never parse, to the events DLQ (adapters/dead_letters.py)
    },
    # load_action with the stream row's key (one BatchGetItem), update_action at the row's address that
    # read returned (UpdateItem), the three channels
    "DispatchFunction": {
        "dynamodb:BatchGetItem",
        "dynamodb:UpdateItem",
        "ses:SendEmail",
        "sns:Publish",
        "events:PutEvents",
    },
}

READ_PREFIXES = ("Get", "BatchGet", "Query", "Scan", "Describe", "List")


def _is_write(action: str) -> bool:
    return not action.split(":", 1)[1].startswith(READ_PREFIXES)


# ---------------------------------------------------------------------------------------- code scan


def _iam_prefixes() -> dict[str, str]:
    """boto3 service name -> IAM action prefix (the service's signing name: sesv2 -> ses)."""
    import botocore.session

    session = botocore.session.get_session()
    return {
        service: session.get_service_model(service).signing_name
        for service in ("dynamodb", "sesv2", "sns", "events", "scheduler", "sqs")
    }


def _operations(service: str) -> dict[str, str]:
    """snake_case client method -> API operation name, from botocore's service model."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def actions_in_adapters() -> set[str]:
    """Every IAM action the AWS adapters can need, found by reading their source.

    - `boto3.client("svc")` / `_client("svc", ...)` string arguments name the module's services;
    - `<...>client.<method>(...)` calls are operations of those services;
    - `self._call("Operation", ...)` names DynamoDB operations (the store's counting wrapper);
    - `{"Put": ...}` / `{"ConditionCheck": ...}` dict literals are TransactWriteItems item kinds.
    """
    prefixes = _iam_prefixes()
    found: set[str] = set()
    for path in sorted(ADAPTERS.rglob("*.py")):  # the DynamoDB store is a package of modules
        tree = ast.parse(path.read_text(encoding="utf-8"))
        services: set[str] = set()
        methods: set[str] = set()
        named_operations: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                first = node.args[0] if node.args else None
                literal = (
                    first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                )
                callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if callee in ("client", "_client") and literal in prefixes:
                    services.add(literal)
                if callee == "_call" and literal is not None:
                    named_operations.add(literal)
                if isinstance(func, ast.Attribute):
                    owner = func.value
                    owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
                    if owner_name in ("client", "_client"):
                        methods.add(func.attr)
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and key.value in TRANSACT_ITEM_ACTIONS:
                        found.add(TRANSACT_ITEM_ACTIONS[key.value])
        if "dynamodb" in path.relative_to(ADAPTERS).parts[0]:
            services.add("dynamodb")
        for service in services:
            operations = _operations(service)
            for method in methods:
                if method in operations:
                    found.add(f"{prefixes[service]}:{operations[method]}")
            for operation in named_operations:
                if operation in operations.values() and operation != "TransactWriteItems":
                    found.add(f"{prefixes[service]}:{operation}")
    for action in list(found):
        found |= IMPLIED.get(action, set())
    return found


# ---------------------------------------------------------------------------------------- template


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, statement) of every identity-based policy: function Policies and role policies."""
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function":
            for policy in _as_list(properties.get("Policies", [])):
                if isinstance(policy, dict) and "Statement" in policy:
                    for statement in _as_list(policy["Statement"]):
                        yield logical_id, statement
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in _as_list(policy["PolicyDocument"]["Statement"]):
                    yield logical_id, statement


def _is_unbounded(resource: Any) -> bool:
    """True for `*` or an ARN with a wildcard service, region or account (the resource name may be a glob)."""
    if isinstance(resource, dict):
        text = resource.get("Fn::Sub")
        if text is None:
            return False  # Ref / GetAtt: one named resource
        resource = text if isinstance(text, str) else text[0]
    if resource == "*":
        return True
    # `${AWS::Region}` holds colons of its own: a placeholder keeps the ARN's fields apart
    parts = re.sub(r"\$\{[^}]*\}", "VAR", str(resource)).split(":", 5)
    return len(parts) < 6 or any("*" in part for part in parts[1:5]) or parts[5] in ("*", "")


def test_the_code_scan_finds_what_the_adapters_call() -> None:
    # GIVEN the adapters' source
    # WHEN their AWS calls are read from it
    found = actions_in_adapters()
    # THEN the calls we know they make are there (the scan itself works), including transact items
    assert {"dynamodb:GetItem", "dynamodb:PutItem", "ses:SendEmail", "scheduler:CreateSchedule"} <= found
    assert "dynamodb:ConditionCheckItem" in found


@pytest.mark.parametrize("function", sorted(FUNCTION_USES))
def test_each_function_is_granted_exactly_the_actions_its_code_uses(
    template: dict[str, Any], function: str
) -> None:
    # GIVEN what the function's code path uses, checked against the adapters' source
    used = FUNCTION_USES[function]
    assert used <= actions_in_adapters(), (
        f"{sorted(used - actions_in_adapters())} are not called by any adapter"
    )
    # WHEN the template's grants of that function are collected
    granted = {
        action
        for logical_id, statement in statements(template)
        if logical_id == function
        for action in _as_list(statement["Action"])
        if (function, action) not in PLATFORM
    }
    # THEN nothing more (least privilege) and nothing less (the function would fail in AWS)
    assert granted - used == set(), f"{function} is granted actions its code never calls"
    assert used - granted == set(), f"{function} lacks actions its code calls"


def test_no_write_action_is_granted_on_every_resource(template: dict[str, Any]) -> None:
    # GIVEN every identity statement of the template
    unbounded = []
    for logical_id, statement in statements(template):
        writes = [a for a in _as_list(statement["Action"]) if _is_write(a)]
        resources = _as_list(statement.get("Resource", "*"))
        if writes and ("NotResource" in statement or any(_is_unbounded(r) for r in resources)):
            unbounded.append((logical_id, tuple(writes), statement))
    # WHEN / THEN the one documented exception is SMS: a phone number has no ARN
    assert [(logical_id, writes) for logical_id, writes, _ in unbounded] == [
        ("DispatchFunction", ("sns:Publish",))
    ]
    # ... and even it excludes every topic, so it cannot publish to a topic of the account
    sms = unbounded[0][2]
    assert "Resource" not in sms
    assert sms["NotResource"] == {"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"}


def test_pass_role_is_conditioned_on_the_scheduler_service(template: dict[str, Any]) -> None:
    # GIVEN the statements granting iam:PassRole
    passing = [s for _, s in statements(template) if "iam:PassRole" in _as_list(s["Action"])]
    # WHEN / THEN each names one role and may pass it to EventBridge Scheduler only
    assert passing, "the timer path needs iam:PassRole"
    for statement in passing:
        assert statement["Resource"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
        assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


def test_service_principals_are_confined_to_this_stack(template: dict[str, Any]) -> None:
    # GIVEN the resource policies and trust policies that admit an AWS service
    resources = template["Resources"]
    trust = resources["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    queue = resources["EventsQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    # WHEN / THEN Scheduler may assume the role only for this account (confused deputy) ...
    assert [s["Condition"] for s in trust] == [
        {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    ]
    # ... and EventBridge may send to the queue only from the stack's own two rules
    assert all(s["Principal"] == {"Service": "events.amazonaws.com"} for s in queue)
    assert [s["Condition"] for s in queue] == [
        {
            "ArnEquals": {
                "aws:SourceArn": [
                    {"Fn::GetAtt": ["PlatformEventsRule", "Arn"]},
                    {"Fn::GetAtt": ["UnknownDetailTypesRule", "Arn"]},
                ]
            }
        }
    ]
    assert [s["Action"] for s in queue] == ["sqs:SendMessage"]


def test_the_bus_admits_only_the_configured_source_accounts(template: dict[str, Any]) -> None:
    # GIVEN the bus's resource policy
    bus = template["Resources"]["EventBus"]["Properties"]
    condition, policy, otherwise = bus["Policy"]["Fn::If"]
    # WHEN / THEN there is no policy at all unless SourceAccounts is set ...
    assert condition == "HasSourceAccounts"
    assert otherwise == {"Ref": "AWS::NoValue"}
    assert template["Parameters"]["SourceAccounts"]["Default"] == ""
    # ... and then it lets exactly those accounts PutEvents onto this bus, nobody else
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": {"Ref": "SourceAccounts"}}
        assert "*" not in str(statement["Principal"])
        assert statement["Action"] == "events:PutEvents"
        assert not _is_unbounded(statement["Resource"])
        assert "event-bus/touchpoints-${Stage}" in statement["Resource"]["Fn::Sub"]


def test_the_unbounded_check_catches_wildcards() -> None:
    # GIVEN resources with and without wildcards WHEN / THEN the check tells them apart
    assert _is_unbounded("*")
    assert _is_unbounded({"Fn::Sub": "arn:${AWS::Partition}:sns:*:*:*"})
    assert _is_unbounded({"Fn::Sub": "arn:aws:dynamodb:*:${AWS::AccountId}:table/x"})
    assert not _is_unbounded({"Fn::GetAtt": ["DecisionTable", "Arn"]})
    assert not _is_unbounded(
        {
            "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}"
            ":schedule/${ScheduleGroup}/*"
        }
    )
