"""Event streams for the security tests: the shipped samples plus a seeded stream full of personal data."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.events import envelope

__all__ = ["generated_stream", "personal_values", "sample_stream"]

_SYLLABLES = ["zor", "qua", "mel", "vix", "tan", "bri", "lo", "quen", "dra", "fyl", "oss", "yur"]
_LOCALES = ["en", "en-GB", "zh-Hans", "zh-Hant"]
_ZONES = ["UTC", "Europe/London", "Asia/Taipei", "America/New_York"]
_TIERS = ["standard", "silver", "gold", "platinum"]


def sample_stream(repo_root: Path) -> list[dict[str, Any]]:
    """Every sample event under events/ (schemas excluded)."""
    files = sorted(p for p in (repo_root / "events").glob("*/*.json") if p.parent.name != "schemas")
    return [json.loads(p.read_text(encoding="utf-8")) for p in files]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()


def _envelope(
    rng: random.Random, detail_type: str, source: str, at: datetime, detail: dict[str, Any]
) -> dict[str, Any]:
    """The shared envelope with a seeded random id, the platform's source and whole-second time."""
    event_id = str(uuid.UUID(int=rng.getrandbits(128)))
    moment = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return envelope(detail_type, moment, detail, event_id=event_id, order_id=None, source=source)


def _money(amount: float, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.2f}", "currency": currency}


