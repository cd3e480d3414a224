"""An id too long for the contract fails alone, at parse time, with a readable reason and no DynamoDB call.

Before the contract bounded ids, such a record passed parsing, failed in DynamoDB (key too large),
was retried and dead-lettered with a store error. Now it is that record's batch item failure on its
first delivery, the logged reason names the field and the limit, and DynamoDB never sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from tests.support.events import envelope
from tests.support.pipeline import Pipeline
from tests.support.rejections import Rejections, collect_rejections
from tests.support.streams import event_time, generate_stream

from touchpoints.contract.limits import ID_MAX_LENGTH

# (detail-type of the event to break, dotted path of the id) — every id the store or a timer uses
ID_FIELDS = [
    ("OrderPlaced", "id"),
    ("OrderPlaced", "detail.order_id"),
    ("OrderPlaced", "detail.customer.id"),
    ("OrderPlaced", "detail.items.0.sku"),
    ("PaymentSucceeded", "detail.payment_id"),
    ("ShipmentDispatched", "detail.shipment_id"),
    ("ShipmentDispatched", "detail.tracking_number"),
    ("TimerFired", "detail.rule_id"),
    ("TimerFired", "detail.trigger_event_id"),
]
MARK = "OVERSIZED-"


@pytest.fixture
def rejections() -> Iterator[Rejections]:
    with collect_rejections() as collector:
        yield collector


class _DynamoDBRequests:
    """Every request the store's DynamoDB client sends (botocore's own event hook: nothing is mocked)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sent: list[tuple[str, str]] = []

    def __enter__(self) -> _DynamoDBRequests:
        self.client.meta.events.register("before-call.dynamodb", self._seen, unique_id="h2-requests")
        return self

    def __exit__(self, *_: object) -> None:
        self.client.meta.events.unregister("before-call.dynamodb", unique_id="h2-requests")

    def _seen(self, model: Any, params: Any, **_: Any) -> None:
        self.sent.append((model.name, json.dumps(params, default=str)))


def _timer_fired(order_id: str, trigger_event_id: str) -> dict[str, Any]:
    detail = {
        "rule_id": "payment-retry-reminder",
        "trigger_event_id": trigger_event_id,
        "due_at": "2026-03-03T10:00:00Z",
    }
    return envelope(
        "TimerFired", "2026-03-03T10:00:00Z", detail, event_id="tp-" + "0" * 48, order_id=order_id
    )


def _oversized(events: list[dict[str, Any]], detail_type: str, path: str) -> dict[str, Any]:
    """A valid event of `detail_type` whose id at `path` is one character over the contract's limit."""
    if detail_type == "TimerFired":
        base = events[0]
        event = _timer_fired(base["detail"]["order_id"], base["id"])
    else:
        event = json.loads(json.dumps(next(e for e in events if e["detail-type"] == detail_type)))
    *parents, last = path.split(".")
    target: Any = event
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[last] = MARK + "x" * (ID_MAX_LENGTH + 1 - len(MARK))
    return event


def _store_client(pipeline: Pipeline) -> Any:
    return pipeline.runtime.store.client  # type: ignore[attr-defined]


def test_a_batch_of_oversized_ids_fails_at_parse_time_without_one_dynamodb_call(
    make_pipeline: Callable[..., Pipeline], rejections: Rejections
) -> None:
    # GIVEN a fresh stack and one event per id field, each id one character over the limit
    pipeline = make_pipeline()
    events = generate_stream(3, seed=71).events
    bad = [_oversized(events, detail_type, path) for detail_type, path in ID_FIELDS]
    pipeline.now = max(event_time(e) for e in events) + timedelta(minutes=1)

    # WHEN they are delivered once, in one batch
    with _DynamoDBRequests(_store_client(pipeline)) as requests:
        reports = pipeline.deliver([json.dumps(e) for e in bad], batch_size=len(bad), receives=1)

    # THEN every record was rejected on this first delivery and dead-lettered (none left to retry)
    assert len(reports) == 1
    assert reports[0].failed == []
    assert sorted(m["body"] for m in pipeline.events_dead_letters()) == sorted(json.dumps(e) for e in bad)
    # AND not one DynamoDB request was made for any of them
    assert requests.sent == []
    # AND each logged reason names its field and the limit, and never the id itself
    for message_id, (_, path) in zip(reports[0].message_ids, ID_FIELDS, strict=True):
        reason = rejections.reasons[message_id]
        assert (
            f"{path}: must be at most {ID_MAX_LENGTH} characters, got {ID_MAX_LENGTH + 1} characters"
            in reason
        )
        assert MARK not in reason


def test_an_oversized_id_among_good_events_is_rejected_alone_and_only_good_events_reach_dynamodb(
    make_pipeline: Callable[..., Pipeline], rejections: Rejections
) -> None:
    # GIVEN a batch mixing the events of two orders with an oversized order_id and event id
    pipeline = make_pipeline()
    events = generate_stream(2, seed=72).events
    placed = [e for e in events if e["detail-type"] == "OrderPlaced"]
    good = placed[:2]
    bad = [_oversized(events, "OrderPlaced", "detail.order_id"), _oversized(events, "OrderPlaced", "id")]
    bodies = [json.dumps(bad[0]), json.dumps(good[0]), json.dumps(bad[1]), json.dumps(good[1])]
    pipeline.now = max(event_time(e) for e in events) + timedelta(minutes=1)

    # WHEN the batch is delivered once
    with _DynamoDBRequests(_store_client(pipeline)) as requests:
        reports = pipeline.deliver(bodies, batch_size=len(bodies), receives=1)

    # THEN exactly the two oversized records were dead-lettered, and nothing failed
    ids = reports[0].message_ids
    assert reports[0].failed == []
    assert sorted(m["body"] for m in pipeline.events_dead_letters()) == sorted([bodies[0], bodies[2]])
    assert all(MARK not in rejections.reasons[mid] for mid in (ids[0], ids[2]))
    # AND the good events were processed (their markers are in the table)
    markers = {str(row["sk"]).removeprefix("EVENT#") for row in pipeline.items("EVENT#")}
    assert markers == {e["id"] for e in good}
    # AND DynamoDB saw requests, none of them carrying an oversized id
    assert requests.sent
    assert all(MARK not in params for _, params in requests.sent)
