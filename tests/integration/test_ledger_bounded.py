"""The contact ledger (the CUSTOMER item) stays bounded however many contacts a customer gets.

One customer places 2,000 orders over 200 days: every order is confirmed (transactional, never
capped), and a welcome rule limited to once per customer for a lifetime fires on the first.
Through `process_event` on both stores (in memory, and DynamoDB on moto): the ledger keeps the
contacts of the retention window (the catalog's longest cap, group, limit or history-facts window,
plus a day) and the lifetime-limited rule's one firing, so the CUSTOMER item stops growing after
the first window, and the lifetime limit still holds 200 days later.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.capacity import item_size
from tests.support.events import event, order_placed_detail
from tests.support.pipeline import fast_moto_transactions
from tests.support.tables import scratch_table

from touchpoints.adapters import InMemoryDecisionStore, InMemoryTimerService
from touchpoints.catalog import Catalog, load_catalog
from touchpoints.policy.retention import retention_for
from touchpoints.ports import DecisionStore
from touchpoints.service import process_event

ORDERS = 2_000
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

WELCOME = """\
id: welcome-once
description: Welcome a customer on their first order only (a lifetime limit per customer).
on: OrderPlaced
then:
  - {channel: email, template: note}
limit: {max: 1, scope: customer}
category: transactional
"""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Catalog:
    """The decide tests' small catalog plus a rule limited to once per customer, ever."""
    rules = tmp_path_factory.mktemp("ledger") / "rules"
    shutil.copytree(repo_root / "tests" / "fixtures" / "decide" / "rules", rules)
    (rules / "orders" / "welcome-once.yaml").write_text(WELCOME, encoding="utf-8")
    return load_catalog(rules)


def _orders(customer_id: str) -> Iterator[Any]:
    customer = {"id": customer_id, "email": "loyal@example.com", "timezone": "UTC"}
    for n in range(ORDERS):
        placed = T0 + timedelta(hours=2.4 * n)  # ten orders a day
        detail = order_placed_detail(customer)
        yield event(
            "OrderPlaced",
            placed,
            detail,
            order_id=f"{customer_id}-{n:05d}",
            event_id=f"{customer_id}-e{n:05d}",
        )


def _ledger_item_size(store: DecisionStore, customer_id: str) -> int:
    """The CUSTOMER item's size as DynamoDB counts it; in memory, its entries as the row would hold them."""
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore
    from touchpoints.adapters.dynamodb.rows import LEDGER_SK, LedgerRow, customer_pk, dump_entries

    if isinstance(store, DynamoDBDecisionStore):
        key = {"pk": {"S": customer_pk(customer_id)}, "sk": {"S": LEDGER_SK}}
        found = store.client.get_item(TableName=store.table_name, Key=key, ConsistentRead=True)["Item"]
        return item_size(found)
    entries = store.load("none", customer_id).history.customer
    row = LedgerRow(pk=customer_pk(customer_id), sk=LEDGER_SK, entries=dump_entries(entries), version=1)
    return item_size(row.to_item())


@pytest.fixture
def _scratch() -> Iterator[Callable[[Any, str], str]]:
    """Open a scratch table like the stack's for the test; every one opened is deleted after it."""
    with ExitStack() as stack:
        yield lambda dynamodb, like: stack.enter_context(scratch_table(dynamodb, like))


@pytest.mark.parametrize("kind", ["memory", "dynamodb"])
def test_thousands_of_contacts_leave_a_ledger_of_one_window(
    kind: str, catalog: Catalog, request: pytest.FixtureRequest
) -> None:
    # GIVEN a store of each kind and the catalog's retention
    store: DecisionStore
    if kind == "memory":
        store = InMemoryDecisionStore()
    else:
        from touchpoints.adapters.dynamodb import DynamoDBDecisionStore

        clients, table = request.getfixturevalue("clients"), request.getfixturevalue("table_name")
        # A table of its own: 2,000 orders' items left in the tier's shared table would slow every
        # later transaction of the worker (moto copies the whole table for each).
        own = request.getfixturevalue("_scratch")(clients["dynamodb"], table)
        store = DynamoDBDecisionStore(own, client=clients["dynamodb"])
    retention = retention_for(catalog)
    customer_id = f"LOYAL-{kind}"
    sizes: dict[int, int] = {}  # after the n-th order (every 25th): the CUSTOMER item's size
    counts: dict[int, int] = {}  # ... and its number of entries
    welcomes: list[str] = []
    # WHEN the customer's 2,000 orders are decided, one after the other
    with fast_moto_transactions():
        for n, placed in enumerate(_orders(customer_id), start=1):
            result = process_event(
                placed,
                catalog=catalog,
                store=store,
                timers=InMemoryTimerService(),
                now=placed.time,
                retention=retention,
            )
            welcomes += [r.status for r in result.records if r.rule_id == "welcome-once"]
            if n % 25 == 0:
                sizes[n] = _ledger_item_size(store, customer_id)
                counts[n] = len(store.load("none", customer_id).history.customer)
    # THEN the lifetime limit held: one welcome, on the first order, 200 days ago, and no other
    assert welcomes[0] == "pending"
    assert set(welcomes[1:]) == {"suppressed"}
    ledger = store.load("none", customer_id).history.customer
    assert [e.rule_id for e in ledger].count("welcome-once") == 1
    # AND the ledger holds one window of contacts (ten confirmations a day) and that one welcome
    window_days = retention.window / timedelta(days=1)
    assert window_days == 8  # the policy's longest window (a 7-day cap), plus a day
    assert max(counts.values()) <= 10 * window_days + 2
    assert counts[ORDERS] >= 10 * (window_days - 1)
    # AND the CUSTOMER item stopped growing once the first window was full
    full = sizes[100 + int(10 * window_days) // 25 * 25]
    assert max(sizes.values()) <= full + 64
    assert max(sizes.values()) < 64 * 1024
