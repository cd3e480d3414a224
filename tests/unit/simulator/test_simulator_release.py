"""Send-time truth in the simulator: a deferred action is decided again, on that moment, when released."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.support.events import envelope, event, money, order_placed_detail

from touchpoints.catalog import Catalog, load_catalog
from touchpoints.contract import DecisionRecord
from touchpoints.simulator import simulate

SHIPPED_RULES = Path(__file__).resolve().parents[3] / "rules"
NEW_YORK = {
    "id": "C-NY",
    "email": "ana@example.com",
    "phone": "+12125550143",
    "locale": "en",
    "timezone": "America/New_York",
    "consent": {"marketing": False, "sms": True},
}


@pytest.fixture(scope="module")
def playbook() -> Catalog:
    return load_catalog(SHIPPED_RULES)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def reminder_story(records: list[DecisionRecord], channel: str) -> list[DecisionRecord]:
    return [r for r in records if r.rule_id == "payment-unresolved-reminder" and r.channel == channel]


def test_the_issues_scenario_a_paid_order_gets_no_released_sms(playbook: Catalog) -> None:
    # GIVEN an order, a payment failing at 03:00Z (22:00 in New York), and the payment succeeding
    # 26 hours later: the reminder decided at 03:00Z the next day waits for 09:00 local (14:00Z)
    events = [
        event("OrderPlaced", "2026-03-02T02:00:00Z", order_placed_detail(NEW_YORK), order_id="R1"),
        event(
            "PaymentFailed",
            "2026-03-02T03:00:00Z",
            {"payment_id": "P1", "amount": money("10.00"), "reason_code": "card_declined", "attempt": 1},
            order_id="R1",
        ),
        event(
            "PaymentSucceeded",
            "2026-03-03T05:00:00Z",
            {"payment_id": "P2", "amount": money("10.00")},
            order_id="R1",
        ),
    ]
    # WHEN the three events are simulated
    records = list(simulate(events, playbook))
    # THEN the text was scheduled for quiet hours, and at its release it is suppressed as resolved
    sms = reminder_story(records, "sms")
    assert [(r.status, r.reason) for r in sms] == [("scheduled", "quiet_hours"), ("suppressed", "resolved")]
    scheduled, released = sms
    assert scheduled.send_at == at("2026-03-03T14:00:00Z")
    # AND the record keeps its first decision time and says when it was released
    assert released.action_id == scheduled.action_id
    assert released.decided_at == scheduled.decided_at == at("2026-03-03T03:00:00Z")
    assert released.released_at == at("2026-03-03T14:00:00Z")
    assert scheduled.released_at is None
    # AND the email reminder, decided before the payment, was not held back (service email)
    assert [r.status for r in reminder_story(records, "email")] == ["pending"]


def test_an_unpaid_order_still_gets_its_released_sms(playbook: Catalog) -> None:
    # GIVEN the same failure but no payment afterwards
    events = [
        event("OrderPlaced", "2026-03-02T02:00:00Z", order_placed_detail(NEW_YORK), order_id="R2"),
        event(
            "PaymentFailed",
            "2026-03-02T03:00:00Z",
            {"payment_id": "P1", "amount": money("10.00"), "reason_code": "card_declined", "attempt": 1},
            order_id="R2",
        ),
    ]
    # WHEN simulated
    sms = reminder_story(list(simulate(events, playbook)), "sms")
    # THEN the re-decision at 14:00Z still holds: the text is released pending
    assert [(r.status, r.reason, r.released_at) for r in sms] == [
        ("scheduled", "quiet_hours", None),
        ("pending", None, at("2026-03-03T14:00:00Z")),
    ]
    assert sms[1].send_at == at("2026-03-03T14:00:00Z")


def test_the_scenario_as_json_lines_through_the_cli(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from touchpoints.cli.main import cli

    # GIVEN the issue's three events as a JSON Lines file
    lines = [
        envelope("OrderPlaced", "2026-03-02T02:00:00Z", order_placed_detail(NEW_YORK), order_id="R3"),
        envelope(
            "PaymentFailed",
            "2026-03-02T03:00:00Z",
            {"payment_id": "P1", "amount": money("10.00"), "reason_code": "card_declined", "attempt": 1},
            order_id="R3",
        ),
        envelope(
            "PaymentSucceeded",
            "2026-03-03T05:00:00Z",
            {"payment_id": "P2", "amount": money("10.00")},
            order_id="R3",
        ),
    ]
    path = tmp_path / "scenario.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    # WHEN `touchpoints simulate --json` replays them
    result = CliRunner().invoke(cli, ["simulate", str(path), "--rules", str(SHIPPED_RULES), "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    # THEN the text's last record is suppressed / resolved, with both times shown
    sms = [r for r in records if r["rule_id"] == "payment-unresolved-reminder" and r["channel"] == "sms"]
    assert (sms[-1]["status"], sms[-1]["reason"]) == ("suppressed", "resolved")
    assert (sms[-1]["decided_at"], sms[-1]["released_at"]) == ("2026-03-03T03:00:00Z", "2026-03-03T14:00:00Z")


TAIPEI = {
    "id": "C-TW",
    "email": "mei@example.com",
    "phone": "+886912345678",
    "locale": "zh-Hant",
    "timezone": "Asia/Taipei",
    "consent": {"marketing": True, "sms": True},
}


def test_a_released_thank_you_is_decided_on_its_own_reviews_rating(playbook: Catalog) -> None:
    # GIVEN a 5-star review at 23:00 in Taipei: the marketing thank-you waits for 09:00 local
    review = event(
        "ReviewSubmitted",
        "2026-03-10T15:00:00Z",
        {"customer": TAIPEI, "review_id": "RV1", "rating": 5},
        order_id="TW1",
    )
    # WHEN simulated past 09:00 local (01:00Z)
    records = [r for r in simulate([review], playbook) if r.rule_id == "review-thanks"]
    # THEN at its release the rule's `event.rating` is still the review's (5), so it goes out
    assert [(r.status, r.reason) for r in records] == [("scheduled", "quiet_hours"), ("pending", None)]
    assert records[1].trigger == "ReviewSubmitted"
    assert records[1].released_at == at("2026-03-11T01:00:00Z")
