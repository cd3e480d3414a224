"""In-process stand-ins for the AWS clients, so a cold start sample can handle a real first record.

The "init + first record" column of the cold start bench builds the runtime with these clients
(`build_runtime(clients=...)`) and hands the handler one realistic record, so that any work a change
moves from the import into the first invocation is still counted. They answer at once, import
nothing beyond the standard library (no boto3, no network), and keep just enough state for the
store's reads to find what its writes put there: a DynamoDB table as a dict of items by (pk, sk).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ORDER_PLACED = REPO / "events" / "happy-path" / "01-order-placed.json"


class FakeDynamoDB:
    """The DynamoDB calls the store makes, on a dict: Get/BatchGet/Query read, TransactWrite/Put write."""

    def __init__(self, items: list[dict[str, Any]] | None = None) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        for item in items or []:
            self._put(item)

    def _put(self, item: Mapping[str, Any]) -> None:
        self.items[(item["pk"]["S"], item["sk"]["S"])] = dict(item)

    def get_item(self, *, Key: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        item = self.items.get((Key["pk"]["S"], Key["sk"]["S"]))
        return {"Item": item} if item is not None else {}

    def batch_get_item(self, *, RequestItems: Mapping[str, Any]) -> dict[str, Any]:
        responses = {}
        for table, request in RequestItems.items():
            keys = [(key["pk"]["S"], key["sk"]["S"]) for key in request["Keys"]]
            responses[table] = [self.items[key] for key in keys if key in self.items]
        return {"Responses": responses, "UnprocessedKeys": {}}

    def query(self, *, ExpressionAttributeValues: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        pk = ExpressionAttributeValues[":pk"]["S"]
        prefix = ExpressionAttributeValues.get(":prefix", {"S": ""})["S"]
        found = [
            item for (ipk, sk), item in sorted(self.items.items()) if ipk == pk and sk.startswith(prefix)
        ]
        return {"Items": found}

    def transact_write_items(self, *, TransactItems: list[Mapping[str, Any]]) -> dict[str, Any]:
        for entry in TransactItems:
            if "Put" in entry:
                self._put(entry["Put"]["Item"])
        return {}

    def put_item(self, *, Item: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        self._put(Item)
        return {}

    def update_item(self, **_: Any) -> dict[str, Any]:
        return {}


class _Meta:
    region_name = "us-east-1"


class FakeClient:
    """Any other client (SES v2, SNS, EventBridge, Scheduler): every call succeeds with a message id."""

    meta = _Meta()

    def __getattr__(self, name: str) -> Any:
        def call(**_: Any) -> dict[str, Any]:
            return {"MessageId": "fake-message-id", "FailedEntryCount": 0, "Entries": [{"EventId": "fake"}]}

        return call


class FakeContext:
    """The Lambda context attributes Powertools' Logger reads."""

    function_name = "touchpoints-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:touchpoints-bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/touchpoints-bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def clients(items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The `clients` mapping for build_runtime: a DynamoDB table holding `items`, the rest succeed."""
    return {
        "dynamodb": FakeDynamoDB(items),
        "scheduler": FakeClient(),
        "sesv2": FakeClient(),
        "sns": FakeClient(),
        "events": FakeClient(),
    }


def sqs_event(path: Path = ORDER_PLACED) -> dict[str, Any]:
    """An SQS batch of one record whose body is a sample EventBridge event, as the queue delivers it."""
    return {
        "Records": [
            {
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
                "body": path.read_text(encoding="utf-8"),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1772478300000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1772478300001",
                },
                "messageAttributes": {},
                "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:touchpoints-events",
                "awsRegion": "us-east-1",
            }
        ]
    }


def stream_event(action_item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB stream batch of one INSERT of a pending action row, as Dispatch receives it."""
    return {
        "Records": [
            {
                "eventID": "c4ca4238a0b923820dcc509a6f75849b",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "Keys": {"pk": action_item["pk"], "sk": action_item["sk"]},
                    "NewImage": dict(action_item),
                    "SequenceNumber": "111",
                    "SizeBytes": 26,
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/touchpoints/stream/2026",
            }
        ]
    }


def prepare_dispatch(out: Path) -> None:
    """Process the sample OrderPlaced on a fake table; write its items and one pending action row.

    Run once per bench (in its own process, same environment as the samples), so that a Dispatch
    sample starts from the table ProcessEvents really leaves: the journey, the event marker and
    the action rows.
    """
    from touchpoints.handlers import process_events
    from touchpoints.handlers.runtime import build_runtime, set_runtime

    table = clients()
    set_runtime(build_runtime(clients=table))
    answer = process_events.handler(sqs_event(), FakeContext())
    if answer.get("batchItemFailures"):
        raise SystemExit(f"the sample event failed: {answer}")
    items = list(table["dynamodb"].items.values())
    pending = [i for i in items if i["sk"]["S"].startswith("ACTION#") and i["status"]["S"] == "pending"]
    if not pending:
        raise SystemExit("the sample event decided no pending action to dispatch")
    out.write_text(json.dumps({"items": items, "action": pending[0]}), encoding="utf-8")


if __name__ == "__main__":
    prepare_dispatch(Path(sys.argv[1]))
