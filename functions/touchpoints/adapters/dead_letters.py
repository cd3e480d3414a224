"""Rejected events straight to the events dead-letter queue, with the reason as message attributes.

A record that can never parse would otherwise fail `maxReceiveCount` times (five receives, about
15 minutes, five rejection log lines) before SQS's redrive moves it, and the DLQ would hold its
body only. ProcessEvents sends it here itself, once, and reports the record as processed; the
reason travels with the message (no personal data: the rejection text quotes no personal value,
and is masked once more here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from touchpoints.contract import redact
from touchpoints.errors import TouchpointsError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = ["ATTRIBUTE_PREFIX", "DeadLetterError", "SqsDeadLetterQueue"]

ATTRIBUTE_PREFIX = "touchpoints."
"""Every message attribute this adapter writes is named `touchpoints.<name>` (`touchpoints.reason`)."""
_VALUE_MAX = 1024
"""Characters kept of an attribute value: a reason listing every field of a broken event stays readable."""
_ATTRIBUTES_MAX = 10
"""SQS takes at most 10 message attributes."""


class DeadLetterError(TouchpointsError):
    """Raised when the dead-letter queue did not take a rejected event (the record is then retried)."""


class SqsDeadLetterQueue:
    """The events DLQ: `send(body, attributes)` puts one rejected record there with its reason."""

    def __init__(
        self,
        queue_url: str,
        *,
        client: SQSClient | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.queue_url = queue_url
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region

    @property
    def client(self) -> SQSClient:
        """The boto3 SQS client, created on first use."""
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs", endpoint_url=self._endpoint_url, region_name=self._region)
        return self._client

    def send(self, body: str, attributes: Mapping[str, str | None]) -> str:
        """Put `body` (the record as it arrived) on the DLQ with `attributes`; the SQS message id comes back.

        Empty values are left out, each value is masked and cut to 1,024 characters. DeadLetterError
        when SQS refuses or cannot be reached: the caller lets the record fail, and SQS's own redrive
        still catches it.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        values: dict[str, Any] = {
            f"{ATTRIBUTE_PREFIX}{name}": {"DataType": "String", "StringValue": redact(value)[:_VALUE_MAX]}
            for name, value in list(attributes.items())[:_ATTRIBUTES_MAX]
            if value
        }
        try:
            response = self.client.send_message(
                QueueUrl=self.queue_url, MessageBody=body, MessageAttributes=values
            )
        except (ClientError, BotoCoreError) as exc:
            raise DeadLetterError(
                f"the events DLQ did not take the rejected record: {type(exc).__name__}"
            ) from exc
        return str(response["MessageId"])
