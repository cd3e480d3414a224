"""Provider errors, classified by botocore's own exception classes and codes (adapters/channels.py)."""

from __future__ import annotations

from typing import Any

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
