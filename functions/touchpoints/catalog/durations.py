"""Durations as operations teams write them in rule files: `30m`, `12h`, `3d`, `1w`, `1d12h`."""

from __future__ import annotations

import re
from datetime import timedelta

from touchpoints.errors import TouchpointsError

__all__ = ["DURATION_PATTERN", "MAX_DURATION", "DurationError", "format_duration", "parse_duration"]

DURATION_PATTERN = r"^-?(?=\d)(\d+w)?(\d+d)?(\d+h)?(\d+m)?$"
"""The JSON Schema pattern of a duration (a leading `-` is only accepted where a rule allows it)."""

_UNIT_MINUTES = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1}
MAX_DURATION = timedelta(days=366)
"""The longest duration a rule file may write: a year (and a day) of waiting, or of a cap window.

Longer is almost certainly a typo (`30000m` meant as `30m`?), and a few digits more no longer fit
in a timedelta at all."""
_PART = re.compile(r"(\d+)([wdhm])")
_WHOLE = re.compile(DURATION_PATTERN)


class DurationError(TouchpointsError, ValueError):
    """Raised when a duration is not written like `30m`, `12h`, `3d`, `1w` or `1d12h`.

    Also a ValueError, so pydantic reports it as a validation error at the field's location.
    """


def parse_duration(text: str, *, allow_negative: bool = False) -> timedelta:
    """Parse `48h`, `3d`, `30m`, `1w` or combinations such as `1d12h` (largest unit first).

    Durations must be positive: a rule that waits for nothing should have no `after`. Only an
    `offset` may be negative (`-2h` = two hours before the `at` timestamp), hence `allow_negative`.
    """
    if not isinstance(text, str):
        raise DurationError(f"a duration is text such as '30m', '12h', '3d' or '1w', not {text!r}")
    cleaned = text.strip()
    if not _WHOLE.match(cleaned):
        raise DurationError(
            f"'{text}' is not a duration: write a number and a unit, m (minutes), h (hours), "
            "d (days) or w (weeks), e.g. '30m', '48h', '3d', '1d12h'"
        )
    negative = cleaned.startswith("-")
    if negative and not allow_negative:
        raise DurationError(f"'{text}' is negative: this duration must be positive")
    minutes = sum(int(n) * _UNIT_MINUTES[unit] for n, unit in _PART.findall(cleaned))
    if minutes > MAX_DURATION // timedelta(minutes=1):
        raise DurationError(f"'{text}' is longer than a year: a duration can be at most 366d (52w2d)")
    total = timedelta(minutes=minutes)
    if total == timedelta():
        raise DurationError(f"'{text}' is zero: a duration must be longer than 0")
    return -total if negative else total


def format_duration(value: timedelta) -> str:
    """Write a timedelta back in the rule-file form (`1d12h`), the inverse of `parse_duration`."""
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    parts: list[str] = []
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60), ("m", 1)):
        count, minutes = divmod(minutes, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + ("".join(parts) or "0m")
