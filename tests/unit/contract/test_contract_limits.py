"""Size limits of the contract: every id, text and list has a maximum, enforced when the event is parsed.

Just under and at a limit parse; one more is rejected with the field's path, the limit and the
length, never the value. The store's DynamoDB keys built from maximal ids fit DynamoDB's key
limits, and the largest event the contract accepts fits DynamoDB's 400 KB item as its marker and
as the journey state.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import envelope

from touchpoints.contract import InvalidEventError, parse_event
from touchpoints.contract.limits import (
    AMOUNT_MAX_LENGTH,
    EMAIL_MAX_LENGTH,
    ID_MAX_LENGTH,
    ITEMS_MAX,
    LABEL_MAX_LENGTH,
    LOCALE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    RESOURCE_MAX_LENGTH,
    RESOURCES_MAX,
    REVIEW_BODY_MAX_LENGTH,
    SKUS_MAX,
    SOURCE_MAX_LENGTH,
    TIMEZONE_MAX_LENGTH,
    URL_MAX_LENGTH,
)

REPO = Path(__file__).resolve().parents[3]
EVENTS = REPO / "events"

# DynamoDB's limits, in bytes of UTF-8 (what DynamoDB counts).
PARTITION_KEY_MAX_BYTES = 2048
SORT_KEY_MAX_BYTES = 1024
ITEM_MAX_BYTES = 400 * 1024

CJK = "訂"  # 3 bytes of UTF-8, 6 once escaped (\\u8a02) in JSON
EMOJI = "📦"  # 4 bytes of UTF-8: the most a character takes

SAMPLES = {
    "OrderPlaced": "happy-path/01-order-placed.json",
    "OrderCancelled": "cancelled/03-order-cancelled.json",
    "PaymentSucceeded": "happy-path/02-payment-succeeded.json",
    "PaymentFailed": "payment-abandoned/02-payment-failed.json",
    "ShipmentDispatched": "happy-path/03-shipment-dispatched.json",
    "ShipmentException": "damaged-parcel/04-shipment-exception.json",
    "ShipmentDelivered": "happy-path/04-shipment-delivered.json",
    "ReturnRequested": "damaged-parcel/05-return-requested.json",
    "ReviewSubmitted": "happy-path/05-review-submitted.json",
}


def _sample(detail_type: str) -> dict[str, Any]:
    if detail_type == "TimerFired":
        detail = {
            "rule_id": "payment-retry-reminder",
            "trigger_event_id": "28cd893b-969f-5600-9bc4-1c29d3a67a4b",
            "due_at": "2026-03-03T19:05:00Z",
        }
        return envelope(
            "TimerFired", "2026-03-03T19:05:00Z", detail, event_id="tp-0123456789abcdef", order_id="A1001"
        )
    data: dict[str, Any] = json.loads((EVENTS / SAMPLES[detail_type]).read_text(encoding="utf-8"))
    return data


def _set(event: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    *parents, last = path.split(".")
    target: Any = changed
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return changed


def _get(event: Mapping[str, Any], path: str) -> Any:
    target: Any = event
    for part in path.split("."):
        target = target[int(part)] if isinstance(target, list) else target[part]
    return target


def _text(length: int) -> str:
    return CJK * length


def _email(length: int) -> str:
    domain = "@example.com"
    return "a" * (length - len(domain)) + domain


def _locale(length: int) -> str:
    """A well-formed BCP 47 tag of exactly `length` characters (subtags of 2-8 characters)."""
    parts, left = ["zh"], length - 2
    while left > 9:
        step = 9 if left - 9 >= 3 else 5
        parts.append("x" * (step - 1))
        left -= step
    parts.append("y" * (left - 1))
    return "-".join(parts)


def _amount(length: int) -> str:
    return "9" * length


# (detail-type, path, limit, value of a given length, is the field personal data)
TEXT_LIMITS: list[tuple[str, str, int, Any, bool]] = [
    ("OrderPlaced", "id", ID_MAX_LENGTH, _text, False),
    ("OrderPlaced", "source", SOURCE_MAX_LENGTH, _text, False),
    ("OrderPlaced", "version", LABEL_MAX_LENGTH, _text, False),
    ("OrderPlaced", "account", LABEL_MAX_LENGTH, _text, False),
    ("OrderPlaced", "region", LABEL_MAX_LENGTH, _text, False),
    ("OrderPlaced", "detail.order_id", ID_MAX_LENGTH, _text, False),
    ("OrderPlaced", "detail.customer.id", ID_MAX_LENGTH, _text, False),
    ("OrderPlaced", "detail.customer.name", NAME_MAX_LENGTH, _text, True),
    ("OrderPlaced", "detail.customer.email", EMAIL_MAX_LENGTH, _email, True),
    ("OrderPlaced", "detail.customer.locale", LOCALE_MAX_LENGTH, _locale, False),
    ("OrderPlaced", "detail.items.0.sku", ID_MAX_LENGTH, _text, False),
    ("OrderPlaced", "detail.items.0.name", NAME_MAX_LENGTH, _text, True),
    ("OrderPlaced", "detail.total.amount", AMOUNT_MAX_LENGTH, _amount, False),
    ("OrderPlaced", "detail.sales_channel", LABEL_MAX_LENGTH, _text, False),
    ("OrderCancelled", "detail.cancelled_by", LABEL_MAX_LENGTH, _text, False),
    ("PaymentSucceeded", "detail.payment_id", ID_MAX_LENGTH, _text, False),
    ("PaymentSucceeded", "detail.method", LABEL_MAX_LENGTH, _text, False),
    ("PaymentFailed", "detail.retry_url", URL_MAX_LENGTH, _text, True),
    ("ShipmentDispatched", "detail.shipment_id", ID_MAX_LENGTH, _text, False),
    ("ShipmentDispatched", "detail.carrier", LABEL_MAX_LENGTH, _text, False),
    ("ShipmentDispatched", "detail.tracking_number", ID_MAX_LENGTH, _text, False),
    ("ShipmentDispatched", "detail.tracking_url", URL_MAX_LENGTH, _text, True),
    ("ShipmentException", "detail.note", NOTE_MAX_LENGTH, _text, True),
    ("ShipmentDelivered", "detail.signed_by", NAME_MAX_LENGTH, _text, True),
    ("ReturnRequested", "detail.return_id", ID_MAX_LENGTH, _text, False),
    ("ReturnRequested", "detail.skus.0", ID_MAX_LENGTH, _text, False),
    ("ReviewSubmitted", "detail.review_id", ID_MAX_LENGTH, _text, False),
    ("ReviewSubmitted", "detail.title", NAME_MAX_LENGTH, _text, True),
    ("ReviewSubmitted", "detail.body", REVIEW_BODY_MAX_LENGTH, _text, True),
    ("ReviewSubmitted", "detail.sku", ID_MAX_LENGTH, _text, False),
    ("TimerFired", "detail.rule_id", ID_MAX_LENGTH, _text, False),
    ("TimerFired", "detail.trigger_event_id", ID_MAX_LENGTH, _text, False),
]

# (detail-type, path of the list, limit, one element)
LIST_LIMITS: list[tuple[str, str, int, Any]] = [
    ("OrderPlaced", "detail.items", ITEMS_MAX, None),  # None: copies of the sample's first line
    ("ReturnRequested", "detail.skus", SKUS_MAX, "TEAPOT-YIXING"),
    ("OrderPlaced", "resources", RESOURCES_MAX, "arn:aws:states:us-east-1:123456789012:execution:x"),
]


def _text_case_id(case: tuple[str, str, int, Any, bool]) -> str:
    return f"{case[0]}:{case[1]}"


@pytest.mark.parametrize("case", TEXT_LIMITS, ids=_text_case_id)
@pytest.mark.parametrize("under", [1, 0], ids=["just-under", "at"])
def test_a_text_just_under_or_at_its_limit_parses(case: tuple[str, str, int, Any, bool], under: int) -> None:
    # GIVEN a valid event whose field is as long as its limit allows (or one character shorter)
    detail_type, path, limit, make, _ = case
    value = make(limit - under)
    event = _set(_sample(detail_type), path, value)

    # WHEN it is parsed
    parsed = parse_event(event)

    # THEN it is accepted and the value kept as sent
    assert _get(parsed.to_dict(), path) == value


@pytest.mark.parametrize("case", TEXT_LIMITS, ids=_text_case_id)
def test_a_text_one_over_its_limit_is_rejected_naming_the_field_and_limit_not_the_value(
    case: tuple[str, str, int, Any, bool],
) -> None:
    # GIVEN a valid event whose field is one character over its limit
    detail_type, path, limit, make, is_personal = case
    value = make(limit + 1)
    event = _set(_sample(detail_type), path, value)

    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(event)

    # THEN the one problem names the field and the limit
    problems = [str(problem) for problem in caught.value.problems]
    assert len(problems) == 1
    field, message = problems[0].split(": ", 1)
    assert field == path
    assert f"at most {limit} characters" in message
    # AND the length is said, except for personal data (even its length stays out of the logs)
    if is_personal:
        assert "got" not in message
    else:
        assert message.endswith(f"got {limit + 1} characters")
    # AND the value itself appears nowhere (not even truncated)
    assert value[:20] not in str(caught.value)


@pytest.mark.parametrize("case", LIST_LIMITS, ids=lambda case: f"{case[0]}:{case[1]}")
@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["just-under", "at", "over"])
def test_a_list_is_bounded(case: tuple[str, str, int, Any], delta: int) -> None:
    # GIVEN a valid event whose list has limit-1, limit or limit+1 elements
    detail_type, path, limit, element = case
    base = _sample(detail_type)
    one = element if element is not None else _get(base, path)[0]
    event = _set(base, path, [one] * (limit + delta))

    # WHEN it is parsed
    if delta <= 0:
        # THEN up to the limit it is accepted
        assert len(_get(parse_event(event).to_dict(), path)) == limit + delta
        return
    with pytest.raises(InvalidEventError) as caught:
        parse_event(event)
    # THEN one over is rejected with the limit and the count
    assert [str(p) for p in caught.value.problems] == [
        f"{path}: must have at most {limit} item(s), got {limit + 1}"
    ]


def test_a_resource_arn_is_bounded() -> None:
    # GIVEN envelopes whose one resource is at and one over the length of the longest ARN
    base = _sample("OrderPlaced")
    at = _set(base, "resources", ["a" * RESOURCE_MAX_LENGTH])
    over = _set(base, "resources", ["a" * (RESOURCE_MAX_LENGTH + 1)])

    # WHEN they are parsed THEN the first is accepted and the second rejected at its index
    assert parse_event(at).resources == ["a" * RESOURCE_MAX_LENGTH]
    with pytest.raises(InvalidEventError) as caught:
        parse_event(over)
    assert [str(p) for p in caught.value.problems] == [
        f"resources.0: must be at most {RESOURCE_MAX_LENGTH} characters, "
        f"got {RESOURCE_MAX_LENGTH + 1} characters"
    ]


@pytest.mark.parametrize(
    ("amount", "got"),
    [
        (10**40, "a longer number"),  # a JSON integer: refused before it is turned into text
        (1e300, f"{301} characters"),  # a finite float whose plain digits are far too many
    ],
)
def test_an_amount_sent_as_a_huge_number_is_rejected(amount: float, got: str) -> None:
    # GIVEN an order whose total is a JSON number too long for a decimal amount
    event = _set(_sample("OrderPlaced"), "detail.total.amount", amount)

    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(event)

    # THEN the amount is rejected with the limit
    assert [str(p) for p in caught.value.problems] == [
        f"detail.total.amount: must be a decimal amount of at most {AMOUNT_MAX_LENGTH} characters, got {got}"
    ]


def test_a_time_zone_name_over_its_limit_is_rejected_without_a_lookup() -> None:
    # GIVEN a customer whose time zone is longer than any IANA name can be
    event = _set(_sample("OrderPlaced"), "detail.customer.timezone", "Europe/" + "x" * TIMEZONE_MAX_LENGTH)

    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(event)

    # THEN the problem says so, with the length, not the value
    assert [str(p) for p in caught.value.problems] == [
        f"detail.customer.timezone: must be an IANA time zone of at most {TIMEZONE_MAX_LENGTH} "
        f"characters, got {TIMEZONE_MAX_LENGTH + 7} characters"
    ]


def test_an_oversized_event_id_is_not_repeated_in_the_message() -> None:
    # GIVEN an event whose id is 300,000 characters long
    event = _set(_sample("OrderPlaced"), "id", "x" * 300_000)

    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(event)

    # THEN the error has no event id to name, and its message stays short
    assert caught.value.event_id is None
    assert str(caught.value) == (
        "event without id (OrderPlaced): id: must be at most 128 characters, got 300000 characters"
    )


def test_an_oversized_unknown_detail_type_is_not_repeated_in_the_head_of_the_message() -> None:
    # GIVEN an event whose detail-type is 300,000 characters long
    event = _set(_sample("OrderPlaced"), "detail-type", "x" * 300_000)

    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(event)

    # THEN the error names no detail-type and the message stays short
    assert caught.value.detail_type is None
    assert len(str(caught.value)) < 1000


def test_a_json_integer_too_long_for_python_is_a_readable_rejection() -> None:
    # GIVEN an event body with a 5000-digit number (Python refuses to convert it to an int)
    body = json.dumps(_sample("OrderPlaced")).replace('"amount": "89.80"', '"amount": ' + "9" * 5000)

    # WHEN it is parsed
    with pytest.raises(InvalidEventError) as caught:
        parse_event(body)

    # THEN it is the contract's error, not a ValueError, naming the field and how long the number is
    (problem,) = caught.value.problems
    assert problem.field == "detail.total.amount"
    assert problem.message.endswith("got a number of 5000 digits")


# ------------------------------------------------------------------------------- DynamoDB limits


class _RecordingDynamoDB:
    """Just enough of a DynamoDB client for the store's load and commit: a dict of items, every write kept."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.written: list[dict[str, Any]] = []

    def get_item(self, *, TableName: str, Key: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        item = self.items.get((Key["pk"]["S"], Key["sk"]["S"]))
        return {"Item": item} if item is not None else {}

    def batch_get_item(self, *, RequestItems: Mapping[str, Any]) -> dict[str, Any]:
        responses: dict[str, list[dict[str, Any]]] = {}
        for table, request in RequestItems.items():
            found = [self.items.get((key["pk"]["S"], key["sk"]["S"])) for key in request["Keys"]]
            responses[table] = [item for item in found if item is not None]
        return {"Responses": responses}

    def transact_write_items(self, *, TransactItems: list[Mapping[str, Any]]) -> dict[str, Any]:
        for entry in TransactItems:
            if "Put" in entry:
                item = entry["Put"]["Item"]
                self.items[(item["pk"]["S"], item["sk"]["S"])] = item
                self.written.append(item)
        return {}


def _size(value: Mapping[str, Any]) -> int:
    """DynamoDB's size of an attribute value: UTF-8 bytes of strings, about that of numbers, 1 otherwise."""
    if "S" in value:
        return len(value["S"].encode("utf-8"))
    if "N" in value:
        return len(value["N"])
    return 1


def _item_size(item: Mapping[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + _size(value) for name, value in item.items())


_KEY = re.compile(r"(gsi\d+)?(pk|sk)")


def _check_keys(item: Mapping[str, Any]) -> int:
    """Every key attribute of the table and its indexes (`pk`, `sk`, `gsi<n>pk`, `gsi<n>sk`) within limits."""
    checked = 0
    for name, value in item.items():
        found = _KEY.fullmatch(name)
        if found is None:
            continue
        limit = PARTITION_KEY_MAX_BYTES if found.group(2) == "pk" else SORT_KEY_MAX_BYTES
        assert _size(value) <= limit, f"{name} of {_size(value)} bytes"
        checked += 1
    return checked


def _maximal_ids(event: dict[str, Any], n: int, char: str) -> dict[str, Any]:
    """The event with every id at ID_MAX_LENGTH of `char` (the event id made unique by its `n`)."""
    changed = copy.deepcopy(event)
    changed["id"] = f"{n:03d}" + char * (ID_MAX_LENGTH - 3)
    detail = changed["detail"]
    detail["order_id"] = char * ID_MAX_LENGTH
    if "customer" in detail:
        detail["customer"]["id"] = char * ID_MAX_LENGTH
    for name in ("payment_id", "shipment_id", "tracking_number", "return_id", "review_id", "sku"):
        if name in detail:
            detail[name] = char * ID_MAX_LENGTH
    for item in detail.get("items", []):
        item["sku"] = char * ID_MAX_LENGTH
    return changed


@pytest.mark.parametrize("char", [CJK, EMOJI], ids=["3-byte", "4-byte"])
def test_every_key_the_store_builds_from_maximal_ids_fits_dynamodb(char: str) -> None:
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore
    from touchpoints.adapters.memory import InMemoryTimerService
    from touchpoints.catalog import load_catalog
    from touchpoints.service import process_event

    # GIVEN the happy path of an order whose every id (event, order, customer, payment, shipment,
    # review, sku) is as long as the contract allows, in characters of `char`
    client = _RecordingDynamoDB()
    store = DynamoDBDecisionStore("touchpoints", client=client)  # type: ignore[arg-type]
    timers = InMemoryTimerService()
    catalog = load_catalog(REPO / "rules", check_templates=False)
    folder = EVENTS / "happy-path"
    samples = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]
    events = [parse_event(_maximal_ids(sample, n, char)) for n, sample in enumerate(samples)]

    # WHEN the store processes them, then every timer they set (TimerFired carries the ids too)
    for event in events:
        process_event(event, catalog=catalog, store=store, timers=timers, now=event.time)
    fired = 0
    for timer in timers.due(events[-1].time + timedelta(days=60)):
        event = parse_event(timer.to_event())
        process_event(event, catalog=catalog, store=store, timers=timers, now=timer.due_at)
        fired += 1

    # THEN markers, states, decision records and the ledger were written
    kinds = {str(item["sk"]["S"]).split("#", 1)[0] for item in client.written}
    assert {"EVENT", "STATE", "ACTION", "CONTACTS"} <= kinds
    assert fired >= 1
    assert any("gsi1pk" in item for item in client.written)
    # AND every key of every item (table and both indexes) is within DynamoDB's limits
    for item in client.written:
        _check_keys(item)
        assert _item_size(item) <= ITEM_MAX_BYTES


@pytest.mark.parametrize("char", [CJK, EMOJI], ids=["3-byte", "4-byte"])
def test_a_decision_record_of_a_maximal_rule_id_has_index_keys_within_limits(char: str) -> None:
    from touchpoints.adapters.dynamodb import ActionRow
    from touchpoints.contract import DecisionRecord

    # GIVEN a decision record whose rule, order and customer ids are as long as the contract allows
    # (a TimerFired's rule_id is bounded; a catalog's rule ids should be no longer)
    moment = datetime(2026, 3, 2, 19, 5, 0, 123456, tzinfo=UTC)
    record = DecisionRecord(
        action_id="0" * 32,
        order_id=char * ID_MAX_LENGTH,
        customer_id=char * ID_MAX_LENGTH,
        rule_id=char * ID_MAX_LENGTH,
        trigger="OrderPlaced",
        event_id=char * ID_MAX_LENGTH,
        channel="email",
        template="order-confirmation",
        locale="en",
        status="pending",
        reason=None,
        decided_at=moment,
        send_at=moment,
        catalog_version="sha256:" + "0" * 64,
        address="j***@example.com",
    )

    # WHEN the store builds its row
    row = ActionRow.of(record, f"ACTION#2026-03-02T19:05:00Z#{record.action_id}", timedelta(days=400))

    # THEN its table and index keys (pk, sk and both index keys) are within DynamoDB's limits
    assert _check_keys(row.to_item()) == 6


def _largest_order(char: str) -> dict[str, Any]:
    """The largest OrderPlaced the contract accepts: every list full, every text at its limit."""
    event = _maximal_ids(_sample("OrderPlaced"), 0, char)
    event["source"] = char * SOURCE_MAX_LENGTH
    for name in ("version", "account", "region"):
        event[name] = char * LABEL_MAX_LENGTH
    event["resources"] = [char * RESOURCE_MAX_LENGTH] * RESOURCES_MAX
    detail = event["detail"]
    detail["sales_channel"] = char * LABEL_MAX_LENGTH
    detail["total"]["amount"] = "9" * AMOUNT_MAX_LENGTH
    customer = detail["customer"]
    customer["name"] = char * NAME_MAX_LENGTH
    customer["email"] = char * (EMAIL_MAX_LENGTH - len("@example.com")) + "@example.com"
    customer["locale"] = _locale(LOCALE_MAX_LENGTH)
    line = {
        "name": char * NAME_MAX_LENGTH,
        "quantity": 2**62,
        "unit_price": {"amount": "9" * AMOUNT_MAX_LENGTH, "currency": "USD"},
    }
    detail["items"] = [{"sku": f"{n:03d}" + char * (ID_MAX_LENGTH - 3), **line} for n in range(ITEMS_MAX)]
    return event


@pytest.mark.parametrize("char", [CJK, EMOJI], ids=["3-byte Chinese text", "4-byte emoji"])
def test_the_largest_order_the_contract_accepts_fits_in_a_dynamodb_item(char: str) -> None:
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore
    from touchpoints.adapters.memory import InMemoryTimerService
    from touchpoints.catalog import load_catalog
    from touchpoints.service import process_event

    # GIVEN the largest OrderPlaced the contract accepts, every text in 3- or 4-byte characters
    # (written as UTF-8: escaped, a 4-byte character would take 12 bytes)
    event = parse_event(_largest_order(char))
    client = _RecordingDynamoDB()
    store = DynamoDBDecisionStore("touchpoints", client=client)  # type: ignore[arg-type]
    catalog = load_catalog(REPO / "rules", check_templates=False)

    # WHEN the store writes it
    process_event(event, catalog=catalog, store=store, timers=InMemoryTimerService(), now=event.time)

    # THEN every item it wrote, the marker (the envelope) and the journey state included, fits in 400 KB
    sizes = {str(item["sk"]["S"]).split("#", 1)[0]: _item_size(item) for item in client.written}
    assert max(_item_size(item) for item in client.written) <= ITEM_MAX_BYTES
    assert sizes["EVENT"] <= ITEM_MAX_BYTES
    # AND the state has room to spare for what the journey gathers later (shipments, reviews, returns)
    assert sizes["STATE"] <= ITEM_MAX_BYTES // 2
