"""Deterministic generator of realistic order journeys as EventBridge events (JSON Lines on stdout or a file).

Journeys mix what the playbook reacts to: happy paths, failed and recovered payments, carrier delays,
lost or damaged parcels, late deliveries, cancellations, returns and reviews, for a pool of customers
across time zones and locales (so caps and quiet hours have work to do). Same seed, same output.

    python bench/simulate/generate.py --events 100000 --seed 7 --out /tmp/events.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

START = datetime(2026, 3, 1, tzinfo=UTC)
ZONES = [
    ("America/New_York", "en"),
    ("America/Los_Angeles", "en"),
    ("Europe/London", "en-GB"),
    ("Asia/Taipei", "zh-Hant"),
    ("Asia/Hong_Kong", "zh-Hant"),
    ("Asia/Shanghai", "zh-Hans"),
    ("Asia/Singapore", "en"),
]
TIERS = ["standard"] * 6 + ["silver"] * 2 + ["gold", "platinum"]
PRODUCTS = [
    ("MUG-1", "Ceramic mug", "19.90"),
    ("TEA-2", "Oolong tea", "12.50"),
    ("LAMP-3", "Desk lamp", "49.00"),
]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


class JourneyGenerator:
    """Builds one order journey at a time from a seeded random source."""

    def __init__(self, seed: int, customers: int) -> None:
        self.rng = random.Random(seed)
        self.customers = [self._customer(n) for n in range(customers)]
        self.sequence = 0

    def _customer(self, n: int) -> dict[str, Any]:
        zone, locale = ZONES[n % len(ZONES)]
        return {
            "id": f"C{n:06d}",
            "email": f"customer{n}@example.com",
            "phone": f"+1415555{n % 10000:04d}",
            "name": f"Customer {n}",
            "locale": locale,
            "timezone": zone,
            "tier": TIERS[n % len(TIERS)],
            "consent": {"marketing": n % 3 != 0, "sms": n % 2 == 0},
        }

    def _event(self, detail_type: str, source: str, at: datetime, detail: dict[str, Any]) -> dict[str, Any]:
        self.sequence += 1
        return {
            "version": "0",
            "id": f"ev-{self.sequence:08d}",
            "detail-type": detail_type,
            "source": source,
            "account": "123456789012",
            "time": _ts(at),
            "region": "us-east-1",
            "resources": [],
            "detail": detail,
        }

    def journey(self, index: int) -> list[dict[str, Any]]:
        """The events of order number `index`, in the order they happen."""
        rng = self.rng
        order_id = f"O{index:07d}"
        customer = rng.choice(self.customers)
        placed = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        sku, name, price = rng.choice(PRODUCTS)
        quantity = rng.randint(1, 3)
        total = f"{float(price) * quantity:.2f}"
        promised_ship = placed + timedelta(hours=48)
        promised_delivery = placed + timedelta(days=5)
        base = {"order_id": order_id}
        events = [
            self._event(
                "OrderPlaced",
                "shop.orders",
                placed,
                {
                    **base,
                    "customer": customer,
                    "total": _money(total),
                    "items": [{"sku": sku, "name": name, "quantity": quantity, "unit_price": _money(price)}],
                    "promised_ship_by": _ts(promised_ship),
                    "promised_delivery_by": _ts(promised_delivery),
                    "sales_channel": rng.choice(["web", "app"]),
                },
            )
        ]
        now = placed + timedelta(minutes=rng.randint(1, 30))
        payment = {"payment_id": f"P{index}", "amount": _money(total)}
        if rng.random() < 0.15:
            events.append(
                self._event(
                    "PaymentFailed",
                    "shop.payments",
                    now,
                    {
                        **base,
                        **payment,
                        "reason_code": rng.choice(["card_declined", "insufficient_funds"]),
                        "attempt": 1,
                        "retry_url": f"https://shop.example.com/pay/{order_id}",
                    },
                )
            )
            if rng.random() < 0.4:
                now += timedelta(hours=rng.randint(30, 60))
                events.append(
                    self._event("OrderCancelled", "shop.orders", now, {**base, "reason": "payment_failed"})
                )
                return events
            now += timedelta(hours=rng.randint(1, 30))
        events.append(
            self._event("PaymentSucceeded", "shop.payments", now, {**base, **payment, "method": "card"})
        )
        if rng.random() < 0.03:
            now += timedelta(hours=rng.randint(1, 20))
            events.append(
                self._event("OrderCancelled", "shop.orders", now, {**base, "reason": "customer_request"})
            )
            return events
        now += timedelta(hours=rng.randint(4, 70))
        shipment = f"S{index}"
        estimate = now + timedelta(days=rng.randint(2, 5))
        events.append(
            self._event(
                "ShipmentDispatched",
                "shop.logistics",
                now,
                {
                    **base,
                    "shipment_id": shipment,
                    "carrier": "UPS",
                    "tracking_number": f"1Z{index:010d}",
                    "estimated_delivery": _ts(estimate),
                },
            )
        )
        if rng.random() < 0.15:
            now += timedelta(hours=rng.randint(10, 40))
            new_estimate = estimate + timedelta(days=rng.randint(1, 5))
            events.append(
                self._event(
                    "ShipmentDelayed",
                    "shop.logistics",
                    now,
                    {
                        **base,
                        "shipment_id": shipment,
                        "new_estimate": _ts(new_estimate),
                        "reason": rng.choice(["weather", "carrier_capacity", "customs"]),
                    },
                )
            )
            estimate = new_estimate
        if rng.random() < 0.04:
            now += timedelta(hours=rng.randint(5, 30))
            events.append(
                self._event(
                    "ShipmentException",
                    "shop.logistics",
                    now,
                    {
                        **base,
                        "shipment_id": shipment,
                        "kind": rng.choice(["lost", "damaged", "failed_attempt"]),
                    },
                )
            )
        delivered = max(now + timedelta(hours=2), estimate + timedelta(hours=rng.randint(-20, 20)))
        events.append(
            self._event("ShipmentDelivered", "shop.logistics", delivered, {**base, "shipment_id": shipment})
        )
        roll = rng.random()
        if roll < 0.05:
            events.append(
                self._event(
                    "ReturnRequested",
                    "shop.returns",
                    delivered + timedelta(days=rng.randint(1, 10)),
                    {
                        **base,
                        "return_id": f"R{index}",
                        "reason": rng.choice(["damaged", "changed_mind", "late"]),
                    },
                )
            )
        elif roll < 0.30:
            events.append(
                self._event(
                    "ReviewSubmitted",
                    "shop.reviews",
                    delivered + timedelta(days=rng.randint(1, 6)),
                    {**base, "review_id": f"V{index}", "rating": rng.choice([1, 2, 3, 4, 5, 5, 5])},
                )
            )
        return events


def generate(events: int, seed: int = 7, customers: int | None = None) -> Iterator[dict[str, Any]]:
    """Yield journeys' events (journey by journey, not time-sorted) until `events` are produced."""
    generator = JourneyGenerator(seed, customers or max(10, events // 20))
    produced = 0
    index = 0
    while produced < events:
        index += 1
        for event in generator.journey(index):
            if produced >= events:
                return
            produced += 1
            yield event


def write(events: int, seed: int, out: TextIO) -> None:
    """Write the events as JSON Lines."""
    for event in generate(events, seed):
        out.write(json.dumps(event, separators=(",", ":")))
        out.write("\n")


def main() -> None:
    """Command line: --events N --seed S --out FILE (default stdout)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="-")
    args = parser.parse_args()
    if args.out == "-":
        write(args.events, args.seed, sys.stdout)
    else:
        with open(args.out, "w", encoding="utf-8") as handle:
            write(args.events, args.seed, handle)


if __name__ == "__main__":
    main()
