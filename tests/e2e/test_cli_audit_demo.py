"""`touchpoints audit` against the emulated endpoint, and `touchpoints demo` end to end."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from touchpoints.cli.main import cli
from touchpoints.local import free_port


def test_audit_reads_an_orders_decisions_from_the_endpoint(
    stack: Any, journeys: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN a journey processed on the emulated stack
    stack.install()
    events = journeys["carrier-delay"]
    stack.driver.replay(events)
    order_id = events[0]["detail"]["order_id"]
    table = stack.resources.outputs["TableName"]
    # WHEN an operator audits the order over the endpoint, as JSON lines
    result = CliRunner().invoke(
        cli, ["audit", "--order", order_id, "--table", table, "--endpoint-url", stack.endpoint_url, "--json"]
    )
    # THEN exit 0 and one line per stored decision, with masked addresses only
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    stored = stack.store.records_for_order(order_id)
    assert sorted(r["action_id"] for r in lines) == sorted(r.action_id for r in stored)
    assert all("***" in (r["address"] or "***") for r in lines)


def test_audit_shows_when_a_released_action_was_decided_and_released(
    stack: Any, journeys: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN the night-time journey (as a new order, on the driver's clock set to its start): its
    # survey waited for 09:00 in Taipei, then was sent
    stack.install()
    events = copy.deepcopy(journeys["late-night-delivery"])
    for event in events:
        event["id"] = f"{event['id']}-released"
        event["detail"]["order_id"] = f"{event['detail']['order_id']}-released"
    stack.driver.now = datetime.fromisoformat(events[0]["time"].replace("Z", "+00:00"))
    stack.driver.replay(events)
    order_id = events[0]["detail"]["order_id"]
    where = ["--table", stack.resources.outputs["TableName"], "--endpoint-url", stack.endpoint_url]
    # WHEN the order is audited as JSON lines and as a table
    lines = CliRunner().invoke(cli, ["audit", "--order", order_id, *where, "--json"]).output.splitlines()
    table = CliRunner().invoke(cli, ["audit", "--order", order_id, *where], env={"COLUMNS": "200"}).output
    # THEN the survey's record keeps its first decision time and says when it was released
    (survey,) = [json.loads(line) for line in lines if json.loads(line)["rule_id"] == "follow-up-survey"]
    assert (survey["status"], survey["decided_at"], survey["released_at"]) == (
        "sent",
        "2026-03-20T14:30:00Z",
        "2026-03-21T01:00:00Z",
    )
    (row,) = [line for line in table.splitlines() if "follow-up-survey" in line]
    assert "2026-03-20 14:30" in row
    assert "released 2026-03-21 01:00" in row


def test_audit_by_customer_prints_a_table(stack: Any, journeys: dict[str, list[dict[str, Any]]]) -> None:
    # GIVEN a processed journey
    stack.install()
    events = journeys["happy-path"]
    stack.driver.replay(events)
    customer_id = events[0]["detail"]["customer"]["id"]
    table = stack.resources.outputs["TableName"]
    # WHEN audited by customer
    result = CliRunner().invoke(
        cli,
        ["audit", "--customer", customer_id, "--table", table, "--endpoint-url", stack.endpoint_url],
        env={"COLUMNS": "160"},
    )
    # THEN the table names the customer and the rules that fired
    assert result.exit_code == 0, result.output
    assert f"Decisions for customer {customer_id}" in result.output
    assert "order-confirmation" in result.output


def test_audit_of_a_missing_table_is_a_clear_error(stack: Any) -> None:
    # GIVEN no such table WHEN audited THEN exit 2, the table named, a hint, no traceback
    result = CliRunner().invoke(
        cli, ["audit", "--order", "A1", "--table", "nope", "--endpoint-url", stack.endpoint_url]
    )
    assert result.exit_code == 2
    assert "nope" in result.output
    assert "--table" in result.output
    assert "Traceback" not in result.output
    # AND the hint names the tables that are there (after `demo --keep-running`, the local stage's)
    assert stack.resources.outputs["TableName"] in result.output.partition("tables here:")[2]


def test_audit_of_an_unreachable_endpoint_is_a_clear_error() -> None:
    # GIVEN nothing listening on a port WHEN audited THEN exit 2 with a hint about the endpoint
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(cli, ["audit", "--order", "A1", "--endpoint-url", url])
    assert result.exit_code == 2
    assert url in result.output
    assert "Traceback" not in result.output


def test_audit_needs_exactly_one_of_order_customer_or_rule() -> None:
    # GIVEN neither option WHEN audited THEN a usage error
    result = CliRunner().invoke(cli, ["audit"])
    assert result.exit_code == 2
    assert "exactly one of --order ID, --customer ID or --rule ID" in result.output


def test_demo_runs_a_journey_through_the_emulated_stack(repo_root: Path, tmp_path: Path) -> None:
    # GIVEN one sample journey
    events = repo_root / "events" / "happy-path"
    # WHEN the demo runs it, as JSON
    result = CliRunner().invoke(
        cli,
        [
            "demo",
            "--events",
            str(events),
            "--rules",
            str(repo_root / "rules"),
            "--template",
            str(repo_root / "template.yaml"),
            "--stage",
            "demotest",
            "--report",
            str(tmp_path / "demo-report.html"),
            "--json",
        ],
    )
    # THEN exit 0, the order's decisions, and the emails that went out (masked addresses)
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output[result.output.index("{") :])
    (order_id,) = outcome["orders"]
    assert {r["rule_id"] for r in outcome["orders"][order_id]} >= {"order-confirmation"}
    emails = [m for m in outcome["messages"] if m["channel"] == "email"]
    assert emails
    assert all(m["to"].startswith("e***@") for m in emails)
    assert outcome["stats"]["events"] == len(list(events.glob("*.json")))
    assert outcome["stats"]["handler_failures"] == []
    # and it ends with the run's report page, written where it says
    assert outcome["report"] == str((tmp_path / "demo-report.html").resolve())
    assert Path(outcome["report"]).is_file()
    assert Path(outcome["report"]).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_audit_without_credentials_is_a_clear_error(tmp_path: Path) -> None:
    # GIVEN an environment with no AWS credentials anywhere (no env, no files, no instance metadata)
    env: dict[str, str | None] = {
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
        "AWS_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "us-east-1",
    }
    # WHEN audit talks to AWS itself THEN exit 2 with a hint about credentials, no traceback
    result = CliRunner().invoke(cli, ["audit", "--order", "A1", "--table", "t"], env=env)
    assert result.exit_code == 2, result.output
    assert "credentials" in result.output
    assert "Traceback" not in result.output


def test_demo_shows_a_deferral_that_its_audit_row_no_longer_holds(repo_root: Path) -> None:
    # GIVEN the night-time journey, whose survey falls in the customer's quiet hours
    events = repo_root / "events" / "late-night-delivery"
    # WHEN the demo runs it (table output, wide terminal)
    result = CliRunner().invoke(
        cli,
        ["demo", "--events", str(events), "--rules", str(repo_root / "rules"), "--stage", "demotest2"],
        env={"COLUMNS": "200"},
    )
    # THEN the survey's row tells it was deferred for quiet hours before it was sent
    assert result.exit_code == 0, result.output
    survey = [line for line in result.output.splitlines() if "follow-up-survey" in line and "email/" in line]
    assert len(survey) == 1
    assert "scheduled: quiet_hours -> sent" in survey[0]
    # AND the row stays under its first decision (22:30 in Taipei), saying when it was released
    assert survey[0].lstrip("│ ").startswith("2026-03-20 14:30")
    assert "(released 2026-03-21 01:00)" in survey[0]


def test_report_over_the_endpoint_tells_an_orders_story_as_the_simulation_does(
    stack: Any, journeys: dict[str, list[dict[str, Any]]], repo_root: Path, tmp_path: Path
) -> None:
    # GIVEN a journey processed on a stack of its own behind the endpoint (as `demo --keep-running`
    # leaves one: a fresh table, and a virtual clock no other test moved on)
    from touchpoints.local import start_local_stack

    local = start_local_stack(
        endpoint_url=stack.endpoint_url,
        template=repo_root / "template.yaml",
        rules_dir=repo_root / "rules",
        parameters={"Stage": "e2ereport"},
    )
    events = journeys["damaged-parcel"]
    local.driver.replay(events)
    order_id = events[0]["detail"]["order_id"]
    table = local.table_name
    # WHEN the report is read from the table over HTTP, and simulated from the journey's files
    args = ["--json", "--order", order_id, "--orders", "1", "--rules", str(repo_root / "rules")]
    over_http = CliRunner().invoke(
        cli, ["report", "--table", table, "--endpoint-url", local.endpoint_url or "", "--since", "all", *args]
    )
    simulated = CliRunner().invoke(cli, ["report", str(repo_root / "events" / "damaged-parcel"), *args])
    # THEN both succeed and tell the order's story alike: its events, decisions, statuses and subjects
    assert over_http.exit_code == 0, over_http.output
    assert simulated.exit_code == 0, simulated.output
    (from_table,) = json.loads(over_http.stdout)["orders"]
    (from_files,) = json.loads(simulated.stdout)["orders"]
    assert from_table["order_id"] == order_id
    assert from_table == from_files
    assert any(e.get("subject") for e in from_table["entries"] if e["kind"] == "decision")
    stack.install()  # the tier's shared stack serves the next tests again
