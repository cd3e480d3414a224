"""`touchpoints forget` asks before erasing, and never hangs or says "Aborted!" when it cannot ask."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

import touchpoints.cli.audit as audit_cli
import touchpoints.cli.forget as forget_cli
from touchpoints.cli.main import cli
from touchpoints.ports import ForgetReport


class _Store:
    table_name = "touchpoints-test-decisions"

    def __init__(self) -> None:
        self.erased: list[str] = []

    def forget_customer(self, customer_id: str) -> ForgetReport:
        self.erased.append(customer_id)
        return ForgetReport(
            customer_id=customer_id, orders=["O1"], states=1, events=2, actions=3, ledger_deleted=True
        )


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> _Store:
    fake = _Store()
    monkeypatch.setattr(audit_cli, "connect_store", lambda *args: fake)
    return fake


def _terminal(monkeypatch: pytest.MonkeyPatch, is_terminal: bool) -> None:
    monkeypatch.setattr(forget_cli, "_can_ask", lambda: is_terminal)


def test_without_yes_and_without_a_terminal_it_refuses_and_erases_nothing(
    store: _Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN no terminal to ask on (a script, CI)
    # WHEN forget runs without --yes
    result = CliRunner().invoke(cli, ["forget", "--customer", "C1"])
    # THEN it exits 2 with what to do, and the store is not touched
    assert result.exit_code == 2
    assert "no terminal" in result.output
    assert "--yes" in result.output
    assert "Aborted" not in result.output
    assert store.erased == []


@pytest.mark.parametrize(("answer", "exit_code", "erased"), [("n\n", 1, []), ("y\n", 0, ["C1"])])
def test_at_a_terminal_it_asks_and_a_no_erases_nothing(
    store: _Store, monkeypatch: pytest.MonkeyPatch, answer: str, exit_code: int, erased: list[Any]
) -> None:
    # GIVEN a terminal
    _terminal(monkeypatch, True)
    # WHEN the user answers the confirmation
    result = CliRunner().invoke(cli, ["forget", "--customer", "C1"], input=answer)
    # THEN a no erases nothing (exit 1), a yes erases (exit 0)
    assert "Erase the personal data of customer C1 in touchpoints-test-decisions?" in result.output
    assert result.exit_code == exit_code, result.output
    assert store.erased == erased
    if exit_code:
        assert "nothing was erased" in result.output


def test_with_yes_it_erases_without_asking(store: _Store) -> None:
    # GIVEN --yes WHEN forget runs THEN it erases without a prompt and reports the counts
    result = CliRunner().invoke(cli, ["forget", "--customer", "C1", "--yes"])
    assert result.exit_code == 0, result.output
    assert "?" not in result.output
    assert "Erased customer C1: 1 order(s); 1 journey state(s), 2 stored event(s)" in result.output
    assert store.erased == ["C1"]
