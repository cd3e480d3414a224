"""Quiet hours in the customer's own zone: across midnight, same-day windows, DST, unknown zones."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from touchpoints.policy import customer_zone, quiet_until

NIGHT = (time(21, 0), time(9, 0))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_taipei_delivery_at_2230_local_waits_until_0900_local_next_day() -> None:
    # GIVEN 22:30 in Taipei (UTC+8) = 14:30 UTC
    now = utc("2026-03-10T14:30:00Z")
    # WHEN we ask when the quiet period ends
    until = quiet_until(now, *NIGHT, customer_zone("Asia/Taipei"))
    # THEN it is 09:00 Taipei time the next morning = 01:00 UTC on the 11th
    assert until == utc("2026-03-11T01:00:00Z")


def test_after_midnight_the_quiet_period_ends_the_same_local_morning() -> None:
    # GIVEN 02:15 in Taipei on the 11th
    now = utc("2026-03-10T18:15:00Z")
    # WHEN / THEN it ends at 09:00 that same local day
    assert quiet_until(now, *NIGHT, customer_zone("Asia/Taipei")) == utc("2026-03-11T01:00:00Z")


@pytest.mark.parametrize("local_utc", ["2026-03-10T01:00:00Z", "2026-03-10T12:59:59Z"])
def test_daytime_is_not_quiet(local_utc: str) -> None:
    # GIVEN 09:00 and 20:59:59 in Taipei (the window is [21:00, 09:00))
    # WHEN / THEN nothing is deferred
    assert quiet_until(utc(local_utc), *NIGHT, customer_zone("Asia/Taipei")) is None


def test_exactly_at_start_is_quiet() -> None:
    # GIVEN 21:00 sharp in New York (EST, UTC-5) on 2026-01-15
    now = utc("2026-01-16T02:00:00Z")
    # WHEN / THEN it is deferred to 09:00 local the next day (14:00 UTC)
    assert quiet_until(now, *NIGHT, customer_zone("America/New_York")) == utc("2026-01-16T14:00:00Z")


def test_same_day_window_and_empty_window() -> None:
    # GIVEN a window that does not cross midnight, and one that is empty
    zone = customer_zone("UTC")
    # WHEN / THEN inside it ends the same day; an empty window never defers
    assert quiet_until(utc("2026-03-10T03:00:00Z"), time(0, 0), time(7, 0), zone) == utc(
        "2026-03-10T07:00:00Z"
    )
    assert quiet_until(utc("2026-03-10T08:00:00Z"), time(0, 0), time(7, 0), zone) is None
    assert quiet_until(utc("2026-03-10T03:00:00Z"), time(7, 0), time(7, 0), zone) is None


def test_end_keeps_local_wall_clock_across_a_dst_change() -> None:
    # GIVEN 22:00 in New York the night before DST starts (2026-03-08 02:00 local jumps to 03:00)
    now = utc("2026-03-08T03:00:00Z")  # 22:00 EST on the 7th
    # WHEN the quiet period ends at 09:00 local on the 8th, now EDT (UTC-4)
    until = quiet_until(now, *NIGHT, customer_zone("America/New_York"))
    # THEN it is 13:00 UTC, not 14:00
    assert until == utc("2026-03-08T13:00:00Z")


def test_unknown_or_missing_zone_is_utc() -> None:
    # GIVEN a zone name the tz database does not know, and none at all
    # WHEN / THEN both fall back to UTC, as the contract's default zone
    assert customer_zone("Mars/Olympus_Mons").key == "UTC"
    assert customer_zone(None).key == "UTC"
