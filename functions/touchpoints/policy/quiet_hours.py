"""Quiet hours in the customer's own time zone: is now quiet, and when does the quiet end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["customer_zone", "quiet_until"]


@lru_cache(maxsize=512)
def customer_zone(name: str | None) -> ZoneInfo:
    """The customer's IANA zone; UTC when absent or unknown (the contract defaults the zone to UTC)."""
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def quiet_until(now: datetime, start: time, end: time, zone: ZoneInfo) -> datetime | None:
    """The UTC moment the quiet period containing `now` ends, or None when `now` is not quiet.

    The window is [start, end) in local wall-clock time and may span midnight (21:00-09:00).
    `start == end` means no quiet hours at all. The end is computed on the local calendar, so a
    customer in Taipei whose parcel arrives at 22:30 local hears from us at 09:00 local, the
    next day, whatever that is in UTC; across a DST change the local end time is kept.
    """
    if start == end:
        return None
    local = now.astimezone(zone)
    moment = local.time().replace(tzinfo=None)
    if start < end:
        if not start <= moment < end:
            return None
        end_day = local.date()
    else:
        if moment >= start:
            end_day = local.date() + timedelta(days=1)
        elif moment < end:
            end_day = local.date()
        else:
            return None
    local_end = datetime.combine(end_day, end, tzinfo=zone)
    return local_end.astimezone(UTC)
