"""A deterministic, realistic stream of order journeys (every detail-type, every playbook path) for tests."""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.events import envelope

from touchpoints.contract import ORDER_EVENT_TYPES

__all__ = [
    "DETAIL_TYPES",
    "SCENARIOS",
    "START",
    "GeneratedStream",
    "deliver_twice",
    "event_time",
    "generate_stream",
    "reliability_orders",
    "shuffle_within_orders",
]

START = datetime(2026, 3, 2, tzinfo=UTC)
DETAIL_TYPES = ORDER_EVENT_TYPES  # every platform detail-type of the contract
_SOURCES = {
    "Order": "shop.orders",
    "Payme": "shop.payments",
    "Shipm": "shop.logistics",
    "Retur": "shop.returns",
    "Revie": "shop.reviews",
    "Surve": "shop.surveys",
}
_NAMESPACE = uuid.UUID("5f0c6c1e-7d1b-4c1e-9a57-0b6c2f1d6a11")
_PRODUCTS = (
    ("MUG-CER-12", "Ceramic mug, 12 oz", "19.90"),
    ("TEA-OOL-100", "Oolong tea, 100 g", "12.50"),
    ("LAMP-DSK-1", "Desk lamp", "49.00"),
    ("COAT-WL-M", "Wool coat", "320.00"),
    ("BOOK-PY-3", "Python cookbook", "42.00"),
    ("SCARF-SLK", "Silk scarf", "80.00"),
    ("CHAIR-OAK", "Oak chair", "500.00"),
    ("CANDLE-3", "Candles, set of 3", "10.00"),
)
_TIMEZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Taipei",
    "Asia/Shanghai",
    "UTC",
)


@dataclass(frozen=True)
class GeneratedStream:
    """The events, time-ordered, plus what the generator meant (scenario per order) for assertions."""

    events: list[dict[str, Any]]
    scenario_of: dict[str, str]
    customer_of: dict[str, str]
    orders_by_customer: dict[str, list[str]] = field(default_factory=dict)

    def detail_types(self) -> set[str]:
        """Every detail-type that occurs in the stream."""
        return {event["detail-type"] for event in self.events}


def reliability_orders() -> int:
    """Orders in the reliability streams: 1,000 by default, `TOUCHPOINTS_RELIABILITY_ORDERS` to change it."""
    return int(os.environ.get("TOUCHPOINTS_RELIABILITY_ORDERS", "1000"))


