"""`touchpoints report --table` on a stack the real handlers ran gives the numbers of `report` on its events.

A stack of its own (Stage `report`, so its table holds only this module's decisions) runs the
demo's sample journeys and twelve generated delayed orders (a 50% holdout on the delay apology)
through ProcessEvents and Dispatch on moto. The report read back from its table, and the report of a
simulation of the same event files, must agree number for number; and the orders held out in the
table are the ones the simulation and the pure assignment hold out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.support.experiments import rules_with_experiment
from tests.support.outcome_stream import generate_stream

from touchpoints.catalog import load_catalog
from touchpoints.cli.main import cli
from touchpoints.experiments import HOLDOUT, arm_for

_NOT_COMPARED = ("source", "as_of")


@pytest.fixture(scope="module")
def replayed(
    clients: dict[str, Any], repo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The stack (Stage report) after the samples and 12 generated orders went through its handlers."""
    from touchpoints.local import create_stack, start_local_stack

    root = tmp_path_factory.mktemp("report-table")
    rules = rules_with_experiment(root / "rules", holdout="50%")
    experiment = load_catalog(rules).rules["delivery-delay-apology"].rule.experiment
    assert experiment is not None
    samples = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((repo_root / "events").rglob("*.json"))
        if "schemas" not in path.parts
    ]
    generated = generate_stream(12, experiment, prefix="RT", seed=3).events
    events = samples + generated
    (root / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    resources = create_stack(repo_root / "template.yaml", clients, parameters={"Stage": "report"})
    local = start_local_stack(clients=clients, resources=resources, rules_dir=rules)
    local.driver.replay(events)
    yield {"root": root, "rules": rules, "local": local, "experiment": experiment, "events": events}
    # moto's backends live as long as the process: a table left behind makes every later dump of
    # its state (the e2e tier's /moto-api/data.json reads, in the same worker) slower
    clients["dynamodb"].delete_table(TableName=local.table_name)


def _report(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["report", *args, "--json", "--orders", "200"])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_report_table_gives_the_numbers_of_report_over_the_events(replayed: dict[str, Any]) -> None:
    # GIVEN the table the handlers wrote, and the event files they were sent
    local, rules, root = replayed["local"], str(replayed["rules"]), replayed["root"]
    # WHEN the report is built from the table (the by-rule index) and from a simulation of the files
    from_table = _report("--table", local.table_name, "--since", "all", "--rules", rules)
    simulated = _report(str(root / "events.jsonl"), "--rules", rules)
    # THEN every number is the same (the source and the report's clock aside)
    assert from_table["summary"]["decisions"] > 60
    assert from_table["experiments"][0]["units"] >= 12
    assert from_table["surveys"]  # the survey answers went through the bus too
    for section in _NOT_COMPARED:
        from_table.pop(section)
        simulated.pop(section)
    simulated["summary"]["events"] = None  # the table does not know how many events came in
    table_orders, simulated_orders = from_table.pop("orders"), simulated.pop("orders")
    assert from_table == simulated
    # and so is every order's timeline, entry by entry (events, decisions, rendered subjects)
    assert [o["order_id"] for o in table_orders] == [o["order_id"] for o in simulated_orders]
    for table_order, simulated_order in zip(table_orders, simulated_orders, strict=True):
        for left, right in zip(table_order["entries"], simulated_order["entries"], strict=True):
            assert left == right, table_order["order_id"]


def test_the_same_orders_are_held_out_in_the_table_in_simulate_and_by_the_assignment(
    replayed: dict[str, Any],
) -> None:
    # GIVEN the generated orders' delay apologies in the table
    local, experiment = replayed["local"], replayed["experiment"]
    in_table = {
        r.order_id: r.status
        for r in local.store.records_for_rule("delivery-delay-apology")
        if r.order_id.startswith("RT")
    }
    # WHEN `touchpoints simulate` decides the same events
    result = CliRunner().invoke(
        cli, ["simulate", str(replayed["root"] / "events.jsonl"), "--rules", str(replayed["rules"]), "--json"]
    )
    assert result.exit_code == 0, result.output
    simulated = {
        record["order_id"]: record["status"]
        for record in map(json.loads, result.stdout.splitlines())
        if record["rule_id"] == "delivery-delay-apology" and record["order_id"].startswith("RT")
    }
    # THEN the held-out orders are the same, and exactly those the assignment puts in the holdout arm
    held_in_table = {o for o, status in in_table.items() if status == "held_out"}
    assert held_in_table == {o for o, status in simulated.items() if status == "held_out"}
    assert held_in_table == {o for o in in_table if arm_for(experiment, o, None) == HOLDOUT}
    assert 0 < len(held_in_table) < len(in_table)


def test_held_out_actions_never_reach_the_dispatcher_nor_a_customer(replayed: dict[str, Any]) -> None:
    # GIVEN the held-out delay apologies the handlers recorded
    from touchpoints.adapters import InMemoryChannel
    from touchpoints.local import matches_pattern
    from touchpoints.service import dispatch_action

    local = replayed["local"]
    held = [r for r in local.store.records_for_rule("delivery-delay-apology") if r.status == "held_out"]
    assert held
    # WHEN / THEN the stream showed each of them once, as held_out, and nothing was sent for them
    assert all(local.driver.history[r.action_id] == ["held_out"] for r in held)
    assert all(r.message_id is None for r in held)
    # the template's FilterCriteria never pass a held-out row to Dispatch ...
    image = {
        "sk": {"S": "ACTION#2026-03-01T10:00:00Z#a"},
        "status": {"S": "held_out"},
        "error": {"NULL": True},
    }
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": image}}
    assert not any(matches_pattern(p, record) for p in local.driver.stream_filters)
    # ... and were one handed to it anyway, the dispatcher skips it
    channel = InMemoryChannel("email")
    result = dispatch_action(
        held[0],
        catalog=local.runtime.catalog,
        store=local.store,
        channels={"email": channel},
        now=held[0].send_at,
    )
    assert result.status == "skipped"
    assert channel.sent == []
