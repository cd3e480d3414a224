"""The JSON fast path of parsing decides exactly as `parse_event` does, or leaves the decision to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from touchpoints.contract import InvalidEventError, parse_event, parse_valid_event_json

EVENTS = Path(__file__).resolve().parents[3] / "events"
SAMPLES = sorted(p for p in EVENTS.rglob("*.json") if "schemas" not in p.parts)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(EVENTS)))
def test_a_valid_event_parses_to_the_same_event(path: Path) -> None:
    # GIVEN a sample event as one line of JSON
    text = json.dumps(json.loads(path.read_text(encoding="utf-8")))
    # WHEN it is parsed by the fast path
    fast = parse_valid_event_json(text)
    # THEN it is the event parse_event gives, of the same model
    slow = parse_event(text)
    assert fast is not None
    assert type(fast) is type(slow)
    assert fast == slow


def _sample() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(SAMPLES[0].read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(
    "change",
    [
        {"detail-type": "NoSuchType"},
        {"detail-type": "TimerFired"},  # the wrong model for this detail
        {"time": "2026-03-01 10:00"},  # no offset
        {"source": "touchpoints.timers"},  # reserved source
        {"detail": {}},
    ],
)
def test_an_invalid_event_is_left_to_parse_event(change: dict[str, object]) -> None:
    # GIVEN an event with one problem
    text = json.dumps({**_sample(), **change})
    # WHEN the fast path reads it  THEN it declines, and parse_event reports the problem
    assert parse_valid_event_json(text) is None
    with pytest.raises(InvalidEventError):
        parse_event(text)


def test_a_detail_type_key_inside_the_detail_does_not_choose_the_model() -> None:
    # GIVEN an event whose detail carries a "detail-type" key before the envelope's own one
    sample = _sample()
    detail = dict(sample["detail"])  # type: ignore[call-overload]
    envelope = {key: value for key, value in sample.items() if key != "detail"}
    text = json.dumps({"detail": {"detail-type": "TimerFired", **detail}, **envelope})
    assert text.index('"detail-type"') < text.rindex('"detail-type"')
    # WHEN the fast path reads it
    fast = parse_valid_event_json(text)
    # THEN it either declines or gives exactly parse_event's event, typed by the envelope's detail-type
    slow = parse_event(text)
    assert fast is None or (fast == slow and type(fast) is type(slow))
