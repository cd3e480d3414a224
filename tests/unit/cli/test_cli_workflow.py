"""The operations workflow tried as a new user would (issue 16): every command tells the truth.

A wrong rules folder is refused everywhere, events are read the same way everywhere, explain and
preview build the order's state as production does and say when it is partial, simulate's totals
add up, rule tests run one file and assert on the message a customer would read.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from touchpoints.cli.main import cli

REPO = Path(__file__).resolve().parents[3]
EVENTS = REPO / "events"
RULES = REPO / "rules"
DELAYED = EVENTS / "carrier-delay" / "04-shipment-delayed.json"


def invoke(*args: str, input: str | None = None) -> Any:
    # wide: tables fold long cells off a terminal at 160 columns, and the tests read whole subjects
    return CliRunner().invoke(cli, list(args), input=input, env={"COLUMNS": "400"})


# -- 1. a wrong or empty rules folder is refused by every command ------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", str(EVENTS), "--rules", "{empty}"],
        ["diff", str(EVENTS), "--base", "{empty}", "--rules", str(RULES)],
        ["diff", str(EVENTS), "--base", str(RULES), "--rules", "{empty}"],
        ["explain", str(DELAYED), "--rule", "delivery-delay-apology", "--rules", "{empty}"],
        [
            "preview",
            "delivery-delay-apology",
            "--locale",
            "en",
            "--event",
            str(DELAYED),
            "--rules",
            "{empty}",
        ],
        ["test", "{empty}"],
        ["rules", "{empty}"],
        ["simulate", str(EVENTS), "--rules", str(EVENTS)],
    ],
    ids=["simulate", "diff-base", "diff-rules", "explain", "preview", "test", "rules", "events-as-rules"],
)
def test_a_folder_without_rules_is_refused_with_exit_2_and_a_hint(tmp_path: Path, args: list[str]) -> None:
    # GIVEN an empty folder (or the events folder) passed as the rules folder
    empty = tmp_path / "empty"
    (empty / "tests").mkdir(parents=True)
    (empty / "tests" / "x.yaml").write_text("cases: []\n")
    # WHEN the command runs
    result = invoke(*[str(empty) if a == "{empty}" else a for a in args])
    # THEN exit 2, saying there are no rule files, with a hint; never "0 decisions" or "+ 31 added"
    assert result.exit_code == 2, result.output
    assert "no rule files here" in result.stderr
    assert "hint:" in result.stderr
    assert "added" not in result.stdout


def test_demo_refuses_an_empty_rules_folder_before_starting_anything(tmp_path: Path) -> None:
    # GIVEN an empty folder as --rules WHEN the demo starts
    result = invoke("demo", "--rules", str(tmp_path))
    # THEN exit 2 naming the folder (it printed "33 events -> ; 0 messages out" before)
    assert result.exit_code == 2, result.output
    assert "no rule files here" in result.stderr


# -- 5. one event reader: positions, empty files, stdin, concatenated JSON ---------------------------


def test_a_truncated_file_gets_the_same_line_and_column_from_every_command(tmp_path: Path) -> None:
    # GIVEN an event file cut short in the middle of a string on line 12
    path = tmp_path / "cut.json"
    path.write_text(DELAYED.read_text()[:300])
    # WHEN simulate, explain and preview read it
    outputs = [
        invoke("simulate", str(path)).stderr,
        invoke("explain", str(path), "--rule", "delivery-delay-apology").stderr,
        invoke("preview", "delivery-delay-apology", "--locale", "en", "--event", str(path)).stderr,
    ]
    # THEN all three name the same place, file:line:column, once ("at at" and ":1:" are gone)
    for output in outputs:
        assert "cut.json:12:20: not valid JSON (unterminated string starting)" in output, output
        assert "at at" not in output


@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["empty", "blank-lines"])
def test_an_empty_file_gets_one_message_everywhere(tmp_path: Path, content: str) -> None:
    path = tmp_path / "nothing.json"
    path.write_text(content)
    simulate = invoke("simulate", str(path))
    explain = invoke("explain", str(path), "--rule", "delivery-delay-apology")
    for result in (simulate, explain):
        assert result.exit_code == 2
        assert "nothing.json: the file is empty" in result.stderr


def test_events_written_one_after_another_and_stdin_are_read(tmp_path: Path) -> None:
    # GIVEN two pretty-printed events concatenated (`cat a.json b.json`) and the same on stdin
    folder = EVENTS / "carrier-delay"
    both = (folder / "01-order-placed.json").read_text() + (folder / "04-shipment-delayed.json").read_text()
    path = tmp_path / "both.json"
    path.write_text(both)
    # WHEN simulated from the file and from `-`
    from_file = invoke("simulate", str(path), "--json")
    from_stdin = invoke("simulate", "-", "--json", input=both)
    # THEN both give the same decisions, exit 0
    assert from_file.exit_code == 0, from_file.output
    assert from_file.stdout == from_stdin.stdout
    assert {json.loads(line)["rule_id"] for line in from_file.stdout.splitlines()} >= {
        "order-confirmation",
        "delivery-delay-apology",
    }


# -- 2. explain / preview: the state as production builds it, partial states said ---------------------


def _explain_json(*args: str) -> dict[str, Any]:
    result = invoke("explain", *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_explain_on_a_partial_state_says_which_facts_are_defaults() -> None:
    # GIVEN only the dispatch event as the state of a gold customer's delay (the old help example)
    partial = _explain_json(
        str(DELAYED),
        "--rule",
        "delivery-delay-goodwill",
        "--state",
        str(EVENTS / "carrier-delay" / "03-shipment-dispatched.json"),
    )
    # THEN it does not match, and says that customer.* are defaults and OrderPlaced is missing
    assert partial["matches"] is False
    assert partial["state"]["partial"] is True
    notes = " ".join(partial["state"]["notes"])
    assert "customer.* facts are defaults" in notes
    assert "no OrderPlaced of order A4001" in notes
    # AND the text output says the verdict stands on a partial state
    text = invoke("explain", str(DELAYED), "--rule", "delivery-delay-goodwill").stdout
    assert "DOES NOT MATCH (on a partial state: see the notes)" in text


def test_explain_order_builds_the_state_from_the_events_and_agrees_with_simulate() -> None:
    # GIVEN the whole events folder and an order id
    explained = _explain_json("--order", "A4001", "--rule", "delivery-delay-goodwill", str(EVENTS))
    # THEN the explained event is the order's ShipmentDelayed, its state the three events before it
    assert explained["event"]["detail-type"] == "ShipmentDelayed"
    assert [e["detail-type"] for e in explained["state"]["events"]] == [
        "OrderPlaced",
        "PaymentSucceeded",
        "ShipmentDispatched",
    ]
    assert explained["state"]["partial"] is False
    assert explained["facts"]["customer"]["tier"] == "gold"
    # AND it matches, as simulate decides it
    assert explained["matches"] is True
    simulated = invoke("simulate", str(EVENTS), "--json").stdout
    assert any(
        json.loads(line)["rule_id"] == "delivery-delay-goodwill" and json.loads(line)["order_id"] == "A4001"
        for line in simulated.splitlines()
    )


def test_explain_state_accepts_several_files_and_folders() -> None:
    folder = EVENTS / "carrier-delay"
    repeated = _explain_json(
        str(DELAYED),
        "--rule",
        "delivery-delay-goodwill",
        "--state",
        str(folder / "01-order-placed.json"),
        "--state",
        str(folder / "03-shipment-dispatched.json"),
    )
    whole = _explain_json(str(DELAYED), "--rule", "delivery-delay-goodwill", "--state", str(folder))
    # THEN both --state values count (not only the last), and a folder is read
    assert [e["detail-type"] for e in repeated["state"]["events"]] == ["OrderPlaced", "ShipmentDispatched"]
    assert repeated["matches"] is True
    assert whole["matches"] is True
    # AND events of the folder later than the explained moment are left out, and said
    assert any("later than 2026-03-12T11:45:00Z were left out" in note for note in whole["state"]["notes"])


def test_explain_order_with_an_unknown_order_or_event_is_exit_2() -> None:
    result = invoke("explain", "--order", "NOPE", "--rule", "delivery-delay-goodwill", str(EVENTS))
    assert result.exit_code == 2
    assert "no event of order NOPE" in result.stderr
    assert "A4001" in result.stderr  # the orders that are there
    result = invoke(
        "explain", "--order", "A4001", "--event", "x", "--rule", "delivery-delay-goodwill", str(EVENTS)
    )
    assert result.exit_code == 2
    assert "order A4001 has no event x" in result.stderr


def test_preview_on_a_failing_partial_state_names_the_missing_facts_and_suggests_state(
    tmp_path: Path,
) -> None:
    # GIVEN a template reading the order total, previewed on a shipment event alone (`default(none)`
    # passes validate's null guard, so only the render on the partial state can find the null)
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    for locale in ("en", "zh-Hans", "zh-Hant"):
        path = rules / "templates" / "shipment-on-its-way" / f"{locale}.yaml"
        text = path.read_text()
        assert text.startswith("subject: ")
        lines = text.split("\n", 1)
        subject = "{{ order.total.amount_text | default(none) }} " + lines[0][9:].strip(chr(34))
        path.write_text(f"subject: '{subject}'\n{lines[1]}")
    event = EVENTS / "happy-path" / "03-shipment-dispatched.json"
    result = invoke(
        "preview", "shipment-on-its-way", "--locale", "en", "--event", str(event), "--rules", str(rules)
    )
    # THEN exit 2 naming the missing OrderPlaced and suggesting --state (not only "'None' has no attribute")
    assert result.exit_code == 2, result.output
    assert "no OrderPlaced of order A1001" in result.stderr
    assert "--state" in result.stderr
    # AND with the order's events as the state it renders
    good = invoke(
        "preview", "shipment-on-its-way", "--locale", "en", "--event", str(event),
        "--rules", str(rules), "--state", str(EVENTS / "happy-path"), "--json",
    )  # fmt: skip
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["subject"].startswith("89.80 ")


# -- 8. simulate: totals that add up and agree with --json ------------------------------------------


def test_simulate_totals_add_up_to_the_header_and_agree_with_json() -> None:
    # GIVEN the sample events WHEN simulated as a table, as totals only, and as JSON
    table = invoke("simulate", str(EVENTS))
    summary = invoke("simulate", str(EVENTS), "--summary", "--json")
    lines = invoke("simulate", str(EVENTS), "--json").stdout.splitlines()
    assert table.exit_code == summary.exit_code == 0
    records = [json.loads(line) for line in lines]
    totals = json.loads(summary.stdout)
    # THEN the header counts every record and every action
    header = table.stdout.splitlines()[0]
    actions = {r["action_id"] for r in records}
    assert header.startswith(f"{len(records)} decision records for {len(actions)} actions from 43 events")
    # AND the per-rule totals sum to the actions, each action counted once in its final status
    assert sum(rule["total"] for rule in totals["rules"].values()) == len(actions) == totals["actions"]
    final = {r["action_id"]: r for r in records}
    for rule_id, counts in totals["rules"].items():
        statuses = [r["status"] for r in final.values() if r["rule_id"] == rule_id]
        assert {k: v for k, v in counts.items() if k not in ("total", "deferred")} == {
            s: statuses.count(s) for s in set(statuses)
        }
    # AND the deferred survey (scheduled, then released) is counted as deferred, once
    scheduled = {r["action_id"] for r in records if r["status"] == "scheduled"}
    assert sum(rule["deferred"] for rule in totals["rules"].values()) == len(scheduled) >= 1
    # AND the table's "all rules" row carries the same total; sent/failed never appear in a replay
    all_rules = next(line for line in table.stdout.splitlines() if "all rules" in line)
    assert f" {len(actions)} " in all_rules
    assert "sent" not in table.stdout.split("actions per rule")[1].splitlines()[2]


def test_simulate_summary_prints_no_record_table() -> None:
    result = invoke("simulate", str(EVENTS), "--summary")
    assert result.exit_code == 0
    assert "all rules" in result.stdout
    assert "send_at" not in result.stdout


def test_simulate_shows_the_rendered_subject_and_the_event_payload() -> None:
    # WHEN the sample events are simulated
    result = invoke("simulate", str(EVENTS / "carrier-delay"))
    # THEN the apology's subject (rendered) and the goodwill event's payload are in the table
    assert "We are sorry: your order A4001 will arrive later" in result.stdout
    assert "GoodwillCreditRequested" in result.stdout
    # AND --json --messages adds them to each pending line
    lines = [
        json.loads(x)
        for x in invoke("simulate", str(EVENTS / "carrier-delay"), "--json", "--messages").stdout.splitlines()
    ]
    goodwill = next(r for r in lines if r["rule_id"] == "delivery-delay-goodwill")
    assert goodwill["message"]["detail"]["order_id"] == "A4001"


def test_diff_reports_a_changed_subject(tmp_path: Path) -> None:
    # GIVEN a catalog whose apology subject was reworded
    current = tmp_path / "rules"
    shutil.copytree(RULES, current)
    path = current / "templates" / "delivery-delay-apology" / "en.yaml"
    path.write_text(path.read_text().replace("We are sorry", "Sorry", 1))
    # WHEN diffed on the carrier delay
    result = invoke(
        "diff", str(EVENTS / "carrier-delay"), "--base", str(RULES), "--rules", str(current), "--json"
    )
    # THEN the apology changed in its message only
    report = json.loads(result.stdout)
    (changed,) = report["changed"]
    assert changed["fields"] == ["message"]
    assert changed["messages"]["after"]["subject"].startswith("Sorry")


# -- 6 and 11. rule tests: one file, a copied rules/, content assertions ------------------------------


def test_a_single_test_file_runs_against_its_rules_folder() -> None:
    result = invoke("test", str(RULES / "tests" / "payments.yaml"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["passed"] > 0
    assert {case["file"] for case in report["cases"]} == {str(RULES / "tests" / "payments.yaml")}


def test_a_copied_rules_folder_tests_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN rules/ copied where there is no events/ folder beside it
    shutil.copytree(RULES, tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    # WHEN tested THEN every case runs and passes (journeys.yaml read ../../events/ before)
    result = invoke("test", "rules")
    assert result.exit_code == 0, result.output
    assert "unreadable" not in result.output


def test_an_unreadable_test_file_is_counted_in_the_summary(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "tests" / "broken.yaml").write_text("cases:\n  - name: x\n    events: [{file: nowhere.json}]\n")
    result = invoke("test", str(rules))
    assert result.exit_code == 2
    assert "broken.yaml:3: cannot use event file" in result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert "1 test file(s) unreadable, their cases did not run" in last


def _case_file(tmp_path: Path, expectation: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    path = rules / "tests" / "content.yaml"
    path.write_text(
        f"""cases:
  - name: the delay apology says sorry and gives the new date
    events:
      - {{file: ../../events-copy/01.json}}
      - {{file: ../../events-copy/04.json}}
    expect:
      - {expectation}
