"""Two Lambda containers deciding for the same customer at the same moment cannot overrun the contact caps."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.events import envelope, order_placed_detail
from tests.support.pipeline import Pipeline

AT = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
CUSTOMER = {
    "id": "C-RACE",
    "email": "race@example.com",
    "locale": "en",
    "timezone": "UTC",
    "consent": {"marketing": True, "sms": False},
}


def _event(detail_type: str, order_id: str, time: str, **detail: Any) -> dict[str, Any]:
    """The shared envelope, with an event id fixed by the detail-type and the order."""
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"race/{detail_type}/{order_id}"))
    return envelope(detail_type, time, detail, event_id=event_id, order_id=order_id)


def _placed(order_id: str) -> dict[str, Any]:
    return _event(
        "OrderPlaced", order_id, "2026-03-02T09:00:00Z", **order_placed_detail(CUSTOMER, amount="20.00")
    )


def _delayed(order_id: str) -> dict[str, Any]:
    return _event(
        "ShipmentDelayed",
        order_id,
        "2026-03-03T11:55:00Z",
        shipment_id=f"S-{order_id}",
        previous_estimate="2026-03-04T18:00:00Z",
        new_estimate="2026-03-07T18:00:00Z",
    )


def _review(order_id: str) -> dict[str, Any]:
    return _event("ReviewSubmitted", order_id, "2026-03-03T11:55:00Z", review_id=f"R-{order_id}", rating=5)


# (scenario, events per container, the rule it fires, the category's cap in rules/policy.yaml,
# and what its `on_cap` makes of a message over it: the service cap defers, the marketing one drops)
SCENARIOS = [
    ("service cap: 3 per 24h", 3, _delayed, "delivery-delay-apology", 3, "scheduled"),
    ("marketing cap: 1 per 7 days", 2, _review, "review-thanks", 1, "suppressed"),
]


@pytest.mark.parametrize(
    ("name", "per_container", "make_event", "rule", "cap", "over"), SCENARIOS, ids=[s[0] for s in SCENARIOS]
)
def test_two_concurrent_batches_for_one_customer_never_exceed_the_cap(
    make_pipeline: Callable[..., Pipeline],
    name: str,
    per_container: int,
    make_event: Callable[[str], dict[str, Any]],
    rule: str,
    cap: int,
    over: str,
) -> None:
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore
    from touchpoints.contract import parse_event
    from touchpoints.handlers.runtime import get_runtime
    from touchpoints.service import ProcessResult, process_event

    # GIVEN one customer with 2 x N orders, all placed (transactional confirmations are never capped)
    pipeline = make_pipeline()
    prefix = rule.split("-")[0].upper()
    orders = [f"RACE-{prefix}-{n}" for n in range(2 * per_container)]
    pipeline.now = AT
    assert all(not r.failed for r in pipeline.deliver([_placed(o) for o in orders]))
    runtime = get_runtime()

    # AND two containers, each with its own store, whose first commit of every event waits for the
    # other container to have loaded too (so both decide on the same ledger: a real race)
    barrier = threading.Barrier(2, timeout=30)

    class RacingStore(DynamoDBDecisionStore):
        def __init__(self) -> None:
            super().__init__(pipeline.table_name, client=pipeline.clients["dynamodb"])
            self.first_attempt: set[str] = set()

        def commit(self, plan: Any) -> None:
            if plan.event.id not in self.first_attempt:
                self.first_attempt.add(plan.event.id)
                barrier.wait()
            super().commit(plan)

    results: list[ProcessResult] = []
    errors: list[BaseException] = []

    def container(batch: list[str]) -> None:
        store = RacingStore()
        try:
            for order_id in batch:
                event = parse_event(make_event(order_id))
                results.append(
                    process_event(
                        event,
                        catalog=runtime.catalog,
                        store=store,
                        timers=runtime.timers,
                        now=AT,
                        retention=runtime.retention,
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    # WHEN both batches are processed at the same time
    threads = [
        threading.Thread(target=container, args=(orders[:per_container],)),
        threading.Thread(target=container, args=(orders[per_container:],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # THEN both finished, at least one commit lost the race and was decided again
    assert errors == []
    assert len(results) == 2 * per_container
    assert max(r.attempts for r in results) > 1
    # AND exactly `cap` actions of the rule went ahead; every other one was held by the cap:
    # dropped (marketing) or waiting until the window has room (service, on_cap: defer)
    actions = [a for a in pipeline.actions() if a["rule_id"] == rule]
    assert len(actions) == 2 * per_container
    outcome = Counter((a["status"], a["reason"]) for a in actions)
    assert outcome == {("pending", None): cap, (over, "rate_limit"): 2 * per_container - cap}
    if over == "scheduled":  # none of the waiting ones is due before the first sent leaves the window
        assert {a["send_at"] for a in actions if a["status"] == "scheduled"} == {"2026-03-04T12:00:00Z"}