def generated_stream(seed: int = 7, orders: int = 12) -> list[dict[str, Any]]:
    """A journey per order with made-up, unmistakable personal data, duplicates and bad events.

    Names are random syllables (`Zorquamel Vixtanbri`), so finding one in a log can only mean
    it leaked. Every detail-type of the contract appears; some events are delivered twice, and
    a few are invalid *because of* a personal field (a malformed phone or email), the case where
    an error message is most tempted to quote the value.
    """
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    events: list[dict[str, Any]] = []
    for number in range(orders):
        first, last = _word(rng), _word(rng)
        customer: dict[str, Any] = {
            "id": f"GC{number:04d}",
            "name": f"{first} {last}",
            "locale": rng.choice(_LOCALES),
            "timezone": rng.choice(_ZONES),
            "tier": rng.choice(_TIERS),
            "consent": {"marketing": rng.random() < 0.5, "sms": rng.random() < 0.7},
        }
        if number % 5 != 4:
            customer["email"] = f"{first.lower()}.{last.lower()}{number}@mail.example.org"
        if number % 3 != 2:
            customer["phone"] = f"+44{rng.randrange(7000000000, 7999999999)}"
        order_id = f"G{number:05d}"
        placed = start + timedelta(hours=7 * number)
        price = round(rng.uniform(5, 200), 2)
        journey = [
            (
                "OrderPlaced",
                "shop.orders",
                placed,
                {
                    "customer": customer,
                    "total": _money(price * 2, "GBP"),
                    "items": [
                        {"sku": "SKU-1", "name": "Tea", "quantity": 2, "unit_price": _money(price, "GBP")}
                    ],
                    "promised_ship_by": (placed + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "promised_delivery_by": (placed + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )
        ]
        payment = {"payment_id": f"P{number}", "amount": _money(price * 2, "GBP")}
        if number % 4 == 1:
            journey.append(
                (
                    "PaymentFailed",
                    "shop.payments",
                    placed + timedelta(minutes=5),
                    {**payment, "reason_code": "card_declined", "attempt": 1, "customer": customer},
                )
            )
        journey.append(("PaymentSucceeded", "shop.payments", placed + timedelta(hours=1), payment))
        shipment = {"shipment_id": f"S{number}"}
        journey.append(
            (
                "ShipmentDispatched",
                "shop.logistics",
                placed + timedelta(days=1),
                {**shipment, "carrier": "DPD", "tracking_number": f"T{number:08d}"},
            )
        )
        if number % 3 == 0:
            journey.append(
                (
                    "ShipmentDelayed",
                    "shop.logistics",
                    placed + timedelta(days=2),
                    {**shipment, "new_estimate": (placed + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%SZ")},
                )
            )
        if number % 4 == 2:
            journey.append(
                (
                    "ShipmentException",
                    "shop.logistics",
                    placed + timedelta(days=3),
                    {**shipment, "kind": "damaged"},
                )
            )
            journey.append(
                (
                    "ReturnRequested",
                    "shop.orders",
                    placed + timedelta(days=4),
                    {"return_id": f"R{number}", "reason": "damaged", "customer": customer},
                )
            )
        journey.append(
            (
                "ShipmentDelivered",
                "shop.logistics",
                placed + timedelta(days=3, hours=5),
                {**shipment, "signed_by": f"{_word(rng)} {_word(rng)}"},
            )
        )
        journey.append(
            (
                "ReviewSubmitted",
                "shop.reviews",
                placed + timedelta(days=6),
                {"review_id": f"V{number}", "rating": rng.randint(1, 5), "title": "ok", "body": "fine"},
            )
        )
        if number % 6 == 5:
            journey.append(
                ("OrderCancelled", "shop.orders", placed + timedelta(days=7), {"reason": "customer_request"})
            )
        for detail_type, source, at, detail in journey:
            event = _envelope(rng, detail_type, source, at, {"order_id": order_id, **detail})
            events.append(event)
            if rng.random() < 0.2:
                events.append(json.loads(json.dumps(event)))  # delivered twice
    # Invalid because of a personal field: the value must not be quoted back in any log line.
    for number, bad in enumerate(
        [
            {"phone": f"0{rng.randrange(900000000, 999999999)}"},
            {"email": f"{_word(rng).lower()} at {_word(rng).lower()} dot com"},
            {"name": ["not", "a", "string"], "email": f"{_word(rng).lower()}@@broken"},
        ]
    ):
        customer = {"id": f"BAD{number}", "name": f"{_word(rng)} {_word(rng)}", **bad}
        detail = {
            "order_id": f"BAD{number:04d}",
            "customer": customer,
            "total": _money(10, "GBP"),
            "items": [{"sku": "SKU-1", "name": "Tea", "quantity": 1, "unit_price": _money(10, "GBP")}],
        }
        events.append(_envelope(rng, "OrderPlaced", "shop.orders", start + timedelta(hours=number), detail))
    events.extend(_survey_answers(seed, orders, start))
    # Personal data in the wrong shape: a customer sent as one string (name and street address), an
    # address where a rating belongs, a phone where a time belongs.
    street = f"{_word(rng)} {_word(rng)}, {rng.randint(2, 99)} {_word(rng)} Street, {_word(rng)}"
    wrong_shapes: list[tuple[str, dict[str, Any]]] = [
        (
            "OrderPlaced",
            {
                "customer": street,
                "total": _money(10, "GBP"),
                "items": [{"sku": "SKU-1", "name": "Tea", "quantity": 1, "unit_price": _money(10, "GBP")}],
            },
        ),
        ("ReviewSubmitted", {"review_id": "V-bad", "rating": street}),
        (
            "ShipmentDelayed",
            {"shipment_id": "S-bad", "new_estimate": f"+44{rng.randrange(7000000000, 7999999999)}"},
        ),
    ]
    for number, (detail_type, detail) in enumerate(wrong_shapes):
        detail = {"order_id": f"SHAPE{number:04d}", **detail}
        events.append(_envelope(rng, detail_type, "shop.orders", start + timedelta(hours=number), detail))
    return events


def _survey_answers(seed: int, orders: int, start: datetime) -> list[dict[str, Any]]:
    """Survey answers whose comments are the customer's own words, and one rejected because of its comment.

    A generator of its own, so that the journeys above keep the values they always had.
    """
    rng = random.Random(seed + 1)
    answers: list[dict[str, Any]] = []
    for number in range(0, orders, 2):
        detail = {
            "order_id": f"G{number:05d}",
            "scale": "csat",
            "score": rng.randint(1, 5),
            "channel": "web",
            "comment": f"{_word(rng)} {_word(rng)} left it with {_word(rng)}",
        }
        at = start + timedelta(hours=7 * number, days=8)
        answers.append(_envelope(rng, "SurveyAnswered", "shop.surveys", at, detail))
    bad = {
        "order_id": "BADSV",
        "scale": "nps",
        "score": 11,
        "channel": "email",
        "comment": [_word(rng), _word(rng)],
    }
    answers.append(_envelope(rng, "SurveyAnswered", "shop.surveys", start + timedelta(days=9), bad))
    return answers


def personal_values(events: Iterable[dict[str, Any]]) -> set[str]:
    """Every email, phone, person's name and survey comment the events carry (valid or not), as log needles.

    Phones are also looked for without their `+`, and emails by their `local@` part, so a
    partial leak (a stripped prefix, another domain spelling) is caught too.
    """
    found: set[str] = set()
    for event in events:
        detail = event.get("detail", {})
        customer = detail.get("customer") or {}
        if not isinstance(customer, dict):  # a customer sent as a string: its every part is personal
            found.update(part.strip() for part in str(customer).split(",") if part.strip())
            customer = {}
        comment = detail.get("comment")
        values = [customer.get("email"), customer.get("phone"), customer.get("name"), detail.get("signed_by")]
        values += comment if isinstance(comment, list) else [comment]
        values += [
            v for v in detail.values() if isinstance(v, str) and ("Street" in v or v.startswith("+44"))
        ]
        for value in values:
            if not isinstance(value, str) or not value:
                continue
            found.add(value)
            if value.startswith("+"):
                found.add(value[1:])
            if "@" in value:
                found.add(value.split("@", 1)[0] + "@")
    return found
