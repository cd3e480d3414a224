"""The ledger's retention: one window of contacts, plus what lifetime limits count, never more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from touchpoints.catalog import load_catalog
from touchpoints.journey import ContactEntry
from touchpoints.policy.retention import HISTORY_FACTS_WINDOW, Retention, retention_for

T0 = datetime(2026, 3, 1, tzinfo=UTC)
FIXTURE_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "decide" / "rules"


def _entry(rule: str, days: int, status: str = "pending") -> ContactEntry:
    return ContactEntry(
        action_id=f"{rule}-{days}-{status}",
        order_id="O",
        customer_id="C",
        rule_id=rule,
        event_id=f"e-{days}",
        channel="email",
        category="service",
        status=status,  # type: ignore[arg-type]
        at=T0 - timedelta(days=days),
    )


def test_a_lifetime_limited_rules_suppressed_entries_go_with_the_window() -> None:
    # GIVEN old entries of a lifetime-limited rule: one firing that counts, one suppressed (released
    # as suppressed: it never counts against the limit)
    retention = Retention(window=timedelta(days=30), keep_rules=frozenset({"once-ever"}))
    entries = [_entry("a", 0), _entry("once-ever", 90), _entry("once-ever", 60, "suppressed")]
    # WHEN pruned  THEN the firing that counts is kept for good, the suppressed one goes
    assert [e.action_id for e in retention.prune(entries)] == ["a-0-pending", "once-ever-90-pending"]


def test_the_window_covers_the_history_facts_even_without_a_week_long_cap(tmp_path: Path) -> None:
    # GIVEN a catalog whose longest cap, group and limit windows are a day at most
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "templates").symlink_to(FIXTURE_RULES / "templates")
    (rules / "policy.yaml").write_text(
        "caps: {service: {max: 2, per: 24h}}\nlocales: {default: en, required: [en]}\n", encoding="utf-8"
    )
    (rules / "confirm.yaml").write_text(
        "id: confirm\ndescription: d\non: OrderPlaced\nthen:\n  - {channel: email, template: note}\n"
        "category: transactional\n",
        encoding="utf-8",
    )
    # WHEN its retention is derived
    retention = retention_for(load_catalog(rules))
    # THEN the ledger still keeps the 7 days `history.customer.sent_7d` counts back, plus a day
    assert retention.window == HISTORY_FACTS_WINDOW + timedelta(days=1)
