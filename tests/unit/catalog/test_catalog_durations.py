"""Durations as rule files write them: parsing, errors and the round trip back to text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchpoints.catalog import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1w2d3h4m", timedelta(weeks=1, days=2, hours=3, minutes=4)),
        (" 48h ", timedelta(hours=48)),
    ],
)
def test_parse_duration_reads_every_unit(text: str, expected: timedelta) -> None:
    # GIVEN a duration as an operations person writes it
    # WHEN it is parsed
    parsed = parse_duration(text)
    # THEN it is the matching timedelta
    assert parsed == expected


@pytest.mark.parametrize("text", ["", "h", "48", "2 days", "1h1d", "1.5h", "48H", "10s", "-"])
def test_parse_duration_rejects_malformed_text_with_an_example(text: str) -> None:
    # GIVEN text that is not a duration
    # WHEN it is parsed
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    # THEN the message quotes it and shows how to write one
    assert f"'{text}'" in str(caught.value)
    assert "48h" in str(caught.value)


def test_parse_duration_rejects_zero_and_negative_unless_allowed() -> None:
    # GIVEN a zero and a negative duration
    # WHEN each is parsed
    # THEN zero is always refused, negative only where allowed (offsets)
    with pytest.raises(DurationError, match="zero"):
        parse_duration("0h")
    with pytest.raises(DurationError, match="negative"):
        parse_duration("-2h")
    assert parse_duration("-2h", allow_negative=True) == -timedelta(hours=2)


@pytest.mark.parametrize("text", ["367d", "52w3d", "8785h", "99999999999d", "9" * 40 + "w", "-400d"])
def test_parse_duration_refuses_more_than_a_year_and_never_overflows(text: str) -> None:
    # GIVEN a duration longer than 366 days (a typo, or digits past what a timedelta holds)
    # WHEN it is parsed (offsets allowed to be negative)
    with pytest.raises(DurationError) as caught:
        parse_duration(text, allow_negative=True)
    # THEN a DurationError says the limit, not an OverflowError
    assert "at most 366d" in str(caught.value)


def test_parse_duration_accepts_exactly_the_limit() -> None:
    # GIVEN the longest duration allowed, written two ways WHEN parsed THEN both are 366 days
    assert parse_duration("366d") == parse_duration("52w2d") == timedelta(days=366)


def test_parse_duration_rejects_non_text() -> None:
    # GIVEN a bare number (YAML `after: 48`)
    # WHEN it is parsed
    # THEN the error says durations are text with a unit
    with pytest.raises(DurationError, match="text such as"):
        parse_duration(48)  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=60 * 24 * 366), st.booleans())
def test_format_duration_round_trips(minutes: int, negative: bool) -> None:
    # GIVEN any whole number of minutes, positive or negative
    value = timedelta(minutes=-minutes if negative else minutes)
    # WHEN it is written as text and parsed back
    text = format_duration(value)
    # THEN the same duration comes back, written largest unit first
    assert parse_duration(text, allow_negative=True) == value
    assert text.lstrip("-")[0].isdigit()
