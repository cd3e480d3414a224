"""The ops commands end to end through click: validate, explain and schema, exit codes and output."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result
from tests.support.events import envelope, order_placed_detail

from touchpoints.cli.main import cli
from touchpoints.cli.output import handle_errors, to_jsonable
from touchpoints.errors import TouchpointsError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "broken-rules"
VALID_BASE = FIXTURES / "valid-base"
CASES = FIXTURES / "cases"


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the valid fixture catalog at `tmp_path/rules`, with the working directory at `tmp_path`."""
    target = tmp_path / "rules"
    shutil.copytree(VALID_BASE, target)
    monkeypatch.chdir(tmp_path)
    return target


ORDER_PLACED = envelope(
    "OrderPlaced",
    "2026-03-02T10:00:00Z",
    order_placed_detail({"id": "C1", "email": "ana@example.com", "name": "Ana"}, amount="19.90"),
    event_id="e-1",
)


def _write(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


# -- validate ---------------------------------------------------------------------------------------


def test_validate_a_good_catalog_prints_a_summary_and_exits_0(rules: Path) -> None:
    # GIVEN the valid fixture catalog
    # WHEN it is validated
    result = _run("validate", "rules")
    # THEN it exits 0 with counts, the policy verdict and the catalog version
    assert result.exit_code == 0, result.output
    assert "4 rules (1 disabled), 3 templates x 2 locales, policy ok, catalog sha256:" in result.output


def test_validate_defaults_to_the_rules_folder_of_the_working_directory(rules: Path) -> None:
    # GIVEN a working directory holding rules/
    # WHEN validate runs without an argument
    result = _run("validate")
    # THEN it validates ./rules
    assert result.exit_code == 0, result.output
    assert "policy ok" in result.output


@pytest.mark.parametrize("case", sorted(path.name for path in CASES.iterdir() if path.is_dir()))
def test_validate_exits_1_and_prints_file_line_message_for_each_broken_case(rules: Path, case: str) -> None:
    # GIVEN the fixture catalog with one mistake
    shutil.copytree(CASES / case, rules, dirs_exist_ok=True)
    # WHEN it is validated
    result = _run("validate", "rules")
    # THEN it exits 1 and every problem line is `rules/<file>:<line>: <message>`
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    problems, summary = lines[:-1], lines[-1]
    assert problems
    for line in problems:
        path, number, message = line.split(":", 2)
        assert path.startswith("rules/")
        assert number.isdigit()
        assert message.strip()
    assert "problem" in summary
    assert "Traceback" not in result.output


def test_validate_json_lists_problems_for_machines(rules: Path) -> None:
    # GIVEN a catalog with a typo'd key
    shutil.copytree(CASES / "unknown-key", rules, dirs_exist_ok=True)
    # WHEN validate runs with --json
    result = _run("validate", "rules", "--json")
    # THEN the output is JSON naming the file, line and message, and the exit code is still 1
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert report["problems"] == [
        {
            "path": "rules/reviews/negative-review.yaml",
            "line": 8,
            "message": "unknown key 'priorty' (did you mean 'priority'?)",
        }
    ]


def test_validate_json_on_a_good_catalog_gives_counts_and_version(rules: Path) -> None:
    # GIVEN the valid catalog
    # WHEN validate runs with --json
    result = _run("validate", "rules", "--json")
    # THEN the summary is machine-readable
    report = json.loads(result.output)
    assert result.exit_code == 0
    assert report["ok"] is True
    assert report["rules"] == 4
    assert report["disabled"] == ["ship-promise-check"]
    assert report["locales"] == ["en", "zh-Hant"]
    assert report["version"].startswith("sha256:")


def test_validate_a_missing_folder_exits_2_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a directory with no rules folder
    monkeypatch.chdir(tmp_path)
    # WHEN validate runs
    result = _run("validate", "no-such-rules")
    # THEN it exits 2 with a clear message
    assert result.exit_code == 2
    assert "no-such-rules: no such rules folder" in result.output
    assert "Traceback" not in result.output


def test_validate_output_has_no_colour_codes_when_not_a_terminal(rules: Path) -> None:
    # GIVEN output captured (not a terminal), with problems to show
    shutil.copytree(CASES / "bad-duration", rules, dirs_exist_ok=True)
    # WHEN validate runs
    result = _run("validate", "rules")
    # THEN there are no ANSI escape codes to confuse CI logs or grep
    assert "\x1b[" not in result.output


# -- explain ----------------------------------------------------------------------------------------


def _review(rating: int) -> dict[str, Any]:
    return envelope(
        "ReviewSubmitted", "2026-03-09T12:00:00Z", {"review_id": "R1", "rating": rating}, event_id="e-9"
    )


@pytest.mark.parametrize(("rating", "verdict"), [(1, "MATCHES"), (5, "DOES NOT MATCH")])
def test_explain_shows_the_trace_and_verdict(rules: Path, tmp_path: Path, rating: int, verdict: str) -> None:
    # GIVEN a review event and the order's earlier events as JSON Lines
    event = _write(tmp_path / "review.json", _review(rating))
    state = tmp_path / "state.jsonl"
    state.write_text(json.dumps(ORDER_PLACED) + "\n", encoding="utf-8")
    # WHEN the negative-review rule is explained
    result = _run("explain", str(event), "--rule", "negative-review-apology", "--state", str(state))
    # THEN it shows the trigger, the JsonLogic node values and the verdict, exiting 0 either way
    assert result.exit_code == 0, result.output
    assert "Trigger    yes" in result.output
    assert f"var event.rating -> {rating}" in result.output
    assert result.output.rstrip().endswith(f"Verdict    {verdict}")


def test_explain_json_carries_the_trace_and_facts(rules: Path, tmp_path: Path) -> None:
    # GIVEN a bad review
    event = _write(tmp_path / "review.json", _review(2))
    # WHEN explained with --json
    result = _run("explain", str(event), "--rule", "negative-review-apology", "--json")
    # THEN the JSON says it matches and includes the condition's trace and the facts it read
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["matches"] is True
    assert report["trigger"] == {"on": ["ReviewSubmitted"], "matches": True}
    assert report["condition"]["holds"] is True
    assert report["facts"]["event"]["rating"] == 2
    assert report["now"] == "2026-03-09T12:00:00Z"


def test_explain_a_delayed_rule_shows_its_due_time(rules: Path, tmp_path: Path) -> None:
    # GIVEN a payment event for a rule that decides 48h later
    paid = envelope(
        "PaymentSucceeded",
        "2026-03-02T11:00:00Z",
        {"payment_id": "P1", "amount": ORDER_PLACED["detail"]["total"]},
        event_id="e-2",
    )
    event = _write(tmp_path / "paid.json", paid)
    state = _write(tmp_path / "state.json", [ORDER_PLACED])
    # WHEN it is explained without --now, then at the due time
    at_event = _run("explain", str(event), "--rule", "late-shipment-notice", "--state", str(state))
    at_due = _run(
        "explain",
        str(event),
        "--rule",
        "late-shipment-notice",
        "--state",
        str(state),
        "--now",
        "2026-03-04T11:00:00Z",
        "--json",
    )
    # THEN the facts are those of the event's time, the due time is shown with the --now to use,
    # and at the due time nothing has shipped, so it matches
    assert at_event.exit_code == 0, at_event.output
    assert "after 2d: decided at 2026-03-04T11:00:00Z" in at_event.output
    assert "--now 2026-03-04T11:00:00Z" in at_event.output
    assert "Now        2026-03-02T11:00:00Z" in at_event.output
    report = json.loads(at_due.output)
    assert report["timing"]["due_at"] == "2026-03-04T11:00:00Z"
    assert report["facts"]["now"] == "2026-03-04T11:00:00Z"
    assert report["matches"] is True


def test_explain_with_now_uses_that_clock(rules: Path, tmp_path: Path) -> None:
    # GIVEN a review event
    event = _write(tmp_path / "review.json", _review(1))
    # WHEN explained with --now
    result = _run(
        "explain", str(event), "--rule", "negative-review-apology", "--now", "2026-04-01T00:00:00Z", "--json"
    )
    # THEN the facts' clock is --now
    assert json.loads(result.output)["facts"]["now"] == "2026-04-01T00:00:00Z"


def test_explain_a_rule_that_other_events_trigger_does_not_match(rules: Path, tmp_path: Path) -> None:
    # GIVEN an OrderPlaced event
    event = _write(tmp_path / "placed.json", ORDER_PLACED)
    # WHEN the review rule is explained on it
    result = _run("explain", str(event), "--rule", "negative-review-apology")
    # THEN the trigger does not match, so neither does the rule
    assert result.exit_code == 0
    assert "Trigger    no" in result.output
    assert "DOES NOT MATCH" in result.output


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("{not json", [], "event.json:1:2: not valid JSON (expecting property name"),
        (
            json.dumps({"detail-type": "ReviewSubmitted", "id": "x"}),
            [],
            "event.json:1: event x: ReviewSubmitted",
        ),
        (json.dumps(ORDER_PLACED), ["--rule", "order-confirmaton"], "did you mean 'order-confirmation'"),
        (json.dumps(ORDER_PLACED), ["--now", "yesterday"], "--now: 'yesterday' is not an RFC 3339 time"),
        (json.dumps([ORDER_PLACED, ORDER_PLACED]), [], "explain takes exactly one event"),
    ],
)
def test_explain_bad_input_exits_2_with_a_clear_message(
    rules: Path, tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    # GIVEN an unreadable event, an unknown rule or a bad clock
    event = tmp_path / "event.json"
    event.write_text(content, encoding="utf-8")
    options = args if "--rule" in args else ["--rule", "order-confirmation", *args]
    # WHEN explain runs
    result = _run("explain", str(event), *options)
    # THEN it exits 2 with a message, not a traceback
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_explain_missing_event_file_exits_2(rules: Path) -> None:
    # GIVEN no event file
    # WHEN explain runs
    result = _run("explain", "missing.json", "--rule", "order-confirmation")
    # THEN it exits 2 naming the file
    assert result.exit_code == 2
    assert "missing.json" in result.output


def test_explain_on_a_broken_catalog_exits_2_listing_the_problems(rules: Path, tmp_path: Path) -> None:
    # GIVEN a catalog with a problem
    shutil.copytree(CASES / "unknown-fact", rules, dirs_exist_ok=True)
    event = _write(tmp_path / "placed.json", ORDER_PLACED)
    # WHEN explain runs
    result = _run("explain", str(event), "--rule", "order-confirmation")
    # THEN it exits 2 and names the file and line to fix
    assert result.exit_code == 2
    assert "rules/shipping/late-shipment.yaml:6:" in result.output


# -- schema -----------------------------------------------------------------------------------------


def test_schema_writes_then_check_passes_then_fails_when_stale(rules: Path) -> None:
    # GIVEN a rules folder without schemas
    # WHEN schema runs, then schema --check
    written = _run("schema", "rules")
    checked = _run("schema", "rules", "--check")
    # THEN both files are written and the check passes
    assert written.exit_code == 0
    assert json.loads((rules / "rule.schema.json").read_text(encoding="utf-8"))["title"] == "Touchpoints rule"
    assert (rules / "policy.schema.json").exists()
    assert checked.exit_code == 0
    # AND once a schema is edited by hand, --check fails and names it
    (rules / "rule.schema.json").write_text("{}", encoding="utf-8")
    stale = _run("schema", "rules", "--check")
    assert stale.exit_code == 1
    assert "out of date rules/rule.schema.json" in stale.output


@pytest.mark.parametrize("command", ["validate", "explain", "schema"])
def test_help_shows_examples(command: str) -> None:
    # GIVEN an ops person new to the tool
    # WHEN they ask for help
    result = _run(command, "--help")
    # THEN it explains the command with examples
    assert result.exit_code == 0
    assert "Examples:" in result.output
    assert f"touchpoints {command}" in result.output


# -- shared output helpers (touchpoints.cli.output) -----------------------------------------------


def test_to_jsonable_writes_utc_times_with_z_and_keeps_decimals_exact() -> None:
    # GIVEN values our models hold
    value = {"at": datetime(2026, 3, 1, 10, 0, tzinfo=UTC), "amount": Decimal("59.90"), "tags": {"b", "a"}}
    # WHEN converted for --json
    converted = to_jsonable(value)
    # THEN times end in Z, decimals stay exact text, sets are sorted lists
    assert converted == {"at": "2026-03-01T10:00:00Z", "amount": "59.90", "tags": ["a", "b"]}


def test_handle_errors_turns_our_errors_into_exit_2_without_traceback() -> None:
    # GIVEN a command that fails with a deliberate error, and one that hits a missing file
    @click.command()
    @click.option("--missing", is_flag=True)
    @handle_errors
    def broken(missing: bool) -> None:
        if missing:
            Path("/no/such/file.json").read_text(encoding="utf-8")
        raise TouchpointsError("rule 'x' is broken at rules/x.yaml:3")

    # WHEN each runs
    ours = CliRunner().invoke(broken, [])
    missing = CliRunner().invoke(broken, ["--missing"])
    # THEN each exits 2 with the message, and no traceback
    assert (ours.exit_code, missing.exit_code) == (2, 2)
    assert "error: rule 'x' is broken at rules/x.yaml:3" in ours.output
    assert "/no/such/file.json: No such file or directory" in missing.output
    assert "Traceback" not in ours.output + missing.output
