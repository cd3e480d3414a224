"""Replay events on a virtual clock through the real decision path, with in-memory adapters."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from touchpoints.adapters.memory import InMemoryDecisionStore, InMemoryTimerService
from touchpoints.contract import parse_valid_event_json
from touchpoints.service import process_event

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.policy.retention import Retention

__all__ = [
    "DEFAULT_HORIZON",
    "EVENT_FILE_SUFFIXES",
    "InputProblem",
    "Simulator",
    "event_files",
    "fewer_collections",
    "read_events",
    "simulate",
]

DEFAULT_HORIZON = timedelta(days=30)
"""How long after the last event timers keep firing when no `until` is given."""

EVENT_FILE_SUFFIXES = (".json", ".jsonl", ".ndjson")
"""Files a folder contributes; anything else in it (README, YAML) is ignored."""

_LINE_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True)
class InputProblem:
    """An event that could not be used: where it is, which event, and what is wrong with it.

    `is_unreadable` is True when the file itself cannot be read (missing, not JSON), False for a
    readable but malformed event; `touchpoints simulate` exits 2 on either (docs/CONTRACT.md).
    """

    path: Path
    message: str
    position: str | None = None
    event_id: str | None = None
    is_unreadable: bool = False

    def __str__(self) -> str:
        where = str(self.path) + (f":{self.position}" if self.position else "")
        who = f" event {self.event_id}:" if self.event_id else ""
        return f"{where}:{who} {self.message}"


def is_schema_file(path: Path, root: Path) -> bool:
    """JSON Schemas published beside the samples (`events/schemas/`, `*.schema.json`) are not events."""
    return "schemas" in path.relative_to(root).parts[:-1] or path.name.endswith(".schema.json")


def event_files(paths: Sequence[Path]) -> Iterator[Path | InputProblem]:
    """Expand paths into event files: files as given, folders recursively in sorted path order.

    Inside folders, JSON Schema files are skipped so that `touchpoints simulate events/` reads the
    samples and not the schemas published next to them.
    """
    for path in paths:
        if path.is_dir():
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
    """Stream events from files of one event, JSON arrays and JSON Lines (folders recursively).

    Each malformed event becomes an InputProblem naming its file, its position (`line N` in
    JSON Lines, `index N` in an array) and the fields at fault; the other events still come.
    """
    for item in event_files(paths):
        if isinstance(item, InputProblem):
            yield item
        else:
            yield from _read_file(item)


_TOO_DEEP = "not valid JSON for an event: nested too deeply for the JSON reader"
"""Python's json module gives up (RecursionError) past ~1000 levels; no event is nested like that."""


def _read_file(path: Path) -> Iterator[Event | InputProblem]:
    if path.suffix.lower() in _LINE_SUFFIXES:
        yield from _read_lines(path)
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield InputProblem(path, f"cannot read the file: {exc}", is_unreadable=True)
        return
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        if _looks_like_lines(text):
            yield from _parse_lines(path, text.splitlines())
            return
        message = f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        yield InputProblem(path, message, is_unreadable=True)
        return
    except RecursionError:
        yield InputProblem(path, _TOO_DEEP, is_unreadable=True)
        return
    if isinstance(loaded, list):
        for index, raw in enumerate(loaded):
            yield _parse(raw, path, f"index {index}")
    elif isinstance(loaded, dict):
        yield _parse(loaded, path, None)
    else:
        yield InputProblem(
            path, "must hold an event object, an array of events or JSON Lines", is_unreadable=True
        )


def _looks_like_lines(text: str) -> bool:
    """A `.json` file whose first non-empty line is a whole JSON object is read as JSON Lines."""
    for line in text.splitlines():
        if line.strip():
            try:
                return isinstance(json.loads(line), dict)
            except (json.JSONDecodeError, RecursionError):
                return False
    return False


