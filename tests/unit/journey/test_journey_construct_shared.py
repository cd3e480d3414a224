"""Constructed models share one complete fields-set per class, and nothing can tell them apart for it."""

from __future__ import annotations

from datetime import UTC, datetime

from touchpoints.construct import construct
from touchpoints.contract import DecisionRecord
from touchpoints.journey import ContactEntry


def _record(action_id: str) -> DecisionRecord:
    moment = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    return construct(
        DecisionRecord,
        {
            "action_id": action_id,
            "order_id": "A1",
            "customer_id": "C1",
            "rule_id": "order-confirmation",
            "trigger": "OrderPlaced",
            "event_id": "e1",
            "channel": "email",
            "template": "order-confirmation",
            "locale": "en",
            "status": "pending",
            "reason": None,
            "decided_at": moment,
            "send_at": moment,
            "released_at": None,
            "catalog_version": "sha256:abc",
            "address": "j***@example.com",
            "detail_type": None,
            "message_id": None,
            "error": None,
        },
    )


def test_complete_models_share_their_fields_set_and_an_update_leaves_it_whole() -> None:
    # GIVEN two records built from every field
    first, second = _record("a" * 32), _record("b" * 32)
    # WHEN one is copied with changed fields, as the store does on dispatch
    sent = first.model_copy(update={"status": "sent", "message_id": "m-1"})
    # THEN both hold every field name, in one set, which the update did not change
    assert first.model_fields_set == set(DecisionRecord.model_fields)
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__
    assert sent.model_fields_set == set(DecisionRecord.model_fields)
    assert second.model_fields_set == set(DecisionRecord.model_fields)
    assert (sent.status, first.status, second.status) == ("sent", "pending", "pending")


def test_a_partial_model_gets_a_fields_set_of_its_own() -> None:
    # GIVEN a class whose complete instances share a set
    complete = construct(ContactEntry, dict.fromkeys(ContactEntry.model_fields))
    # WHEN an instance names only some fields
    partial = construct(ContactEntry, {"action_id": "a", "order_id": "A1"})
    # THEN its fields set is exactly those names, separate from the shared one
    assert partial.model_fields_set == {"action_id", "order_id"}
    assert partial.__pydantic_fields_set__ is not complete.__pydantic_fields_set__
    assert complete.model_fields_set == set(ContactEntry.model_fields)
