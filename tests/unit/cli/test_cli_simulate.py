"""`touchpoints simulate` and `touchpoints diff`: output, JSON Lines, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from tests.support.events import envelope

from touchpoints.cli.main import cli

FIXTURE_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "decide" / "rules"
CUSTOMER = {
    "id": "C1",
    "email": "ana@example.com",
    "timezone": "UTC",
    "consent": {"marketing": True, "sms": True},
}
PAYMENT = {"payment_id": "P1", "amount": {"amount": "10.00", "currency": "USD"}}


FAILED = envelope(
    "PaymentFailed",
    "2026-03-10T12:00:00Z",
    {"customer": CUSTOMER, "reason_code": "card_declined", "attempt": 1, **PAYMENT},
    event_id="F1",
)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def test_simulate_prints_a_table_and_a_summary(tmp_path: Path) -> None:
    # GIVEN one failed payment
    path = tmp_path / "e.json"
    path.write_text(json.dumps(FAILED))
    # WHEN simulated
    result = invoke("simulate", str(path), "--rules", str(FIXTURE_RULES))
    # THEN exit 0, the table lists the recovery and the reminder, and a per-rule summary follows
    assert result.exit_code == 0, result.output
    assert "recovery" in result.stdout
    assert "reminder" in result.stdout
    assert "per rule" in result.stdout


def test_simulate_json_prints_one_record_per_line(tmp_path: Path) -> None:
    # GIVEN one failed payment
    path = tmp_path / "e.json"
    path.write_text(json.dumps(FAILED))
    # WHEN simulated with --json and --until before the reminder is due
    result = invoke(
        "simulate", str(path), "--rules", str(FIXTURE_RULES), "--json", "--until", "2026-03-11T00:00:00Z"
    )
    # THEN each line is one decision record with the contract's fields
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0
    assert [line["rule_id"] for line in lines] == ["recovery"]
    assert lines[0]["send_at"] == "2026-03-10T12:00:00Z"
    assert {"action_id", "status", "reason", "catalog_version", "address"} <= set(lines[0])


def test_simulate_malformed_event_exit_2_and_the_rest_is_simulated(tmp_path: Path) -> None:
    # GIVEN JSON Lines whose second event has no order_id
    bad = json.loads(json.dumps(FAILED))
    bad["id"] = "BAD"
    del bad["detail"]["order_id"]
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(FAILED) + "\n" + json.dumps(bad) + "\n")
    # WHEN simulated
    result = invoke("simulate", str(path), "--rules", str(FIXTURE_RULES), "--json")
    # THEN exit 2 (docs/CONTRACT.md), stderr names the file, line, event and field; the good event was decided
    assert result.exit_code == 2
    assert "events.jsonl:2: event BAD" in result.stderr
    assert "BAD" in result.stderr
    assert "detail.order_id" in result.stderr
    assert "recovery" in result.stdout


def test_simulate_unreadable_input_exit_2(tmp_path: Path) -> None:
    # GIVEN a missing file and a file that is not JSON
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    # WHEN / THEN both exit 2 naming the file
    missing = invoke("simulate", str(tmp_path / "missing.json"), "--rules", str(FIXTURE_RULES))
    assert missing.exit_code == 2
    assert "missing.json" in missing.stderr
    invalid = invoke("simulate", str(broken), "--rules", str(FIXTURE_RULES))
    assert invalid.exit_code == 2
    assert "broken.json" in invalid.stderr
    assert "not valid JSON" in invalid.stderr


def test_simulate_bad_until_and_missing_rules_are_usage_errors(tmp_path: Path) -> None:
    # GIVEN a valid event file
    path = tmp_path / "e.json"
    path.write_text(json.dumps(FAILED))
    # WHEN / THEN a bad --until and a missing rules folder exit 2 with a message, no traceback
    bad_until = invoke("simulate", str(path), "--rules", str(FIXTURE_RULES), "--until", "tomorrow")
    assert bad_until.exit_code == 2
    assert "--until" in bad_until.stderr
    no_rules = invoke("simulate", str(path), "--rules", str(tmp_path / "nope"))
    assert no_rules.exit_code == 2
    assert "nope" in no_rules.stderr
    assert "Traceback" not in bad_until.output + no_rules.output


def test_diff_shows_removed_and_changed_decisions(tmp_path: Path) -> None:
    # GIVEN a changed catalog: the reminder disabled, the recovery now marketing (needs consent: C1 has it)
    current = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, current)
    reminder = current / "payments" / "reminder.yaml"
    reminder.write_text(
        reminder.read_text().replace("category: transactional", "category: transactional\nenabled: false")
    )
    recovery = current / "payments" / "recovery.yaml"
    recovery.write_text(recovery.read_text().replace("template: note", "template: survey"))
    events = tmp_path / "e.json"
    events.write_text(json.dumps(FAILED))
    # WHEN diffed as JSON
    result = invoke("diff", str(events), "--base", str(FIXTURE_RULES), "--rules", str(current), "--json")
    # THEN the reminder is removed, the recovery changed template, per-rule counts agree; exit 0
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [r["rule_id"] for r in report["removed"]] == ["reminder"]
    assert report["added"] == []
    (changed,) = report["changed"]
    assert changed["fields"] == ["template", "message"]  # another template: another message
    assert (changed["before"]["template"], changed["after"]["template"]) == ("note", "survey")
    assert report["rules"] == {
        "recovery": {"added": 0, "removed": 0, "changed": 1},
        "reminder": {"added": 0, "removed": 1, "changed": 0},
    }


def test_diff_table_and_no_change(tmp_path: Path) -> None:
    # GIVEN the same catalog on both sides
    events = tmp_path / "e.json"
    events.write_text(json.dumps(FAILED))
    # WHEN diffed / THEN it says so and exits 0
    result = invoke("diff", str(events), "--base", str(FIXTURE_RULES), "--rules", str(FIXTURE_RULES))
    assert result.exit_code == 0
    assert "No decision changes" in result.stdout
