"""Garbage in the queue never crashes a batch: each bad record is dead-lettered once, with its reason.

A record that can never parse is not a batch item failure (retrying it could only fail again):
ProcessEvents puts it on the events DLQ itself, with the reason as message attributes, and the
good records of the batch go on.
"""

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
from tests.support.malformed import (
    MALFORMATIONS,
    PERSONAL_VALUES,
    malformed_body,
    personal_in_the_wrong_shape,
)
from tests.support.pipeline import Pipeline
from tests.support.rejections import Rejections, collect_rejections
from tests.support.streams import event_time, generate_stream

pytestmark = pytest.mark.slow

# 400 x 25 = 10,000 malformed records (TOUCHPOINTS_RELIABILITY_BAD_BATCHES=20 for a quick local look).
BATCHES = int(os.environ.get("TOUCHPOINTS_RELIABILITY_BAD_BATCHES", "400"))
BAD_PER_BATCH = 25
GOOD_PER_BATCH = 1
SQS_MESSAGE_MAX = 1_048_576
"""The longest body SQS (and moto) takes, in characters as moto counts: no real queue holds a longer one."""


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

        # WHEN the mixed batches are delivered (as SQS would: failures are received again)
        reports = pipeline.deliver([body for _, body in bodies])

        # THEN each malformed record was received once, logged with a readable reason, and
        # dead-lettered by the handler; only a body too long for any SQS message (which no real
        # queue can hand over) failed, to be dead-lettered by SQS's redrive instead
        seen: set[str] = set()
        first = []  # each batch's first delivery (a failed record's redeliveries follow it)
        for report in reports:
            if not seen & set(report.message_ids):
                first.append(report)
            seen.update(report.message_ids)
        ids = [mid for report in first for mid in report.message_ids]
        too_long = {mid for mid, (_, body) in zip(ids, bodies, strict=True) if len(body) > SQS_MESSAGE_MAX}
        assert {mid for report in first for mid in report.failed} == too_long
        for mid, (kind, _) in zip(ids, bodies, strict=True):
            if kind != "good":
                assert rejections.reasons.get(mid), f"no reason logged for {mid}"
        tally.update(kind for kind, _ in bad)
        tally["bad"] += len(bad)
        delivered_good.extend(e["id"] for e in goods)
        dead_expected.update(body for _, body in bad if len(body) <= SQS_MESSAGE_MAX)
        redriven_expected.update(body for _, body in bad if len(body) > SQS_MESSAGE_MAX)

    dead_expected: Counter[str] = Counter()
    redriven_expected: Counter[str] = Counter()
    one_batch()

    # THEN 10,000 malformed records of every kind went through without one crash
    assert tally["bad"] >= BATCHES * BAD_PER_BATCH
    assert set(MALFORMATIONS) <= set(tally)
    # AND each is on the events DLQ exactly once, as it arrived, with its reason as an attribute
    dead = pipeline.events_dead_letters()
    assert Counter(m["body"] for m in dead) == dead_expected
    assert all(m["attributes"].get("touchpoints.reason") for m in dead)
    assert Counter(pipeline.report.dead_lettered_events) == redriven_expected
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
    reports = pipeline.deliver([json.dumps(event)])

    # THEN it was received once and dead-lettered; the logged reason and the DLQ's attribute name both
    # fields but not the address
    assert [r.failed for r in reports] == [[]]
    reason = rejections.reasons[reports[0].message_ids[0]]
    (dead,) = pipeline.events_dead_letters()
    for text in (reason, dead["attributes"]["touchpoints.reason"]):
        assert "customer.email" in text
        assert "items.0.quantity" in text
        assert "ana.lopez" not in text


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
    reports = pipeline.deliver([json.dumps(bad), json.dumps(good)])

    # THEN the oversized record alone was dead-lettered (on its first receive), and the good one processed
    assert [r.failed for r in reports] == [[]]
    assert [m["body"] for m in pipeline.events_dead_letters()] == [json.dumps(bad)]
    assert [str(row["sk"]) for row in pipeline.items("EVENT#")] == [f"EVENT#{good['id']}"]


_WHOLE_DOCUMENT = frozenset({"invalid JSON (truncated)", "JSON but not an object", "not JSON at all"})
_SECRETS = ("Jane Quillfeather", "Quillfeather", "Elm Street", "Springfield", "jane.quill", "6505550199")


def test_every_malformed_record_is_a_readable_rejection_never_another_exception() -> None:
    from touchpoints.contract import InvalidEventError, parse_event

    bases = list({e["detail-type"]: e for e in generate_stream(100, seed=64).events}.values())
    seen: Counter[str] = Counter()

    @settings(
        max_examples=3000,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(case=malformed_body(bases))
    def parse(case: tuple[str, str]) -> None:
        kind, body = case
        seen[kind] += 1
        # GIVEN a record broken in one of the ways of tests/support/malformed.py
        # WHEN it is parsed THEN it is an InvalidEventError, and nothing else ever escapes
        try:
            parse_event(body)
        except InvalidEventError as exc:
            error = exc
        else:
            raise AssertionError(f"{kind}: accepted {body[:200]}")
        # AND it names the fields at fault (a document that is not an event object has none)
        assert error.problems, kind
        if kind not in _WHOLE_DOCUMENT:
            assert all(problem.field for problem in error.problems), (kind, str(error)[:300])
        # AND it is readable: short, and quoting no personal data
        text = str(error)
        assert len(text) < 8_000, (kind, len(text))
        assert not [secret for secret in _SECRETS if secret in text], (kind, text[:300])

    parse()
    assert set(MALFORMATIONS) <= set(seen)


def test_personal_data_in_the_wrong_shape_is_never_quoted_back() -> None:
    from touchpoints.contract import InvalidEventError, parse_event

    bases = list({e["detail-type"]: e for e in generate_stream(100, seed=65).events}.values())

    @settings(max_examples=1500, deadline=None, derandomize=True, database=None)
    @given(data=st.data(), base=st.sampled_from(bases))
    def parse(data: st.DataObject, base: dict[str, Any]) -> None:
        # GIVEN a name and street, an email or a phone where it does not belong
        body, value = personal_in_the_wrong_shape(base, data.draw)
        assert value in PERSONAL_VALUES
        # WHEN parsed THEN it is rejected, and the reason quotes no part of it
        with pytest.raises(InvalidEventError) as caught:
            parse_event(body)
        text = str(caught.value)
        for part in [value, *value.replace(",", " ").split(), value.split("@")[0], value.lstrip("+")]:
            if len(part) > 3:
                assert part not in text, (part, text[:300])

    parse()
