"""The facts schema: lookups rule validation relies on, and the generated facts table."""

from __future__ import annotations

from pathlib import Path

import pytest

from touchpoints.contract.facts import (
    FACTS_SCHEMA,
    facts_table_markdown,
    is_fact_path,
    suggest_fact_path,
    timestamp_fact_paths,
)

FACTS_TABLE = Path(__file__).resolve().parents[3] / "docs" / "facts-table.md"


@pytest.mark.parametrize(
    "path",
    [
        "order.promised_ship_by",
        "event.new_estimate",
        "customer.consent.sms",
        "history.rules.late-shipment-notice.count",
        "history.groups.delay-apology.last_at",
        "order.shipments.0.carrier",
        "order.shipments.1.exceptions.0.kind",
        "event.items.0.unit_price.amount",
        "now",
    ],
)
def test_known_paths_including_wildcards_and_indexes(path: str) -> None:
    # GIVEN a path a rule may read
    # WHEN it is checked
    # THEN it is a fact
    assert is_fact_path(path)


@pytest.mark.parametrize(
    "path",
    ["order.promised_shipping", "order", "orders.status", "history.rules.x.total", "event.items.0.price", ""],
)
def test_unknown_paths(path: str) -> None:
    # GIVEN a path that is not a leaf or object the facts have
    # WHEN it is checked
    # THEN it is not a fact (except whole objects such as `order`)
    assert is_fact_path(path) is (path == "order")


def test_event_paths_can_be_checked_against_a_rules_triggers() -> None:
    # GIVEN event paths carried by some detail-types only
    # WHEN checked for the triggers of a rule
    # THEN they are facts only for the detail-types that carry them; shared ones for all
    assert is_fact_path("event.rating", ["ReviewSubmitted"])
    assert not is_fact_path("event.rating", ["ShipmentDelayed"])
    assert is_fact_path("event.rating", ["ShipmentDelayed", "ReviewSubmitted"])
    assert is_fact_path("event.order_id", ["ShipmentDelayed"])
    assert is_fact_path("event.delay_hours_vs_promise", ["ShipmentDelayed"])


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("order.promised_deliver_by", "order.promised_delivery_by"),
        ("customer.teir", "customer.tier"),
        ("event.ratng", "event.rating"),
        ("history.rules.late-shipment-notice.cont", "history.rules.late-shipment-notice.count"),
        ("order.shipments.0.carier", "order.shipments.0.carrier"),
    ],
)
def test_typos_get_a_suggestion(typo: str, suggestion: str) -> None:
    # GIVEN a misspelt path
    # WHEN a suggestion is asked for
    # THEN the intended path is suggested
    assert suggest_fact_path(typo) == suggestion


def test_nonsense_gets_no_suggestion() -> None:
    # GIVEN a path close to nothing
    # WHEN a suggestion is asked for
    # THEN there is none
    assert suggest_fact_path("zzzz.qqqq.xxxx") is None


def test_timestamp_paths_are_concrete_timestamps() -> None:
    # GIVEN the timestamp facts `at:` may name
    paths = timestamp_fact_paths()
    # WHEN we inspect them
    # THEN they are the concrete timestamp facts and nothing else
    assert {
        "order.promised_ship_by",
        "order.promised_delivery_by",
        "order.delivered_at",
        "event.new_estimate",
    } <= paths
    assert all(FACTS_SCHEMA[p].type == "timestamp" and "*" not in p for p in paths)
    assert "order.status" not in paths


def test_every_fact_has_a_type_and_a_description() -> None:
    # GIVEN the schema
    # WHEN we check each entry
    # THEN each has a known type and a description
    for path, field in FACTS_SCHEMA.items():
        assert field.path == path
        assert field.type in {"string", "number", "boolean", "timestamp", "object", "array"}
        assert field.description.strip()


def test_facts_table_is_up_to_date() -> None:
    # GIVEN the committed docs/facts-table.md
    committed = FACTS_TABLE.read_text(encoding="utf-8")
    # WHEN the table is generated again
    generated = facts_table_markdown()
    # THEN they match (regenerate with:
    # python -c "from touchpoints.contract.facts import facts_table_markdown; ...")
    assert committed == generated
    assert "| `order.hours_late_to_ship` | number |" in generated
