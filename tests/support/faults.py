"""Fault injection for boto3 clients: botocore `before-parameter-build` hooks that raise for chosen calls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

__all__ = ["Fault", "conflict", "inject", "throttled", "timeout", "transaction_marker"]

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
