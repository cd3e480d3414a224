"""A rule catalog that does not validate never reaches production: it fails loudly, file:line first."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.pipeline import Pipeline
from tests.support.streams import generate_stream

_RULE = Path("payments") / "payment-unresolved-reminder.yaml"

# (what is broken, the line to change, what it becomes)
BREAKAGES = [
    ("a duration that is not one", "after: 24h", "after: 24 hours"),
    ("a fact that does not exist", '- {"!": {var: order.is_paid}}', '- {"!": {var: order.is_payed}}'),
    (
        "a template that does not exist",
        "- {channel: email, template: payment-reminder}",
        "- {channel: email, template: payment-nudge}",
    ),
    ("a misspelt key", "priority: 70", "priorty: 70"),
]


def _break(repo: Path, tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """A copy of the shipped rules with one line of one rule changed; (rules dir, changed line)."""
    rules = tmp_path / "rules"
    shutil.copytree(repo / "rules", rules)
    path = rules / _RULE
    lines = path.read_text(encoding="utf-8").splitlines()
    (index,) = [i for i, line in enumerate(lines) if line.strip() == old]
    lines[index] = lines[index].replace(old, new)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rules, index + 1


@pytest.mark.parametrize(("what", "old", "new"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_validate_finds_the_broken_rule_first(
    repo: Path, tmp_path: Path, what: str, old: str, new: str
) -> None:
    # GIVEN the shipped rules with one mistake
    rules, line = _break(repo, tmp_path, old, new)
    from touchpoints.cli.main import cli

    # WHEN ops run `touchpoints validate` before shipping
    result = CliRunner().invoke(cli, ["validate", str(rules)])

    # THEN it exits 1 and names the file and the line of the mistake
    assert result.exit_code == 1, result.output
    assert f"payment-unresolved-reminder.yaml:{line}:" in result.output


@pytest.mark.parametrize(("what", "old", "new"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_the_handler_refuses_to_start_on_a_broken_catalog_and_decides_nothing(
    repo: Path,
    tmp_path: Path,
    make_pipeline: Callable[..., Pipeline],
    monkeypatch: pytest.MonkeyPatch,
    what: str,
    old: str,
    new: str,
) -> None:
    # GIVEN a deployed stack whose function environment points at the broken catalog (a cold start)
    from touchpoints.catalog import CatalogError
    from touchpoints.handlers import process_events
    from touchpoints.handlers.runtime import set_runtime
    from touchpoints.local import FakeLambdaContext

    pipeline = make_pipeline()
    rules, line = _break(repo, tmp_path, old, new)
    for name, value in pipeline.resources.environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RULES_DIR", str(rules))
    set_runtime(None)
    event = generate_stream(1, seed=71).events[0]
    record = pipeline.sqs_record(json.dumps(event))

    # WHEN a batch arrives
    try:
        with pytest.raises(CatalogError) as raised:
            process_events.handler({"Records": [record]}, FakeLambdaContext())
    finally:
        set_runtime(None)

    # THEN the whole invocation fails (SQS keeps the batch) with the file:line of the mistake
    assert f"payment-unresolved-reminder.yaml:{line}:" in str(raised.value)
    # AND nothing was decided or written
    assert pipeline.items("EVENT#") == []
    assert pipeline.items("ACTION#") == []
