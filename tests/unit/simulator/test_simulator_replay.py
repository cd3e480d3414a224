"""The simulator: reading event files, ordering by time, firing timers on the virtual clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import envelope

from touchpoints.catalog import Catalog, load_catalog
from touchpoints.contract import Event
from touchpoints.simulator import InputProblem, Simulator, read_events, simulate

FIXTURE_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "decide" / "rules"
CUSTOMER = {
    "id": "C1",
    "email": "ana@example.com",
    "timezone": "UTC",
    "consent": {"marketing": True, "sms": True},
}
PAYMENT = {"payment_id": "P1", "amount": {"amount": "10.00", "currency": "USD"}}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(FIXTURE_RULES)


def customer_event(event_id: str, detail_type: str, time: str, **detail: Any) -> dict[str, Any]:
    """The shared envelope for order A1 of CUSTOMER (the detail carries the customer)."""
    return envelope(detail_type, time, {"customer": CUSTOMER, **detail}, event_id=event_id)


FAILED = customer_event(
    "F1", "PaymentFailed", "2026-03-10T12:00:00Z", reason_code="card_declined", attempt=1, **PAYMENT
)
PAID = customer_event("P1", "PaymentSucceeded", "2026-03-10T15:00:00Z", **PAYMENT)


def events_of(items: list[Event | InputProblem]) -> list[Event]:
    return [item for item in items if not isinstance(item, InputProblem)]


def problems_of(items: list[Event | InputProblem]) -> list[InputProblem]:
    return [item for item in items if isinstance(item, InputProblem)]


def test_reads_single_files_arrays_and_json_lines_from_folders_in_sorted_order(tmp_path: Path) -> None:
    # GIVEN a folder with a nested single-event file, an array file and a JSON Lines file
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "one.json").write_text(json.dumps(FAILED))
    (tmp_path / "a.json").write_text(json.dumps([PAID]))
    (tmp_path / "c.jsonl").write_text(
        json.dumps({**PAID, "id": "P2"}) + "\n\n" + json.dumps({**PAID, "id": "P3"}) + "\n"
    )
    (tmp_path / "notes.txt").write_text("ignored")
    # WHEN we read the folder
    items = list(read_events([tmp_path]))
    # THEN every event comes, files in sorted path order, lines in order
    assert [e.id for e in events_of(items)] == ["P1", "F1", "P2", "P3"]
    assert problems_of(items) == []


def test_malformed_events_name_file_position_and_field_and_the_rest_is_read(tmp_path: Path) -> None:
    # GIVEN a JSON Lines file whose line 2 lacks order_id, and an array whose index 1 has a bad rating
    bad = json.loads(json.dumps(PAID))
    del bad["detail"]["order_id"]
    lines = tmp_path / "events.jsonl"
    lines.write_text("\n".join(json.dumps(e) for e in (FAILED, bad, PAID)))
    array = tmp_path / "reviews.json"
    review = customer_event("R1", "ReviewSubmitted", "2026-03-11T00:00:00Z", review_id="R1", rating=9)
    array.write_text(json.dumps([PAID, review]))
    # WHEN we read both
    items = list(read_events([lines, array]))
    # THEN the good events came and each bad one is located precisely, as malformed (not unreadable)
    assert [e.id for e in events_of(items)] == ["F1", "P1", "P1"]
    first, second = problems_of(items)
    assert (first.path, first.line, first.is_unreadable) == (lines, 2, False)
    assert "detail.order_id" in first.message
    assert "P1" in str(first)
    # (the array is on one line: the second element is located by its column)
    assert (second.line, second.event_id) == (1, "R1")
    assert second.column == len(json.dumps([PAID])) + 2  # after "[", the first event and ", "
    assert "detail.rating" in second.message


def test_a_json_file_holding_json_lines_is_read_line_by_line(tmp_path: Path) -> None:
    # GIVEN a .json file with one event per line (what `jq -c` writes)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(FAILED) + "\n" + json.dumps(PAID) + "\n")
    # WHEN read
    items = list(read_events([path]))
    # THEN both events come, with no problem
    assert [e.id for e in events_of(items)] == ["F1", "P1"]
    assert problems_of(items) == []


def test_unreadable_input_is_flagged(tmp_path: Path) -> None:
    # GIVEN a missing file, a file that is not JSON, and a JSON Lines file with a broken line
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    lines = tmp_path / "x.jsonl"
    lines.write_text(json.dumps(PAID) + "\n{oops\n")
    # WHEN we read them
    items = list(read_events([tmp_path / "missing.json", broken, lines]))
    # THEN each problem is unreadable and names its file (and line)
    problems = problems_of(items)
    assert [p.is_unreadable for p in problems] == [True, True, True]
    assert "missing.json" in str(problems[0])
    assert "broken.json" in str(problems[1])
    assert (problems[2].line, problems[2].column) == (2, 2)
    assert [e.id for e in events_of(items)] == ["P1"]


def test_events_are_replayed_in_time_order_whatever_the_input_order(catalog: Catalog) -> None:
    # GIVEN a payment success listed before the failure it follows in time
    items = events_of(list(read_events_from([PAID, FAILED])))
    # WHEN simulated
    records = list(simulate(items, catalog))
    # THEN the failure was decided first, and the reminder 24h later found the order paid: none
    rules = [r.rule_id for r in records]
    assert rules == ["recovery"]


def test_timers_fire_as_the_clock_passes_them_and_stop_at_until(catalog: Catalog) -> None:
    # GIVEN an unpaid failure
    items = events_of(list(read_events_from([FAILED])))
    # WHEN simulated with timers up to 23h later, and with the default horizon
    short = list(simulate(items, catalog, datetime(2026, 3, 11, 11, tzinfo=UTC)))
    full = Simulator(catalog)
    records = list(full.run(items))
    # THEN the reminder due at +24h only comes in the second run, decided at its due time
    assert [r.rule_id for r in short] == ["recovery"]
    reminder = records[-1]
    assert reminder.rule_id == "reminder"
    assert reminder.decided_at == datetime(2026, 3, 11, 12, tzinfo=UTC)
    assert (full.events_processed, full.timers_fired) == (2, 1)


def test_a_timer_due_before_a_later_event_fires_first(catalog: Catalog) -> None:
    # GIVEN a failure, and a payment two days later (after the reminder is due)
    late_paid = {**PAID, "time": "2026-03-12T12:00:00Z"}
    items = events_of(list(read_events_from([late_paid, FAILED])))
    # WHEN simulated
    records = list(simulate(items, catalog))
    # THEN the reminder went out before the payment arrived
    assert [r.rule_id for r in records] == ["recovery", "reminder"]


def test_same_time_events_keep_their_input_order(catalog: Catalog) -> None:
    # GIVEN a payment failure and a success at the same instant, success listed first
    same = {**PAID, "time": FAILED["time"]}
    sim = Simulator(catalog)
    seen: list[str] = []
    sim.on_event = lambda e: seen.append(e.id)
    # WHEN simulated
    list(sim.run(events_of(list(read_events_from([same, FAILED])))))
    # THEN the stable sort kept their order
    assert seen[:2] == ["P1", "F1"]


def test_duplicates_are_counted_and_decide_nothing(catalog: Catalog) -> None:
    # GIVEN the same failure delivered twice
    sim = Simulator(catalog)
    records = list(sim.run(events_of(list(read_events_from([FAILED, FAILED])))))
    # WHEN / THEN one recovery, one duplicate
    assert [r.rule_id for r in records].count("recovery") == 1
    assert sim.duplicates == 1


def read_events_from(raws: list[dict[str, Any]]) -> list[Event | InputProblem]:
    """Parse envelopes the way the simulator's reader does (through a temporary JSON array)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.json"
        path.write_text(json.dumps(raws))
        return list(read_events([path]))
