"""Replay events on a virtual clock through the real decision path, with in-memory adapters."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from touchpoints.adapters.memory import InMemoryDecisionStore, InMemoryTimerService
from touchpoints.eventfiles import EVENT_FILE_SUFFIXES, InputProblem, event_files, read_events
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
