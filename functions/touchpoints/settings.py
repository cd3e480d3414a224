"""Runtime settings of the Lambda functions and the local stack, read from environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from touchpoints.errors import TouchpointsError

__all__ = ["Settings", "SettingsError", "default_rules_dir", "load_settings"]

# environment variable -> Settings field. The names are what template.yaml sets.
_ENV: dict[str, str] = {
    "TABLE_NAME": "table_name",
    "EVENT_BUS_NAME": "event_bus_name",
    "QUEUE_ARN": "queue_arn",
    "DEAD_LETTER_QUEUE_URL": "dead_letter_queue_url",
    "SCHEDULER_GROUP": "scheduler_group",
    "SCHEDULER_ROLE_ARN": "scheduler_role_arn",
    "SENDER_EMAIL": "sender_email",
    "RULES_DIR": "rules_dir",
    "AWS_ENDPOINT_URL": "endpoint_url",
    "AWS_REGION": "region",
    "POWERTOOLS_SERVICE_NAME": "service_name",
    "POWERTOOLS_TRACE_DISABLED": "trace_disabled",
}


class SettingsError(TouchpointsError):
    """Raised when an environment variable a function needs is missing or malformed."""


def default_rules_dir() -> Path:
    """Where the catalog is when RULES_DIR is unset: the `rules/` next to the package in a checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_catalog", package.parent.parent / "rules", Path.cwd() / "rules"):
        if candidate.is_dir():
            return candidate
    return package.parent.parent / "rules"


class Settings(BaseModel):
    """Everything the handlers need to find their resources; one instance per cold start.

    Empty strings mean "not configured": a function that never uses a resource (Dispatch never
    schedules timers) does not need its variable.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=1, description="the single DynamoDB table")
    event_bus_name: str = ""
    queue_arn: str = ""
    dead_letter_queue_url: str = ""
    scheduler_group: str = "default"
    scheduler_role_arn: str = ""
    sender_email: str = ""
    rules_dir: Path = Field(default_factory=default_rules_dir)
    endpoint_url: str | None = None
    region: str | None = None
    service_name: str = "touchpoints"
    trace_disabled: bool = False


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment (or `environ`); SettingsError names the bad variable."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    for variable, field in _ENV.items():
        value = env.get(variable)
        if value is not None and value != "":
            values[field] = value
    if "region" not in values and env.get("AWS_DEFAULT_REGION"):
        values["region"] = env["AWS_DEFAULT_REGION"]
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        by_field = {field: variable for variable, field in _ENV.items()}
        problems = []
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"{by_field.get(field, field)}: {error['msg']}")
        raise SettingsError("invalid environment: " + "; ".join(problems)) from None
