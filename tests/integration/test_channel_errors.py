"""Provider errors, classified by botocore's own exception classes and codes (adapters/channels.py)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from touchpoints.adapters.channels import MAYBE_SENT, NOT_SENT, REFUSED, classify_error

URL = "https://email.us-east-1.amazonaws.com/"


def _client_error(code: str, status: int = 400) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "SendEmail")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (EndpointConnectionError(endpoint_url=URL), NOT_SENT),
        (ConnectTimeoutError(endpoint_url=URL), NOT_SENT),
        (NoCredentialsError(), NOT_SENT),
        (_client_error("TooManyRequestsException", 429), NOT_SENT),  # SES v2
        (_client_error("Throttling"), NOT_SENT),  # SES v1 "Maximum sending rate exceeded"
        (_client_error("ThrottlingException"), NOT_SENT),  # EventBridge
        (_client_error("Throttled"), NOT_SENT),  # SNS
        (_client_error("LimitExceededException"), NOT_SENT),
        (_client_error("SendingPausedException"), NOT_SENT),
        (_client_error("AccessDeniedException", 403), NOT_SENT),
        (_client_error("InternalError", 500), NOT_SENT),  # SNS
        (_client_error("SomethingNew", 503), NOT_SENT),  # any 5xx
        (_client_error("SomethingNew", 429), NOT_SENT),
        (ReadTimeoutError(endpoint_url=URL), MAYBE_SENT),
        (ConnectionClosedError(endpoint_url=URL), MAYBE_SENT),
        (_client_error("MessageRejected"), REFUSED),
        (_client_error("AccountSuspendedException"), REFUSED),
        (_client_error("MailFromDomainNotVerifiedException"), REFUSED),
        (_client_error("BadRequestException"), REFUSED),
        (_client_error("InvalidParameter"), REFUSED),  # SNS: not a phone number
        (ParamValidationError(report="bad"), REFUSED),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_each_provider_error_is_classified(error: Exception, expected: str) -> None:
    # GIVEN an error a boto3 call raises WHEN classified THEN it is what the channels promise
    assert classify_error(error) == expected


# -- the channels themselves: SNS on moto, EventBridge's per-entry errors -------------------------


def _sms(phone: str = "+16505550123") -> Any:
    from touchpoints.ports import OutboundMessage

    return OutboundMessage(
        action_id="a-sms",
        order_id="A1",
        customer_id="C1",
        rule_id="r",
        channel="sms",
        to=phone,
        locale="en",
        body="hi",
    )


def _sms_count() -> int:
    from moto.backends import get_backend

    from touchpoints.local import ACCOUNT_ID, REGION

    return len(get_backend("sns")[ACCOUNT_ID][REGION].sms_messages)


def test_sns_throttling_is_tried_again_in_the_call_then_sent_once(clients: dict[str, Any]) -> None:
    from tests.support.faults import inject, throttled

    from touchpoints.adapters.channels import SnsSmsChannel

    # GIVEN SNS throttling the first two Publish calls
    channel = SnsSmsChannel(client=clients["sns"], retry_delays=(0.0, 0.0))
    before = _sms_count()

    def fault(operation: str, params: Any, call: int) -> Exception | None:
        return throttled(operation, "Throttled") if call <= 2 else None

    # WHEN a text is sent THEN the third attempt goes through, and one text is out
    with inject(clients, "sns", "Publish", fault) as seen:
        assert channel.send(_sms())
    assert (seen["calls"], seen["raised"]) == (3, 2)
    assert _sms_count() == before + 1


def test_sns_unreachable_through_every_attempt_is_not_sent_and_says_so(clients: dict[str, Any]) -> None:
    from tests.support.faults import inject, unreachable

    from touchpoints.adapters.channels import SnsSmsChannel
    from touchpoints.ports import ChannelUnavailableError

    # GIVEN SNS cannot be reached at all
    channel = SnsSmsChannel(client=clients["sns"], retry_delays=(0.0, 0.0))
    before = _sms_count()
    # WHEN a text is sent THEN it is "not sent" (retried by the stream), after three attempts
    with (
        inject(clients, "sns", "Publish", lambda o, p, c: unreachable("sns")) as seen,
        pytest.raises(ChannelUnavailableError, match="SNS did not take action a-sms"),
    ):
        channel.send(_sms())
    assert seen["calls"] == 3
    assert _sms_count() == before


def test_an_sns_refusal_quoting_the_phone_number_is_refused_with_the_number_masked(
    clients: dict[str, Any],
) -> None:
    from tests.support.faults import inject, refused

    from touchpoints.adapters.channels import SnsSmsChannel
    from touchpoints.ports import ChannelError, ChannelUnavailableError

    # GIVEN SNS refusing the number, naming it (as its InvalidParameter text does)
    channel = SnsSmsChannel(client=clients["sns"], retry_delays=(0.0, 0.0))
    text = "Invalid parameter: PhoneNumber Reason: +16505550123 is not valid to publish to"
    # WHEN sent THEN it is refused for good (one attempt), and the error shows only the masked number
    with (
        inject(clients, "sns", "Publish", lambda o, p, c: refused(o, "InvalidParameter", text)) as seen,
        pytest.raises(ChannelError) as caught,
    ):
        channel.send(_sms())
    assert seen["calls"] == 1
    assert not isinstance(caught.value, ChannelUnavailableError)
    assert "6505550123" not in str(caught.value)
    assert "+165*****123" in str(caught.value)


class _EntryFailures:
    """An EventBridge client whose PutEvents answers 200 with a failed entry (the per-entry errors)."""

    def __init__(self, *codes: str) -> None:
        self.codes = list(codes)
        self.calls = 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls += 1
        if self.codes:
            code = self.codes.pop(0)
            return {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": code, "ErrorMessage": "for x@example.com"}],
            }
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "ev-1"}]}


def _event_message() -> Any:
    from touchpoints.ports import OutboundMessage

    return OutboundMessage(
        action_id="a-ev",
        order_id="A1",
        customer_id="C1",
        rule_id="r",
        channel="event",
        to=None,
        locale="en",
        detail_type="SupportCaseRequested",
    )


def test_eventbridge_entry_throttling_is_tried_again_and_then_put() -> None:
    from touchpoints.adapters.channels import EventBridgeChannel

    # GIVEN PutEvents failing the entry with ThrottlingException, then InternalFailure, then taking it
    client = _EntryFailures("ThrottlingException", "InternalFailure")
    channel = EventBridgeChannel("bus", client=cast(Any, client), retry_delays=(0.0, 0.0))
    # WHEN the event is put THEN the third attempt succeeds
    assert channel.send(_event_message()) == "ev-1"
    assert client.calls == 3


def test_eventbridge_entry_errors_are_classified_and_masked() -> None:
    from touchpoints.adapters.channels import EventBridgeChannel
    from touchpoints.ports import ChannelError, ChannelUnavailableError

    # GIVEN an entry throttled on every attempt, and one refused for good
    throttled = EventBridgeChannel(
        "bus",
        client=cast(Any, _EntryFailures(*["ThrottlingException"] * 3)),
        retry_delays=(0.0, 0.0),
    )
    refused = EventBridgeChannel(
        "bus", client=cast(Any, _EntryFailures("InvalidArgument")), retry_delays=(0.0, 0.0)
    )
    # WHEN put THEN the first is not sent (the stream retries it), the second refused; no address shown
    with pytest.raises(ChannelUnavailableError) as not_sent:
        throttled.send(_event_message())
    with pytest.raises(ChannelError) as refusal:
        refused.send(_event_message())
    assert not isinstance(refusal.value, ChannelUnavailableError)
    for error in (not_sent.value, refusal.value):
        assert "x@example.com" not in str(error)
