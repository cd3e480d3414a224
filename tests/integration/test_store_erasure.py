"""Erasure and the orders-by-customer index: the same port contract in memory and on moto's DynamoDB.

`touchpoints forget` must find every order whose journey named the customer, including an order
on which no rule ever decided anything (no decision record, no ledger entry points to it), and
an order whose customer id changed later on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from touchpoints.catalog import Catalog, load_catalog
from touchpoints.contract import parse_event
from touchpoints.ports import DecisionStore
from touchpoints.service import process_event

_runs = itertools.count(1)
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class _NoTimers:
    def schedule(self, timer: Any) -> None:
        raise AssertionError(f"these events set no timer, got {timer}")


@pytest.fixture(scope="module")
def catalog(repo_root: Path) -> Catalog:
    return load_catalog(repo_root / "rules")


@pytest.fixture(params=["memory", "dynamodb"])
def make_store(request: pytest.FixtureRequest) -> Callable[[], DecisionStore]:
    """A fresh store of either kind (the DynamoDB one on the session's moto table)."""
    if request.param == "memory":
        from touchpoints.adapters import InMemoryDecisionStore

        return InMemoryDecisionStore
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore

    clients, table = request.getfixturevalue("clients"), request.getfixturevalue("table_name")
    return lambda: DynamoDBDecisionStore(table, client=clients["dynamodb"])


def _customer(customer_id: str, who: str) -> dict[str, Any]:
    return {"id": customer_id, "email": f"{who}@example.com", "phone": "+15550100", "name": who.title()}


def _paid(order_id: str, customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"paid-{order_id}",
        "detail-type": "PaymentSucceeded",
        "source": "shop.payments",
        "time": "2026-03-02T10:00:00Z",
        "detail": {
            "order_id": order_id,
            "payment_id": f"P-{order_id}",
            "amount": {"amount": "10.00", "currency": "USD"},
            "customer": customer,
        },
    }


def _cancelled(order_id: str, customer: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"cancelled-{order_id}",
        "detail-type": "OrderCancelled",
        "source": "shop.orders",
        "time": "2026-03-02T11:00:00Z",
        "detail": {"order_id": order_id, "reason": "customer_request", "customer": customer},
    }


def _play(store: DecisionStore, catalog: Catalog, *raw: dict[str, Any]) -> None:
    for event in raw:
        result = process_event(parse_event(event), catalog=catalog, store=store, timers=_NoTimers(), now=NOW)
        assert not result.is_duplicate


def _ids(run: int) -> tuple[str, str, str]:
    return f"Q{run}", f"CQ{run}", f"CQ{run}-new"


def test_an_order_nothing_was_decided_on_is_found_and_erased(
    make_store: Callable[[], DecisionStore], catalog: Catalog
) -> None:
    # GIVEN an order whose events carry the customer but on which no rule decides anything
    order_id, customer_id, _ = _ids(next(_runs))
    store = make_store()
    quiet = _customer(customer_id, "quinn.quiet")
    _play(store, catalog, _paid(order_id, quiet), _cancelled(order_id, quiet))
    assert store.records_for_order(order_id) == []
    assert store.records_for_customer(customer_id) == []
    # WHEN the customer's orders are listed, and the customer is forgotten
    listed = store.orders_for_customer(customer_id)
    report = store.forget_customer(customer_id)
    # THEN the order is found, its journey state and both stored events are erased
    assert listed == [order_id]
    assert report.orders == [order_id]
    assert (report.states, report.events, report.actions, report.ledger_deleted) == (1, 2, 0, False)
    state = store.load(order_id, None).state
    assert state is not None
    assert state.customer is not None
    assert (state.customer.id, state.customer.email, state.customer.phone, state.customer.name) == (
        customer_id,
        None,
        None,
        None,
    )
    for event_id in (f"paid-{order_id}", f"cancelled-{order_id}"):
        event = store.load_event(order_id, event_id)
        assert event is not None
        assert event.customer is not None
        assert (event.customer.email, event.customer.phone, event.customer.name) == (None, None, None)
    # AND a second run finds the order again and has nothing left to erase
    again = store.forget_customer(customer_id)
    assert again.orders == [order_id]
    assert (again.states, again.events, again.actions, again.ledger_deleted) == (0, 0, 0, False)


def test_an_order_whose_customer_id_changed_is_found_from_both_ids(
    make_store: Callable[[], DecisionStore], catalog: Catalog
) -> None:
    # GIVEN an order first committed naming one customer id, then another (a merged account)
    order_id, old_id, new_id = _ids(next(_runs))
    store = make_store()
    _play(store, catalog, _paid(order_id, _customer(old_id, "olive.old")))
    _play(store, catalog, _cancelled(order_id, _customer(new_id, "nina.new")))
    # WHEN either id is looked up THEN the order is listed under both
    assert store.orders_for_customer(old_id) == [order_id]
    assert store.orders_for_customer(new_id) == [order_id]
    # WHEN the old id is forgotten THEN its event is erased, the journey (the new customer's) is not
    old = store.forget_customer(old_id)
    assert old.orders == [order_id]
    assert (old.states, old.events) == (0, 1)
    paid = store.load_event(order_id, f"paid-{order_id}")
    assert paid is not None
    assert paid.customer is not None
    assert paid.customer.email is None
    state = store.load(order_id, None).state
    assert state is not None
    assert state.customer is not None
    assert state.customer.email == "nina.new@example.com"
    # WHEN the new id is forgotten THEN the journey and its event are erased too
    new = store.forget_customer(new_id)
    assert (new.orders, new.states, new.events) == ([order_id], 1, 1)
    state = store.load(order_id, None).state
    assert state is not None
    assert state.customer is not None
    assert state.customer.email is None
    # AND the order keeps working: a later event commits on the erased journey (versions moved on)
    _play(store, catalog, {**_paid(order_id, _customer(new_id, "nina.new")), "id": f"paid-again-{order_id}"})


def test_a_customer_with_no_orders_is_forgotten_without_error(
    make_store: Callable[[], DecisionStore],
) -> None:
    # GIVEN a customer the store never saw WHEN forgotten THEN nothing is found and nothing fails
    report = make_store().forget_customer(f"nobody-{next(_runs)}")
    assert (report.orders, report.states, report.events, report.actions, report.ledger_deleted) == (
        [],
        0,
        0,
        0,
        False,
    )
