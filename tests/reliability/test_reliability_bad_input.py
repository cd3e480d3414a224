"""Garbage in the queue never crashes a batch: each bad record fails alone, with a reason; good ones go on."""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.malformed import MALFORMATIONS, malformed_body
from tests.support.pipeline import Pipeline
from tests.support.rejections import Rejections, collect_rejections
from tests.support.streams import event_time, generate_stream

pytestmark = pytest.mark.slow

# 400 x 25 = 10,000 malformed records (TOUCHPOINTS_RELIABILITY_BAD_BATCHES=20 for a quick local look).
BATCHES = int(os.environ.get("TOUCHPOINTS_RELIABILITY_BAD_BATCHES", "400"))
BAD_PER_BATCH = 25
GOOD_PER_BATCH = 1


@pytest.fixture
def rejections() -> Iterator[Rejections]:
    with collect_rejections() as collector:
        yield collector


def test_ten_thousand_malformed_records_mixed_into_good_batches(
    make_pipeline: Callable[..., Pipeline], rejections: Rejections
) -> None:
    # GIVEN a fresh stack and a pool of valid events (one per detail-type as the base to break)
    pipeline = make_pipeline()
    good_pool = generate_stream(100, seed=61).events
    bases = {e["detail-type"]: e for e in good_pool}
    assert len(bases) == 11  # every platform detail-type
    good = iter(good_pool)
    tally: Counter[str] = Counter()
    delivered_good: list[str] = []

    @settings(
        max_examples=BATCHES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(
        bad=st.lists(malformed_body(list(bases.values())), min_size=BAD_PER_BATCH, max_size=BAD_PER_BATCH),
        seed=st.integers(0, 2**16),
    )
    def one_batch(bad: list[tuple[str, str]], seed: int) -> None:
        goods = [next(good) for _ in range(GOOD_PER_BATCH)]
        pipeline.now = max(pipeline.now, max(event_time(e) for e in goods) + timedelta(minutes=1))
        bodies: list[tuple[str, str]] = [(kind, body) for kind, body in bad] + [
            ("good", json.dumps(e)) for e in goods
        ]
        random.Random(seed).shuffle(bodies)

        # WHEN the mixed batches are delivered (once: this test looks at the first answer)
        reports = pipeline.deliver([body for _, body in bodies], receives=1)

        # THEN exactly the malformed records are reported as failures
        ids = [mid for report in reports for mid in report.message_ids]
        expected_failed = {mid for mid, (kind, _) in zip(ids, bodies, strict=True) if kind != "good"}
        failed = {mid for report in reports for mid in report.failed}
        assert failed == expected_failed
        # AND each of them was logged with a readable reason
        for mid in expected_failed:
            assert rejections.reasons.get(mid), f"no reason logged for {mid}"
        tally.update(kind for kind, _ in bad)
        tally["bad"] += len(bad)
        delivered_good.extend(e["id"] for e in goods)

    one_batch()

    # THEN 10,000 malformed records of every kind went through without one crash
    assert tally["bad"] >= BATCHES * BAD_PER_BATCH
    assert set(MALFORMATIONS) <= set(tally)
    # AND every good record was processed: its event marker is in the table, exactly once
    markers = Counter(str(row["sk"]).removeprefix("EVENT#") for row in pipeline.items("EVENT#"))
    assert set(markers) == set(delivered_good)
    assert all(count == 1 for count in markers.values())


def test_a_rejection_reason_names_the_field_and_hides_personal_data(
    make_pipeline: Callable[..., Pipeline], rejections: Rejections
) -> None:
    # GIVEN an OrderPlaced with a malformed email and a non-integer quantity
    pipeline = make_pipeline()
    placed = [e for e in generate_stream(1, seed=62).events if e["detail-type"] == "OrderPlaced"]
    event: dict[str, Any] = json.loads(json.dumps(placed[0]))
    event["detail"]["customer"]["email"] = "ana.lopez@@example.com"
    event["detail"]["items"][0]["quantity"] = "two"

    # WHEN it is delivered
    reports = pipeline.deliver([json.dumps(event)], receives=1)

    # THEN it is the batch's one failure, and the logged reason names both fields but not the address
    assert [len(r.failed) for r in reports] == [1]
    reason = rejections.reasons[reports[0].failed[0]]
    assert "customer.email" in reason
    assert "items.0.quantity" in reason
    assert "ana.lopez" not in reason


@pytest.mark.parametrize("field", ["detail.order_id", "detail.customer.id", "id"])
def test_an_id_too_long_for_a_dynamodb_key_fails_alone_and_the_rest_of_the_batch_goes_on(
    make_pipeline: Callable[..., Pipeline], field: str
) -> None:
    # GIVEN a batch of a good event and one whose id is 300,000 characters long (valid JSON, but no
    # DynamoDB key can hold it)
    pipeline = make_pipeline()
    events = generate_stream(2, seed=63).events
    placed = [e for e in events if e["detail-type"] == "OrderPlaced"]
    good, bad = placed[0], json.loads(json.dumps(placed[1]))
    target = bad
    *path, last = field.split(".")
    for part in path:
        target = target[part]
    target[last] = "x" * 300_000
    pipeline.now = max(event_time(good), event_time(bad)) + timedelta(minutes=1)

    # WHEN the batch is delivered
    reports = pipeline.deliver([json.dumps(bad), json.dumps(good)], receives=1)

    # THEN only the oversized record is a batch item failure, and the good one was processed
    assert [r.failed for r in reports] == [[reports[0].message_ids[0]]]
    assert [str(row["sk"]) for row in pipeline.items("EVENT#")] == [f"EVENT#{good['id']}"]