def _read_lines(path: Path) -> Iterator[Event | InputProblem]:
    try:
        with path.open(encoding="utf-8") as handle:
            yield from _parse_lines(path, handle)
    except (OSError, UnicodeDecodeError) as exc:
        yield InputProblem(path, f"cannot read the file: {exc}", is_unreadable=True)


def _parse_lines(path: Path, lines: Iterable[str]) -> Iterator[Event | InputProblem]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        event = parse_valid_event_json(line)  # valid events: straight into their model
        if event is not None:
            yield event
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            message = f"not valid JSON: {exc.msg} at column {exc.colno}"
            yield InputProblem(path, message, position=f"line {number}", is_unreadable=True)
            continue
        except RecursionError:
            yield InputProblem(path, _TOO_DEEP, position=f"line {number}", is_unreadable=True)
            continue
        yield _parse(raw, path, f"line {number}")


def _parse(raw: Any, path: Path, position: str | None) -> Event | InputProblem:
    from touchpoints.contract import InvalidEventError, parse_event

    try:
        return parse_event(raw)
    except InvalidEventError as exc:
        problems = "; ".join(str(problem) for problem in exc.problems)
        kind = f"{exc.detail_type}: " if exc.detail_type else ""
        return InputProblem(path, kind + problems, position=position, event_id=exc.event_id)


@dataclass
class Simulator:
    """The production decision path (`service.process_event`) on a virtual clock, in memory.

    `now` is each event's own `time`; timers fire, earliest first, as the clock passes them,
    and after the last event until `until`. The store and timers stay inspectable afterwards.
    """

    catalog: Catalog
    store: InMemoryDecisionStore = field(default_factory=InMemoryDecisionStore)
    timers: InMemoryTimerService = field(default_factory=InMemoryTimerService)
    events_processed: int = 0
    duplicates: int = 0
    timers_fired: int = 0
    on_event: Callable[[Event], None] | None = None

    def run(self, events: Iterable[Event], until: datetime | None = None) -> Iterator[DecisionRecord]:
        """Sort the events by time (stable), replay them and yield every record as it is decided.

        A deferred action released later is yielded again with its new status (same action id).
        """
        ordered = sorted(events, key=lambda e: e.time)
        if until is None and ordered:
            until = ordered[-1].time + DEFAULT_HORIZON
        for event in ordered:
            yield from self._fire_timers(event.time)
            yield from self._process(event, event.time)
            if self.on_event is not None:
                self.on_event(event)
        if until is not None:
            yield from self._fire_timers(until)

    @cached_property
    def _retention(self) -> Retention:
        """The catalog's ledger retention, derived once per replay (as the handlers do per cold start)."""
        from touchpoints.policy.retention import retention_for

        return retention_for(self.catalog)

    def _fire_timers(self, until: datetime) -> Iterator[DecisionRecord]:
        while True:
            due = self.timers.next_due()
            if due is None or due > until:
                return
            for timer in self.timers.due(due):
                self.timers_fired += 1
                yield from self._process(timer.to_parsed_event(), timer.due_at)

    def _process(self, event: Event, now: datetime) -> Iterator[DecisionRecord]:
        result = process_event(
            event,
            catalog=self.catalog,
            store=self.store,
            timers=self.timers,
            now=now,
            retention=self._retention,
        )
        self.events_processed += 1
        if result.is_duplicate:
            self.duplicates += 1
        yield from result.records


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run a replay with the cyclic garbage collector's thresholds raised, then restore them.

    A replay keeps hundreds of thousands of objects alive (events, journey states, records) and
    creates few reference cycles; with the default thresholds the collector walked the live ones
    again and again, a quarter of the CPU time of `touchpoints simulate`. Memory still comes back
    by reference counting; the collector still runs, just rarely.
    """
    old = gc.get_threshold()
    gc.set_threshold(200_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)


def simulate(
    events: Iterable[Event], catalog: Catalog, until: datetime | None = None
) -> Iterator[DecisionRecord]:
    """Replay events through the real decision path in memory; yield each decision record as decided."""
    return Simulator(catalog).run(events, until)
