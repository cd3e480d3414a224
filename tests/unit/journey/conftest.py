"""Fixtures of the journey tests: sample journeys parsed from events/, and a builder for more events."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support.events import event

from touchpoints.contract import Event, parse_event

EVENTS = Path(__file__).resolve().parents[3] / "events"

EventFactory = Callable[..., Event]


@pytest.fixture
def scenario() -> Callable[[str], list[Event]]:
    """Parse one events/<scenario>/ folder, in file (= time) order."""

    def load(name: str) -> list[Event]:
        return [parse_event(path.read_bytes()) for path in sorted((EVENTS / name).glob("*.json"))]

    return load


@pytest.fixture
def make_event() -> EventFactory:
    """Build a valid event of any detail-type (order A1 unless told) with a compact call."""

    def build(detail_type: str, time: str, event_id: str, *, order_id: str = "A1", **detail: Any) -> Event:
        source = None if detail_type == "TimerFired" else "shop.test"
        return event(detail_type, time, detail, event_id=event_id, order_id=order_id, source=source)

    return build
