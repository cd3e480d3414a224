"""DecisionRecord keeps docs/CONTRACT.md section 2's shape, and the audit never stores a full address."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from touchpoints.contract import DecisionRecord, mask_address

CONTRACT_FIELDS = {
    "action_id", "order_id", "customer_id", "rule_id", "trigger", "event_id", "channel", "template",
    "locale", "status", "reason", "decided_at", "send_at", "catalog_version", "address",
}  # fmt: skip


def _record(**changes: object) -> DecisionRecord:
    fields: dict[str, object] = {
        "action_id": "5f1c0a3e9b7d4e2f8a6c1b3d5e7f9a0b",
        "order_id": "A1001",
        "customer_id": "C1",
        "rule_id": "negative-review-apology",
        "trigger": "ReviewSubmitted",
        "event_id": "e-1",
        "channel": "email",
        "template": "review-apology",
        "locale": "zh-Hant",
        "status": "pending",
        "reason": None,
        "decided_at": datetime(2026, 3, 1, 18, 0, tzinfo=timezone(timedelta(hours=8))),
        "send_at": datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        "catalog_version": "sha256:abc",
        "address": "j***@example.com",
    }
    fields.update(changes)
    return DecisionRecord.model_validate(fields)


def test_json_dump_has_the_contract_fields_and_z_timestamps() -> None:
    # GIVEN a record decided in Taipei time
    record = _record()
    # WHEN it is dumped to JSON
    dumped = json.loads(record.model_dump_json())
    # THEN it has the contract's fields (plus the dispatcher's and the release's optional ones)
    # and UTC `Z` times
    assert set(dumped) >= CONTRACT_FIELDS
    assert set(dumped) - CONTRACT_FIELDS == {"detail_type", "message_id", "error", "released_at"}
    assert dumped["released_at"] is None
    assert dumped["decided_at"] == "2026-03-01T10:00:00Z"
    assert dumped["send_at"] == "2026-03-01T10:00:00Z"


def test_record_round_trips_through_json() -> None:
    # GIVEN a record as the store would read it back
    record = _record(status="suppressed", reason="quiet_hours")
    # WHEN it is dumped and validated again
    again = DecisionRecord.model_validate_json(record.model_dump_json())
    # THEN nothing is lost
    assert again == record


@pytest.mark.parametrize(
    ("field", "value"), [("status", "delivered"), ("reason", "too_late"), ("channel", "fax")]
)
def test_status_reason_and_channel_are_closed_sets(field: str, value: str) -> None:
    # GIVEN a value outside the contract
    # WHEN a record is built with it
    # THEN it is refused
    with pytest.raises(ValidationError):
        _record(**{field: value})


def test_event_channel_records_name_their_detail_type_not_a_template() -> None:
    # GIVEN an event-channel action
    record = _record(channel="event", template=None, detail_type="HelpdeskTicketRequested", address=None)
    # WHEN it is dumped
    dumped = json.loads(record.model_dump_json())
    # THEN the template is null and the detail-type says what goes on the bus
    assert dumped["template"] is None
    assert dumped["detail_type"] == "HelpdeskTicketRequested"


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("jane@example.com", "j***@example.com"),
        ("j@example.com", "j***@example.com"),
        ("+886912345678", "+886******678"),
        ("+14155550123", "+141*****123"),
        ("+4420", "+****"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_address_keeps_only_enough_to_recognise_it(address: str | None, masked: str | None) -> None:
    # GIVEN an email or phone number
    # WHEN it is masked
    # THEN only the documented parts remain
    assert mask_address(address) == masked
