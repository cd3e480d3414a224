"""`touchpoints test`: rule test cases pass, fail with expected vs got, or are unreadable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.support.events import envelope, money

from touchpoints.cli.main import cli

FIXTURE_RULES = Path(__file__).resolve().parents[2] / "fixtures" / "decide" / "rules"

CASES = """
cases:
  - name: failed payment gets recovery now and reminder a day later
    order_id: T1
    customer: {id: C1, email: ana@example.com, timezone: UTC}
    events:
      - type: PaymentFailed
        time: 2026-03-02T15:05:00Z
        detail: {payment_id: P1, amount: {amount: "5.00", currency: USD},
                 reason_code: card_declined, attempt: 1}
    until: 2026-03-05T00:00:00Z
    expect:
      - {rule: recovery, channel: email, status: pending, send_at: 2026-03-02T15:05:00Z}
      - {rule: reminder, status: pending, send_at: 2026-03-03T15:05:00Z, trigger: PaymentFailed}
    expect_count: {recovery: 1}
  - name: Taipei survey waits for the morning
    order_id: T2
    customer: {id: C2, email: mei@example.com, locale: zh-Hant, timezone: Asia/Taipei,
               consent: {marketing: true}}
    events:
      - {type: ShipmentDelivered, time: 2026-03-10T14:30:00Z, detail: {shipment_id: S1}}
    expect:
      - {rule: survey-now, status: scheduled, reason: quiet_hours, send_at: 2026-03-11T01:00:00Z, locale: en}
      - {rule: survey-now, status: pending, send_at: 2026-03-11T01:00:00Z}
    expect_not:
      - {rule: off}
    expect_count: {survey-now: 1}
"""

FAILING = """
cases:
  - name: wrong expectation
    order_id: T3
    customer: {id: C3, email: bo@example.com}
    events:
      - {type: PaymentFailed, time: 2026-03-02T15:05:00Z,
         detail: {payment_id: P1, amount: {amount: "5.00", currency: USD},
                  reason_code: card_declined, attempt: 1}}
    until: 2026-03-02T16:00:00Z
    expect:
      - {rule: recovery, status: suppressed}
    expect_not:
      - {rule: recovery, channel: email}
