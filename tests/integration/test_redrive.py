"""`touchpoints redrive`: the retry path for actions whose dispatch stream records ended in the DLQ."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from touchpoints.cli.main import cli
from touchpoints.service import IN_FLIGHT, UNKNOWN_OUTCOME


def _fresh_order(sample: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """The sample OrderPlaced as a new order placed at `moment` (recent, so redrive's window sees it)."""
    event = copy.deepcopy(sample)
    event["id"] = str(uuid.uuid4())
    event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["detail"]["order_id"] = f"R-{uuid.uuid4().hex[:10]}"
    return event


def _actions(local: Any, order_id: str) -> list[Any]:
    """The order confirmation's record (the sample also decides other rules: they are not needed here)."""
    return [r for r in local.store.records_for_order(order_id) if r.rule_id == "order-confirmation"]


def _mine(report: dict[str, Any], order_id: str) -> list[tuple[bool, str]]:
    return [
        (a["in_flight"], a["outcome"])
        for a in report["actions"]
        if a["order_id"] == order_id and a["rule_id"] == "order-confirmation"
    ]


def _redrive(table_name: str, repo_root: Path, *extra: str) -> Result:
    arguments = ["redrive", "--table", table_name, "--rules", str(repo_root / "rules"), "--days", "2"]
    # A wide table whatever the runner (xdist workers report a narrow terminal): ids stay on one line.
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, [*arguments, *extra])


