"""What a report is computed from: the final decision records, the journeys, and the store behind them.

Two sources give the same `ReportInput`: a simulation of event files (the production path on
in-memory adapters, with the dispatcher run as the table's stream would run it, so a record ends
`sent` as it does in production), and the production decision table (the by-rule index for the
records, the journey states of their orders and of their customers' other orders).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from touchpoints.outcomes import DEFAULT_WINDOW

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.journey import History, OrderJourney
    from touchpoints.simulator import Simulator

__all__ = ["ReportInput", "ReportStore", "from_simulation", "from_table", "simulate_with_dispatch"]


class ReportStore(Protocol):
    """What the report reads from a DecisionStore besides the records: the trigger event and history."""

    def load_event(self, order_id: str, event_id: str) -> Event | None: ...  # pragma: no cover

    def load(self, order_id: str, customer_id: str | None) -> Any: ...  # pragma: no cover


@dataclass
class ReportInput:
    """Everything the numbers and the page are computed from.

    `records` holds each action once, as it ended; `journeys` the orders in view and their
    customers' other orders (for repeat orders); `store` serves trigger events and histories for
    the per-order timelines (subjects are rendered from them, the way the dispatcher renders them).
    """

    catalog: Catalog
    records: list[DecisionRecord]
    journeys: dict[str, OrderJourney]
    store: ReportStore
    source: dict[str, Any]
    as_of: datetime
    window: timedelta = DEFAULT_WINDOW
    events: int | None = None
    diff: Any = None
    histories: dict[str, History] = field(default_factory=dict)


def simulate_with_dispatch(simulator: Simulator, events: Iterable[Event], until: datetime | None) -> None:
    """Replay through the simulator and dispatch each pending action as the stream would, at once.

    The dispatcher (`service.dispatch_action`) renders the template and sends through in-memory
    channels, then marks the record `sent`, so a simulated record ends as the same one in the
    production table does. It runs as each record is decided, on the state of that moment.
    """
    from touchpoints.adapters.memory import InMemoryChannel
    from touchpoints.service import dispatch_action

    channels = {
        "email": InMemoryChannel("email"),
        "sms": InMemoryChannel("sms"),
        "event": InMemoryChannel("event"),
    }
    for record in simulator.run(events, until):
        if record.status == "pending":
            dispatch_action(
                record,
                catalog=simulator.catalog,
                store=simulator.store,
                channels=channels,
                now=record.send_at,
            )


def from_simulation(
    catalog: Catalog,
    events: Sequence[Event],
    *,
    until: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    source: dict[str, Any] | None = None,
) -> ReportInput:
    """Simulate the events (with dispatch) and read the in-memory store as the table would be read."""
    from touchpoints.simulator import DEFAULT_HORIZON, Simulator

    simulator = Simulator(catalog)
    simulate_with_dispatch(simulator, events, until)
    store = simulator.store
    records = store.all_records()
    order_ids = {record.order_id for record in records} | {event.order_id for event in events}
    journeys: dict[str, OrderJourney] = {}
    for order_id in sorted(order_ids):
        state = store.load(order_id, None).state
        if state is not None:
            journeys[order_id] = state
    last = max((event.time for event in events), default=datetime.now(UTC))
    return ReportInput(
        catalog=catalog,
        records=records,
        journeys=journeys,
        store=store,
        source=source or {"kind": "simulation"},
        as_of=until or last + DEFAULT_HORIZON,
        window=window,
        events=len(events),
    )


def from_table(
    catalog: Catalog,
    store: Any,
    *,
    since: datetime | None,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    source: dict[str, Any] | None = None,
) -> ReportInput:
    """The catalog's rules' records decided since `since` (the by-rule index), and their journeys.

    Each order's state is one read; each customer's other orders come from the orders-by-customer
    index, so a repeat order is seen even when no rule acted on it.
    """
    records: dict[str, DecisionRecord] = {}
    for rule_id in sorted(catalog.rules):
        for record in store.records_for_rule(rule_id, since=since):
            records[record.action_id] = record
    journeys: dict[str, OrderJourney] = {}
    customers: set[str] = set()

    def load(order_id: str) -> None:
        if order_id in journeys:
            return
        state = store.load(order_id, None).state
        if state is not None:
            journeys[order_id] = state
            if state.customer is not None:
                customers.add(state.customer.id)

    for order_id in sorted({record.order_id for record in records.values()}):
        load(order_id)
    for customer_id in sorted(customers):
        for order_id in store.orders_for_customer(customer_id):
            load(order_id)
    ordered = sorted(records.values(), key=lambda r: (r.decided_at, r.order_id, r.action_id))
    return ReportInput(
        catalog=catalog,
        records=ordered,
        journeys=journeys,
        store=store,
        source=source or {"kind": "table"},
        as_of=now,
        window=window,
    )
