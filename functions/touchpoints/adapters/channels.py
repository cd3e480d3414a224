"""Channels on AWS: email through SES v2, SMS through SNS, and events onto the EventBridge bus.

Every provider error is classified here, once, by botocore's own exception classes and error
codes (`_classify`), and its text is redacted before it leaves this module:

- not sent (ChannelUnavailableError): no connection (`EndpointConnectionError`,
  `ConnectTimeoutError`), throttling (`TooManyRequestsException`, `Throttling`, ...), a paused
  account, missing credentials or permissions, any 5xx; tried again here after a short backoff,
  then handed to the stream's retries (the action stays `pending`);
- maybe sent (ChannelTimeoutError): the request left and no answer came (`ReadTimeoutError`,
  a connection dropped mid-answer); never retried here: the service decides per category;
- refused (ChannelError): anything else (`MessageRejected`, `AccountSuspendedException`,
  `InvalidParameter`, ...): the action is `failed` with the reason.

The clients these channels create make one HTTP attempt per call (botocore's own retries would
resend a timed-out request behind the classification's back).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from touchpoints.contract import header_text, redact
from touchpoints.ports import ChannelError, ChannelTimeoutError, ChannelUnavailableError, OutboundMessage

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sns import SNSClient

__all__ = [
    "ACTION_HEADER",
    "EVENT_SOURCE",
    "RETRY_DELAYS",
    "EventBridgeChannel",
    "SesEmailChannel",
    "SnsSmsChannel",
    "classify_error",
]

EVENT_SOURCE = "touchpoints"
ACTION_HEADER = "X-Touchpoints-Action"
"""The mail header (and SES tag `action`) naming the action: a duplicate delivery can be traced."""

RETRY_DELAYS: Sequence[float] = (0.2, 0.8)
"""Seconds to wait before the second and third attempt of a call that certainly was not sent.

