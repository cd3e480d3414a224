"""`touchpoints simulate` on the times that crashed the pipeline: exit 2 naming each event, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tests.support.events import envelope, order_placed_detail

from touchpoints.cli.main import cli

REPO = Path(__file__).resolve().parents[3]


def test_simulate_refuses_out_of_range_times_naming_each_event(tmp_path: Path) -> None:
    # GIVEN the three events (and one good order, which is still simulated)
    customer = {"id": "C-far", "email": "far@example.com"}
    far_past = envelope(
        "OrderPlaced", "2026-03-01T10:00:00Z", order_placed_detail(customer), event_id="e-year-1"
    )
    far_past["time"] = "0001-01-01T00:00:00+05:00"
    delivered = envelope(
        "ShipmentDelivered", "9999-12-30T12:00:00Z", {"shipment_id": "S1"}, event_id="e-delivered-9999"
    )
    sentinel = envelope(
        "OrderPlaced",
        "2026-03-01T10:00:00Z",
        order_placed_detail(customer, promised_delivery_by="9999-12-31T23:00:00Z"),
        order_id="A2",
        event_id="e-no-promise",
    )
    good = envelope("OrderPlaced", "2026-03-01T10:00:00Z", order_placed_detail(customer), order_id="A3")
    path = tmp_path / "far.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in (far_past, delivered, sentinel, good)) + "\n")
    # WHEN they are simulated
    result = CliRunner().invoke(cli, ["simulate", str(path), "--rules", str(REPO / "rules"), "--json"])
    # THEN the command exits 2, each bad event is named with its field, and nothing crashed
    assert result.exit_code == 2
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    for event_id, field in (
        ("e-year-1", "time"),
        ("e-delivered-9999", "time"),
        ("e-no-promise", "detail.promised_delivery_by"),
    ):
        assert f"event {event_id}" in output
        assert f"{field}: must be between 2000-01-01T00:00:00Z and 2200-01-01T00:00:00Z" in output
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    # AND the good order was still decided
    assert '"order_id": "A3"' in result.output or '"order_id":"A3"' in result.output
