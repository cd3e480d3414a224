"""The command line as its users meet it: hostile inputs, exit codes, interrupts and the help's examples.

Each test here pins a defect found by a review of the CLI against docs/CONTRACT.md and against what a
mature tool does (no tracebacks, every error naming the file, examples that run as written).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from touchpoints.cli.main import COMMANDS, cli
from touchpoints.cli.output import handle_errors, stdout_console

REPO = Path(__file__).resolve().parents[3]
FIXTURE_RULES = REPO / "tests" / "fixtures" / "decide" / "rules"
SAMPLE_EVENT = REPO / "events" / "happy-path" / "01-order-placed.json"
BINARY = bytes(range(128, 256)) * 4  # never UTF-8


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


# -- docs/CONTRACT.md: simulate exits 0, or 2 on unreadable input (naming the file and the event) -----------


def test_simulate_malformed_event_exits_2_as_the_contract_says(tmp_path: Path) -> None:
    # GIVEN a readable file holding one event that breaks the contract (no order_id)
    event = json.loads(SAMPLE_EVENT.read_text(encoding="utf-8"))
    del event["detail"]["order_id"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    # WHEN simulated
    result = invoke("simulate", str(path), "--rules", str(REPO / "rules"))
    # THEN exit 2 (not 1, which the contract does not know for simulate), naming file, event and field
    assert result.exit_code == 2, result.output
    assert "bad.json" in result.stderr
    assert event["id"] in result.stderr
    assert "detail.order_id" in result.stderr
    assert "1 malformed event(s) left out; 0 event(s) were used" in result.stderr


@pytest.mark.parametrize("command", ["simulate", "diff"])
def test_a_path_without_events_is_an_error_not_an_empty_success(tmp_path: Path, command: str) -> None:
    # GIVEN an empty folder (a typo'd path, or the schemas folder)
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    base = ["--base", str(FIXTURE_RULES)] if command == "diff" else []
    # WHEN replayed
    result = invoke(command, str(empty), "--rules", str(FIXTURE_RULES), *base)
    # THEN exit 2 saying that no events were found there, instead of "0 decisions" and exit 0
    assert result.exit_code == 2, result.output
    assert f"no events found in {empty}" in result.stderr
    _no_traceback(result)


# -- no tracebacks, every error names the file ---------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (BINARY, "not UTF-8 text"),
        (b"", "the file is empty"),
        (b'"just a string"', "a string where an event object"),
        (b"[]", "holds 0 events; COMMAND takes exactly one event"),
        (
            b'{"id": "e-9", "detail-type": "ReviewSubmitted"}',
            "event e-9: ReviewSubmitted: source: is required",
        ),
    ],
    ids=["binary", "empty", "json-string", "empty-array", "malformed"],
)
@pytest.mark.parametrize("command", ["explain", "preview"])
def test_a_bad_event_file_names_the_file_and_never_shows_a_traceback(
    tmp_path: Path, command: str, content: bytes, message: str
) -> None:
    # GIVEN an event file that is binary, empty, not an object, or not a valid event
    path = tmp_path / "event.json"
    path.write_bytes(content)
    args = {
        "explain": ["explain", str(path), "--rule", "order-confirmation"],
        "preview": ["preview", "order-confirmation", "--locale", "en", "--event", str(path)],
    }[command]
    # WHEN the command reads it
    result = invoke(*args, "--rules", str(REPO / "rules"))
    # THEN exit 2 with `event.json[:line]: <what is wrong>` on stderr, no traceback
    assert result.exit_code == 2, result.output
    assert "event.json:" in result.stderr
    assert message.replace("COMMAND", command) in result.stderr
    _no_traceback(result)


def test_audit_with_an_endpoint_that_is_not_a_url_is_a_usage_error() -> None:
    # GIVEN a mistyped --endpoint-url WHEN audited
    result = invoke("audit", "--order", "A1", "--endpoint-url", "localhost-5000", "--region", "us-east-1")
    # THEN exit 2 naming the option and showing the form it wants, instead of botocore's ValueError
    assert result.exit_code == 2, result.output
    assert "--endpoint-url 'localhost-5000' is not a URL" in result.stderr
    assert "http://127.0.0.1:5000" in result.stderr
    _no_traceback(result)


# -- results that look like success must be success ----------------------------------------------------


def test_validate_of_a_folder_without_rules_is_a_problem(tmp_path: Path) -> None:
    # GIVEN a folder that is not a rules folder (the events, say)
    folder = tmp_path / "events"
    folder.mkdir()
    (folder / "order.json").write_text("{}", encoding="utf-8")
    # WHEN validated, as text and as JSON
    text = invoke("validate", str(folder))
    data = invoke("validate", str(folder), "--json")
    # THEN exit 1 with a file:line problem saying there are no rules (not "ok 0 rules, policy ok")
    assert text.exit_code == 1, text.output
    assert re.search(r"events:1: no rule files here", text.stdout)
    assert data.exit_code == 1
    (problem,) = json.loads(data.stdout)["problems"]
    assert problem["line"] == 1
    assert "no rule files" in problem["message"]


def test_test_with_a_filter_that_selects_nothing_exits_2() -> None:
    # GIVEN the shipped rule tests WHEN filtered by a name no case has
    result = invoke("test", str(REPO / "rules"), "-k", "no-case-has-this-name")
    # THEN exit 2 saying so, instead of "0 passed, 0 failed" and exit 0
    assert result.exit_code == 2, result.output
    assert "no test case name contains 'no-case-has-this-name'" in result.stderr


# -- Ctrl-C and closed pipes ---------------------------------------------------------------------------


@click.command()
@click.option("--fail-with", type=click.Choice(["interrupt", "pipe", "rich-pipe"]))
@handle_errors
def _stopped(fail_with: str) -> None:
    if fail_with == "interrupt":
        raise KeyboardInterrupt
    if fail_with == "pipe":
        raise BrokenPipeError(32, "Broken pipe")
    stdout_console().on_broken_pipe()


def test_ctrl_c_exits_130_saying_interrupted() -> None:
    # GIVEN a command interrupted by Ctrl-C WHEN it stops
    result = CliRunner().invoke(_stopped, ["--fail-with", "interrupt"])
    # THEN exit 130 (as shells report SIGINT), not click's "Aborted!" and 1, which means "problems found"
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert "Aborted" not in result.output


@pytest.mark.parametrize("fail_with", ["pipe", "rich-pipe"])
def test_a_closed_stdout_ends_quietly_with_141(fail_with: str) -> None:
    # GIVEN output piped into `head`, which closes the pipe early (click.echo or a rich table)
    result = CliRunner().invoke(_stopped, ["--fail-with", fail_with])
    # THEN exit 141 (SIGPIPE) without "error: Broken pipe" (our handler) or 1 (rich's own)
    assert result.exit_code == 141
    assert result.stderr == ""


# -- --help examples run as written -------------------------------------------------------------------


def _examples(command: str) -> list[list[str]]:
    """The `touchpoints ...` example commands of a command's --help, continuation lines joined."""
    text = invoke(command, "--help").output
    lines = text.split("Examples:" if "Examples:" in text else "Example:", 1)[1].split("Options:")[0]
    commands: list[list[str]] = []
    pending = ""
    for raw in lines.splitlines():
        line = pending + raw.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.startswith("touchpoints "):
            commands.append(shlex.split(line.split("#")[0].split("|")[0])[1:])
    return commands