Short on purpose: a longer outage is the stream's to retry (and then the DLQ's and `redrive`'s).
"""

_T = TypeVar("_T")

_THROTTLING = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "Throttled",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "SlowDown",
        "KMSThrottling",
        "KMSThrottlingException",
    }
)
_NOT_SENT = _THROTTLING | {
    # the provider is down or the account cannot send right now: it certainly did not send
    "InternalFailure",
    "InternalError",
    "InternalErrorException",
    "InternalException",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "SendingPausedException",
    # credentials and permissions: fixed by a deploy, after which the DLQ and `redrive` send it
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "AuthorizationErrorException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
}

NOT_SENT, MAYBE_SENT, REFUSED = "not sent", "maybe sent", "refused"


def classify_error(error: BaseException) -> str:
    """`NOT_SENT`, `MAYBE_SENT` or `REFUSED` for an exception a boto3 call raised."""
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_SENT or (isinstance(status, int) and (status >= 500 or status == 429)):
            return NOT_SENT
        return REFUSED
    if isinstance(error, ConnectionError | NoCredentialsError | PartialCredentialsError):
        return NOT_SENT  # the request never reached the provider (connect timeout, DNS, proxy, TLS)
    if isinstance(error, HTTPClientError):
        return MAYBE_SENT  # read timeout, connection closed or reset while waiting for the answer
    return REFUSED  # parameter validation and the like: our request is wrong, retrying cannot help


def _provider_call(
    name: str, message: OutboundMessage, call: Callable[[], _T], delays: Sequence[float] | None = None
) -> _T:
    """Run a provider call, trying again after a backoff while it certainly was not sent; classify the rest.

    The error raised names the provider, the action and the provider's code, and masks every
    address (the recipient's wherever it appears, and anything that looks like one).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    waits = list(RETRY_DELAYS if delays is None else delays)
    while True:
        try:
            return call()
        except (ClientError, BotoCoreError) as exc:
            kind = classify_error(exc)
            if kind == NOT_SENT and waits:
                time.sleep(waits.pop(0))
                continue
            raise _channel_error(name, message, exc, kind) from exc


def _channel_error(name: str, message: OutboundMessage, exc: BaseException, kind: str) -> ChannelError:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        detail = f"{error.get('Code', 'Error')}: {error.get('Message', '')}"
    else:
        detail = f"{type(exc).__name__}: {exc}"
    detail = redact(detail, (message.to,))
    if kind == NOT_SENT:
        return ChannelUnavailableError(f"{name} did not take action {message.action_id}: {detail}")
    if kind == MAYBE_SENT:
        return ChannelTimeoutError(f"{name} did not answer for action {message.action_id}: {detail}")
    return ChannelError(f"{name} refused action {message.action_id}: {detail}")


def _client(service: str, endpoint_url: str | None, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    # One attempt per call: `_provider_call` retries only what certainly was not sent.
    config = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=10)
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, config=config)  # type: ignore[call-overload]


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
        retry_delays: Sequence[float] | None = None,
    ) -> None:
        self.sender = sender
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self.retry_delays = retry_delays

    @property
    def client(self) -> SESV2Client:
        """The boto3 SES v2 client, created on first use."""
        if self._client is None:
            self._client = _client("sesv2", self._endpoint_url, self._region)
        return self._client

    def send(self, message: OutboundMessage) -> str:
        """Send the rendered subject and body to `message.to`; the SES message id comes back.

        The subject and the sender (which may carry a display name) are header text: control
        characters and line breaks never reach SES, whatever the template or the customer's name
        holds. The action id travels as the `action` tag and the `X-Touchpoints-Action` header, so
        a message sent twice after an unanswered request can be traced to one action.
        """
        if not message.to:
            raise ChannelError(f"email action {message.action_id} has no recipient address")
        if not self.sender:
            raise ChannelError("no sender configured for email (SENDER_EMAIL)")
        to, sender = header_text(message.to), header_text(self.sender)
        content = {
            "Subject": {"Data": header_text(message.subject or ""), "Charset": "UTF-8"},
            "Body": {"Text": {"Data": message.body or "", "Charset": "UTF-8"}},
            "Headers": [{"Name": ACTION_HEADER, "Value": _tag(message.action_id)}],
        }
        response = _provider_call(
            "SES",
            message,
            lambda: self.client.send_email(
                FromEmailAddress=sender,
                Destination={"ToAddresses": [to]},
                Content={"Simple": content},  # type: ignore[typeddict-item]
                EmailTags=[
                    {"Name": "rule", "Value": _tag(message.rule_id)},
                    {"Name": "action", "Value": _tag(message.action_id)},
                ],
            ),
            self.retry_delays,
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
        retry_delays: Sequence[float] | None = None,
    ) -> None:
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self.retry_delays = retry_delays

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
            self.retry_delays,
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
        retry_delays: Sequence[float] | None = None,
    ) -> None:
        self.bus_name = bus_name
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self.retry_delays = retry_delays

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
        waits = list(RETRY_DELAYS if self.retry_delays is None else self.retry_delays)
        while True:
            response = _provider_call(
                "EventBridge", message, lambda: self.client.put_events(Entries=[entry]), self.retry_delays
            )
            results = response.get("Entries", [])
            if not response.get("FailedEntryCount") and results and "EventId" in results[0]:
                return str(results[0]["EventId"])
            first = results[0] if results else {}
            code = str(first.get("ErrorCode", "failed"))
            reason = redact(f"{code}: {first.get('ErrorMessage', '')}")
            if code not in _NOT_SENT:  # PutEvents answers 200 and reports each entry's own error
                raise ChannelError(f"EventBridge refused action {message.action_id}: {reason}")
            if not waits:
                raise ChannelUnavailableError(
                    f"EventBridge did not take action {message.action_id}: {reason}"
                )
            time.sleep(waits.pop(0))


def _tag(value: str) -> str:
    """SES tag values allow only [A-Za-z0-9_-]; rule ids and action ids already are, this makes sure."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in value)[:256] or "_"
