"""The date/time operators: RFC 3339 strings from the data; null when an argument is null or unparseable."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from touchpoints.timestamps import format_trimmed, parse_rfc3339

__all__ = [
    "format_timestamp",
    "op_add_hours",
    "op_after",
    "op_before",
    "op_days_between",
    "op_hours_between",
    "parse_timestamp",
]

# One reading and one spelling of timestamps for the whole package (touchpoints.timestamps); the
# operators keep their historical names for them.
parse_timestamp = parse_rfc3339
format_timestamp = format_trimmed


def op_hours_between(a: Any, b: Any) -> float | None:
    """`hours_between [a, b]`: b - a in hours (float); null if either is not an RFC 3339 timestamp."""
    start, end = parse_timestamp(a), parse_timestamp(b)
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 3600.0


def op_days_between(a: Any, b: Any) -> float | None:
    """`days_between [a, b]`: b - a in days (float); null if either is not an RFC 3339 timestamp."""
    start, end = parse_timestamp(a), parse_timestamp(b)
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 86400.0


def op_before(a: Any, b: Any) -> bool | None:
    """`before [a, b]`: a is earlier than b; null if either is not an RFC 3339 timestamp."""
    first, second = parse_timestamp(a), parse_timestamp(b)
    if first is None or second is None:
        return None
    return first < second


def op_after(a: Any, b: Any) -> bool | None:
    """`after [a, b]`: a is later than b; null if either is not an RFC 3339 timestamp."""
    first, second = parse_timestamp(a), parse_timestamp(b)
    if first is None or second is None:
        return None
    return first > second


def op_add_hours(ts: Any, hours: Any) -> str | None:
    """`add_hours [ts, n]`: ts + n hours as RFC 3339 UTC (`Z`); null if ts or n is unusable."""
    moment = parse_timestamp(ts)
    if moment is None or hours.__class__ not in (int, float) or not math.isfinite(hours):
        return None
    try:
        return format_timestamp(moment + timedelta(hours=hours))
    except OverflowError:
        return None
