"""`touchpoints forget` on a moto server: personal data gone, audit counts and other customers intact."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pii_streams import personal_values

CUSTOMER = "C1001-forget"


@dataclass
class World:
    """A moto server with the stack, the events replayed through the real handlers, and its endpoint."""

    local: Any
    endpoint: str
    events: list[dict[str, Any]]
    other_orders: list[str]
    quiet_order: str

    def partition(self, pk: str) -> list[dict[str, Any]]:
        client = self.local.clients["dynamodb"]
        pages = client.get_paginator("query").paginate(
            TableName=self.local.table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )
        return [item for page in pages for item in page["Items"]]

    def forget(self, *extra: str) -> Any:
        from touchpoints.cli.forget import forget

        arguments = [
            "--customer",
            CUSTOMER,
            "--endpoint-url",
            self.endpoint,
            "--table",
            self.local.table_name,
        ]
        return CliRunner().invoke(forget, [*arguments, "--yes", *extra])


def _as(event: dict[str, Any], order_suffix: str, customer_id: str | None) -> dict[str, Any]:
    fresh = copy.deepcopy(event)
    fresh["id"] = f"{event['id']}-{order_suffix}"
    fresh["detail"]["order_id"] = f"{event['detail']['order_id']}-{order_suffix}"
    if customer_id and fresh["detail"].get("customer"):
        fresh["detail"]["customer"]["id"] = customer_id
    return fresh


def _quiet_order(samples: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A paid, then cancelled order of CUSTOMER on which no rule decides anything.

    Both events carry the customer (any event may): the journey and the stored events hold their
    email, phone and name, yet no decision record or ledger entry ever points to the order.
    """
    customer = {**samples["happy-path"][0]["detail"]["customer"], "phone": "+15550109"}
    paid = _as(samples["happy-path"][1], "f4", None)
    cancelled = _as(next(e for e in samples["cancelled"] if e["detail-type"] == "OrderCancelled"), "f4", None)
    cancelled["detail"]["order_id"] = paid["detail"]["order_id"]
    for event in (paid, cancelled):
        event["detail"]["customer"] = copy.deepcopy(customer)
        event["detail"]["customer"]["id"] = CUSTOMER
    return [paid, cancelled]


def _moto_server_process() -> tuple[subprocess.Popen[bytes], str]:
    """moto's server in its own process: in-process moto patches of other test tiers cannot reach it."""
    from touchpoints.local import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):
                return server, endpoint
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"moto server did not start on port {port}")


@pytest.fixture(scope="module")
def world(repo_root: Path) -> Iterator[World]:
    """Two orders of CUSTOMER (happy path, recovered payment) and one of somebody else, fully played."""
    settings = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        # the handler modules may be imported here first: their Metrics() reads these once
        "POWERTOOLS_METRICS_NAMESPACE": "TouchpointsTest",
        "POWERTOOLS_SERVICE_NAME": "touchpoints",
    }
    saved = {name: os.environ.get(name) for name in settings}  # put back afterwards: other tiers differ
    for name, value in settings.items():
        os.environ.setdefault(name, value)
    from touchpoints.handlers.runtime import set_runtime
    from touchpoints.local import start_local_stack

    server, endpoint = _moto_server_process()
    try:
        local = start_local_stack(
            endpoint_url=endpoint, rules_dir=repo_root / "rules", parameters={"Stage": "forget"}
        )
        samples = {p.parent.name: [] for p in (repo_root / "events").glob("*/*.json")}
        for path in sorted((repo_root / "events").glob("*/*.json")):
            samples[path.parent.name].append(json.loads(path.read_text(encoding="utf-8")))
        mine = [_as(e, "f1", CUSTOMER) for e in samples["happy-path"]]
        mine += [_as(e, "f2", CUSTOMER) for e in samples["payment-recovered"]]
        quiet = _quiet_order(samples)
        mine += quiet
        others = [_as(e, "f3", None) for e in samples["carrier-delay"]]
        local.driver.replay(mine + others)
        yield World(
            local,
            endpoint,
            mine,
            sorted({e["detail"]["order_id"] for e in others}),
            quiet[0]["detail"]["order_id"],
        )
    finally:
        set_runtime(None)
        server.terminate()
        server.wait(timeout=30)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def before(world: World) -> dict[str, Any]:
    """The audit trail and the other customer's items, as they were before `forget`."""
    store = world.local.store
    records = store.records_for_customer(CUSTOMER)
    return {
        "records": {r.action_id: (r.order_id, r.rule_id, r.channel, r.status, r.address) for r in records},
        "others": {order: world.partition(f"ORDER#{order}") for order in world.other_orders},
        "ledger": world.partition(f"CUSTOMER#{CUSTOMER}"),
    }


