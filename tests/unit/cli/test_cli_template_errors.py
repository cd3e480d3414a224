"""A template that prints a null: `validate` names its line, `preview` and `test` show the error.

The template is `subject: "{{ customer.name }}, we are sorry..."` (issue 11) in a copy of the
decide fixture catalog, whose `confirm` rule sends it on every OrderPlaced. Written through a
local variable (`{% set who = customer.name %}{{ who }}`), the linter cannot see the fact: the
catalog loads, and it is the render that refuses the null.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.events import envelope, order_placed_detail

from touchpoints.cli.main import cli

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "decide" / "rules"
SUBJECT = 'subject: "{{ customer.name }}, we are sorry..."\n'
HIDDEN = 'subject: "{% set who = customer.name %}{{ who }}, we are sorry..."\n'
CASES = """cases:
  - name: a customer without a name gets no "None, we are sorry"
    order_id: T-NULL-1
    customer: {id: C-NULL-1, email: nameless@example.com, timezone: UTC}
    events:
      - type: OrderPlaced
        time: 2026-03-02T12:00:00Z
        detail: {total: {amount: "5.00", currency: USD},
                 items: [{sku: S, name: Mug, quantity: 1, unit_price: {amount: "5.00", currency: USD}}]}
    expect:
      - {rule: confirm, channel: email, status: pending}
"""


def _with_subject(folder: Path, subject: str) -> None:
    note = folder / "templates" / "note" / "en.yaml"
    rest = "".join(note.read_text(encoding="utf-8").splitlines(True)[1:])
    note.write_text(subject + rest, encoding="utf-8")


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """The fixture catalog with the issue's subject in templates/note/en.yaml (line 1)."""
    folder = tmp_path / "rules"
    shutil.copytree(FIXTURE, folder)
    _with_subject(folder, SUBJECT)
    (folder / "tests").mkdir()
    (folder / "tests" / "null.yaml").write_text(CASES, encoding="utf-8")
    return folder


@pytest.fixture
def hidden(rules: Path) -> Path:
    """The same catalog with the null printed through a local variable the linter cannot follow."""
    _with_subject(rules, HIDDEN)
    assert CliRunner().invoke(cli, ["validate", str(rules)]).exit_code == 0
    return rules


def test_validate_names_the_file_the_line_and_the_fact(rules: Path) -> None:
    # GIVEN the subject WHEN validated
    result = CliRunner().invoke(cli, ["validate", str(rules)])
    # THEN it exits 1 naming en.yaml:1 and customer.name
    assert result.exit_code == 1
    assert "templates/note/en.yaml:1: subject: 'customer.name' may be null" in result.output.replace(
        "\\", "/"
    )
    assert "{% if customer.name %}" in result.output


def test_validate_passes_once_the_fact_is_guarded(rules: Path) -> None:
    # GIVEN the same subject guarded, or given a default
    for subject in (
        'subject: "{% if customer.name %}{{ customer.name }}, w{% else %}W{% endif %}e are sorry..."\n',
        'subject: "{{ customer.name | default(\\"Hello\\") }}, we are sorry..."\n',
        'subject: "{% if customer.name is defined %}{{ customer.name }}, {% endif %}we are sorry..."\n',
    ):
        _with_subject(rules, subject)
        # WHEN validated THEN it passes
        result = CliRunner().invoke(cli, ["validate", str(rules)])
        assert result.exit_code == 0, (subject, result.output)


def test_preview_shows_the_error_and_exits_1(hidden: Path, tmp_path: Path) -> None:
    # GIVEN an order of a customer without a name
    event = tmp_path / "order.json"
    raw = envelope(
        "OrderPlaced", "2026-03-02T12:00:00Z", order_placed_detail({"id": "C1", "email": "x@example.com"})
    )
    event.write_text(json.dumps(raw), encoding="utf-8")
    # WHEN the template is previewed
    result = CliRunner().invoke(
        cli, ["preview", "note", "--locale", "en", "--event", str(event), "--rules", str(hidden)]
    )
    # THEN it says which fact is null, that nothing would be sent, and exits 1 (no traceback)
    assert result.exit_code == 1
    assert "prints 'who', which is null" in result.output
    assert "template_error" in result.output
    assert "Traceback" not in result.output


def test_touchpoints_test_fails_the_case_whose_action_could_not_be_sent(hidden: Path) -> None:
    # GIVEN a rule test case whose confirmation would print the null name
    # WHEN the rule tests run
    result = CliRunner().invoke(cli, ["test", str(hidden)])
    # THEN the case fails, saying the rule's email would fail to send and why
    assert result.exit_code == 1
    assert "confirm (email) would fail at send time" in result.output
    assert "which is null" in result.output
