"""A table of its own, shaped like the stack's decision table, for a test that writes thousands of items.

The integration tier shares one stack per worker process, and moto copies a whole table for
every item of every TransactWriteItems on it (its rollback backup): a test that leaves thousands
of items in the shared table makes every later transaction of the worker slower and heavier.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["scratch_table"]

_names = itertools.count(1)


@contextmanager
def scratch_table(dynamodb: Any, like: str) -> Iterator[str]:
    """A new table with `like`'s keys, indexes and stream, deleted when the block ends."""
    shape = dynamodb.describe_table(TableName=like)["Table"]
    name = f"{like}-scratch-{next(_names)}"
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": shape["KeySchema"],
        "AttributeDefinitions": shape["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = [
        {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
        for index in shape.get("GlobalSecondaryIndexes", [])
    ]
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    dynamodb.create_table(**request)
    try:
        yield name
    finally:
        dynamodb.delete_table(TableName=name)