def event_time(event: Mapping[str, Any]) -> datetime:
    """The envelope's `time` as an aware UTC datetime."""
    return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00")).astimezone(UTC)


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Order:
    """Builds one order's events; offsets are hours after the order was placed."""

    def __init__(
        self, rng: random.Random, seed: int, order_id: str, customer: dict[str, Any], placed: datetime
    ):
        self.rng = rng
        self.seed = seed
        self.order_id = order_id
        self.customer = customer
        self.placed = placed
        self.events: list[dict[str, Any]] = []
        count = rng.randint(1, 3)
        lines = [rng.choice(_PRODUCTS) for _ in range(count)]
        self.items: list[dict[str, Any]] = [
            {
                "sku": sku,
                "name": name,
                "quantity": rng.randint(1, 2),
                "unit_price": {"amount": price, "currency": "USD"},
            }
            for sku, name, price in lines
        ]
        cents = sum(
            int(item["unit_price"]["amount"].replace(".", "")) * item["quantity"] for item in self.items
        )
        self.total = {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": "USD"}
        self.shipment_id = f"S-{order_id}"

    def at(self, hours: float) -> datetime:
        # Minutes of jitter keep events of different orders from sharing one instant.
        return self.placed + timedelta(hours=hours, minutes=self.rng.randint(0, 9))

    def add(self, detail_type: str, hours: float, **detail: Any) -> datetime:
        moment = self.at(hours)
        number = len(self.events)
        self.events.append(
            envelope(
                detail_type,
                _ts(moment),
                detail,
                event_id=str(uuid.uuid5(_NAMESPACE, f"{self.seed}/{self.order_id}/{number}")),
                order_id=self.order_id,
                source=_SOURCES[detail_type[:5]],
            )
        )
        return moment

    def placed_event(
        self, *, ship_by: float | None = 40, deliver_by: float | None = 120, always: bool = False
    ) -> None:
        detail: dict[str, Any] = {"customer": self.customer, "total": self.total, "items": self.items}
        if not always and self.rng.random() < 0.6:
            # Most platforms promise nothing on most orders; promises (and their timers) on the rest.
            ship_by = deliver_by = None
        if ship_by is not None:
            detail["promised_ship_by"] = _ts(self.placed + timedelta(hours=ship_by))
        if deliver_by is not None:
            detail["promised_delivery_by"] = _ts(self.placed + timedelta(hours=deliver_by))
        detail["sales_channel"] = self.rng.choice(("web", "app", "marketplace"))
        self.add("OrderPlaced", 0, **detail)

    def paid(self, hours: float = 0.1) -> None:
        self.add("PaymentSucceeded", hours, payment_id=f"P-{self.order_id}", amount=self.total, method="card")

    def payment_failed(self, hours: float, attempt: int) -> None:
        self.add(
            "PaymentFailed",
            hours,
            payment_id=f"PF-{self.order_id}-{attempt}",
            amount=self.total,
            reason_code=self.rng.choice(
                ("card_declined", "insufficient_funds", "bank_timeout", "expired_card")
            ),
            attempt=attempt,
            retry_url=f"https://shop.example.com/pay/{self.order_id}",
        )

    def dispatched(self, hours: float = 20, estimate: float | None = None) -> None:
        detail: dict[str, Any] = {
            "shipment_id": self.shipment_id,
            "carrier": self.rng.choice(("UPS", "FedEx", "DHL", "SF Express")),
            "tracking_number": f"TRK{self.rng.randrange(10**10):010d}",
            "tracking_url": f"https://track.example.com/{self.order_id}",
        }
        if estimate is not None:
            detail["estimated_delivery"] = _ts(self.placed + timedelta(hours=estimate))
        self.add("ShipmentDispatched", hours, **detail)

    def delivered(self, hours: float = 70) -> None:
        self.add("ShipmentDelivered", hours, shipment_id=self.shipment_id, signed_by="front desk")

    def exception(self, hours: float, kind: str) -> None:
        self.add(
            "ShipmentException",
            hours,
            shipment_id=self.shipment_id,
            kind=kind,
            note=f"carrier reports {kind}",
        )

    def delayed(self, hours: float, new_estimate: float, previous: float | None = None) -> None:
        detail: dict[str, Any] = {
            "shipment_id": self.shipment_id,
            "new_estimate": _ts(self.placed + timedelta(hours=new_estimate)),
            "reason": self.rng.choice(("weather", "carrier_capacity", "address_issue", "customs", "other")),
        }
        if previous is not None:
            detail["previous_estimate"] = _ts(self.placed + timedelta(hours=previous))
        self.add("ShipmentDelayed", hours, **detail)

    def returned(self, hours: float, reason: str) -> None:
        self.add(
            "ReturnRequested",
            hours,
            return_id=f"R-{self.order_id}",
            reason=reason,
            skus=[self.items[0]["sku"]],
        )

    def review(self, hours: float, rating: int) -> None:
        self.add(
            "ReviewSubmitted",
            hours,
            review_id=f"RV-{self.order_id}",
            rating=rating,
            title="Late and broken" if rating <= 2 else "Lovely",
            body="Not what I hoped for." if rating <= 2 else "Arrived as described, thank you.",
            sku=self.items[0]["sku"],
        )

    def survey(self, hours: float, scale: str, score: int) -> None:
        self.add(
            "SurveyAnswered",
            hours,
            scale=scale,
            score=score,
            channel=self.rng.choice(("email", "web", "app")),
            comment="The lid leaks." if score <= 2 else None,
        )

    def cancelled(self, hours: float, reason: str) -> None:
        self.add(
            "OrderCancelled",
            hours,
            reason=reason,
            cancelled_by="customer" if reason == "customer_request" else "system",
        )


def _happy(o: _Order) -> None:
    o.placed_event()
    o.paid()
    o.dispatched()
    o.delivered()


def _review_good(o: _Order) -> None:
    _happy(o)
    o.review(96, o.rng.choice((4, 5)))


def _review_negative(o: _Order) -> None:
    _happy(o)
    o.review(100, o.rng.choice((1, 2)))


def _not_shipped(o: _Order) -> None:
    # Promise 72h: the late-shipping apology at 30h wins the group over promise-missed at 74h;
    # promise 120h: outside the 72h window, both apologies go.
    o.placed_event(ship_by=30, deliver_by=o.rng.choice((72, 120)), always=True)
    o.paid()


def _carrier_delay(o: _Order) -> None:
    o.placed_event(deliver_by=120, always=True)
    o.paid()
    o.dispatched()
    late = o.rng.choice((12, 48, 72, 96, 120))
    o.delayed(50, new_estimate=120 + late)
    o.delivered(120 + late - 2)


def _delay_without_promise(o: _Order) -> None:
    o.placed_event(ship_by=None, deliver_by=None)
    o.paid()
    o.dispatched(estimate=96)
    o.delayed(50, new_estimate=o.rng.choice((80, 150)), previous=96)
    o.delivered(160)


def _damaged_return(o: _Order) -> None:
    o.placed_event()
    o.paid()
    o.dispatched()
    o.exception(60, "damaged")
    o.returned(70, o.rng.choice(("damaged", "wrong_item", "not_as_described")))


def _lost(o: _Order) -> None:
    o.placed_event()
    o.paid()
    o.dispatched()
    o.exception(80, o.rng.choice(("lost", "returned_to_sender")))


def _failed_attempt(o: _Order) -> None:
    o.placed_event()
    o.paid()
    o.dispatched()
    o.exception(60, "failed_attempt")
    o.delivered(84)


def _payment_recovered(o: _Order) -> None:
    o.placed_event()
    o.payment_failed(0.1, 1)
    o.paid(3)
    o.dispatched(24)
    o.delivered(72)


def _payment_abandoned(o: _Order) -> None:
    o.placed_event(ship_by=None)
    o.payment_failed(0.1, 1)
    o.payment_failed(1, 2)  # within 12h of the first: the recovery email's own limit suppresses it
    o.cancelled(72, "payment_failed")


def _cancelled(o: _Order) -> None:
    o.placed_event()
    o.paid()
    o.cancelled(5, o.rng.choice(("customer_request", "out_of_stock", "fraud")))


def _return_no_fault(o: _Order) -> None:
    _happy(o)
    o.returned(100, o.rng.choice(("changed_mind", "other")))


def _promise_missed(o: _Order) -> None:
    o.placed_event(deliver_by=96, always=True)
    o.paid()
    o.dispatched()


def _late_return(o: _Order) -> None:
    o.placed_event(deliver_by=72, always=True)
    o.paid()
    o.dispatched()
    o.delivered(110)
    o.returned(130, "late")


def _survey_unhappy(o: _Order) -> None:
    _happy(o)
    o.survey(150, "csat", o.rng.choice((1, 2)))


def _survey_happy(o: _Order) -> None:
    _happy(o)
    o.survey(150, "nps", o.rng.choice((9, 10)))


SCENARIOS: dict[str, Callable[[_Order], None]] = {
    "happy": _happy,
    "review-good": _review_good,
    "review-negative": _review_negative,
    "not-shipped": _not_shipped,
    "carrier-delay": _carrier_delay,
    "delay-without-promise": _delay_without_promise,
    "damaged-return": _damaged_return,
    "lost": _lost,
    "failed-attempt": _failed_attempt,
    "payment-recovered": _payment_recovered,
    "payment-abandoned": _payment_abandoned,
    "cancelled": _cancelled,
    "return-no-fault": _return_no_fault,
    "promise-missed": _promise_missed,
    "late-return": _late_return,
    "survey-unhappy": _survey_unhappy,
    "survey-happy": _survey_happy,
}


def _customer(rng: random.Random, number: int) -> dict[str, Any]:
    customer: dict[str, Any] = {
        "id": f"C{number:05d}",
        "name": f"Customer {number}",
        "locale": rng.choice(("en", "en", "en", "en-GB", "zh-Hans", "zh-Hant")),
        "timezone": rng.choice(_TIMEZONES),
        "tier": rng.choice(("standard", "standard", "standard", "silver", "gold", "platinum")),
        "consent": {"marketing": rng.random() < 0.5, "sms": rng.random() < 0.6},
    }
    if rng.random() < 0.93:
        customer["email"] = f"customer{number}@example.com"
    if rng.random() < 0.7 or "email" not in customer:
        customer["phone"] = f"+1415{number:07d}"
    return customer


def generate_stream(
    orders: int = 1000, *, seed: int = 6, start: datetime = START, spread: timedelta = timedelta(days=10)
) -> GeneratedStream:
    """`orders` order journeys over `spread`, scenarios in rotation, customers shared by some orders.

    The same arguments always give the same events (ids, times, contents): tests can compare runs.
    About a third of the customers place more than one order, so the contact policy's caps across
    orders are exercised; some customers have no email (no_contact) or no consent (no_consent).
    """
    rng = random.Random(seed)
    names = list(SCENARIOS)
    customers = [_customer(rng, n) for n in range(max(1, orders * 2 // 3))]
    events: list[dict[str, Any]] = []
    scenario_of: dict[str, str] = {}
    customer_of: dict[str, str] = {}
    by_customer: dict[str, list[str]] = {}
    minutes = int(spread.total_seconds() // 60)
    for number in range(orders):
        order_id = f"O{seed:02d}-{number:05d}"
        customer = customers[rng.randrange(len(customers))]
        placed = start + timedelta(minutes=rng.randrange(minutes))
        order = _Order(rng, seed, order_id, customer, placed)
        scenario = names[number % len(names)]
        SCENARIOS[scenario](order)
        events.extend(order.events)
        scenario_of[order_id] = scenario
        customer_of[order_id] = str(customer["id"])
        by_customer.setdefault(str(customer["id"]), []).append(order_id)
    events.sort(key=lambda e: (event_time(e), e["id"]))
    return GeneratedStream(
        events=events, scenario_of=scenario_of, customer_of=customer_of, orders_by_customer=by_customer
    )


def shuffle_within_orders(events: Sequence[Mapping[str, Any]], *, seed: int = 7) -> list[dict[str, Any]]:
    """The same events, each order's events permuted among the slots that order occupies.

    Orders stay interleaved as in the original stream; only the order of one order's own events
    changes (a payment before its OrderPlaced, a delivery before the dispatch, ...).
    """
    rng = random.Random(seed)
    slots: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        slots.setdefault(str(event["detail"]["order_id"]), []).append(index)
    shuffled: list[dict[str, Any]] = [dict(e) for e in events]
    for positions in slots.values():
        members = [events[i] for i in positions]
        rng.shuffle(members)
        for position, member in zip(positions, members, strict=True):
            shuffled[position] = dict(member)
    return shuffled


def deliver_twice(events: Iterable[Mapping[str, Any]], *, seed: int = 8) -> list[dict[str, Any]]:
    """Every event twice, the second copy a few positions later (at-least-once delivery)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    pending: list[tuple[int, dict[str, Any]]] = []
    for index, event in enumerate(events):
        out.append(dict(event))
        pending.append((index + rng.randint(0, 3), json.loads(json.dumps(event))))
        while pending and pending[0][0] <= index:
            out.append(pending.pop(0)[1])
        pending.sort(key=lambda item: item[0])
    out.extend(copy for _, copy in pending)
    return out