"""


def rules_with_tests(tmp_path: Path, **files: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, rules)
    (rules / "tests").mkdir()
    for name, text in files.items():
        (rules / "tests" / f"{name}.yaml").write_text(text)
    return rules


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, ["test", *args])


def test_passing_cases_exit_0(tmp_path: Path) -> None:
    # GIVEN cases that describe what the fixture catalog does
    rules = rules_with_tests(tmp_path, good=CASES)
    # WHEN run
    result = invoke(str(rules))
    # THEN both pass
    assert result.exit_code == 0, result.output
    assert result.stdout.count("PASS") == 2
    assert "2 passed, 0 failed" in result.stdout


def test_failing_case_exit_1_shows_expected_and_got(tmp_path: Path) -> None:
    # GIVEN a case with wrong expectations
    rules = rules_with_tests(tmp_path, bad=FAILING)
    # WHEN run
    result = invoke(str(rules))
    # THEN it fails, naming each unmet expectation, and shows the records produced
    assert result.exit_code == 1
    assert "FAIL wrong expectation" in result.stdout
    assert "expected a decision matching {rule: recovery, status: suppressed}" in result.stdout
    assert "expected no decision matching {rule: recovery, channel: email}, found 1" in result.stdout
    assert "decisions produced" in result.stdout


def test_keyword_filters_cases_and_json(tmp_path: Path) -> None:
    # GIVEN good and failing cases
    rules = rules_with_tests(tmp_path, good=CASES, bad=FAILING)
    # WHEN only the Taipei case is selected, as JSON
    result = invoke(str(rules), "-k", "taipei", "--json")
    # THEN one case ran and passed
    report = json.loads(result.stdout)
    assert result.exit_code == 0
    assert [c["name"] for c in report["cases"]] == ["Taipei survey waits for the morning"]
    assert report["passed"] == 1
    assert report["failed"] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cases: [{name: x, events: []}]", "needs `events`"),
        (
            "cases:\n  - name: x\n    events: [{type: OrderPlaced, time: 2026-03-02T15:05:00Z}]\n"
            "    expect: [{rul: x}]\n",
            "unknown expectation field(s) rul",
        ),
        ("cases:\n  - name: x\n    colour: red\n", "unknown key(s) colour"),
        ("cases: [{{", "YAML syntax error"),
        ("nothing: here", "holds `cases:`"),
    ],
)
def test_unreadable_test_file_exit_2(tmp_path: Path, text: str, message: str) -> None:
    # GIVEN a broken test file next to a good one
    rules = rules_with_tests(tmp_path, a_bad=text, good=CASES)
    # WHEN run
    result = invoke(str(rules))
    # THEN exit 2 with the file and what is wrong (and the good cases still ran)
    assert result.exit_code == 2
    assert "a_bad.yaml" in result.stderr
    assert message in result.stderr
    assert "PASS" in result.stdout


def test_missing_tests_folder_exit_2(tmp_path: Path) -> None:
    # GIVEN rules without tests/
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE_RULES, rules)
    # WHEN / THEN a clear usage error
    result = invoke(str(rules))
    assert result.exit_code == 2
    assert "no tests folder" in result.stderr


def test_event_file_reference_and_malformed_event(tmp_path: Path) -> None:
    # GIVEN a case reading an envelope file, and a case with a malformed short-form event
    rules = rules_with_tests(tmp_path)
    failed = envelope(
        "PaymentFailed",
        "2026-03-02T15:05:00Z",
        {
            "customer": {"id": "C9", "email": "z@example.com"},
            "payment_id": "P1",
            "amount": money("5.00"),
            "reason_code": "card_declined",
            "attempt": 1,
        },
        event_id="X1",
        order_id="T9",
    )
    (tmp_path / "event.json").write_text(json.dumps(failed))
    (rules / "tests" / "files.yaml").write_text(
        "cases:\n"
        "  - name: from a file\n    events: [{file: ../../event.json}]\n    until: 2026-03-02T16:00:00Z\n"
        "    expect: [{rule: recovery, order: T9, status: pending}]\n"
        "  - name: malformed\n    order_id: T8\n"
        "    events: [{type: ReviewSubmitted, time: 2026-03-02T15:05:00Z,\n"
        "              detail: {review_id: R, rating: 9}}]\n"
    )
    # WHEN run
    result = invoke(str(rules))
    # THEN the file case passes and the malformed one fails naming the field
    assert "PASS from a file" in result.stdout
    assert "FAIL malformed" in result.stdout
    assert "detail.rating" in result.stdout
    assert result.exit_code == 1


def test_a_case_customer_is_not_forced_onto_an_order_that_names_its_own(tmp_path: Path) -> None:
    # GIVEN a case customer without sms consent, and a second order whose first event names a customer who
    # accepts texts; that order's later event has no customer
    rules = rules_with_tests(tmp_path)
    (rules / "tests" / "two.yaml").write_text(
        "cases:\n"
        "  - name: two customers\n"
        "    customer: {id: C1, email: a@example.com, phone: '+14155550100', timezone: UTC}\n"
        "    events:\n"
        "      - {type: ShipmentException, time: 2026-03-02T12:00:00Z,\n"
        "         detail: {order_id: B, shipment_id: S, kind: failed_attempt,\n"
        "                  customer: {id: C2, phone: '+14155550111', timezone: UTC, consent: {sms: true}}}}\n"
        "      - {type: ShipmentException, time: 2026-03-02T13:00:00Z,\n"
        "         detail: {order_id: B, shipment_id: S, kind: lost}}\n"
        "      - {type: ShipmentException, time: 2026-03-02T13:00:00Z,\n"
        "         detail: {order_id: A, shipment_id: S, kind: lost}}\n"
        "    expect:\n"
        "      - {rule: helpdesk, channel: sms, order: B, status: pending}\n"
        "      - {rule: helpdesk, channel: sms, order: A, status: suppressed, reason: no_consent}\n"
    )
    # WHEN run
    result = invoke(str(rules))
    # THEN order B kept its own customer (who accepts texts), order A got the case's
    assert result.exit_code == 0, result.output


def test_the_shipped_playbook_passes_its_own_tests(repo_root: Path) -> None:
    # GIVEN the playbook in rules/ with its tests
    # WHEN its rule tests run
    result = invoke(str(repo_root / "rules"), "--json")
    # THEN every case passes
    report = json.loads(result.stdout)
    failed = [case["name"] for case in report["cases"] if not case["passed"]]
    assert failed == []
    assert result.exit_code == 0
    assert report["passed"] >= 10
