"""Channels on AWS: email through SES v2, SMS through SNS, and events onto the EventBridge bus."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from touchpoints.ports import ChannelError, OutboundMessage

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient

__all__ = ["EVENT_SOURCE", "EventBridgeChannel", "SesEmailChannel", "SnsSmsChannel"]

EVENT_SOURCE = "touchpoints"

_T = TypeVar("_T")


def _provider_call(name: str, message: OutboundMessage, call: Callable[[], _T]) -> _T:
    """Run a provider call; its errors become ChannelError naming the action, never the address."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, text = error.get("Code", "Error"), error.get("Message", "")
        raise ChannelError(f"{name} refused action {message.action_id}: {code}: {text}") from exc
    except BotoCoreError as exc:
        raise ChannelError(f"{name} unreachable for action {message.action_id}: {exc}") from exc


def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url, region_name=region)  # type: ignore[call-overload]


class SesEmailChannel:
    """Email via SES v2 `SendEmail` with Simple content: Touchpoints renders the templates itself.

    (SES stored templates would split the catalog in two places; rendering here keeps one source.)
    """

    def __init__(
        self,
        sender: str,
        *,
        client: SESV2Client | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.sender = sender
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region

    @property
    def client(self) -> SESV2Client:
        """The boto3 SES v2 client, created on first use."""
        if self._client is None:
            self._client = _client("sesv2", self._endpoint_url, self._region)
        return self._client

    def send(self, message: OutboundMessage) -> str:
        """Send the rendered subject and body to `message.to`; the SES message id comes back."""
        if not message.to:
            raise ChannelError(f"email action {message.action_id} has no recipient address")
        if not self.sender:
            raise ChannelError("no sender configured for email (SENDER_EMAIL)")
        to = message.to
        response = _provider_call(
            "SES",
            message,
            lambda: self.client.send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [to]},
                Content={
                    "Simple": {
                        "Subject": {"Data": message.subject or "", "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": message.body or "", "Charset": "UTF-8"}},
                    }
                },
                EmailTags=[
                    {"Name": "rule", "Value": _tag(message.rule_id)},
                    {"Name": "action", "Value": _tag(message.action_id)},
                ],
            ),
        )
        return str(response["MessageId"])


class SnsSmsChannel:
    """SMS via SNS `Publish` straight to the phone number (transactional, no topic)."""

    def __init__(
        self,
        *,
        client: SNSClient | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region

    @property
    def client(self) -> SNSClient:
        """The boto3 SNS client, created on first use."""
        if self._client is None:
            self._client = _client("sns", self._endpoint_url, self._region)
        return self._client

    def send(self, message: OutboundMessage) -> str:
        """Publish the text to `message.to` (E.164) and return the SNS message id."""
        if not message.to:
            raise ChannelError(f"sms action {message.action_id} has no phone number")
        to = message.to
        response = _provider_call(
            "SNS",
            message,
            lambda: self.client.publish(
                PhoneNumber=to,
                Message=message.body or "",
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                },
            ),
        )
        return str(response["MessageId"])


class EventBridgeChannel:
    """Events for other systems (helpdesk cases, goodwill credits) onto the Touchpoints bus.

    The detail carries ids only (order, customer, rule, action) and never an address: the
    receiving service looks the customer up itself.
    """

    def __init__(
        self,
        bus_name: str,
        *,
        client: EventBridgeClient | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.bus_name = bus_name
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region

    @property
    def client(self) -> EventBridgeClient:
        """The boto3 EventBridge client, created on first use."""
        if self._client is None:
            self._client = _client("events", self._endpoint_url, self._region)
        return self._client

    def send(self, message: OutboundMessage) -> str:
        """PutEvents one event (`detail_type` from the rule) and return the EventBridge event id."""
        if not self.bus_name:
            raise ChannelError("no event bus configured for the event channel (EVENT_BUS_NAME)")
        detail = {
            "order_id": message.order_id,
            "customer_id": message.customer_id,
            "rule_id": message.rule_id,
            "action_id": message.action_id,
        }
        extra = {k: v for k, v in message.detail.items() if k not in detail and k not in ("subject", "body")}
        entry: PutEventsRequestEntryTypeDef = {
            "Source": EVENT_SOURCE,
            "DetailType": message.detail_type or "TouchpointAction",
            "Detail": json.dumps({**extra, **detail}, separators=(",", ":")),
            "EventBusName": self.bus_name,
        }
        response = _provider_call("EventBridge", message, lambda: self.client.put_events(Entries=[entry]))
        results = response.get("Entries", [])
        if response.get("FailedEntryCount") or not results or "EventId" not in results[0]:
            first = results[0] if results else {}
            raise ChannelError(
                f"EventBridge refused action {message.action_id}: "
                f"{first.get('ErrorCode', 'failed')}: {first.get('ErrorMessage', '')}"
            )
        return str(results[0]["EventId"])


def _tag(value: str) -> str:
    """SES tag values allow only [A-Za-z0-9_-]; rule ids and action ids already are, this makes sure."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in value)[:256] or "_"
