"""Caps that defer are never exceeded, and nothing is left waiting, whatever the stream (hypothesis)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.support.events import event

from touchpoints.catalog import Catalog, load_catalog
from touchpoints.contract import DecisionRecord
from touchpoints.simulator import simulate

RULES = Path(__file__).resolve().parents[1] / "fixtures" / "release" / "rules"
START = datetime(2026, 3, 2, tzinfo=UTC)
CUSTOMER = {
    "id": "C-P",
    "email": "ana@example.com",
    "phone": "+12125550143",
    "timezone": "America/New_York",
    "consent": {"marketing": True, "sms": True},
}
_catalog: list[Catalog] = []


def catalog() -> Catalog:
    """The release tests' catalog: service 3 a day (at most 1 text), on_cap: defer; quiet hours."""
    if not _catalog:
        _catalog.append(load_catalog(RULES))
    return _catalog[0]


# (minutes after START, which event, which order of the customer)
moments = st.lists(
    st.tuples(
        st.integers(0, 3 * 24 * 60),
        st.sampled_from(["delayed", "dispatched", "delivered"]),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=14,
)


def _events(items: list[tuple[int, str, int]]) -> list[Any]:
    built = []
    for number, (minutes, kind, order) in enumerate(items):
        time = START + timedelta(minutes=minutes)
        detail: dict[str, Any] = {"customer": CUSTOMER, "shipment_id": f"S{order}"}
        if kind == "delayed":
            detail["new_estimate"] = "2026-03-20T20:00:00Z"
            detail_type = "ShipmentDelayed"
        elif kind == "dispatched":
            detail.update(carrier="UPS", tracking_number=f"1Z{order}")
            detail_type = "ShipmentDispatched"
        else:
            detail_type = "ShipmentDelivered"
        built.append(event(detail_type, time, detail, event_id=f"p-{number}", order_id=f"P{order}"))
    return built


def _final(records: list[DecisionRecord]) -> dict[str, DecisionRecord]:
    last: dict[str, DecisionRecord] = {}
    for record in records:
        last[record.action_id] = record
    return last


@settings(max_examples=150, deadline=None)
@given(moments)
# Found by this test: two texts deferred by the text cap to the same moment (and to the next
# day) pushed each other back for ever while each counted the other's place in the queue.
@example([(0, "delayed", 0), (0, "delayed", 1), (0, "delayed", 2)])
def test_a_deferring_cap_is_never_exceeded_and_every_wait_ends(items: list[tuple[int, str, int]]) -> None:
    # GIVEN any stream of delays, dispatches and deliveries on a customer's orders over three days
    records = list(simulate(_events(items), catalog()))
    # WHEN every timer has fired (30 days after the last event)
    final = _final(records)
    # THEN no action is left waiting: each ended pending (to be sent) or suppressed, with a reason
    assert {r.status for r in final.values()} <= {"pending", "suppressed"}
    # AND in no 24 hours did more than 3 service messages, or more than 1 text, go out
    sent = sorted(
        (r.send_at, r.channel) for r in final.values() if r.status == "pending" and r.channel != "event"
    )
    by_channel: dict[str, list[datetime]] = defaultdict(list)
    for moment, channel in sent:
        by_channel[channel].append(moment)
    day = timedelta(hours=24)
    for moment, _ in sent:
        assert sum(1 for other, _ in sent if moment - day < other <= moment) <= 3, sent
        assert sum(1 for other in by_channel["sms"] if moment - day < other <= moment) <= 1, sent
    # AND a released action kept its first decision time, and was released no earlier than it
    for record in final.values():
        if record.released_at is not None:
            assert record.decided_at <= record.released_at
