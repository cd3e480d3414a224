"""Generate the shared CX benchmark workload: ~50 JsonLogic rules and 1,000 ~1 KB events (seeded)."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

EVENT_TYPES = [
    "OrderPlaced",
    "PaymentSucceeded",
    "PaymentFailed",
    "ShipmentDispatched",
    "ShipmentDelayed",
    "ShipmentException",
    "ShipmentDelivered",
    "ReturnRequested",
    "ReviewSubmitted",
    "OrderCancelled",
]
TIERS = ["standard", "silver", "gold", "platinum", "vip"]
CATEGORIES = ["shoes", "apparel", "electronics", "home", "beauty", "toys"]
CARRIERS = ["ups", "dhl", "fedex", "usps", "postnl"]
REASONS = ["card_declined", "insufficient_funds", "expired_card", "fraud_suspected", None]


def _maybe(rng: random.Random, value: Any, p_missing: float = 0.1, p_null: float = 0.05) -> Any:
    roll = rng.random()
    if roll < p_missing:
        return "__MISSING__"
    if roll < p_missing + p_null:
        return None
    return value


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v != "__MISSING__"}


def make_event(rng: random.Random, index: int) -> dict[str, Any]:
    """One facts document as the decide step would hand it to JsonLogic."""
    items = [
        {
            "sku": f"SKU-{rng.randint(1000, 9999)}",
            "category": rng.choice(CATEGORIES),
            "price": round(rng.uniform(3, 400), 2),
            "qty": rng.randint(1, 4),
            "backordered": rng.random() < 0.1,
        }
        for _ in range(rng.randint(1, 4))
    ]
    total = round(sum(i["price"] * i["qty"] for i in items), 2)
    day = rng.randint(1, 27)
    return {
        "event": {"type": rng.choice(EVENT_TYPES), "id": f"evt-{index:06d}", "source": "shop.example"},
        "now": f"2026-03-{day:02d}T{rng.randint(0, 23):02d}:00:00Z",
        "order": _clean(
            {
                "id": f"ord-{index:06d}",
                "status": rng.choice(["placed", "paid", "shipped", "delivered", "cancelled"]),
                "total": _maybe(rng, total),
                "currency": rng.choice(["EUR", "USD", "GBP"]),
                "items": items,
                "payment_failures": rng.choice([0, 0, 0, 1, 2, 3]),
                "last_payment_failure_reason": _maybe(rng, rng.choice(REASONS), 0.3),
                "delay_hours": _maybe(rng, rng.choice([0, 0, 6, 24, 48, 96]), 0.2),
                "coupon": _maybe(rng, rng.choice(["", "WELCOME10", "VIP20"]), 0.5),
                "placed_at": f"2026-03-{max(day - 2, 1):02d}T10:00:00Z",
            }
        ),
        "shipment": _clean(
            {
                "carrier": _maybe(rng, rng.choice(CARRIERS)),
                "exception": _maybe(rng, rng.choice(["lost", "damaged", "address_issue", None]), 0.6),
                "attempts": rng.randint(0, 3),
                "address": {
                    "city": rng.choice(["Amsterdam", "Berlin", "Lyon", "Leeds"]),
                    "postcode": f"{rng.randint(1000, 9999)}AB",
                    "country": rng.choice(["NL", "DE", "FR", "GB"]),
                },
            }
        ),
        "customer": _clean(
            {
                "id": f"cus-{rng.randint(1, 400):05d}",
                "tier": _maybe(rng, rng.choice(TIERS)),
                "email": _maybe(rng, f"user{index}@example.com"),
                "locale": rng.choice(["en", "de", "fr", "nl", "zh-Hant"]),
                "opted_out": rng.random() < 0.1,
                "orders_count": rng.randint(0, 40),
                "consent": {"marketing": rng.random() < 0.6, "sms": rng.random() < 0.3},
            }
        ),
        "review": _clean(
            {"rating": _maybe(rng, rng.randint(1, 5), 0.5), "text": "Looks good, arrived fine."}
        ),
        "history": {"contacts_last_7d": rng.randint(0, 5), "apologies_sent": rng.randint(0, 2)},
    }


def v(path: str) -> dict[str, Any]:
    return {"var": path}


def make_rules() -> list[dict[str, Any]]:
    """50 conditions in the shapes CX rule files use."""
    rules: list[dict[str, Any]] = []
    for event_type in EVENT_TYPES:  # event-type guards with a threshold and an opt-out check
        rules.append(
            {
                "and": [
                    {"==": [v("event.type"), event_type]},
                    {">=": [v("order.total"), 50]},
                    {"!": v("customer.opted_out")},
                ]
            }
        )
    for tiers in (
        ["gold", "platinum"],
        ["vip"],
        ["silver", "gold", "platinum", "vip"],
        ["standard"],
        ["silver"],
        ["gold"],
    ):
        rules.append({"and": [{"in": [v("customer.tier"), tiers]}, {">": [v("order.total"), 100]}]})
    for limit in (0, 1, 2):
        rules.append(
            {
                "and": [
                    {"==": [v("event.type"), "PaymentFailed"]},
                    {">": [v("order.payment_failures"), limit]},
                    {"!=": [v("order.last_payment_failure_reason"), "fraud_suspected"]},
                    {"!": {"missing": ["customer.email"]}},
                ]
            }
        )
    for hours in (12, 24, 48, 72):
        rules.append(
            {
                "and": [
                    {"in": [v("event.type"), ["ShipmentDelayed", "ShipmentException"]]},
                    {">=": [v("order.delay_hours"), hours]},
                    {"<": [v("history.contacts_last_7d"), 3]},
                ]
            }
        )
    for category in ("electronics", "shoes", "home", "beauty", "toys"):
        rules.append({"some": [v("order.items"), {"==": [v("category"), category]}]})
    rules.append({"all": [v("order.items"), {"<": [0, v("qty"), 5]}]})
    rules.append({"some": [v("order.items"), {"var": "backordered"}]})
    rules.append({"none": [v("order.items"), {">": [v("price"), 300]}]})
    rules.append({">": [{"reduce": [v("order.items"), {"+": [v("accumulator"), v("current.qty")]}, 0]}, 5]})
    rules.append({"missing_some": [1, ["customer.email", "customer.phone"]]})
    rules.append(
        {
            "if": [
                {"in": [v("customer.tier"), ["vip", "platinum"]]},
                "premium",
                {">=": [v("order.total"), 250]},
                "high_value",
                {"==": [v("customer.tier"), None]},
                "unknown",
                "standard",
            ]
        }
    )
    rules.append(
        {
            "if": [
                {"==": [v("review.rating"), None]},
                "no_rating",
                {"<=": [v("review.rating"), 2]},
                "detractor",
                "fine",
            ]
        }
    )
    rules.append(
        {"or": [{"==": [v("shipment.exception"), "lost"]}, {"==": [v("shipment.exception"), "damaged"]}]}
    )
    rules.append(
        {
            "and": [
                {"==": [v("event.type"), "ShipmentDelivered"]},
                {">=": [v("review.rating"), 4]},
                {"var": "customer.consent.marketing"},
            ]
        }
    )
    rules.append({"and": [{"!!": v("order.coupon")}, {"==": [v("order.currency"), "EUR"]}]})
    rules.append({"<=": [1, v("shipment.attempts"), 2]})
    rules.append({"and": [{"==": [v("order.status"), "cancelled"]}, {">": [v("customer.orders_count"), 10]}]})
    rules.append({"in": [v("shipment.carrier"), ["dhl", "postnl"]]})
    rules.append({"cat": ["apology-", v("customer.locale")]})
    rules.append({"and": [{"===": [v("order.payment_failures"), 0]}, {"==": [v("order.status"), "paid"]}]})
    rules.append({"or": [{"missing": ["order.total"]}, {"<": [v("order.total"), 10]}]})
    rules.append({"and": [{">": [v("history.apologies_sent"), 0]}, {"!=": [v("event.type"), "OrderPlaced"]}]})
    rules.append({"if": [{"var": "customer.consent.sms"}, "sms", "email"]})
    rules.append({">": [{"+": [v("order.payment_failures"), v("shipment.attempts")]}, 3]})
    rules.append(
        {
            "and": [
                {"in": ["electronics", {"map": [v("order.items"), v("category")]}]},
                {">=": [v("order.total"), 200]},
            ]
        }
    )
    rules.append({"!": {"in": [v("customer.locale"), ["en", "de"]]}})
    rules.append({"==": [{"var": ["customer.segment", "none"]}, "none"]})
    return rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20260301)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    events = [make_event(rng, i) for i in range(args.events)]
    rules = make_rules()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rules.json").write_text(json.dumps(rules))
    (args.out / "events.json").write_text(json.dumps(events))
    size = sum(len(json.dumps(e)) for e in events) / len(events)
    print(f"{len(rules)} rules, {len(events)} events, mean event size {size:.0f} bytes")


if __name__ == "__main__":
    main()