@pytest.fixture
def lost_order(
    local: Any, sample_events: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> str:
    """An order confirmation decided an hour ago whose stream record ended in the dispatch DLQ."""
    import touchpoints.handlers.dispatch as dispatch

    driver = local.driver
    driver.pump_stream()  # earlier tests' records are not this test's business
    placed = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    saved_clock = driver.now
    driver.now = placed
    event = _fresh_order(sample_events["happy-path"][0], placed)
    driver.put_events([event])
    driver.drain_queue()

    def down(event: Any, context: Any) -> Any:
        raise RuntimeError("SES and DynamoDB unreachable for the whole retry window")

    dead_lettered = driver.stats.dead_lettered
    with monkeypatch.context() as patch:
        patch.setattr(dispatch, "handler", down)
        driver.pump_stream()
    assert driver.stats.dead_lettered > dead_lettered  # the stream record is gone to the DLQ
    driver.now = saved_clock
    return str(event["detail"]["order_id"])


def test_a_pending_action_whose_stream_record_was_dead_lettered_is_sent_once_after_redrive(
    local: Any, lost_order: str, table_name: str, repo_root: Path
) -> None:
    # GIVEN a confirmation still pending an hour after it was due (its stream record in the DLQ)
    assert [a.status for a in _actions(local, lost_order)] == ["pending"]
    sent_before = len(local.sent_emails())
    # WHEN redrive runs, and the stream hands the touched rows to Dispatch
    result = _redrive(table_name, repo_root, "--json")
    local.driver.pump_stream()
    # THEN it reported the action (exit 1: something was overdue) and the email went out
    report = json.loads(result.stdout)
    redriven = [a for a in report["actions"] if a["order_id"] == lost_order]
    assert result.exit_code == 1, result.output
    assert _mine(report, lost_order) == [(False, "redriven")]
    assert [a.status for a in _actions(local, lost_order)] == ["sent"]
    assert len(local.sent_emails()) == sent_before + len(redriven)
    # AND running it again finds nothing of this order and sends nothing more
    again = json.loads(_redrive(table_name, repo_root, "--json").stdout)
    local.driver.pump_stream()
    assert [a for a in again["actions"] if a["order_id"] == lost_order] == []
    assert len(local.sent_emails()) == sent_before + len(redriven)


def test_an_action_stuck_in_flight_is_recorded_failed_and_never_sent(
    local: Any, lost_order: str, table_name: str, repo_root: Path, clients: dict[str, Any]
) -> None:
    # GIVEN the confirmation marked in flight by a dispatch that stopped before recording the result
    (action,) = _actions(local, lost_order)
    sk = local.store._action_sk(lost_order, action.action_id)
    clients["dynamodb"].update_item(
        TableName=table_name,
        Key={"pk": {"S": f"ORDER#{lost_order}"}, "sk": {"S": sk}},
        UpdateExpression="SET #error = :mark",
        ExpressionAttributeNames={"#error": "error"},
        ExpressionAttributeValues={":mark": {"S": IN_FLIGHT}},
    )
    # WHEN redrive runs (and the stream is pumped)
    result = _redrive(table_name, repo_root, "--json")
    local.driver.pump_stream()
    # THEN the action is `failed` with the unknown-outcome reason, and it was not sent
    assert _mine(json.loads(result.stdout), lost_order) == [(True, "settled as failed")]
    (after,) = _actions(local, lost_order)
    assert (after.status, after.error) == ("failed", UNKNOWN_OUTCOME)
    assert after.message_id is None


def test_a_dry_run_lists_and_changes_nothing(
    local: Any, lost_order: str, table_name: str, repo_root: Path
) -> None:
    # GIVEN an overdue pending action WHEN redrive runs with --dry-run (table output)
    result = _redrive(table_name, repo_root, "--dry-run")
    local.driver.pump_stream()
    # THEN it is listed as what would be done, and stays pending
    assert result.exit_code == 1, result.output
    assert lost_order in result.output
    assert "would redrive" in result.output
    assert [a.status for a in _actions(local, lost_order)] == ["pending"]


def test_nothing_overdue_exits_0_and_says_so(local: Any, table_name: str, repo_root: Path) -> None:
    # GIVEN every stream record handled WHEN redrive looks at a window with no overdue action
    local.driver.pump_stream()
    result = _redrive(table_name, repo_root, "--older-than", "366d")
    # THEN exit 0 and a sentence, not an empty table
    assert result.exit_code == 0, result.output
    assert "Nothing to redrive" in result.output


@pytest.mark.parametrize("value", ["15 minutes", "0m", "400d"])
def test_a_bad_older_than_is_a_usage_error(table_name: str, repo_root: Path, value: str) -> None:
    # GIVEN a duration redrive cannot use WHEN it runs THEN exit 2 naming the option, no traceback
    result = _redrive(table_name, repo_root, "--older-than", value)
    assert result.exit_code == 2
    assert "--older-than" in result.output
    assert "Traceback" not in result.output


def _rules_expiring_confirmations(repo_root: Path, tmp_path: Path, expires_after: str) -> Path:
    """The shipped rules with `expires_after` on the order confirmation (the lost order's action)."""
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(repo_root / "rules", rules)
    rule = rules / "orders" / "order-confirmation.yaml"
    rule.write_text(rule.read_text(encoding="utf-8") + f"expires_after: {expires_after}\n", encoding="utf-8")
    return rules


def test_an_overdue_action_past_its_expiry_is_recorded_expired_and_never_handed_back(
    local: Any, lost_order: str, table_name: str, tmp_path: Path, repo_root: Path
) -> None:
    # GIVEN the confirmation decided an hour ago, and a catalog where it expires after 30 minutes
    rules = _rules_expiring_confirmations(repo_root, tmp_path, "30m")
    sent_before = len(local.sent_emails())
    arguments = ["redrive", "--table", table_name, "--rules", str(rules), "--days", "2"]
    # WHEN a dry run, then redrive, run, and the stream is pumped
    dry = CliRunner(env={"COLUMNS": "200"}).invoke(cli, [*arguments, "--dry-run", "--json"])
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, [*arguments, "--json"])
    local.driver.pump_stream()
    # THEN the dry run says it would expire it, the run records it suppressed / expired, exit 1
    assert _mine(json.loads(dry.stdout), lost_order) == [(False, "would expire")]
    assert result.exit_code == 1, result.output
    assert _mine(json.loads(result.stdout), lost_order) == [(False, "expired")]
    assert [(a.status, a.reason) for a in _actions(local, lost_order)] == [("suppressed", "expired")]
    # AND it was not sent (only what the run redrove of other tests' orders went out), and a
    # second run finds nothing of it
    actions = json.loads(result.stdout)["actions"]
    redriven = [a for a in actions if a["outcome"] == "redriven" and a["channel"] == "email"]
    assert len(local.sent_emails()) == sent_before + len(redriven)
    again = json.loads(CliRunner().invoke(cli, [*arguments, "--json"]).stdout)
    assert [a for a in again["actions"] if a["order_id"] == lost_order] == []


def test_an_overdue_action_within_its_expiry_is_redriven(
    local: Any, lost_order: str, table_name: str, tmp_path: Path, repo_root: Path
) -> None:
    # GIVEN the same lost confirmation, in a catalog where it expires only after a day
    rules = _rules_expiring_confirmations(repo_root, tmp_path, "1d")
    arguments = ["redrive", "--table", table_name, "--rules", str(rules), "--days", "2", "--json"]
    # WHEN redrive runs / THEN it is handed back to Dispatch and sent
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, arguments)
    local.driver.pump_stream()
    assert _mine(json.loads(result.stdout), lost_order) == [(False, "redriven")]
    assert [a.status for a in _actions(local, lost_order)] == ["sent"]
