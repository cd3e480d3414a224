"""Read template.yaml and create its resources in an AWS emulation (moto), so local and deployed cannot drift.

Only what the stack needs is understood: the intrinsic functions `Ref`, `Fn::Sub`, `Fn::GetAtt`,
`Fn::Join`, `Fn::Split`, `Fn::If` / `Fn::Not` / `Fn::Equals` (conditions) and the resource types
SQS queue, DynamoDB table, EventBridge bus and rule (with its SQS target), Scheduler schedule
group. Functions, alarms, roles, policies and layers are not created: the local driver calls the
handlers in-process, which is what "Lambda" means locally.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from touchpoints.errors import TouchpointsError

__all__ = [
    "ACCOUNT_ID",
    "REGION",
    "StackResources",
    "TemplateError",
    "create_stack",
    "default_template_path",
    "load_template",
]

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class TemplateError(TouchpointsError):
    """Raised when template.yaml cannot be read, or uses something the local stack cannot emulate."""


def default_template_path() -> Path:
    """template.yaml of the checkout the package lives in (or of the current directory)."""
    package_root = Path(__file__).resolve().parents[3]
    for candidate in (Path.cwd() / "template.yaml", package_root / "template.yaml"):
        if candidate.is_file():
            return candidate
    return package_root / "template.yaml"


@dataclass(frozen=True)
class _Tag:
    """A CloudFormation short-form tag (`!Ref X`) as read from YAML, before resolution."""

    name: str
    value: Any


def load_template(path: Path) -> dict[str, Any]:
    """Parse template.yaml, turning `!Ref`/`!Sub`/... into their long `{"Fn::...": ...}` forms."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe", pure=True)

    def construct(loader: Any, suffix: str, node: Any) -> Any:
        if node.id == "scalar":
            value: Any = loader.construct_scalar(node)
        elif node.id == "sequence":
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    yaml.constructor.add_multi_constructor("!", construct)
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read the SAM template: {exc.strerror}") from None
    except YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources mapping)")
    template: dict[str, Any] = _plain(loaded)
    return template


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class StackResources:
    """What was created: physical ids and attributes by logical id, plus the template's outputs."""

    template: dict[str, Any]
    parameters: dict[str, Any]
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)

    def resource(self, logical_id: str) -> dict[str, Any]:
        """A resource's template definition."""
        return dict(self.template["Resources"][logical_id])


_NO_VALUE = object()