"""
    )
    copy = tmp_path / "events-copy"
    copy.mkdir()
    shutil.copy(EVENTS / "carrier-delay" / "01-order-placed.json", copy / "01.json")
    shutil.copy(DELAYED, copy / "04.json")
    return path


@pytest.mark.parametrize(
    ("expectation", "passes"),
    [
        ('{rule: delivery-delay-apology, status: pending, subject_contains: "We are sorry"}', True),
        (
            '{rule: delivery-delay-apology, body_contains: ["Marcus", "17 March 2026"], not_contains: None}',
            True,
        ),
        ('{rule: delivery-delay-apology, subject_contains: "Good news"}', False),
        ("{rule: delivery-delay-apology, not_contains: sorry}", False),
        ("{rule: delivery-delay-goodwill, body_contains: A4001}", True),
    ],
    ids=["subject", "body-and-no-none", "subject-fails", "not-contains-fails", "event-payload"],
)
def test_a_rule_test_asserts_on_the_rendered_message(tmp_path: Path, expectation: str, passes: bool) -> None:
    path = _case_file(tmp_path, expectation)
    result = invoke("test", str(path))
    assert result.exit_code == (0 if passes else 1), result.output
    if not passes:
        assert "the decisions it could be: subject 'We are sorry" in result.stdout


def test_expecting_sent_in_a_rule_test_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = _case_file(tmp_path, "{rule: delivery-delay-apology, status: sent}")
    result = invoke("test", str(path))
    assert result.exit_code == 2
    assert "content.yaml:7: status: 'sent' happens only when Dispatch sends" in result.stderr
    assert "expect `pending`" in result.stderr


def test_a_message_that_would_fail_to_render_fails_its_case(tmp_path: Path) -> None:
    path = _case_file(tmp_path, "{rule: delivery-delay-apology, status: pending}")
    template = path.parents[1] / "templates" / "delivery-delay-apology" / "en.yaml"
    first, rest = template.read_text().split("\n", 1)
    template.write_text(f"subject: '{{{{ order.returns[0].reason }}}} {first[9:].strip(chr(34))}'\n{rest}")
    result = invoke("test", str(path))
    assert result.exit_code == 1, result.output
    assert "delivery-delay-apology (email) would fail at send time" in result.stdout


def test_journeys_yaml_replays_exactly_the_sample_events() -> None:
    # GIVEN the sample events and the journeys test file that writes them out
    from touchpoints.cli.rule_tests import load_test_file

    samples = {
        json.loads(path.read_text())["id"]: json.loads(path.read_text())
        for path in EVENTS.glob("*/*.json")
        if path.parent.name != "schemas"
    }
    expanded = [e for case in load_test_file(RULES / "tests" / "journeys.yaml") for e in case.events]
    # THEN every sample is replayed, and each written-out event is the sample file's envelope
    assert {e["id"] for e in expanded} == set(samples)
    for event in expanded:
        assert event == samples[event["id"]], event["id"]


# -- 11. touchpoints rules: the catalog at a glance ------------------------------------------------------


def test_rules_lists_rules_per_trigger_in_acting_order_groups_disabled_and_owners(tmp_path: Path) -> None:
    # GIVEN the playbook with one rule disabled and one owned by another team
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    thanks = rules / "reviews" / "review-thanks.yaml"
    thanks.write_text(thanks.read_text().replace("enabled: true", "enabled: false"))
    goodwill = rules / "shipping" / "delivery-delay-goodwill.yaml"
    goodwill.write_text(
        goodwill.read_text().replace("owner: cx-team@example.com", "owner: credits@example.com")
    )
    # WHEN the overview is printed as JSON and as text
    data = json.loads(invoke("rules", str(rules), "--json").stdout)
    text = invoke("rules", str(rules)).stdout
    # THEN each trigger lists its enabled rules highest priority first (the order they act in)
    assert data["triggers"]["ShipmentDelayed"] == ["delivery-delay-apology", "delivery-delay-goodwill"]
    assert data["triggers"]["OrderPlaced"][0] == "order-confirmation"
    assert "review-thanks" not in data["triggers"]["ReviewSubmitted"]
    # AND the group lists its members by priority: on one event the first wins
    assert data["groups"]["delay-apology"]["rules"] == [
        "delivery-delay-apology",
        "delivery-promise-missed",
        "shipping-late-notice",
    ]
    assert data["disabled"] == ["review-thanks"]
    assert data["owners"]["credits@example.com"] == ["delivery-delay-goodwill"]
    # AND the text says the same
    assert "15 rules (1 disabled)" in text
    assert "Disabled  review-thanks" in text
    assert "delivery-delay-apology (60), delivery-promise-missed (50), shipping-late-notice (40)" in text
