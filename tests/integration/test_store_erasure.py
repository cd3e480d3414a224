"""`forget_customer` on both stores: the customer's values are scrubbed from every text, alike.

The same events through `process_event` on the in-memory store and on DynamoDB (moto); after the
erasure both hold the same journey, the same stored events and the same records, and none of the
customer's values is left in any of them (a note, a review title, a payment link, an error).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import envelope, money, order_placed_detail

from touchpoints.catalog import Catalog, load_catalog
from touchpoints.contract import ERASED, parse_event
from touchpoints.ports import DecisionStore
from touchpoints.service import process_event

_runs = itertools.count(1)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog(repo_root: Path) -> Catalog:
    return load_catalog(repo_root / "rules", check_templates=False)


@pytest.fixture(params=["memory", "dynamodb"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], DecisionStore]:
    if request.param == "memory":
        from touchpoints.adapters import InMemoryDecisionStore

        return InMemoryDecisionStore
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore

    clients, table = request.getfixturevalue("clients"), request.getfixturevalue("table_name")
    return lambda: DynamoDBDecisionStore(table, client=clients["dynamodb"])


def _play(store: DecisionStore, catalog: Catalog, events: list[dict[str, Any]]) -> None:
    for raw in events:
        process_event(parse_event(raw), catalog=catalog, store=store, timers=_NoTimers(), now=NOW)


class _NoTimers:
    def schedule(self, timer: Any) -> None:
        return None


def _events(order_id: str, customer_id: str, email: str) -> list[dict[str, Any]]:
    customer = {"id": customer_id, "email": email, "phone": "+16505550177", "name": "Ada Quill"}
    return [
        envelope("OrderPlaced", "2026-03-01T10:00:00Z", order_placed_detail(customer), order_id=order_id),
        envelope(
            "PaymentFailed",
            "2026-03-01T10:05:00Z",
            {
                "payment_id": "P1",
                "amount": money("10.00"),
                "reason_code": "card_declined",
                "attempt": 1,
                "retry_url": f"https://pay.example/?u={email}",
            },
            order_id=order_id,
        ),
        envelope(
            "ShipmentException",
            "2026-03-02T10:00:00Z",
            {"shipment_id": "S1", "kind": "failed_attempt", "note": "Ada was not home; ring +16505550177"},
            order_id=order_id,
        ),
        envelope(
            "ReviewSubmitted",
            "2026-03-03T10:00:00Z",
            {"review_id": "R1", "rating": 1, "title": "Ada Quill says no"},
            order_id=order_id,
        ),
    ]


def test_forget_scrubs_the_customers_values_from_every_text_in_both_stores(
    make_store: Callable[[], DecisionStore], catalog: Catalog
) -> None:
    # GIVEN a customer whose email, phone and name were copied into a link, a note and a title
    run = next(_runs)
    order_id, customer_id, email = (
        f"ER-{run}-{id(make_store)}",
        f"CE-{run}-{id(make_store)}",
        f"ada{run}@example.com",
    )
    store = make_store()
    _play(store, catalog, _events(order_id, customer_id, email))
    # WHEN the customer is forgotten
    report = store.forget_customer(customer_id)
    # THEN the journey, the stored events and the records hold none of the values
    state = store.load(order_id, None).state
    assert state is not None
    events = [store.load_event(order_id, raw["id"]) for raw in _events(order_id, customer_id, email)]
    texts = [state.model_dump_json()] + [e.model_dump_json() for e in events if e is not None]
    texts += [r.model_dump_json() for r in store.records_for_order(order_id)]
    for value in (email, "Ada Quill", "Ada ", "6505550177"):
        assert not [t for t in texts if value in t], value
    # AND the texts say where something was erased, and everything still parses
    assert state.retry_url is not None
    assert ERASED in state.retry_url
    assert report.states == 1
    assert report.events >= 3