class _Builder:
    """Resolves intrinsics lazily: a `Ref`/`GetAtt` to a resource creates that resource first."""

    def __init__(
        self, template: dict[str, Any], parameters: Mapping[str, Any], clients: Mapping[str, Any]
    ) -> None:
        self.template = template
        self.clients = clients
        self.resources: dict[str, Any] = template["Resources"]
        self.parameters: dict[str, Any] = {}
        for name, spec in template.get("Parameters", {}).items():
            value = parameters.get(name, spec.get("Default"))
            if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
                value = [part.strip() for part in value.split(",")] if value else [""]
            self.parameters[name] = value
        self.pseudo = {
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": "aws",
            "AWS::StackName": "touchpoints-local",
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.refs: dict[str, Any] = {}
        self.attributes: dict[str, dict[str, Any]] = {}
        self._creating: set[str] = set()
        self._creators: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::SQS::Queue": self._queue,
            "AWS::DynamoDB::Table": self._table,
            "AWS::Events::EventBus": self._bus,
            "AWS::Events::Rule": self._rule,
            "AWS::Scheduler::ScheduleGroup": self._schedule_group,
            "AWS::IAM::Role": self._role,
            "AWS::Serverless::Function": self._function,
        }

    # -- intrinsics -----------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self._ref(value)
            if key == "Fn::GetAtt":
                return self._get_att(value[0], value[1])
            if key == "Fn::Sub":
                return self._sub(value)
            if key == "Fn::Join":
                separator, parts = value
                return separator.join(str(p) for p in self.resolve(parts))
            if key == "Fn::Split":
                separator, text = value
                return str(self.resolve(text)).split(separator)
            if key == "Fn::If":
                name, when_true, when_false = value
                return self.resolve(when_true if self._condition(name) else when_false)
            if key.startswith("Fn::"):
                raise TemplateError(f"template.yaml: the local stack does not support {key}")
        resolved = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _condition(self, name: str) -> bool:
        condition = self.template.get("Conditions", {}).get(name)
        if condition is None:
            raise TemplateError(f"template.yaml: unknown condition {name!r}")
        return bool(self._evaluate(condition))

    def _evaluate(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, value),) = node.items()
            if key == "Fn::Not":
                return not self._evaluate(value[0])
            if key == "Fn::Equals":
                return self.resolve(value[0]) == self.resolve(value[1])
            if key == "Condition":
                return self._condition(value)
        return self.resolve(node)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        self.ensure(name)
        return self.refs[name]

    def _get_att(self, name: str, attribute: str) -> Any:
        self.ensure(name)
        try:
            return self.attributes[name][attribute]
        except KeyError:
            raise TemplateError(
                f"template.yaml: {name}.{attribute} is not known to the local stack"
            ) from None

    def _sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self._get_att(logical, attribute))
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    # -- resources ------------------------------------------------------------------------------

    def ensure(self, logical_id: str) -> None:
        if logical_id in self.refs:
            return
        spec = self.resources.get(logical_id)
        if spec is None:
            raise TemplateError(f"template.yaml: Ref to unknown resource or parameter {logical_id!r}")
        if logical_id in self._creating:
            raise TemplateError(f"template.yaml: circular reference through {logical_id}")
        self._creating.add(logical_id)
        creator = self._creators.get(spec["Type"])
        if creator is None:
            # Not emulated (alarms, layers, policies): a placeholder so references still resolve.
            self.refs[logical_id] = logical_id
            self.attributes[logical_id] = {"Arn": f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{logical_id}"}
        else:
            creator(logical_id, self.resolve(spec.get("Properties", {})))
        self._creating.discard(logical_id)

    def _queue(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self.clients["sqs"]
        name = props.get("QueueName", logical_id)
        attributes: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        if props.get("SqsManagedSseEnabled"):
            attributes["SqsManagedSseEnabled"] = "true"
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}"
        self.refs[logical_id] = url
        self.attributes[logical_id] = {"Arn": arn, "QueueName": name, "QueueUrl": url}

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        dynamodb = self.clients["dynamodb"]
        name = props.get("TableName", logical_id)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        if props.get("SSESpecification", {}).get("SSEEnabled"):
            request["SSESpecification"] = {"Enabled": True}
        description = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        self.refs[logical_id] = name
        self.attributes[logical_id] = {
            "Arn": description["TableArn"],
            "StreamArn": description.get("LatestStreamArn", ""),
        }

    def _bus(self, logical_id: str, props: dict[str, Any]) -> None:
        events = self.clients["events"]
        name = props.get("Name", logical_id)
        arn = events.create_event_bus(Name=name)["EventBusArn"]
        self.refs[logical_id] = name
        self.attributes[logical_id] = {"Arn": arn, "Name": name}

    def _rule(self, logical_id: str, props: dict[str, Any]) -> None:
        events = self.clients["events"]
        name = props.get("Name", f"touchpoints-local-{logical_id}")
        bus = props.get("EventBusName", "default")
        arn = events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
            Description=props.get("Description", ""),
        )["RuleArn"]
        targets = [{"Id": t["Id"], "Arn": t["Arn"]} for t in props.get("Targets", [])]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        self.refs[logical_id] = name
        self.attributes[logical_id] = {"Arn": arn}

    def _schedule_group(self, logical_id: str, props: dict[str, Any]) -> None:
        scheduler = self.clients["scheduler"]
        name = props.get("Name", logical_id)
        arn = scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
        self.refs[logical_id] = name
        self.attributes[logical_id] = {"Arn": arn}

    def _role(self, logical_id: str, props: dict[str, Any]) -> None:
        # IAM is not enforced by the emulation: the role's ARN is all the stack needs.
        name = props.get("RoleName", f"touchpoints-local-{logical_id}")
        self.refs[logical_id] = name
        self.attributes[logical_id] = {"Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", "RoleId": name}

    def _function(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("FunctionName", logical_id)
        self.refs[logical_id] = name
        self.attributes[logical_id] = {"Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"}


def create_stack(
    template_path: Path,
    clients: Mapping[str, Any],
    *,
    parameters: Mapping[str, Any] | None = None,
) -> StackResources:
    """Create the template's emulated resources with `clients` (by service name) and resolve its outputs.

    `environment` is the functions' Globals environment, resolved, as Lambda would see it.
    The SES sender identity (the SenderEmail parameter) is verified, as it must be in a real account.
    """
    template = load_template(template_path)
    builder = _Builder(template, {"Stage": "local", **(parameters or {})}, clients)
    for logical_id in template["Resources"]:
        builder.ensure(logical_id)
    outputs = {name: builder.resolve(spec["Value"]) for name, spec in template.get("Outputs", {}).items()}
    variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    environment = {name: str(value) for name, value in builder.resolve(variables).items()}
    sender = builder.parameters.get("SenderEmail")
    if sender and "sesv2" in clients:
        clients["sesv2"].create_email_identity(EmailIdentity=sender)
    return StackResources(
        template=template,
        parameters=builder.parameters,
        refs=builder.refs,
        attributes=builder.attributes,
        outputs=outputs,
        environment=environment,
    )
