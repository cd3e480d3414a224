"""`touchpoints preview`: one template rendered from an event's facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from tests.support.events import envelope

from touchpoints.cli.main import cli

FIXTURE_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "decide" / "rules"
EVENT = envelope(
    "ShipmentDelivered",
    "2026-03-10T14:30:00Z",
    {"shipment_id": "S1", "customer": {"id": "C1", "email": "a@example.com"}},
    event_id="E1",
    order_id="A77",
)


def invoke(tmp_path: Path, *args: str) -> Any:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(EVENT))
    return CliRunner().invoke(cli, ["preview", *args, "--event", str(event), "--rules", str(FIXTURE_RULES)])


def test_renders_subject_body_and_sms_in_the_locale(tmp_path: Path) -> None:
    # GIVEN the note template, which exists in zh-Hant
    # WHEN previewed for zh-Hant as JSON
    result = invoke(tmp_path, "note", "--locale", "zh-Hant", "--json")
    # THEN the zh-Hant texts are filled from the event's facts
    assert result.exit_code == 0, result.output
    rendered = json.loads(result.stdout)
    assert rendered["locale"] == "zh-Hant"
    assert rendered["subject"] == "關於訂單 A77"
    assert rendered["sms"] == "訂單 A77：最新消息。"


def test_falls_back_and_says_so(tmp_path: Path) -> None:
    # GIVEN the survey template, which only exists in en
    # WHEN previewed for zh-Hans
    result = invoke(tmp_path, "survey", "--locale", "zh-Hans")
    # THEN the en text is shown, with a note about the fallback
    assert result.exit_code == 0, result.output
    assert "fell back" in result.stdout
    assert "How was order A77?" in result.stdout


def test_unknown_template_is_a_clear_error(tmp_path: Path) -> None:
    # GIVEN a template name that does not exist
    # WHEN / THEN exit 2 naming it and the known ones, without a traceback
    result = invoke(tmp_path, "nope", "--locale", "en")
    assert result.exit_code == 2
    assert "unknown template 'nope'" in result.stderr
    assert "note, survey" in result.stderr
    assert "Traceback" not in result.output


def test_state_takes_the_orders_earlier_events_like_explain(repo_root: Path) -> None:
    # GIVEN the happy path's payment event, which does not name the customer, and the order's
    # earlier OrderPlaced (which does) as --state
    journey = repo_root / "events" / "happy-path"
    args = ["preview", "order-confirmation", "--locale", "en", "--rules", str(repo_root / "rules")]
    args += ["--event", str(journey / "02-payment-succeeded.json"), "--json"]
    # WHEN previewed with and without --state
    with_state = CliRunner().invoke(cli, [*args, "--state", str(journey / "01-order-placed.json")])
    without = CliRunner().invoke(cli, args)
    # THEN only the journey built from the earlier events knows the customer's name
    assert with_state.exit_code == 0, with_state.output
    assert without.exit_code == 0, without.output
    assert "Emily Carter" in json.loads(with_state.stdout)["body"]
    assert "Emily Carter" not in json.loads(without.stdout)["body"]


def test_a_bad_state_file_names_the_file_and_event_without_a_traceback(tmp_path: Path) -> None:
    # GIVEN a state file whose first event has no order id
    state = tmp_path / "earlier.json"
    state.write_text(json.dumps({**EVENT, "detail": {"shipment_id": "S1"}}))
    # WHEN previewed with it
    result = invoke(tmp_path, "note", "--locale", "en", "--state", str(state))
    # THEN exit 2 with the option, the file, the event's line and id, and the field
    assert result.exit_code == 2
    assert "--state: " in result.output
    assert "earlier.json:1: event E1: ShipmentDelivered: detail.order_id: is required" in result.output
    assert "order_id" in result.output
    assert "Traceback" not in result.output
