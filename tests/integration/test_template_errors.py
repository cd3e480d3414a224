"""A template that prints a null, through the real handlers on moto: `failed` / `template_error`.

The Lambda does not lint templates (validate does, in CI); if "{{ customer.name }}, we are sorry"
reaches it anyway, the render refuses the null: the action is `failed` with reason
`template_error`, SES receives nothing, and the log line names the template, not the customer.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import envelope, order_placed_detail

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "decide" / "rules"


@pytest.fixture
def null_stack(clients: dict[str, Any], repo_root: Path, tmp_path: Path, local: Any) -> Iterator[Any]:
    """A stack of its own whose catalog's `note` subject prints the customer's name unguarded."""
    from touchpoints.local import create_stack, start_local_stack

    rules = tmp_path / "rules"
    shutil.copytree(FIXTURE, rules)
    note = rules / "templates" / "note" / "en.yaml"
    rest = "".join(note.read_text(encoding="utf-8").splitlines(True)[1:])
    note.write_text('subject: "{{ customer.name }}, we are sorry..."\n' + rest, encoding="utf-8")
    resources = create_stack(repo_root / "template.yaml", clients, parameters={"Stage": "nulltpl"})
    stack = start_local_stack(clients=clients, resources=resources, rules_dir=rules)
    yield stack
    local.install()  # the session's stack again for the tests that follow


def _sent_to(address: str) -> list[Any]:
    from moto.backends import get_backend

    from touchpoints.local import ACCOUNT_ID, REGION

    backend = get_backend("ses")[ACCOUNT_ID][REGION]
    return [m for m in backend.sent_messages if address in m.destinations.get("ToAddresses", [])]


def test_a_null_printed_at_send_time_is_failed_template_error_and_ses_receives_nothing(
    null_stack: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN an order of a customer who has an email but no name
    email = "nameless.customer@example.com"
    moment = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
    customer = {"id": "C-nameless", "email": email, "timezone": "UTC"}
    event = envelope("OrderPlaced", moment, order_placed_detail(customer), order_id="NULL-1")
    null_stack.driver.now = moment
    # WHEN it goes through the bus, ProcessEvents and Dispatch
    with caplog.at_level(logging.INFO):
        null_stack.driver.put_events([event])
        null_stack.driver.settle()
    # THEN the confirmation is failed with reason template_error, naming the fact that was null
    (record,) = [r for r in null_stack.store.records_for_order("NULL-1") if r.rule_id == "confirm"]
    assert (record.status, record.reason) == ("failed", "template_error")
    assert "customer.name" in (record.error or "")
    # AND SES received nothing, and nothing was retried or dead-lettered
    assert _sent_to(email) == []
    assert null_stack.driver.stats.dead_lettered == 0
    # AND the log says which template failed, without the customer's address
    failed = [r for r in caplog.records if r.getMessage() == "template failed"]
    assert len(failed) == 1
    assert email not in caplog.text
    assert "nameless.customer" not in caplog.text
