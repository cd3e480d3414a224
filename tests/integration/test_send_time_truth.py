"""Send-time truth through the real handlers on moto: a deferred action is decided again at release."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from tests.support.events import envelope, money, order_placed_detail
from tests.support.pipeline import sent_sms

_runs = itertools.count(1)


def _customer(run: int, phone: str) -> dict[str, Any]:
    return {
        "id": f"C-TRUTH-{run}",
        "email": f"truth{run}@example.com",
        "phone": phone,
        "locale": "en",
        "timezone": "America/New_York",
        "consent": {"marketing": False, "sms": True},
    }


def _journey(order_id: str, customer: dict[str, Any], *, paid: bool) -> list[dict[str, Any]]:
    """The issue's scenario: OrderPlaced, PaymentFailed at 03:00Z, PaymentSucceeded 26 hours later."""
    events = [
        envelope("OrderPlaced", "2026-03-02T02:00:00Z", order_placed_detail(customer), order_id=order_id),
        envelope(
            "PaymentFailed",
            "2026-03-02T03:00:00Z",
            {"payment_id": "P1", "amount": money("10.00"), "reason_code": "card_declined", "attempt": 1},
            order_id=order_id,
        ),
    ]
    if paid:
        events.append(
            envelope(
                "PaymentSucceeded",
                "2026-03-03T05:00:00Z",
                {"payment_id": "P2", "amount": money("10.00")},
                order_id=order_id,
            )
        )
    return events


def _reminder_sms(local: Any, order_id: str) -> Any:
    records = local.store.records_for_order(order_id)
    (sms,) = [r for r in records if r.rule_id == "payment-unresolved-reminder" and r.channel == "sms"]
    return sms


def test_a_text_deferred_by_quiet_hours_is_suppressed_as_resolved_after_the_payment(local: Any) -> None:
    # GIVEN the journey for a New York customer who allows texts (a phone only this test uses)
    run = next(_runs)
    order_id, phone = f"TRUTH-{run}", f"+1212555{7000 + run:04d}"
    local.driver.now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    # WHEN it runs through ProcessEvents, the Scheduler and Dispatch on the driver's clock
    local.driver.replay(_journey(order_id, _customer(run, phone), paid=True))
    # THEN the text waited for 09:00 local, was decided again then, and ended suppressed / resolved
    sms = _reminder_sms(local, order_id)
    assert (sms.status, sms.reason) == ("suppressed", "resolved")
    assert sms.decided_at == datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    assert sms.released_at == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
    assert local.driver.history[sms.action_id] == ["scheduled: quiet_hours", "suppressed: resolved"]
    # AND SNS never received a text for that phone
    assert [m for m in sent_sms() if m["to"] == phone] == []


def test_a_text_deferred_for_an_unpaid_order_is_released_and_sent(local: Any) -> None:
    # GIVEN the same journey without the payment
    run = next(_runs)
    order_id, phone = f"TRUTH-{run}", f"+1212555{7000 + run:04d}"
    local.driver.now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    # WHEN it runs through the stack
    local.driver.replay(_journey(order_id, _customer(run, phone), paid=False))
    # THEN the re-decision at 14:00Z still holds: released, sent once, first decision time kept
    sms = _reminder_sms(local, order_id)
    assert sms.status == "sent"
    assert (sms.decided_at, sms.released_at) == (
        datetime(2026, 3, 3, 3, 0, tzinfo=UTC),
        datetime(2026, 3, 3, 14, 0, tzinfo=UTC),
    )
    assert len([m for m in sent_sms() if m["to"] == phone]) == 1
