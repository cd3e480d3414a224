"""A generated stream of delayed orders whose true holdout effect is known, and an independent count.

Every order is delayed past its promise, so the delay apology (with a holdout experiment, see
tests/support/experiments.py) decides on each one at the delay. Orders in the holdout arm (by the
same pure assignment production uses) cancel with probability `holdout_cancel` (12%), treated ones
with `treated_cancel` (8%); returns, reviews, survey answers and repeat orders follow at random,
some of them after the 30-day window. `expected_outcomes` counts the outcomes from the raw events
alone, without the journey, the decisions or touchpoints.outcomes, for the report to be checked
against.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.events import envelope

from touchpoints.catalog import Experiment
from touchpoints.experiments import HOLDOUT, arm_for
from touchpoints.timestamps import format_timestamp

__all__ = ["DELAY", "StreamTruth", "expected_outcomes", "generate_stream"]

START = datetime(2026, 3, 1, tzinfo=UTC)
DELAY = timedelta(days=2)
"""When the delay (and so the apology's decision) comes after the order is placed."""


@dataclass
class StreamTruth:
    """The generated envelopes and, per order, its customer and arm."""

    events: list[dict[str, Any]]
    customers: dict[str, str]
    arms: dict[str, str]


def _money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def generate_stream(
    orders: int,
    experiment: Experiment,
    *,
    seed: int = 15,
    holdout_cancel: float = 0.12,
    treated_cancel: float = 0.08,
    prefix: str = "G",
) -> StreamTruth:
    """`orders` delayed orders over 60 days, for about `orders / 2` customers (so some order again)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    customers: dict[str, str] = {}
    arms: dict[str, str] = {}
    pool = max(orders // 2, 1)
    for n in range(orders):
        order_id = f"{prefix}{n:06d}"
        number = rng.randrange(pool)
        customer = {
            "id": f"{prefix}C{number:06d}",
            "email": f"shopper{number}@example.com",
            "locale": ("en", "zh-Hans", "zh-Hant")[number % 3],
            "timezone": "UTC",
            "consent": {"marketing": number % 2 == 0, "sms": False},
        }
        customers[order_id] = customer["id"]
        arm = arm_for(experiment, order_id, customer["id"])
        arms[order_id] = arm
        placed = START + timedelta(minutes=rng.randrange(60 * 24 * 60))
        seq = iter(range(1, 100))

        def add(
            detail_type: str,
            at: datetime,
            detail: dict[str, Any],
            order_id: str = order_id,
            seq: Any = seq,
        ) -> None:
            events.append(
                envelope(detail_type, at, detail, event_id=f"{order_id}-{next(seq)}", order_id=order_id)
            )

        add(
            "OrderPlaced",
            placed,
            {
                "customer": customer,
                "total": _money("20.00"),
                "items": [{"sku": "MUG-1", "name": "Mug", "quantity": 1, "unit_price": _money("20.00")}],
                "promised_delivery_by": format_timestamp(placed + timedelta(days=4)),
            },
        )
        add(
            "PaymentSucceeded",
            placed + timedelta(minutes=1),
            {"payment_id": f"P{n}", "amount": _money("20.00")},
        )
        add(
            "ShipmentDispatched",
            placed + timedelta(days=1),
            {"shipment_id": "S1", "carrier": "UPS", "tracking_number": f"1Z{n}"},
        )
        delayed = placed + DELAY
        add(
            "ShipmentDelayed",
            delayed,
            {"shipment_id": "S1", "new_estimate": format_timestamp(placed + timedelta(days=8))},
        )
        if rng.random() < (holdout_cancel if arm == HOLDOUT else treated_cancel):
            add(
                "OrderCancelled",
                delayed + timedelta(hours=rng.randrange(1, 240)),
                {"reason": "customer_request"},
            )
            continue
        delivered = placed + timedelta(days=8)
        add("ShipmentDelivered", delivered, {"shipment_id": "S1"})
        if rng.random() < 0.10:
            add("ReturnRequested", delivered + timedelta(days=2), {"return_id": f"R{n}", "reason": "late"})
        if rng.random() < 0.30:
            later = rng.choice((1, 1, 1, 40))  # one in four after the window
            add(
                "ReviewSubmitted",
                delivered + timedelta(days=later),
                {"review_id": f"V{n}", "rating": rng.randint(1, 5)},
            )
        if rng.random() < 0.20:
            add(
                "SurveyAnswered",
                delivered + timedelta(days=4),
                {"scale": "nps", "score": rng.randint(0, 10), "channel": "web"},
            )
    return StreamTruth(events=events, customers=customers, arms=arms)


def _time(raw: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(raw["time"]).replace("Z", "+00:00"))


def expected_outcomes(
    truth: StreamTruth, window: timedelta = timedelta(days=30)
) -> dict[str, dict[str, int]]:
    """arm -> outcome -> count, straight from the envelopes (the decision is at the delay event)."""
    by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    placed_by_customer: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for raw in truth.events:
        by_order[raw["detail"]["order_id"]].append(raw)
        if raw["detail-type"] == "OrderPlaced":
            placed_by_customer[raw["detail"]["customer"]["id"]].append(
                (_time(raw), raw["detail"]["order_id"])
            )
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, raws in by_order.items():
        arm = truth.arms[order_id]
        start = next(_time(r) for r in raws if r["detail-type"] == "ShipmentDelayed")
        end = start + window
        inside = [r for r in raws if start < _time(r) <= end]
        kinds = {r["detail-type"] for r in inside}
        ratings = [r["detail"]["rating"] for r in inside if r["detail-type"] == "ReviewSubmitted"]
        scores = [r["detail"]["score"] for r in inside if r["detail-type"] == "SurveyAnswered"]
        counts[arm]["units"] += 1
        counts[arm]["cancelled"] += "OrderCancelled" in kinds
        counts[arm]["return_requested"] += "ReturnRequested" in kinds
        counts[arm]["review_low"] += any(rating <= 2 for rating in ratings)
        counts[arm]["review_high"] += any(rating >= 4 for rating in ratings)
        counts[arm]["survey_answered"] += bool(scores)
        # support cases: the playbook raises one for a late-goods return, a review of 1-2 stars and an
        # NPS 0-6 answer (return-care, negative-review-apology, survey-detractor-apology)
        counts[arm]["support_case"] += (
            "ReturnRequested" in kinds
            or any(rating <= 2 for rating in ratings)
            or any(s <= 6 for s in scores)
        )
        counts[arm]["repeat_order"] += any(
            other != order_id and start < at <= end
            for at, other in placed_by_customer[truth.customers[order_id]]
        )
    return {arm: dict(values) for arm, values in counts.items()}
