"""Time bounds: any timestamp is accepted within the contract's range or rejected readably, never a crash.

The contract accepts moments from 2000-01-01 to before 2200-01-01 UTC (after the offset), in any
offset; outside, an event is an InvalidEventError naming the field. Within the range every date
arithmetic of the core is safe: events drawn from the whole range, in every offset, with promises
and estimates anywhere in it, go through `decide` (the simulator's `process_event`) with a catalog
whose every duration is at the limit (366 days after, 366 days before a promise, year-long caps,
quiet hours), and every decision record they leave can be read back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.events import envelope, order_placed_detail

from touchpoints.contract import DecisionRecord, InvalidEventError, parse_event
from touchpoints.timestamps import DERIVED_EARLIEST, DERIVED_LATEST, EARLIEST, LATEST

EXTREME = Path(__file__).resolve().parents[1] / "fixtures" / "extreme-durations" / "rules"

# Every offset RFC 3339 can write (-23:59 to +23:59), in minutes.
OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)
# Zones at the edges of the world (UTC+14, UTC-12), one with DST, and UTC.
ZONES = st.sampled_from(["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "America/New_York", "Asia/Kathmandu"])


def _text(moment: datetime, offset_minutes: int) -> str:
    """`moment` written in the given offset (the local wall time may be in 1999 or 2200)."""
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    return local.isoformat()


def _in_range() -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=EARLIEST.replace(tzinfo=None),
        max_value=(LATEST - timedelta(microseconds=1)).replace(tzinfo=None),
        timezones=st.just(UTC),
    )


@st.composite
def _any_written_time(draw: st.DrawFn) -> str:
    """A wall time anywhere in years 1-9999 with any offset: inside, outside or beyond datetime's reach."""
    wall = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
    minutes = draw(OFFSETS)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{wall.isoformat(timespec='seconds')}{sign}{hours:02d}:{rest:02d}"


def _utc_of(text: str) -> datetime | None:
    """What the text means in UTC, or None when no datetime can hold it (year 0, year 10000)."""
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except OverflowError:
        return None


@settings(max_examples=400, deadline=None, database=None)
@given(text=_any_written_time(), field=st.sampled_from(["time", "promised_delivery_by", "promised_ship_by"]))
def test_any_timestamp_is_accepted_within_the_bounds_or_rejected_naming_it(text: str, field: str) -> None:
    # GIVEN an OrderPlaced with one timestamp written anywhere in years 1-9999, in any offset
    raw = envelope("OrderPlaced", "2026-03-01T10:00:00Z", order_placed_detail({"id": "C1"}))
    if field == "time":
        raw["time"] = text
    else:
        raw["detail"][field] = text
    moment = _utc_of(text)
    # WHEN it is parsed
    if moment is not None and EARLIEST <= moment < LATEST:
        event = parse_event(raw)
        # THEN within the bounds it is the same moment, in UTC
        value = event.time if field == "time" else getattr(event.detail, field)
        assert value == moment
        return
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    # THEN outside them it is one readable problem naming the field and the range
    (problem,) = caught.value.problems
    assert problem.field == ("time" if field == "time" else f"detail.{field}")
    assert "2000-01-01T00:00:00Z and 2200-01-01T00:00:00Z" in problem.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time", "0001-01-01T00:00:00+05:00"),  # before year 1 in UTC: OverflowError before the bound
        ("time", "9999-12-30T12:00:00Z"),
        ("promised_delivery_by", "9999-12-31T23:00:00Z"),  # a "no promise" sentinel
        ("time", "1999-12-31T23:59:59Z"),
        ("time", "2200-01-01T00:00:00Z"),
        ("time", "2199-12-31T23:30:00-01:00"),  # 2200-01-01T00:30Z once the offset is applied
    ],
)
def test_the_issues_times_are_readable_rejections(field: str, value: str) -> None:
    # GIVEN the times that crashed the pipeline before the bounds existed
    raw = envelope("OrderPlaced", "2026-03-01T10:00:00Z", order_placed_detail({"id": "C1"}), event_id="e-far")
    if field == "time":
        raw["time"] = value
    else:
        raw["detail"][field] = value
    # WHEN parsed THEN each is an InvalidEventError naming the event and the field
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    assert str(caught.value).startswith("event e-far (OrderPlaced): ")
    assert caught.value.problems[0].field == ("time" if field == "time" else f"detail.{field}")


def test_the_last_moments_of_the_range_in_extreme_offsets_are_accepted() -> None:
    # GIVEN moments just inside the range, written in offsets that put their wall time outside it
    first = envelope("OrderPlaced", "1999-12-31T19:00:00-05:00", order_placed_detail({"id": "C1"}))
    last = envelope("OrderPlaced", "2200-01-01T13:59:59+14:00", order_placed_detail({"id": "C1"}))
    # WHEN parsed THEN both are accepted, as the UTC moments they are
    assert parse_event(first).time == EARLIEST
    assert parse_event(last).time == LATEST - timedelta(seconds=1)


@st.composite
def _journey(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One order's events at times drawn from the whole range, in any offsets, every time field set."""
    times = [draw(_in_range()) for _ in range(4)]
    offsets = [draw(OFFSETS) for _ in range(8)]
    promise, estimate, new_estimate = (draw(_in_range()) for _ in range(3))
    customer = {"id": "C-far", "email": "far@example.com", "phone": "+14155550100", "timezone": draw(ZONES)}
    customer["consent"] = {"marketing": True, "sms": True}
    placed = order_placed_detail(
        customer,
        promised_delivery_by=_text(promise, offsets[4]),
        promised_ship_by=_text(times[0] + (promise - times[0]) / 2, offsets[5]),
    )
    return [
        envelope("OrderPlaced", _text(times[0], offsets[0]), placed, order_id="far"),
        envelope(
            "ShipmentDispatched",
            _text(times[1], offsets[1]),
            {
                "shipment_id": "S1",
                "carrier": "UPS",
                "tracking_number": "T1",
                "estimated_delivery": _text(estimate, offsets[6]),
            },
            order_id="far",
        ),
        envelope(
            "ShipmentDelayed",
            _text(times[2], offsets[2]),
            {"shipment_id": "S1", "new_estimate": _text(new_estimate, offsets[7])},
            order_id="far",
        ),
        envelope("ShipmentDelivered", _text(times[3], offsets[3]), {"shipment_id": "S1"}, order_id="far"),
    ]


@pytest.fixture(scope="module")
def extreme_catalog() -> Any:
    from touchpoints.catalog import load_catalog

    return load_catalog(EXTREME)


def test_decide_and_the_simulator_are_safe_across_the_whole_range(extreme_catalog: Any) -> None:
    from touchpoints.simulator import Simulator

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(raw=_journey(), horizon=st.integers(min_value=0, max_value=800))
    def replay(raw: list[dict[str, Any]], horizon: int) -> None:
        # GIVEN an order whose events, promises and estimates lie anywhere in the range
        events = [parse_event(item) for item in raw]
        until = max(event.time for event in events) + timedelta(days=horizon)
        # WHEN the simulator replays them (process_event -> decide) and fires every timer
        records = list(Simulator(extreme_catalog).run(events, until))
        # THEN nothing raised, and every record is within the derived bounds and reads back
        for record in records:
            assert DERIVED_EARLIEST <= record.decided_at < DERIVED_LATEST
            assert DERIVED_EARLIEST <= record.send_at < DERIVED_LATEST
            assert DecisionRecord.model_validate(record.model_dump(mode="json")) == record

    replay()
