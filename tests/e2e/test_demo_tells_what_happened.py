"""The demo and the audit say what did not happen too (issue 16, items 7, 9 and 11): events that
decided nothing, the rule that won a group, the consent that was missing; `.jsonl` inputs; the
audit by rule over the by-rule index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from tests.support.events import for_new_order

from touchpoints.cli.main import cli
from touchpoints.timestamps import format_seconds


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    """The demo in a process of its own, as a user runs it: moto's state is per process, and this
    tier's process already holds the shared stack (`GET /moto-api/data.json` dumps all of it)."""
    env = {**os.environ, "COLUMNS": "400", "AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("touchpoints")), "demo", *args],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_reads_json_lines_like_simulate(repo_root: Path, tmp_path: Path) -> None:
    # GIVEN a folder with a JSON Lines file of two events and a .json file of one
    folder = repo_root / "events" / "cancelled"
    files = sorted(folder.glob("*.json"))
    (tmp_path / "first.jsonl").write_text(
        "\n".join(json.dumps(json.loads(f.read_text())) for f in files[:2]) + "\n"
    )
    shutil.copy(files[2], tmp_path / "last.json")
    # WHEN the demo sends the folder (it counted 1 event before) and the .jsonl file alone
    both = _demo("--events", str(tmp_path), "--stage", "jsonl1", "--json")
    lines = _demo("--events", str(tmp_path / "first.jsonl"), "--stage", "jsonl2", "--json")
    # THEN every event is sent, as simulate reads them
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout[both.stdout.index("{") :])["stats"]["events"] == 3
    assert lines.returncode == 0, lines.stderr
    assert json.loads(lines.stdout[lines.stdout.index("{") :])["stats"]["events"] == 2


def test_demo_says_why_nothing_was_decided_who_won_and_which_consent(repo_root: Path) -> None:
    # GIVEN the sample journeys WHEN the demo runs them (table output)
    result = _demo("--stage", "truths")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # THEN the cancellation that decided nothing says why (it showed no trace of it before)
    assert "no decision on OrderCancelled (2026-03-18 04:00): no rule acts on OrderCancelled" in out
    # AND a group suppression names the rule that went first, a consent suppression the consent
    assert "suppressed: group_exclusion: shipping-late-notice of group delay-apology went first" in out
    assert "suppressed: no_consent: needs consent.marketing (marketing email)" in out
    # AND dates carry their year, event actions no locale, and the quiet-hours row its decision time
    survey = next(line for line in out.splitlines() if "follow-up-survey" in line and "quiet_hours" in line)
    assert " ".join(survey.replace("│", " ").split()).startswith(
        "2026-03-20 14:30 follow-up-survey email/zh-Hant scheduled: quiet_hours -> sent"
    )
    assert "event/" not in out
    # AND the messages are listed in the order they went out, with their time
    table = out.split("Messages that went out")[1].split("events ->")[0]
    times = [line.split("│")[1].strip() for line in table.splitlines() if line.startswith("│ 2026")]
    assert times == sorted(times)
    assert len(times) >= 20


def test_audit_by_rule_since_a_date_uses_the_by_rule_index(
    stack: Any, journeys: dict[str, list[dict[str, Any]]]
) -> None:
    # GIVEN two journeys processed on the emulated stack, under order ids no other test uses
    stack.install()
    stack.driver.replay(
        [for_new_order(e, "byrule") for e in journeys["carrier-delay"] + journeys["happy-path"]]
    )
    mine = {"A1001-byrule", "A4001-byrule"}
    table = stack.resources.outputs["TableName"]
    where = ["--table", table, "--endpoint-url", stack.endpoint_url]
    # WHEN audited by rule since the journeys began, and since the day after the later confirmation
    every = CliRunner().invoke(
        cli, ["audit", "--rule", "order-confirmation", "--since", "2026-03-01", *where, "--json"]
    )
    later = CliRunner().invoke(
        cli, ["audit", "--rule", "order-confirmation", "--since", "2026-03-10", *where, "--json"]
    )
    # THEN the first finds both orders' confirmations, the second neither (they were decided before)
    assert every.exit_code == 0, every.output
    found = [json.loads(line) for line in every.stdout.splitlines()]
    assert {r["order_id"] for r in found} >= mine
    assert {r["rule_id"] for r in found} == {"order-confirmation"}
    # (the shared stack may hold other tests' orders, decided later: only these two are checked)
    assert later.exit_code == 0, later.output
    assert {json.loads(line)["order_id"] for line in later.stdout.splitlines()}.isdisjoint(mine)
    # AND a duration counts back from now: the journeys of March 2026 are older than 7 days today
    recent = CliRunner().invoke(
        cli, ["audit", "--rule", "order-confirmation", "--since", "7d", *where, "--json"]
    )
    assert recent.exit_code == 0
    since = datetime.now(UTC) - timedelta(days=7)
    assert all(json.loads(line)["decided_at"] >= format_seconds(since) for line in recent.stdout.splitlines())


def test_audit_since_that_is_neither_a_duration_nor_a_date_is_exit_2() -> None:
    result = CliRunner().invoke(
        cli, ["audit", "--rule", "x", "--since", "last tuesday", "--endpoint-url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2
    assert "--since 'last tuesday' is neither a duration" in result.stderr


def test_audit_by_rule_refuses_a_period_longer_than_records_are_kept(stack: Any) -> None:
    table = stack.resources.outputs["TableName"]
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "--rule",
            "x",
            "--since",
            "2000-01-01",
            "--table",
            table,
            "--endpoint-url",
            stack.endpoint_url,
        ],
    )
    assert result.exit_code == 2
    assert "one query per day" in result.stderr
    assert "decision records are kept 400 days" in result.stderr
