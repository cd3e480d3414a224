"""Timestamps, in one place: how Touchpoints reads RFC 3339 text and how it spells a moment.

Inside Python every moment is a timezone-aware `datetime` in UTC. Outside (facts, records, keys,
envelopes) it is text, in one of a few spellings, each with one job:

- `format_timestamp`: RFC 3339 in UTC with a `Z` suffix, microseconds when there are any
  (decision records, facts, event envelopes);
- `format_trimmed`: the same with trailing zeros of the fraction dropped (JsonLogic's
  date operators, which promise the shortest spelling);
- `format_seconds`: whole seconds, `Z` suffix (DynamoDB sort keys, timer names and schedules);
- `format_sort_stamp`: a compact, sortable stamp (the journey's "which event came last" stamps);
- `format_day`: the UTC day, `YYYY-MM-DD` (the by-rule index);
- `epoch_seconds`: whole seconds since 1970 (DynamoDB TTL attributes).

Parsing: `parse_rfc3339` is lenient about spelling (`t`, `z`, a space, more than six fraction
digits) but demands an offset and answers None for anything else; `to_utc` takes a datetime or
such text; `parse_strict` is the contract's reading, which raises `TimestampError` saying why.

Bounds: a timestamp a platform sends must fall in [`EARLIEST`, `LATEST`) (2000-01-01 to
2200-01-01 UTC, after its offset is applied). Inside that range every date arithmetic of the core
is safe: a rule adds at most a year (`MAX_DURATION`), a cap window or quiet hours a little more,
and Python's datetime spans years 1 to 9999. What Touchpoints itself computes from such a time
(a timer's due time, a record's `send_at`) is read back with `derived=True`, which allows a
century either side (`DERIVED_EARLIEST`, `DERIVED_LATEST`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final

__all__ = [
    "DERIVED_EARLIEST",
    "DERIVED_LATEST",
    "EARLIEST",
    "LATEST",
    "TimestampError",
    "epoch_seconds",
    "format_day",
    "format_seconds",
    "format_sort_stamp",
    "format_timestamp",
    "format_trimmed",
    "parse_loose",
    "parse_rfc3339",
    "parse_sort_stamp",
    "parse_strict",
    "to_utc",
]


class TimestampError(ValueError):
    """Raised by `parse_strict` for text that is not an RFC 3339 timestamp with an offset, or out of range."""


EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
"""The earliest moment an event may name (inclusive): nothing Touchpoints decides on is older."""
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)
"""The first moment an event may not name: far beyond any promise, and a century from overflow."""
DERIVED_EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
"""The earliest moment Touchpoints' own records and timers may hold (event bounds minus a century)."""
DERIVED_LATEST: Final = datetime(2300, 1, 1, tzinfo=UTC)
"""The first moment Touchpoints' own records and timers may not hold (event bounds plus a century)."""

_RANGE_MESSAGE: Final = (
    "must be between 2000-01-01T00:00:00Z and 2200-01-01T00:00:00Z (UTC, after its offset is applied)"
)


_RFC3339: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})\Z",
)
_DIGITS: Final = re.compile(r"\d+")


@lru_cache(maxsize=8192)
def _parse_text(text: str) -> datetime | None:
    # Cached: rules compare the same few fact timestamps over and over (JsonLogic date operators).
    if not _RFC3339.match(text):
        return None
    normal = text.replace("t", "T").replace(" ", "T").replace("z", "Z")
    head, dot, tail = normal.partition(".")
    if dot:  # Python accepts at most 6 fraction digits
        digits = _DIGITS.match(tail)
        assert digits is not None
        normal = head + "." + digits.group(0)[:6].ljust(6, "0") + tail[len(digits.group(0)) :]
    try:
        return datetime.fromisoformat(normal).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def parse_rfc3339(value: Any) -> datetime | None:
    """An RFC 3339 string with an offset as an aware UTC datetime; None for anything else."""
    if value.__class__ is not str:
        return None
    return _parse_text(value)