@pytest.fixture(scope="module")
def forgotten(world: World, before: dict[str, Any]) -> dict[str, Any]:
    """`touchpoints forget --customer C1001-forget --yes --json`, run once."""
    result = world.forget("--json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output)
    return report


def test_the_world_holds_the_customers_personal_data_before(world: World, before: dict[str, Any]) -> None:
    # GIVEN the replayed journeys WHEN the customer's items are read before `forget`
    items = [
        item
        for order in {e["detail"]["order_id"] for e in world.events}
        for item in world.partition(f"ORDER#{order}")
    ]
    # THEN the personal data is there to erase (else the test below would prove nothing)
    text = json.dumps(items)
    assert "emily.carter@example.com" in text
    assert "Emily Carter" in text
    assert before["ledger"]
    assert len(before["records"]) >= 4
    assert {status for (*_, status, _) in before["records"].values()} >= {"sent"}


def test_forget_reports_what_it_erased(forgotten: dict[str, Any], world: World) -> None:
    # GIVEN / WHEN forget ran THEN it found the three orders of the customer and deleted the ledger
    assert forgotten["customer_id"] == CUSTOMER
    assert forgotten["orders"] == sorted({e["detail"]["order_id"] for e in world.events})
    assert len(forgotten["orders"]) == 3
    assert forgotten["ledger_deleted"] is True
    assert forgotten["states"] == 3
    assert forgotten["actions"] > 0
    # ... and counted every stored event that held personal data, the quiet order's two included
    personal = [
        e
        for e in world.events
        if e["detail"].get("signed_by")
        or any((e["detail"].get("customer") or {}).get(f) for f in ("email", "phone", "name"))
    ]
    assert forgotten["events"] == len(personal) >= 4


def test_an_order_nothing_was_decided_on_is_erased(forgotten: dict[str, Any], world: World) -> None:
    # GIVEN the quiet order: no decision record, no ledger entry (so no trail but its journey)
    assert world.local.store.records_for_order(world.quiet_order) == []
    assert world.quiet_order in forgotten["orders"]
    # WHEN its items are read after forget
    items = world.partition(f"ORDER#{world.quiet_order}")
    text = json.dumps(items)
    # THEN its journey state, both stored events and their business-key markers are there,
    # without the customer's data
    assert {item["sk"]["S"].split("#")[0] for item in items} == {"STATE", "EVENT", "KEY"}
    assert len([item for item in items if item["sk"]["S"].startswith("EVENT#")]) == 2
    assert len([item for item in items if item["sk"]["S"].startswith("KEY#")]) == 2
    quiet = [e for e in world.events if e["detail"]["order_id"] == world.quiet_order]
    assert [value for value in sorted(personal_values(quiet)) if value in text] == []
    assert CUSTOMER in text  # the ids stay: the order is still the customer's, anonymously


def test_no_personal_data_of_the_customer_is_left(forgotten: dict[str, Any], world: World) -> None:
    # GIVEN forget ran WHEN every item of the customer's orders and their ledger is read
    orders = forgotten["orders"]
    items = [item for order in orders for item in world.partition(f"ORDER#{order}")]
    items += world.partition(f"CUSTOMER#{CUSTOMER}")
    text = json.dumps(items)
    # THEN none of their emails, phones, names (or who signed for the parcels) remains, masked or not
    assert [value for value in sorted(personal_values(world.events)) if value in text] == []
    assert "***@" not in text
    assert world.partition(f"CUSTOMER#{CUSTOMER}") == []


def test_the_audit_counts_are_intact(forgotten: dict[str, Any], before: dict[str, Any], world: World) -> None:
    # GIVEN the audit trail before forget WHEN it is read again
    after = {r.action_id: r for r in world.local.store.records_for_customer(CUSTOMER)}
    # THEN the same records with the same rule, channel and status; addresses read `[erased]`
    assert set(after) == set(before["records"])
    for action_id, (order_id, rule_id, channel, status, address) in before["records"].items():
        record = after[action_id]
        assert (record.order_id, record.rule_id, record.channel, record.status) == (
            order_id,
            rule_id,
            channel,
            status,
        )
        assert record.address == ("[erased]" if address else None)


def test_other_customers_are_untouched(
    forgotten: dict[str, Any], before: dict[str, Any], world: World
) -> None:
    # GIVEN another customer's order WHEN read after forget THEN every item is byte for byte the same
    for order, items in before["others"].items():
        assert world.partition(f"ORDER#{order}") == items


def test_forget_can_run_again_and_changes_nothing_more(forgotten: dict[str, Any], world: World) -> None:
    # GIVEN forget already ran WHEN it runs again
    result = world.forget("--json")
    # THEN it succeeds and has nothing left to erase
    assert result.exit_code == 0, result.output
    again = json.loads(result.output)
    assert (again["states"], again["events"], again["actions"], again["ledger_deleted"]) == (0, 0, 0, False)


def test_the_order_keeps_working_after_forget(forgotten: dict[str, Any], world: World) -> None:
    # GIVEN an erased order WHEN a new event for it arrives (a second, negative review)
    world.local.install()
    review = copy.deepcopy(next(e for e in world.events if e["detail-type"] == "ReviewSubmitted"))
    order_id = review["detail"]["order_id"]
    known = {r.action_id for r in world.local.store.records_for_order(order_id)}
    review["detail"]["review_id"] += "-2"
    world.local.driver.put_events([review])
    world.local.driver.settle()
    # THEN it is decided on the erased journey: a message is suppressed for want of an address
    new = [r for r in world.local.store.records_for_order(order_id) if r.action_id not in known]
    assert new, "the event after forget was not decided"
    assert {(r.status, r.reason) for r in new if r.channel != "event"} == {("suppressed", "no_contact")}
    customer = world.local.store.load(order_id, CUSTOMER).state.customer
    assert (customer.email, customer.phone, customer.name) == (None, None, None)


def test_forget_without_yes_asks_first(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN forget without --yes, at a terminal, WHEN the operator answers no
    import touchpoints.cli.forget as forget_cli

    monkeypatch.setattr(forget_cli, "_can_ask", lambda: True)
    arguments = ["--customer", CUSTOMER, "--endpoint-url", world.endpoint, "--table", world.local.table_name]
    result = CliRunner().invoke(forget_cli.forget, arguments, input="n\n")
    # THEN it asked, erased nothing and says so (exit 1)
    assert "Erase the personal data of customer" in result.output
    assert result.exit_code == 1
    assert "nothing was erased" in result.output


def test_forget_on_a_missing_table_is_an_error_not_a_traceback(world: World) -> None:
    # GIVEN a table name that does not exist WHEN forget runs
    from touchpoints.cli.forget import forget

    arguments = [
        "--customer",
        CUSTOMER,
        "--endpoint-url",
        world.endpoint,
        "--table",
        "no-such-table",
        "--yes",
    ]
    result = CliRunner().invoke(forget, arguments)
    # THEN it exits with a message naming the problem
    assert result.exit_code == 1
    assert "no-such-table" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
