"""The contact policy: every reason, and the fixed order in which the checks run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from touchpoints.catalog import ContactPolicy, Rule
from touchpoints.contract import Customer
from touchpoints.journey import ContactEntry
from touchpoints.policy import (
    GROUP_EXCLUSION,
    NO_CONSENT,
    NO_CONTACT,
    POLICY_ORDER,
    QUIET_HOURS,
    RATE_LIMIT,
    RULE_LIMIT,
    ContactLedger,
    evaluate_action,
    exceeds_cap,
    exceeds_rule_limit,
    has_consent,
    is_group_taken,
)

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Taipei, 04:00 in London: daytime for Taipei
POLICY = ContactPolicy.model_validate(
    {
        "caps": {"service": {"max": 2, "per": "24h"}, "marketing": {"max": 1, "per": "7d"}},
        "quiet_hours": {"start": "21:00", "end": "09:00"},
        "groups": {"apology": {"window": "72h"}},
    }
)


def rule(**fields: Any) -> Rule:
    data: dict[str, Any] = {
        "id": "r1",
        "description": "test rule",
        "on": "OrderPlaced",
        "then": [{"channel": "email", "template": "note"}],
    }
    data.update(fields)
    return Rule.model_validate(data)


def customer(**fields: Any) -> Customer:
    data: dict[str, Any] = {
        "id": "C1",
        "email": "ana@example.com",
        "phone": "+886912345678",
        "timezone": "Asia/Taipei",
        "consent": {"marketing": True, "sms": True},
    }
    data.update(fields)
    return Customer.model_validate(data)


def entry(rule_id: str = "r1", *, event_id: str = "e0", at: datetime = NOW, **fields: Any) -> ContactEntry:
    data: dict[str, Any] = {
        "action_id": f"{rule_id}-{event_id}-{fields.get('channel', 'email')}",
        "order_id": "A1",
        "customer_id": "C1",
        "rule_id": rule_id,
        "event_id": event_id,
        "channel": "email",
        "category": "service",
        "group": None,
        "status": "pending",
        "at": at,
    }
    data.update(fields)
    return ContactEntry.model_validate(data)


def verdict(
    r: Rule,
    channel: str = "email",
    c: Customer | None = None,
    ledger: ContactLedger | None = None,
    now: datetime = NOW,
) -> Any:
    return evaluate_action(
        r,
        channel,
        customer() if c is None else c,
        event_id="e1",
        ledger=ledger or ContactLedger(),
        policy=POLICY,
        now=now,
    )


def test_policy_order_is_the_documented_one() -> None:
    # GIVEN / WHEN / THEN the order is fixed and documented
    assert POLICY_ORDER == (RULE_LIMIT, GROUP_EXCLUSION, NO_CONTACT, NO_CONSENT, RATE_LIMIT, QUIET_HOURS)


def test_rule_limit_per_order_counts_firings_not_channels() -> None:
    # GIVEN a rule limited to 2 firings per order, which fired once on two channels
    r = rule(limit={"max": 2, "scope": "order"})
    ledger = ContactLedger(order=[entry(event_id="e0", channel="email"), entry(event_id="e0", channel="sms")])
    # WHEN it fires again / a third time
    # THEN the second firing is allowed, a third is not
    assert not exceeds_rule_limit(r, "e1", ledger, NOW)
    ledger.add(entry(event_id="e1"))
    assert exceeds_rule_limit(r, "e2", ledger, NOW)


def test_rule_limit_window_and_scope() -> None:
    # GIVEN a firing 13 hours ago for this customer on another order
    old = entry(event_id="e0", at=NOW - timedelta(hours=13), order_id="B2")
    ledger = ContactLedger(order=[], customer=[old])
    # WHEN the limit is per 12h per customer, per 24h per customer, or per order
    # THEN only the 24h customer window still sees it
    assert not exceeds_rule_limit(
        rule(limit={"max": 1, "per": "12h", "scope": "customer"}), "e1", ledger, NOW
    )
    assert exceeds_rule_limit(rule(limit={"max": 1, "per": "24h", "scope": "customer"}), "e1", ledger, NOW)
    assert not exceeds_rule_limit(rule(limit={"max": 1, "scope": "order"}), "e1", ledger, NOW)


def test_suppressed_entries_never_count() -> None:
    # GIVEN a suppressed firing in the history
    ledger = ContactLedger(order=[entry(status="suppressed")], customer=[entry(status="suppressed")])
    # WHEN / THEN neither the limit nor the cap sees it
    assert not exceeds_rule_limit(rule(limit={"max": 1}), "e1", ledger, NOW)
    assert not exceeds_cap(
        "marketing", POLICY, ContactLedger(customer=[entry(status="suppressed", category="marketing")]), NOW
    )


def test_group_is_taken_by_another_firing_within_its_window_only() -> None:
    # GIVEN another rule of the group acted 71 hours ago, and another 73 hours ago
    r = rule(group="apology")
    recent = ContactLedger(order=[entry("other", group="apology", at=NOW - timedelta(hours=71))])
    stale = ContactLedger(order=[entry("other", group="apology", at=NOW - timedelta(hours=73))])
    # WHEN / THEN only the recent one excludes
    assert is_group_taken(r, "e1", recent, POLICY, NOW)
    assert not is_group_taken(r, "e1", stale, POLICY, NOW)


def test_group_is_not_taken_by_the_same_firing_on_another_channel() -> None:
    # GIVEN this very firing (rule r1, event e1) already put its email in the ledger
    ledger = ContactLedger(order=[entry("r1", event_id="e1", group="apology")])
    # WHEN its sms is checked / THEN the group does not exclude it
    assert not is_group_taken(rule(group="apology"), "e1", ledger, POLICY, NOW)


def test_undeclared_group_excludes_for_ever() -> None:
    # GIVEN a group the policy does not declare, used a year ago
    ledger = ContactLedger(order=[entry("other", group="misc", at=NOW - timedelta(days=365))])
    # WHEN / THEN it still excludes
    assert is_group_taken(rule(group="misc"), "e1", ledger, POLICY, NOW)


@pytest.mark.parametrize(
    ("category", "channel", "marketing", "sms", "expected"),
    [
        ("marketing", "email", False, True, False),
        ("marketing", "email", True, False, True),
        ("service", "sms", True, False, False),
        ("transactional", "sms", False, False, False),
        ("transactional", "email", False, False, True),
        ("marketing", "sms", True, True, True),
    ],
)
def test_consent(category: str, channel: str, marketing: bool, sms: bool, expected: bool) -> None:
    # GIVEN a customer's opt-ins / WHEN checking an action / THEN marketing and sms need consent
    c = customer(consent={"marketing": marketing, "sms": sms})
    assert has_consent(category, channel, c) is expected


def test_caps_count_the_customer_ledger_by_category_and_window() -> None:
    # GIVEN two service messages in the last 24h, one older, one marketing, one event action
    ledger = ContactLedger(
        customer=[
            entry(event_id="a", at=NOW - timedelta(hours=1)),
            entry(event_id="b", at=NOW - timedelta(hours=23)),
            entry(event_id="c", at=NOW - timedelta(hours=25)),
            entry(event_id="d", category="marketing"),
            entry(event_id="e", channel="event"),
        ]
    )
    # WHEN / THEN service is at its cap of 2, transactional is never capped
    assert exceeds_cap("service", POLICY, ledger, NOW)
    assert not exceeds_cap("transactional", POLICY, ledger, NOW)
    # AND one event action does not use the service cap
    assert not exceeds_cap(
        "service", POLICY, ContactLedger(customer=ledger.customer[:1] + ledger.customer[4:]), NOW
    )


def test_every_reason_in_order() -> None:
    # GIVEN conditions for each reason
    limited = rule(limit={"max": 1}, group="apology")
    fired = ContactLedger(order=[entry("r1", event_id="e0", group="apology")], customer=[])
    grouped = rule(group="apology")
    taken = ContactLedger(order=[entry("other", group="apology")])
    full = ContactLedger(customer=[entry(event_id="a"), entry(event_id="b")])
    night = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)  # 22:30 in Taipei
    # WHEN / THEN each gives its reason, the earliest check winning when several apply
    assert verdict(limited, ledger=fired).reason == RULE_LIMIT
    assert verdict(grouped, ledger=taken).reason == GROUP_EXCLUSION
    assert verdict(rule(), c=customer(email=None)).reason == NO_CONTACT
    assert verdict(rule(category="marketing"), c=customer(email=None, consent={})).reason == NO_CONTACT
    assert verdict(rule(category="marketing"), c=customer(consent={"marketing": False})).reason == NO_CONSENT
    assert verdict(rule(), ledger=full).reason == RATE_LIMIT
    deferred = verdict(rule(category="marketing"), now=night)
    assert (deferred.status, deferred.reason) == ("scheduled", QUIET_HOURS)
    assert deferred.send_at == datetime(2026, 3, 11, 1, 0, tzinfo=UTC)
    assert verdict(rule(category="service"), "sms", now=night).status == "scheduled"
    assert verdict(rule(category="service"), "email", now=night).status == "pending"
    assert verdict(rule(category="transactional"), "sms", now=night).status == "pending"


def test_no_customer_at_all_is_no_contact() -> None:
    # GIVEN an event for an order we know no customer of
    # WHEN / THEN an email cannot be addressed
    result = evaluate_action(
        rule(), "email", None, event_id="e1", ledger=ContactLedger(), policy=POLICY, now=NOW
    )
    assert (result.status, result.reason) == ("suppressed", NO_CONTACT)


def test_event_channel_skips_address_consent_caps_and_quiet_hours() -> None:
    # GIVEN no address, no consent, a full cap, at night
    c = customer(email=None, phone=None, consent={})
    full = ContactLedger(customer=[entry(event_id="a"), entry(event_id="b")])
    night = datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
    # WHEN an event action is checked
    result = verdict(rule(category="marketing"), "event", c=c, ledger=full, now=night)
    # THEN it goes out now
    assert (result.status, result.reason, result.send_at) == ("pending", None, night)


def test_event_channel_still_obeys_rule_limit_and_group() -> None:
    # GIVEN the group is taken
    taken = ContactLedger(order=[entry("other", group="apology")])
    # WHEN / THEN the event action is excluded too
    assert verdict(rule(group="apology"), "event", ledger=taken).reason == GROUP_EXCLUSION


def test_ledger_add_ignores_suppressed_and_feeds_both_scopes() -> None:
    # GIVEN an empty ledger
    ledger = ContactLedger()
    # WHEN a suppressed and a pending entry are added
    ledger.add(entry(status="suppressed"))
    ledger.add(entry(event_id="e9"))
    # THEN only the pending one counts, for the order and the customer
    assert [e.event_id for e in ledger.order] == ["e9"]
    assert [e.event_id for e in ledger.customer] == ["e9"]
