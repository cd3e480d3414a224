"""Timers as one-time EventBridge Scheduler schedules that put TimerFired onto the events queue."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import TYPE_CHECKING

from touchpoints.ports import TimerError

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

    from touchpoints.outcome import TimerRequest

__all__ = ["SchedulerTimerService", "at_expression"]


def at_expression(timer: TimerRequest) -> str:
    """The schedule expression of a timer: `at(yyyy-mm-ddThh:mm:ss)` in UTC (seconds rounded up)."""
    due = timer.due_at.astimezone(UTC)
    if due.microsecond:
        # Firing a fraction early would decide on a state from before `due_at`.
        due = due.replace(microsecond=0) + timedelta(seconds=1)
    return f"at({due:%Y-%m-%dT%H:%M:%S})"


class SchedulerTimerService:
    """TimerService on EventBridge Scheduler: one schedule per timer, named after it.

    The name is deterministic (`TimerRequest.name`), so a retried event that schedules the same
    timer gets ConflictException, which means "already scheduled" and is fine. Schedules delete
    themselves after firing (`ActionAfterCompletion: DELETE`).
    """

    def __init__(
        self,
        *,
        group: str,
        queue_arn: str,
        role_arn: str,
        client: EventBridgeSchedulerClient | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        account: str = "000000000000",
    ) -> None:
        self.group = group
        self.queue_arn = queue_arn
        self.role_arn = role_arn
        self.account = account
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region

    @property
    def client(self) -> EventBridgeSchedulerClient:
        """The boto3 Scheduler client, created on first use."""
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "scheduler", endpoint_url=self._endpoint_url, region_name=self._region
            )
        return self._client

    def schedule(self, timer: TimerRequest) -> None:
        """Create the one-time schedule; an existing schedule of that name is the same timer."""
        from botocore.exceptions import BotoCoreError, ClientError

        if not self.queue_arn or not self.role_arn:
            raise TimerError("timers need QUEUE_ARN and SCHEDULER_ROLE_ARN to be configured")
        region = self._region or self.client.meta.region_name
        envelope = timer.to_event(account=self.account, region=region)
        try:
            self.client.create_schedule(
                Name=timer.name,
                GroupName=self.group,
                ScheduleExpression=at_expression(timer),
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Description=f"{timer.rule_id} for order {timer.order_id}"[:512],
                Target={
                    "Arn": self.queue_arn,
                    "RoleArn": self.role_arn,
                    "Input": json.dumps(envelope, separators=(",", ":")),
                    "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
                },
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") == "ConflictException":
                return
            raise TimerError(
                f"could not schedule timer {timer.name} ({timer.rule_id}, order {timer.order_id}): "
                f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
            ) from exc
        except BotoCoreError as exc:
            raise TimerError(f"could not schedule timer {timer.name}: {exc}") from exc
