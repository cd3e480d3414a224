"""THE reader of event files: every command that takes events (simulate, diff, explain, preview, demo,
rule tests, `--state`) reads them here, so a file means the same thing everywhere.

A path is a file, a folder (read recursively, sorted; JSON Schemas skipped) or `-` (stdin). A file
holds one event, a JSON array of events, JSON Lines (`.jsonl`, `.ndjson`, or a `.json` whose first
line is a whole event), or events written one after another (`cat a.json b.json`). What cannot be
used becomes an `InputProblem` naming the file, the line and column, the event id when there is one,
and what is wrong; the other events still come.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from touchpoints.catalog.problems import display_path
from touchpoints.contract import Event, InvalidEventError, parse_event, parse_valid_event_json

__all__ = [
    "EVENT_FILE_SUFFIXES",
    "STDIN",
    "InputProblem",
    "SourcedEvent",
    "event_files",
    "read_events",
    "read_sourced_events",
]

EVENT_FILE_SUFFIXES = (".json", ".jsonl", ".ndjson")
"""Files a folder contributes; anything else in it (README, YAML) is ignored."""

STDIN = Path("-")
"""The path that means standard input (`touchpoints simulate -`)."""

_LINE_SUFFIXES = (".jsonl", ".ndjson")
_EXPECTED = "expected an event object, an array of events or JSON Lines"
_TOO_DEEP = "nested too deeply to be an event"
_WHITESPACE = " \t\n\r"


@dataclass(frozen=True)
class InputProblem:
    """An event that could not be used: where it is (file, line, column), which event, what is wrong.

    `is_unreadable` is True when the file itself cannot be used (missing, empty, not JSON), False
    for a readable but malformed event; `touchpoints simulate` exits 2 on either.
    """

    path: Path
    message: str
    line: int | None = None
    column: int | None = None
    event_id: str | None = None
    is_unreadable: bool = False

    @property
    def where(self) -> str:
        """`file:line:column` (as much of it as is known), the form editors and CI logs link to."""
        text = _shown(self.path)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text

    def __str__(self) -> str:
        who = f" event {self.event_id}:" if self.event_id else ""
        return f"{self.where}:{who} {self.message}"


@dataclass(frozen=True)
class SourcedEvent:
    """A valid event with the envelope it was read from and where it was (for the demo and `--state`)."""

    event: Event
    raw: dict[str, Any]
    path: Path
    line: int


def _shown(path: Path) -> str:
    return "<stdin>" if path == STDIN else display_path(path)


def is_schema_file(path: Path, root: Path) -> bool:
    """JSON Schemas published beside the samples (`events/schemas/`, `*.schema.json`) are not events."""
    return "schemas" in path.relative_to(root).parts[:-1] or path.name.endswith(".schema.json")


def event_files(paths: Sequence[Path]) -> Iterator[Path | InputProblem]:
    """Expand paths into event files: files (and `-`) as given, folders recursively in sorted order."""
    for path in paths:
        if path == STDIN:
            yield path
        elif path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in EVENT_FILE_SUFFIXES and not is_schema_file(p, path)
            )
        elif path.is_file():
            yield path
        else:
            yield InputProblem(path, "no such file or folder", is_unreadable=True)


def read_events(paths: Sequence[Path]) -> Iterator[Event | InputProblem]:
    """Stream the events of `paths` (the fast path: valid JSON Lines go straight into their model)."""
    for item in event_files(paths):
        if isinstance(item, InputProblem):
            yield item
            continue
        # keep_raw=False yields no SourcedEvent; `yield from` keeps the 100k-event replay's fast path
        yield from cast("Iterator[Event | InputProblem]", _read_file(item, keep_raw=False))


def read_sourced_events(paths: Sequence[Path]) -> Iterator[SourcedEvent | InputProblem]:
    """The events of `paths` with their envelopes as written and their file and line."""
    for item in event_files(paths):
        if isinstance(item, InputProblem):
            yield item
            continue
        for read in _read_file(item, keep_raw=True):
            if not isinstance(read, SourcedEvent | InputProblem):  # pragma: no cover - keep_raw gives neither
                raise TypeError("the reader returned a bare event with keep_raw")
            yield read


def _read_file(path: Path, *, keep_raw: bool) -> Iterator[SourcedEvent | Event | InputProblem]:
    if path.suffix.lower() in _LINE_SUFFIXES and path != STDIN:
        try:
            with path.open(encoding="utf-8") as handle:
                yield from _read_lines(path, handle, keep_raw=keep_raw)
        except UnicodeDecodeError:
            yield InputProblem(path, "not UTF-8 text; " + _EXPECTED, is_unreadable=True)
        except OSError as exc:
            yield InputProblem(path, f"cannot read the file: {exc.strerror or exc}", is_unreadable=True)
        return
    try:
        text = sys.stdin.read() if path == STDIN else path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        yield InputProblem(path, "not UTF-8 text; " + _EXPECTED, is_unreadable=True)
        return
    except OSError as exc:
        yield InputProblem(path, f"cannot read the file: {exc.strerror or exc}", is_unreadable=True)
        return
    if not text.strip():
        yield InputProblem(path, "the file is empty; " + _EXPECTED, is_unreadable=True)
        return
    if _looks_like_lines(text):
        yield from _read_lines(path, text.splitlines(), keep_raw=keep_raw)
    else:
        yield from _read_documents(path, text, keep_raw=keep_raw)


def _looks_like_lines(text: str) -> bool:
    """A file whose first non-empty line is a whole JSON object is read as JSON Lines."""
    for line in text.splitlines():
        if line.strip():
            try:
                return isinstance(json.loads(line), dict)
            except (json.JSONDecodeError, RecursionError):
                return False
    return False


def _read_lines(
    path: Path, lines: Iterable[str], *, keep_raw: bool
) -> Iterator[SourcedEvent | Event | InputProblem]:
    seen = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        seen = True
        if not keep_raw:
            event = parse_valid_event_json(line)  # valid events: straight into their model
            if event is not None:
                yield event
                continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            yield _syntax_problem(path, exc, line=number)
            continue
        except RecursionError:
            yield InputProblem(path, _TOO_DEEP, line=number, is_unreadable=True)
            continue
        yield _parse(raw, path, number, None, keep_raw=keep_raw)
    if not seen:
        yield InputProblem(path, "the file is empty; " + _EXPECTED, is_unreadable=True)


def _read_documents(
    path: Path, text: str, *, keep_raw: bool
) -> Iterator[SourcedEvent | Event | InputProblem]:
    """One JSON value after another (usually one: an event or an array), each element at its line."""
    decoder = json.JSONDecoder()
    index, length = 0, len(text)
    while True:
        index = _skip_space(text, index)
        if index >= length:
            return
        try:
            if text[index] == "[":
                yield from _read_array(path, text, index, decoder, keep_raw=keep_raw)
                index = _array_end(text, index, decoder)
                continue
            value, end = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            yield _syntax_problem(path, exc)
            return
        except RecursionError:
            yield InputProblem(path, _TOO_DEEP, *_line_col(text, index), is_unreadable=True)
            return
        yield _parse(value, path, *_line_col(text, index), keep_raw=keep_raw)
        index = end


def _read_array(
    path: Path, text: str, start: int, decoder: json.JSONDecoder, *, keep_raw: bool
) -> Iterator[SourcedEvent | Event | InputProblem]:
    """The elements of the array at `start`, each parsed alone so that it carries its own line."""
    decoder.raw_decode(text, start)  # the whole array first: a syntax error names its own place
    index = _skip_space(text, start + 1)
    if text[index] == "]":
        return
    while True:
        value, end = decoder.raw_decode(text, index)
        yield _parse(value, path, *_line_col(text, index), keep_raw=keep_raw)
        index = _skip_space(text, end)
        if text[index] == "]":
            return
        index = _skip_space(text, index + 1)  # the ","


def _array_end(text: str, start: int, decoder: json.JSONDecoder) -> int:
    return int(decoder.raw_decode(text, start)[1])


def _skip_space(text: str, index: int) -> int:
    length = len(text)
    while index < length and text[index] in _WHITESPACE:
        index += 1
    return index


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _syntax_problem(path: Path, exc: json.JSONDecodeError, *, line: int | None = None) -> InputProblem:
    """`file:line:column: not valid JSON (what)`; in JSON Lines the line is the file's, not the document's."""
    what = exc.msg.removesuffix(" at").strip()  # "Unterminated string starting at" + " at line ..."
    return InputProblem(
        path,
        f"not valid JSON ({what[:1].lower() + what[1:]}); {_EXPECTED}",
        line=line if line is not None else exc.lineno,
        column=exc.colno,
        is_unreadable=True,
    )


def _parse(
    raw: Any, path: Path, line: int | None, column: int | None, *, keep_raw: bool
) -> SourcedEvent | Event | InputProblem:
    column = column if column != 1 else None  # an event at the start of its line: the line says it
    if not isinstance(raw, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(raw), "a number"
        )
        message = f"{kind} where an event object (an EventBridge envelope) was expected"
        return InputProblem(path, message, line, column, is_unreadable=True)
    try:
        event = parse_event(raw)
    except InvalidEventError as exc:
        problems = "; ".join(str(problem) for problem in exc.problems)
        kind = f"{exc.detail_type}: " if exc.detail_type else ""
        return InputProblem(path, kind + problems, line, column, event_id=exc.event_id)
    if keep_raw:
        return SourcedEvent(event, raw, path, line or 1)
    return event
