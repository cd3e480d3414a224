"""The small messages of issue 16 (items 4 and 10), each as an operations person meets it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, get_args

import pytest
from click.testing import CliRunner

from touchpoints.cli.main import cli

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "rules"


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"COLUMNS": "400"})


def _rules_with(tmp_path: Path, name: str, text: str) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "shipping" / name).write_text(text)
    return rules


VIP = """id: vip-delay-escalation
description: a VIP's delay gets a person
on: ShipmentDelayed
when:
  and:
    - {WHEN}
then:
  - {channel: event, detail-type: SupportCaseRequested}
"""


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            '{">": [{var: order.total.amount}, "200 USD"]}',
            "vip.yaml:6: when: order.total.amount is a number and '200 USD' is not one, so this comparison "
            "is never true; write the number alone",
        ),
        (
            '{"==": [{var: customer.tier}, "platnum"]}',
            "vip.yaml:6: when: 'platnum' is not a value of customer.tier (did you mean 'platinum'?)",
        ),
        (
            "{in: [{var: customer.tier}, [gold, platinium]]}",
            "vip.yaml:6: when: 'platinium' is not a value of customer.tier (did you mean 'platinum'?)",
        ),
        ('{"!=": [{var: order.status}, "canceled"]}', "so this comparison is always true"),
        ("{greater: [{var: order.total.amount}, 200]}", "unknown operator 'greater'; did you mean '>'?"),
        ('{"!": [1, 2]}', "operator '!' takes 1 argument, got 2 arguments"),
    ],
    ids=["number-vs-text", "unknown-value", "unknown-value-in-list", "never-false", "greater", "arity"],
)
def test_validate_refuses_comparisons_that_can_never_hold(tmp_path: Path, when: str, message: str) -> None:
    # GIVEN a rule whose condition compares a fact with something it can never equal
    rules = _rules_with(tmp_path, "vip.yaml", VIP.replace("{WHEN}", when))
    # WHEN validated
    result = invoke("validate", str(rules))
    # THEN exit 1 with the file, the line and the fix
    assert result.exit_code == 1, result.output
    assert message in result.stdout


def test_validate_accepts_the_comparisons_that_can_hold(tmp_path: Path) -> None:
    when = (
        '{">": [{var: order.total.amount}, "200"]}, {"in": [{var: customer.tier}, [gold, platinum]]},'
        ' {"==": [{var: order.status}, shipped]}, {"<": [0, {var: event.delay_hours_vs_promise}, 72]}'
    )
    rules = _rules_with(tmp_path, "vip.yaml", VIP.replace("{WHEN}", when.replace("}, {", "}\n    - {")))
    result = invoke("validate", str(rules))
    assert result.exit_code == 0, result.output


def test_the_facts_schema_knows_the_values_the_journey_and_the_contract_use() -> None:
    # GIVEN the Literal types of the journey and the contract
    from touchpoints.contract.facts import fact_values
    from touchpoints.contract.models import ExceptionKind, ReturnReason, Tier
    from touchpoints.journey.state import JourneyStatus, ShipmentStatus

    # THEN the facts schema enumerates exactly those values
    assert set(fact_values("order.status") or ()) == set(get_args(JourneyStatus))
    assert set(fact_values("order.shipments.0.status") or ()) == set(get_args(ShipmentStatus))
    assert set(fact_values("customer.tier") or ()) == set(get_args(Tier))
    assert set(fact_values("order.returns.0.reason") or ()) == set(get_args(ReturnReason))
    assert set(fact_values("order.shipment_exceptions.0.kind") or ()) == set(get_args(ExceptionKind))
    assert fact_values("order.total.amount") is None


def test_a_yaml_key_without_its_colon_is_reported_on_its_own_line(tmp_path: Path) -> None:
    # GIVEN `on ShipmentDelayed` (no colon) on line 3
    text = VIP.replace("on: ShipmentDelayed", "on ShipmentDelayed")
    rules = _rules_with(
        tmp_path, "vip.yaml", text.replace("{WHEN}", '{">": [{var: order.total.amount}, 200]}')
    )
    # WHEN validated THEN the problem is at line 3 (the scanner noticed it on line 4)
    result = invoke("validate", str(rules))
    assert "vip.yaml:3: YAML syntax error: while scanning a simple key" in result.stdout
    assert "(noticed on line 4)" in result.stdout


def test_a_rule_file_that_is_not_a_mapping_says_when_is_optional(tmp_path: Path) -> None:
    rules = _rules_with(tmp_path, "vip.yaml", "- id: x\n")
    result = invoke("validate", str(rules))
    assert (
        "a rule file must be a mapping with id, description, on and then (when is optional)" in result.stdout
    )


def test_an_unknown_detail_type_lists_what_a_platform_may_send_not_timerfired(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    event = json.loads((REPO / "events" / "happy-path" / "01-order-placed.json").read_text())
    path.write_text(json.dumps({**event, "detail-type": "OrderShipped"}))
    result = invoke("simulate", str(path))
    assert 'unknown detail-type "OrderShipped"; known: OrderPlaced' in result.stderr
    assert "TimerFired" not in result.stderr


def test_the_audit_table_shows_erased_addresses_as_text() -> None:
    # GIVEN a record whose address `forget` replaced with [erased] (rich would read it as markup)
    from touchpoints.cli.audit import records_table
    from touchpoints.cli.output import stdout_console
    from touchpoints.contract import DecisionRecord

    record = DecisionRecord.model_validate(
        {
            "action_id": "a1", "order_id": "A1", "customer_id": "C1", "rule_id": "r",
            "trigger": "OrderPlaced", "event_id": "e1", "channel": "email", "template": "t",
            "locale": "en", "status": "sent",
            "reason": None, "decided_at": "2026-03-01T10:00:00Z", "send_at": "2026-03-01T10:00:00Z",
            "catalog_version": "sha256:x", "address": "[erased]",
        }
    )  # fmt: skip
    console = stdout_console()
    with console.capture() as captured:
        console.print(records_table([record], "Decisions"))
    # THEN the "to" column says [erased] (it was blank) and the date has its year
    assert "[erased]" in captured.get()
    assert "2026-03-01 10:00" in captured.get()
