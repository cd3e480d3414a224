"""Where `touchpoints test` finds cases and events: test files, the catalog they test, `file:` events."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from touchpoints.cli.output import fail

__all__ = ["event_file", "test_files", "test_targets"]


def test_files(rules_dir: Path) -> list[Path]:
    folder = rules_dir / "tests"
    if not folder.is_dir():
        fail(f"{folder}: no tests folder", hint="rule test cases live in RULES_DIR/tests/*.yaml")
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    if not files:
        fail(f"{folder}: no *.yaml test files")
    return files


def test_targets(targets: Sequence[Path], rules_option: Path | None) -> tuple[Path, list[Path]]:
    """(rules folder, test files) from `RULES_DIR` or `TEST_FILE...` (and `--rules`)."""
    if not targets:
        targets = [Path("rules")]
    folders = [t for t in targets if t.is_dir()]
    if folders:
        if len(targets) > 1:
            fail("give one RULES_DIR, or test files (rules/tests/x.yaml ...), not both")
        rules_dir = rules_option or folders[0]
        return rules_dir, test_files(folders[0])
    for target in targets:
        if not target.is_file():
            fail(
                f"{target}: no such rules folder or test file",
                hint="e.g. touchpoints test rules/tests/payments.yaml",
            )
    if rules_option is not None:
        return rules_option, list(targets)
    # A test file in RULES_DIR/tests/ tests that folder's catalog; anything else tests ./rules.
    parent = targets[0].resolve().parent
    return (parent.parent if parent.name == "tests" else Path("rules")), list(targets)


def event_file(target: Path, problem: Any, number: int) -> dict[str, Any]:
    """The one envelope of a `file:` event, read by the one event reader (touchpoints.eventfiles)."""
    from touchpoints.eventfiles import InputProblem, read_sourced_events

    found = list(read_sourced_events([target]))
    bad = next((item for item in found if isinstance(item, InputProblem)), None)
    if bad is not None or len(found) != 1:
        why = str(bad) if bad is not None else f"{target} holds {len(found)} events; `file:` takes one"
        raise problem(f"cannot use event file: {why}", "events", number - 1)
    return dict(found[0].raw)  # type: ignore[union-attr]