PLACEHOLDERS = {"/tmp/rules-before", "URL"}
"""Example arguments made by an earlier line of the example (`cp -r rules /tmp/rules-before`) or a URL."""


def _shipped_names() -> dict[str, set[str]]:
    from touchpoints.catalog import load_catalog

    catalog = load_catalog(REPO / "rules")
    return {"--rule": set(catalog.rules), "preview": set(catalog.template_names)}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_examples_name_files_rules_and_templates_that_exist(command: str) -> None:
    # GIVEN the examples of a command's --help, as a new user would copy them in the repository
    examples = _examples(command)
    assert examples, f"`touchpoints {command} --help` has no examples"
    names = _shipped_names()
    for args in examples:
        # THEN every file or folder they name exists, and every rule id and template is shipped
        for argument in args:
            is_path = "/" in argument or argument.endswith((".json", ".jsonl"))
            if is_path and argument not in PLACEHOLDERS and not argument.startswith("http"):
                assert (REPO / argument).exists(), f"{command} --help example names {argument}"
        if "--rule" in args:
            assert args[args.index("--rule") + 1] in names["--rule"], args
        if args[0] == "preview":
            assert args[1] in names["preview"], args


@pytest.mark.parametrize("command", ["explain", "preview", "validate", "test"])
def test_offline_help_examples_run_and_exit_0(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the repository as the working directory (the examples use relative paths)
    monkeypatch.chdir(REPO)
    for args in _examples(command):
        # WHEN each example runs
        result: Any = invoke(*args)
        # THEN it succeeds
        assert result.exit_code == 0, (args, result.output)


def test_a_mistyped_command_suggests_the_right_one() -> None:
    # GIVEN a typo in the command name WHEN run
    result = invoke("simualte", "events")
    # THEN click's usage error names the command meant (the lazy group hid them from click before)
    assert result.exit_code == 2
    assert "No such command 'simualte'. Did you mean 'simulate'?" in result.stderr


DEEP = "[" * 100_000 + "]" * 100_000
"""Valid JSON that Python's json module cannot read (RecursionError past ~1000 levels)."""


@pytest.mark.parametrize("command", ["simulate-json", "simulate-jsonl", "explain", "preview", "demo", "test"])
def test_json_nested_too_deeply_is_a_clear_error_not_a_traceback(tmp_path: Path, command: str) -> None:
    # GIVEN an event file nested 100,000 levels deep (hostile or corrupt input)
    events = tmp_path / "events"
    events.mkdir()
    deep = events / ("deep.jsonl" if command == "simulate-jsonl" else "deep.json")
    deep.write_text(DEEP + "\n", encoding="utf-8")
    rules = tmp_path / "rules"
    if command == "test":
        shutil.copytree(REPO / "rules", rules, ignore=shutil.ignore_patterns("tests"))
        (rules / "tests").mkdir()
        case = {"cases": [{"name": "deep", "events": [{"file": str(deep)}], "expect": []}]}
        (rules / "tests" / "deep.yaml").write_text(json.dumps(case), encoding="utf-8")
    args = {
        "simulate-json": ["simulate", str(deep), "--rules", str(REPO / "rules")],
        "simulate-jsonl": ["simulate", str(deep), "--rules", str(REPO / "rules")],
        "explain": ["explain", str(deep), "--rule", "order-confirmation", "--rules", str(REPO / "rules")],
        "preview": [
            "preview",
            "order-confirmation",
            "-l",
            "en",
            "--event",
            str(deep),
            "--rules",
            str(REPO / "rules"),
        ],
        "demo": ["demo", "--events", str(events), "--rules", str(REPO / "rules")],
        "test": ["test", str(rules)],
    }[command]
    # WHEN the command reads it
    result = invoke(*args)
    # THEN exit 2 naming the file and saying what is wrong, no traceback
    assert result.exit_code == 2, result.output
    assert "deep.json" in result.stderr
    assert "nested too deeply" in result.stderr
    _no_traceback(result)


def test_schema_has_json_for_ci_like_every_command_that_prints_results(tmp_path: Path) -> None:
    # GIVEN a rules folder whose rule schema was edited by hand
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, rules)
    assert invoke("schema", str(rules)).exit_code == 0
    (rules / "rule.schema.json").write_text("{}", encoding="utf-8")
    # WHEN checked with --json
    result = invoke("schema", str(rules), "--check", "--json")
    # THEN exit 1 and a document naming each file's status
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    statuses = {Path(entry["path"]).name: entry["status"] for entry in report["files"]}
    assert report["ok"] is False
    assert statuses == {"rule.schema.json": "out of date", "policy.schema.json": "up to date"}


