"""The STATE item's size budget, measured through the real ProcessEvents handler on moto (issue 18).

One order receives 10,000 carrier updates over five parcels, each a new estimate past the promised
date (so the delay apology matches every one: sent once, then excluded by its group, a record
written per update). Every event goes through `process_events.handler` as its own SQS batch; a
meter on the handler's DynamoDB client prices each call with DynamoDB's documented rules
(tests/support/capacity.py) and records the STATE item each commit writes.

The promises (docs/ARCHITECTURE.md, "Bounded journey state"; figures in bench/RESULTS.md):
- the STATE item stays under `STATE_BUDGET` whatever the number of events;
- the 10,000th event costs exactly the read and transactional write units the 10th does.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.capacity import CapacityMeter, Cost, sqs_batch, tracking_order
from tests.support.pipeline import fast_moto_transactions

from touchpoints.adapters.dynamodb.rows import customer_pk, order_pk
from touchpoints.local import FakeLambdaContext

STATE_BUDGET = 32 * 1024
"""The documented bound of the STATE item of an order, whatever its number of events (bytes)."""

TRACKING_EVENTS = 10_000
_runs = itertools.count(1)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def costs(local: Any, clients: dict[str, Any], table_name: str) -> list[Cost]:
    """The cost of every event of the order, in the order they were processed (order placed first).

    The order's items (its 10,000 event and key markers) are deleted afterwards: the tier shares
    the table, and moto copies a whole table for every item of every later transaction on it.
    """
    from touchpoints.handlers import process_events

    run = next(_runs)
    envelopes = list(
        tracking_order(
            f"BUDGET-{run}",
            f"C-BUDGET-{run}",
            tracking_events=TRACKING_EVENTS,
            start=datetime(2026, 5, 4, 8, 0, tzinfo=UTC),
        )
    )
    clock = local.driver.now
    meter = CapacityMeter(clients["dynamodb"])
    measured: list[Cost] = []
    try:
        with fast_moto_transactions():
            for envelope in envelopes:
                local.driver.now = datetime.fromisoformat(envelope["time"].replace("Z", "+00:00"))
                meter.take()
                answer = process_events.handler(sqs_batch(envelope), FakeLambdaContext())
                assert answer == {"batchItemFailures": []}
                measured.append(meter.take())
    finally:
        meter.close()
        local.driver.now = clock
        _delete_partitions(
            clients["dynamodb"], table_name, [order_pk(f"BUDGET-{run}"), customer_pk(f"C-BUDGET-{run}")]
        )
    return measured


def _delete_partitions(dynamodb: Any, table: str, partitions: list[str]) -> None:
    """Delete every item of these partition keys (one Query per page, BatchWriteItem per 25)."""
    for pk in partitions:
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ProjectionExpression="pk, sk",
        )
        keys = [item for page in pages for item in page["Items"]]
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
            dynamodb.batch_write_item(RequestItems={table: requests})


def _tracking(costs: list[Cost], n: int) -> Cost:
    """The cost of the n-th carrier update (1-based), after the OrderPlaced and five dispatches."""
    return costs[5 + n]


def test_the_state_item_stays_under_its_budget_whatever_the_number_of_events(costs: list[Cost]) -> None:
    # GIVEN an order that received 10,000 carrier updates over five parcels
    sizes = [cost.state_size for cost in costs]
    assert len(sizes) == 1 + 5 + TRACKING_EVENTS
    # THEN every STATE item written stays under the budget (the meter saw every one of them) ...
    assert min(sizes) > 1000
    assert max(sizes) < STATE_BUDGET
    # ... and it stopped growing: the last thousand events wrote items no bigger than the 100th's
    # (plus the digits of the version counter)
    assert max(sizes[-1000:]) <= _tracking(costs, 100).state_size + 8


def test_the_ten_thousandth_event_costs_what_the_tenth_costs(costs: list[Cost]) -> None:
    # GIVEN the cost of each carrier update
    tenth, last = _tracking(costs, 10), _tracking(costs, TRACKING_EVENTS)
    # THEN the 10,000th costs exactly the read and transactional write units of the 10th
    assert last.units == tenth.units
    assert (last.calls, last.items_written) == (tenth.calls, tenth.items_written)
    # AND so does every update of the last thousand: nothing grows with the event count
    assert {_tracking(costs, n).units for n in range(TRACKING_EVENTS - 999, TRACKING_EVENTS + 1)} == {
        tenth.units
    }
    # AND each is one read (STATE and the event's KEY# marker: the ledger's copy rides in STATE)
    # and one transaction: four puts (EVENT#, KEY#, the suppressed record, STATE) and the
    # ledger's version check, 2 units per KB of each
    assert tenth.calls == ["BatchGetItem", "TransactWriteItems"]
    assert tenth.items_written == 4
    assert tenth.read_units == 1 + -(-tenth.state_size // 4096)
    assert tenth.write_units >= 2 * (tenth.items_written + 1) + 2 * (tenth.state_size // 1024)
