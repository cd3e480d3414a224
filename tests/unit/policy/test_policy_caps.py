"""Caps per category and channel, when a full cap has room again, and what `on_cap` makes of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_policy_contact import customer, entry, rule

from touchpoints.catalog import ContactPolicy
from touchpoints.policy import (
    RATE_LIMIT,
    ContactLedger,
    capped_until,
    evaluate_action,
    exceeds_cap,
    is_expired,
)

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Taipei: no quiet hours
HOUR = timedelta(hours=1)


def policy(service: dict[str, Any]) -> ContactPolicy:
    return ContactPolicy.model_validate({"caps": {"service": service}})


def sent(hours_ago: float, channel: str = "email", **fields: Any) -> Any:
    at = NOW - timedelta(hours=hours_ago)
    return entry(event_id=f"e-{channel}-{hours_ago}", at=at, channel=channel, **fields)


def test_a_full_cap_has_room_when_its_oldest_counted_message_leaves_the_window() -> None:
    # GIVEN a cap of 2 a day and messages 23h, 10h and 1h ago (three: one over)
    caps = policy({"max": 2, "per": "24h"})
    ledger = ContactLedger(customer=[sent(1), sent(23), sent(10)])
    # WHEN / THEN it has room again once two have left: the second oldest's time + 24h (in 14h)
    assert capped_until("service", "email", caps, ledger, NOW) == NOW - 10 * HOUR + 24 * HOUR
    # AND with one message fewer, once the oldest leaves (in 1h)
    assert (
        capped_until("service", "email", caps, ContactLedger(customer=[sent(1), sent(23)]), NOW) == NOW + HOUR
    )
    # AND under the cap there is room now
    assert capped_until("service", "email", caps, ContactLedger(customer=[sent(1)]), NOW) is None


def test_a_message_exactly_a_window_old_no_longer_counts() -> None:
    # GIVEN a cap of 1 a day and a message exactly 24 hours ago
    caps = policy({"max": 1, "per": "24h"})
    # WHEN / THEN it has left the window
    assert capped_until("service", "email", caps, ContactLedger(customer=[sent(24)]), NOW) is None


def test_a_channel_cap_counts_only_its_channel_and_the_later_full_cap_wins() -> None:
    # GIVEN 3 service messages a day with at most 1 text, a text 2h ago and an email 20h ago
    caps = policy({"max": 3, "per": "24h", "channels": {"sms": {"max": 1, "per": "24h"}}})
    ledger = ContactLedger(customer=[sent(2, "sms"), sent(20)])
    # WHEN / THEN a text waits for the text cap (22h), an email goes (the category has room)
    assert capped_until("service", "sms", caps, ledger, NOW) == NOW + 22 * HOUR
    assert capped_until("service", "email", caps, ledger, NOW) is None
    assert exceeds_cap("service", caps, ledger, NOW, channel="sms")
    assert not exceeds_cap("service", caps, ledger, NOW)  # the category alone has room
    # AND with the category full as well (an email 23h ago), the later moment of the two counts
    full = ContactLedger(customer=[sent(2, "sms"), sent(20), sent(23)])
    assert capped_until("service", "sms", caps, full, NOW) == NOW + 22 * HOUR


def test_a_channel_cap_may_stand_alone_and_event_actions_never_count() -> None:
    # GIVEN only a text cap (no category max), a text and three event actions in the window
    caps = policy({"channels": {"sms": {"max": 1, "per": "24h"}}})
    ledger = ContactLedger(customer=[sent(2, "sms"), *[sent(n, "event") for n in (1, 3, 5)]])
    # WHEN / THEN emails are not capped at all, a second text is
    assert capped_until("service", "email", caps, ledger, NOW) is None
    assert capped_until("service", "sms", caps, ledger, NOW) == NOW + 22 * HOUR


def test_waiting_messages_count_from_when_they_will_be_sent() -> None:
    # GIVEN a cap of 1 a day and a text scheduled for 10 hours from now
    caps = policy({"max": 1, "per": "24h"})
    waiting = ContactLedger(customer=[entry(event_id="w", at=NOW + 10 * HOUR, status="scheduled")])
    # WHEN / THEN it counts already, and frees the cap a day after its own send time
    assert capped_until("service", "email", caps, waiting, NOW) == NOW + 34 * HOUR


@pytest.mark.parametrize(
    ("on_cap", "expected"),
    [("drop", ("suppressed", RATE_LIMIT, NOW)), ("defer", ("scheduled", RATE_LIMIT, NOW + HOUR))],
)
def test_on_cap_drops_or_defers_until_the_cap_has_room(on_cap: str, expected: tuple[Any, ...]) -> None:
    # GIVEN a full cap (1 a day, a message 23 hours ago) that drops or defers
    caps = policy({"max": 1, "per": "24h", "on_cap": on_cap})
    ledger = ContactLedger(customer=[sent(23)])
    # WHEN an email is decided
    verdict = evaluate_action(rule(), "email", customer(), event_id="e1", ledger=ledger, policy=caps, now=NOW)
    # THEN it is suppressed, or scheduled for when the message leaves the window, with rate_limit
    assert (verdict.status, verdict.reason, verdict.send_at) == expected


def test_a_cap_window_of_a_channel_is_kept_by_the_ledger_retention(tmp_path: Any) -> None:
    from touchpoints.catalog import load_catalog
    from touchpoints.policy import retention_for

    # GIVEN a catalog whose longest window is a channel cap's (30 days)
    (tmp_path / "templates" / "note").mkdir(parents=True)
    (tmp_path / "templates" / "note" / "en.yaml").write_text("subject: Hi\nbody: Hello\nsms: Hi\n")
    (tmp_path / "note.yaml").write_text(
        "id: note\ndescription: A note.\non: OrderPlaced\nthen: [{channel: sms, template: note}]\n"
    )
    (tmp_path / "policy.yaml").write_text(
        "caps: {service: {max: 3, per: 24h, channels: {sms: {max: 2, per: 30d}}}}\n"
    )
    # WHEN its retention is derived / THEN the ledger keeps that window plus a day
    assert retention_for(load_catalog(tmp_path)).window == timedelta(days=31)


def test_expiry_counts_from_the_first_decision_and_the_limit_itself_is_in_time() -> None:
    # GIVEN a rule that expires after 6 hours
    expiring = rule(expires_after="6h")
    # WHEN / THEN exactly 6 hours later is in time, a minute later is not, and no expiry never expires
    assert not is_expired(expiring, NOW, NOW + 6 * HOUR)
    assert is_expired(expiring, NOW, NOW + 6 * HOUR + timedelta(minutes=1))
    assert not is_expired(rule(), NOW, NOW + timedelta(days=300))