def test_the_root_help_documents_every_exit_code_the_commands_use() -> None:
    # GIVEN the exit codes of touchpoints.cli.output
    from touchpoints.cli import output

    codes = {value for name, value in vars(output).items() if name.startswith("EXIT_")}
    # WHEN `touchpoints --help` is read
    text = invoke("--help").output
    # THEN each code is explained there
    for code in codes:
        assert re.search(rf"(^|\s){code} ", text), code


def _rules_with_test(tmp_path: Path, case: dict[str, Any]) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules, ignore=shutil.ignore_patterns("tests"))
    (rules / "tests").mkdir()
    (rules / "tests" / "case.yaml").write_text(json.dumps({"cases": [case]}, indent=1), encoding="utf-8")
    return rules


REVIEW = {
    "type": "ReviewSubmitted",
    "time": "2026-03-02T10:00:00Z",
    "detail": {"review_id": "R1", "rating": 5},
}


def test_a_rule_test_naming_an_unknown_rule_fails_instead_of_passing_vacuously(tmp_path: Path) -> None:
    # GIVEN a case whose expect_not and expect_count name a misspelt rule (nothing can ever match it)
    rules = _rules_with_test(
        tmp_path,
        {
            "name": "typo",
            "order_id": "T1",
            "events": [REVIEW],
            "expect_not": [{"rule": "review-thank"}],
            "expect_count": {"review-thank": 0},
        },
    )
    # WHEN the rule tests run
    result = invoke("test", str(rules))
    # THEN the case fails, naming the rule and the one meant
    assert result.exit_code == 1, result.output
    assert "no rule 'review-thank' in the catalog (did you mean 'review-thanks'?)" in result.stdout


def test_a_rule_test_expecting_a_status_the_contract_lacks_is_a_file_error(tmp_path: Path) -> None:
    # GIVEN a case expecting `status: supressed` (a typo no record can carry)
    rules = _rules_with_test(
        tmp_path,
        {"name": "typo", "order_id": "T1", "events": [REVIEW], "expect_not": [{"status": "supressed"}]},
    )
    # WHEN the rule tests run
    result = invoke("test", str(rules))
    # THEN exit 2 with file:line, the value, the suggestion and the allowed values
    assert result.exit_code == 2, result.output
    assert re.search(r"case\.yaml:\d+: status: 'supressed' is not a decision status", result.stderr)
    assert (
        "(did you mean 'suppressed'?); one of pending, scheduled, sent, failed, suppressed" in result.stderr
    )


def test_demo_gives_the_environment_back_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN no Powertools settings in the environment, and one already set by the caller
    for name in ("POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "caller's")
    events = tmp_path / "events"
    events.mkdir()
    (events / "deep.json").write_text(DEEP, encoding="utf-8")
    # WHEN the demo runs in this process (and stops on a bad event file)
    result = invoke("demo", "--events", str(events), "--rules", str(REPO / "rules"))
    # THEN its own variables are gone again and the caller's is untouched (later handler imports
    # in the same process would otherwise log at the demo's ERROR level)
    assert result.exit_code == 2
    assert "POWERTOOLS_LOG_LEVEL" not in os.environ
    assert "POWERTOOLS_METRICS_DISABLED" not in os.environ
    assert os.environ["POWERTOOLS_TRACE_DISABLED"] == "caller's"