def to_utc(value: Any) -> datetime | None:
    """A datetime (naive = UTC) or RFC 3339 text as an aware UTC datetime; None when it is neither."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return parse_rfc3339(value)


def parse_loose(text: str) -> datetime:
    """ISO 8601 text as an aware UTC datetime, a missing offset read as UTC; ValueError otherwise.

    For the few readers of text that is not (yet) held to the contract: the local driver ordering
    raw envelopes, a template date filter shown a fact. The contract itself uses `parse_strict`.
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_strict(value: Any, *, derived: bool = False) -> datetime:
    """The contract's reading: an aware datetime, or RFC 3339 text with an offset, in UTC, within bounds.

    Naive timestamps and bare dates are refused: "when did it happen" must be unambiguous, and a
    guessed zone would shift promises and quiet hours by hours. A moment outside [`EARLIEST`,
    `LATEST`) is refused too (`0001-01-01T00:00:00+05:00` is not even representable in UTC;
    `9999-12-30T12:00:00Z` plus a two-day delay is not representable at all); `derived=True`
    reads Touchpoints' own computed times with the wider [`DERIVED_EARLIEST`, `DERIVED_LATEST`).
    TimestampError says which rule the value broke (its text is shown to platform teams).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise TimestampError("must be a timezone-aware timestamp")
        parsed = value
    else:
        if not isinstance(value, str) or len(value) < 20 or value[10] not in "Tt ":
            raise TimestampError("must be an RFC 3339 timestamp with an offset")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise TimestampError("must be an RFC 3339 timestamp with an offset") from None
        if parsed.tzinfo is None:
            raise TimestampError("must be an RFC 3339 timestamp with an offset")
    try:
        moment = parsed.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise TimestampError(_range_message(derived)) from None
    earliest, latest = (DERIVED_EARLIEST, DERIVED_LATEST) if derived else (EARLIEST, LATEST)
    if not earliest <= moment < latest:
        raise TimestampError(_range_message(derived))
    return moment


def _range_message(derived: bool) -> str:
    if not derived:
        return _RANGE_MESSAGE
    return "must be between 1900-01-01T00:00:00Z and 2300-01-01T00:00:00Z (UTC, after its offset is applied)"


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix: the spelling of facts, records and envelopes."""
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def format_trimmed(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix, a fraction only when there is one, without trailing zeros."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += ("." + f"{moment.microsecond:06d}").rstrip("0")
    return text + "Z"


def format_seconds(moment: datetime) -> str:
    """Whole seconds in UTC with a `Z` suffix (sort keys, timer names, schedule expressions)."""
    t = moment.astimezone(UTC)
    if t.year < 1000:  # strftime's %Y does not pad these; keep its spelling
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    # strftime's text without its format parsing: this names every timer the simulator sets.
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (t.year, t.month, t.day, t.hour, t.minute, t.second)  # noqa: UP031


def format_sort_stamp(moment: datetime) -> str:
    """`YYYYMMDDTHHMMSS.ffffff` in UTC: compares as text in time order (the journey's stamps)."""
    t = moment.astimezone(UTC)
    if t.year < 1000:  # strftime's %Y does not pad these; keep its spelling
        return t.strftime("%Y%m%dT%H%M%S.%f")
    # The same text as strftime("%Y%m%dT%H%M%S.%f"), a third of its cost (called on every event).
    return "%04d%02d%02dT%02d%02d%02d.%06d" % (  # noqa: UP031
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.microsecond,
    )


def parse_sort_stamp(stamp: str) -> datetime:
    """The moment a `format_sort_stamp` text (or a journey stamp, `<sort stamp>|<event id>`) names, in UTC."""
    return datetime.strptime(stamp.partition("|")[0], "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)


def format_day(moment: datetime) -> str:
    """The UTC calendar day, `YYYY-MM-DD`."""
    return f"{moment.astimezone(UTC):%Y-%m-%d}"


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch (DynamoDB's TTL attribute)."""
    return int(moment.timestamp())
