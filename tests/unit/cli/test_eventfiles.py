"""touchpoints.eventfiles, the one reader of event files: every shape read, every mistake located."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from touchpoints.contract import Event
from touchpoints.eventfiles import InputProblem, read_events, read_sourced_events

REPO = Path(__file__).resolve().parents[3]
PLACED = json.loads((REPO / "events" / "happy-path" / "01-order-placed.json").read_text())
PAID = json.loads((REPO / "events" / "happy-path" / "02-payment-succeeded.json").read_text())


def _read(tmp_path: Path, text: str, name: str = "e.json") -> list[Event | InputProblem]:
    path = tmp_path / name
    path.write_text(text)
    return list(read_events([path]))


def test_an_array_followed_by_garbage_keeps_its_events_and_names_the_garbage(tmp_path: Path) -> None:
    items = _read(tmp_path, json.dumps([PLACED]) + "\n  oops")
    assert isinstance(items[0], Event)
    (problem,) = [i for i in items if isinstance(i, InputProblem)]
    assert (problem.line, problem.column) == (2, 3)


def test_pretty_printed_array_elements_carry_their_own_line(tmp_path: Path) -> None:
    bad = {**PAID, "detail": {**PAID["detail"], "order_id": None}}
    text = json.dumps([PLACED, bad], indent=2)
    items = _read(tmp_path, text)
    (problem,) = [i for i in items if isinstance(i, InputProblem)]
    starts = [number for number, line in enumerate(text.splitlines(), start=1) if line == "  {"]
    assert (problem.line, problem.column) == (starts[1], 3)  # the second element's opening brace
    assert "detail.order_id" in problem.message


def test_a_scalar_a_nested_array_and_deep_nesting_are_problems_not_exceptions(tmp_path: Path) -> None:
    for text, words in (
        ("42", "a number where an event object"),
        ("[[1]]", "an array where"),
        ("[" * 5000, ""),
    ):
        items = _read(tmp_path, text)
        assert items, text[:10]
        assert all(isinstance(i, InputProblem) for i in items)
        assert words in str(items[0])


def test_sourced_events_keep_the_envelope_as_written_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("\n" + json.dumps({**PLACED, "extra": "kept"}) + "\n")
    (found,) = list(read_sourced_events([path]))
    assert not isinstance(found, InputProblem)
    assert (found.raw["extra"], found.line) == ("kept", 2)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_events_or_located_problems_never_an_exception(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.json"
        path.write_text(text, encoding="utf-8")
        items = list(read_events([path]))
    assert items
    assert all(isinstance(item, Event | InputProblem) for item in items)
    assert all(
        str(item).startswith(str(path).lstrip("/")[:0]) for item in items if isinstance(item, InputProblem)
    )
