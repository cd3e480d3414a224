"""Fault injection for boto3 clients: botocore hooks that raise for chosen calls, before or after the call.

`inject` raises before the request is built (the provider never sees it: connection refused,
throttled); `inject_after` lets the provider take the request and raises when its answer comes
back (the client timed out although the provider did the work).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

__all__ = [
    "Fault",
    "conflict",
    "inject",
    "inject_after",
    "refused",
    "throttled",
    "timeout",
    "transaction_marker",
    "unreachable",
]

# (operation name, request params, how many times this operation was called so far, 1-based) -> raise?
Fault = Callable[[str, Mapping[str, Any], int], Exception | None]


def throttled(operation: str, code: str = "ProvisionedThroughputExceededException") -> ClientError:
    """The error AWS answers when the request rate is too high."""
    return ClientError(
        {"Error": {"Code": code, "Message": "Rate of requests exceeds the allowed throughput."}}, operation
    )


def conflict() -> ClientError:
    """TransactWriteItems cancelled because another transaction touched the same items."""
    response: dict[str, Any] = {
        "Error": {
            "Code": "TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons"
            " [TransactionConflict]",
        },
        "CancellationReasons": [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
        ],
    }
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


def refused(operation: str, code: str, message: str, status: int = 400) -> ClientError:
    """A permanent refusal, e.g. SES's `MessageRejected` quoting the recipient."""
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)  # type: ignore[arg-type]


def unreachable(service: str) -> EndpointConnectionError:
    """The connection could not be made: the request certainly never reached the provider."""
    return EndpointConnectionError(endpoint_url=f"https://{service}.us-east-1.amazonaws.com/")


def timeout(service: str) -> ReadTimeoutError:
    """The client gave up waiting for the answer (the request may or may not have been applied)."""
    return ReadTimeoutError(endpoint_url=f"https://{service}.us-east-1.amazonaws.com/")


def transaction_marker(params: Mapping[str, Any]) -> str | None:
    """The event id a TransactWriteItems commits (its `EVENT#<id>` marker), if any."""
    for item in params.get("TransactItems", []):
        put = item.get("Put")
        if put and str(put["Item"]["sk"]["S"]).startswith("EVENT#"):
            return str(put["Item"]["sk"]["S"]).removeprefix("EVENT#")
    return None


@contextmanager
def inject(clients: Mapping[str, Any], service: str, operation: str, fault: Fault) -> Iterator[Counter[str]]:
    """Run `fault` before every `operation` call of `clients[service]`; raise what it returns.

    Yields a Counter: "calls" (how many calls were made) and "raised" (how many were failed).
    """
    seen: Counter[str] = Counter()
    client = clients[service]
    event = f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    def hook(params: Mapping[str, Any], **_: Any) -> None:
        seen["calls"] += 1
        error = fault(operation, params, seen["calls"])
        if error is not None:
            seen["raised"] += 1
            raise error

    client.meta.events.register(event, hook, unique_id=f"fault-{id(seen)}")
    try:
        yield seen
    finally:
        client.meta.events.unregister(event, unique_id=f"fault-{id(seen)}")


@contextmanager
def inject_after(
    clients: Mapping[str, Any], service: str, operation: str, fault: Fault
) -> Iterator[Counter[str]]:
    """Run `fault` after every `operation` call of `clients[service]` came back; raise what it returns.

    The provider did the work (moto recorded the email) but the caller sees the error: a read
    timeout after the request was taken. Yields the same Counter as `inject`.
    """
    seen: Counter[str] = Counter()
    client = clients[service]
    event = f"after-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    def hook(**kwargs: Any) -> None:
        seen["calls"] += 1
        error = fault(operation, kwargs.get("params") or {}, seen["calls"])
        if error is not None:
            seen["raised"] += 1
            raise error

    client.meta.events.register(event, hook, unique_id=f"fault-after-{id(seen)}")
    try:
        yield seen
    finally:
        client.meta.events.unregister(event, unique_id=f"fault-after-{id(seen)}")
