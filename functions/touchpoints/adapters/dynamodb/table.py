"""The table's client plumbing every part of the DynamoDB store shares: calls, errors, paging, conditions.

Each call is counted by operation (`calls`, which the tests and benchmarks read) and every
provider error becomes a StoreError naming the table, so no botocore exception leaves the adapter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from touchpoints.adapters.dynamodb.rows import order_pk
from touchpoints.ports import StoreError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from touchpoints.adapters.dynamodb.rows import _Row

__all__ = ["DynamoDBTable", "error_code", "error_text"]

_SNAKE = {
    "GetItem": "get_item",
    "PutItem": "put_item",
    "DeleteItem": "delete_item",
    "BatchGetItem": "batch_get_item",
    "Query": "query",
    "TransactWriteItems": "transact_write_items",
    "UpdateItem": "update_item",
}


class DynamoDBTable:
    """One table through one boto3 client (created on first use), with every call counted."""

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self.calls: dict[str, int] = {}

    @property
    def client(self) -> DynamoDBClient:
        """The boto3 client, created on first use (boto3 is imported only then)."""
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb", endpoint_url=self._endpoint_url, region_name=self._region)
        return self._client

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """Call DynamoDB, counting the call and turning provider errors into StoreError."""
        from botocore.exceptions import BotoCoreError, ClientError

        self.calls[operation] = self.calls.get(operation, 0) + 1
        method = getattr(self.client, _SNAKE[operation])
        try:
            return method(**kwargs)
        except ClientError as exc:
            if operation == "TransactWriteItems" and error_code(exc) == "TransactionCanceledException":
                raise
            raise StoreError(f"DynamoDB {operation} on {self.table_name} failed: {error_text(exc)}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB {operation} on {self.table_name} failed: {exc}") from exc

    def _get(self, pk: str, sk: str) -> Mapping[str, Any] | None:
        """One item by its key (a consistent read), or None."""
        key = {"pk": {"S": pk}, "sk": {"S": sk}}
        response = self._call("GetItem", TableName=self.table_name, Key=key, ConsistentRead=True)
        item: Mapping[str, Any] | None = response.get("Item")
        return item

    def _batch_get(self, keys: list[dict[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
        """The items of these keys (consistent reads) by (pk, sk), unprocessed keys retried."""
        found: dict[tuple[str, str], Mapping[str, Any]] = {}
        request: dict[str, Any] = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
        for _ in range(5):  # unprocessed keys come back under throttling: retry them, bounded
            response = self._call("BatchGetItem", RequestItems=request)
            for item in response.get("Responses", {}).get(self.table_name, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
        raise StoreError(f"DynamoDB BatchGetItem on {self.table_name}: keys stayed unprocessed (throttled)")

    def _query(self, **kwargs: Any) -> Iterator[Mapping[str, Any]]:
        """Every item a Query matches, page after page."""
        start: Mapping[str, Any] | None = None
        while True:
            extra = {"ExclusiveStartKey": start} if start else {}
            response = self._call("Query", TableName=self.table_name, **kwargs, **extra)
            yield from response.get("Items", [])
            start = response.get("LastEvaluatedKey")
            if not start:
                return

    def _update_if(
        self,
        order_id: str,
        sk: str,
        *,
        update: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        """A conditional UpdateItem of an order's row; False (nothing written) when the condition fails.

        `#status` and `#error` are always named; `names` adds others the expressions use.
        """
        from botocore.exceptions import ClientError

        try:
            self._call(
                "UpdateItem",
                TableName=self.table_name,
                Key={"pk": {"S": order_pk(order_id)}, "sk": {"S": sk}},
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(pk) AND {condition}",
                ExpressionAttributeNames={"#status": "status", "#error": "error", **(names or {})},
                ExpressionAttributeValues=values,
            )
        except StoreError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and error_code(cause) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _put(self, row: _Row, condition: str) -> dict[str, Any]:
        """A transaction's Put of a row under a condition."""
        return {
            "Put": {"TableName": self.table_name, "Item": row.to_item(), "ConditionExpression": condition}
        }

    def _versioned_put(self, row: _Row, expected: int) -> dict[str, Any]:
        """A Put that expects the stored version (0: the item must not exist yet)."""
        if expected == 0:
            return self._put(row, "attribute_not_exists(pk)")
        put = self._put(row, "#version = :expected")
        put["Put"]["ExpressionAttributeNames"] = {"#version": "version"}
        put["Put"]["ExpressionAttributeValues"] = {":expected": {"N": str(expected)}}
        return put

    def _version_check(self, pk: str, sk: str, expected: int) -> dict[str, Any]:
        """A transaction's ConditionCheck that an item is still at the version read."""
        check: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        if expected:
            check["ConditionExpression"] = "#version = :expected"
            check["ExpressionAttributeNames"] = {"#version": "version"}
            check["ExpressionAttributeValues"] = {":expected": {"N": str(expected)}}
        return {"ConditionCheck": check}


def error_code(exc: Any) -> str:
    """The provider's error code of a botocore ClientError ("" for anything else)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_text(exc: Any) -> str:
    """`Code: message` of a botocore ClientError, for a StoreError's text."""
    error = exc.response.get("Error", {})
    return f"{error.get('Code', 'Error')}: {error.get('Message', exc)}"
