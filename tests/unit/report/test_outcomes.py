"""touchpoints.outcomes: what followed one decision, inside `(decided_at, decided_at + window]` only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.events import event

from touchpoints.contract import DecisionRecord
from touchpoints.journey import OrderJourney, apply_event
from touchpoints.outcomes import BINARY_OUTCOMES, orders_by_customer, outcome_of

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CUSTOMER = {"id": "C1", "email": "ana@example.com"}
ORDER = {
    "customer": CUSTOMER,
    "total": {"amount": "9.00", "currency": "USD"},
    "items": [
        {"sku": "S", "name": "Cup", "quantity": 1, "unit_price": {"amount": "9.00", "currency": "USD"}}
    ],
}


def record(**fields: Any) -> DecisionRecord:
    data: dict[str, Any] = {
        "action_id": "a1",
        "order_id": "A1",
        "customer_id": "C1",
        "rule_id": "delivery-delay-apology",
        "trigger": "ShipmentDelayed",
        "event_id": "e1",
        "channel": "email",
        "template": "delivery-delay-apology",
        "locale": "en",
        "status": "sent",
        "reason": None,
        "decided_at": T0,
        "send_at": T0,
        "catalog_version": "sha256:x",
        "address": None,
    }
    data.update(fields)
    return DecisionRecord.model_validate(data)


def journey(order_id: str, *events: tuple[str, timedelta, dict[str, Any]]) -> OrderJourney:
    state = None
    for n, (detail_type, offset, detail) in enumerate(events):
        state = apply_event(
            state, event(detail_type, T0 + offset, detail, event_id=f"{order_id}-{n}", order_id=order_id)
        )
    assert state is not None
    return state


def test_nothing_known_means_no_outcome() -> None:
    # GIVEN / WHEN a decision whose order has no journey
    outcome = outcome_of(record(), None)
    # THEN every outcome is no and the window is 30 days
    assert not any(getattr(outcome, name) for name in BINARY_OUTCOMES)
    assert outcome.end - outcome.start == timedelta(days=30)


def test_the_window_excludes_the_decisions_own_moment_and_includes_its_last_one() -> None:
    # GIVEN a review at the decision's own moment (its trigger) and a cancellation exactly 30 days later
    state = journey(
        "A1",
        ("OrderPlaced", -timedelta(days=2), ORDER),
        ("ReviewSubmitted", timedelta(0), {"review_id": "R1", "rating": 1}),
        ("OrderCancelled", timedelta(days=30), {"reason": "other"}),
    )
    # WHEN the outcome is computed
    outcome = outcome_of(record(), state)
    # THEN the trigger is not an outcome, the cancellation on the window's last moment is
    assert outcome.review_low is False
    assert outcome.cancelled is True
    # and one second later it would not be
    assert outcome_of(record(), state, window=timedelta(days=30) - timedelta(seconds=1)).cancelled is False


def test_reviews_surveys_and_returns_inside_the_window() -> None:
    # GIVEN a 5-star review, a return, and two survey answers (CSAT 2, then NPS 9) after the decision
    state = journey(
        "A1",
        ("OrderPlaced", -timedelta(days=2), ORDER),
        ("ReturnRequested", timedelta(days=3), {"return_id": "RT", "reason": "late"}),
        ("ReviewSubmitted", timedelta(days=4), {"review_id": "R2", "rating": 5}),
        ("SurveyAnswered", timedelta(days=5), {"scale": "csat", "score": 2, "channel": "email"}),
        ("SurveyAnswered", timedelta(days=6), {"scale": "nps", "score": 9, "channel": "web"}),
    )
    # WHEN the outcome is computed
    outcome = outcome_of(record(), state)
    # THEN each is seen, and the survey score is the latest answer's
    assert (outcome.return_requested, outcome.review_high, outcome.review_low) == (True, True, False)
    assert (outcome.survey_answered, outcome.survey_scale, outcome.survey_score) == (True, "nps", 9)


def test_a_support_case_counts_only_when_raised_in_the_window() -> None:
    # GIVEN the order's event actions: one held out, one suppressed, one sent two days later
    case = {"channel": "event", "template": None, "detail_type": "SupportCaseRequested"}
    later = T0 + timedelta(days=2)
    held = record(action_id="h", status="held_out", decided_at=later, send_at=later, **case)
    suppressed = record(
        action_id="s", status="suppressed", reason="rule_limit", decided_at=later, send_at=later, **case
    )
    sent = record(action_id="x", status="sent", decided_at=later, send_at=later, **case)
    state = journey("A1", ("OrderPlaced", -timedelta(days=1), ORDER))
    # WHEN outcomes are computed with each
    # THEN only the one that went out is a support case
    assert outcome_of(record(), state, order_records=[held, suppressed]).support_case is False
    assert outcome_of(record(), state, order_records=[held, sent]).support_case is True


def test_a_repeat_order_is_another_order_of_the_same_customer_placed_in_the_window() -> None:
    # GIVEN the customer's second order 10 days after the decision, and a stranger's order
    first = journey("A1", ("OrderPlaced", -timedelta(days=1), ORDER))
    second = journey("A2", ("OrderPlaced", timedelta(days=10), ORDER))
    stranger = journey("B1", ("OrderPlaced", timedelta(days=5), {**ORDER, "customer": {"id": "C2"}}))
    # WHEN the repeat order is looked for, with and without the customer's orders
    index = orders_by_customer([first, second, stranger])
    # THEN the second order counts (and the order itself never does)
    assert outcome_of(record(), first, customer_orders=index).repeat_order is True
    assert (
        outcome_of(record(), first, customer_orders=orders_by_customer([first, stranger])).repeat_order
        is False
    )
    assert outcome_of(record(), first).repeat_order is False
