"""What every command opens the same way: a rules folder, event paths, and the journey state of an order.

One place each, so `simulate`, `diff`, `explain`, `preview`, `test`, `demo` and `rules` refuse the
same wrong folder with the same words, read the same files the same way (touchpoints.eventfiles),
and build an order's state from its earlier events as production does (`apply_event`, any order).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from touchpoints.cli.output import fail, print_error

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.contract import Event
    from touchpoints.eventfiles import InputProblem, SourcedEvent
    from touchpoints.journey import OrderJourney

__all__ = [
    "EVENT_PATHS",
    "RULES_DIR",
    "OrderState",
    "load_inputs",
    "one_event",
    "open_catalog",
    "order_state",
    "require_rules_folder",
    "sourced_events",
    "state_notes",
]

EVENT_PATHS = click.Path(path_type=Path, allow_dash=True)
"""An event file, a folder of them, or `-` for stdin (touchpoints.eventfiles reads them all)."""

RULES_DIR = click.Path(path_type=Path, file_okay=False)

_RULES_HINT = (
    "a rules folder holds rule files (*.yaml with an `id`), policy.yaml and templates/; "
    "the project's is ./rules"
)


def require_rules_folder(rules_dir: Path, option: str = "--rules") -> None:
    """Stop with exit 2 unless `rules_dir` is an existing folder (the catalog is read afterwards)."""
    if not rules_dir.is_dir():
        fail(f"{option} {rules_dir}: no such rules folder", hint=_RULES_HINT)


def open_catalog(rules_dir: Path, option: str = "--rules") -> Catalog:
    """The catalog of a rules folder, or exit 2: no such folder, no rule file in it, or problems.

    A folder without a single rule (`--rules events`, an empty checkout) is refused: every command
    would otherwise report "no decisions" or "+ 31 added" as if that were the answer.
    """
    from touchpoints.catalog import load_catalog

    require_rules_folder(rules_dir, option)
    catalog = load_catalog(rules_dir)
    if not catalog.rules:
        fail(
            f"{option} {rules_dir}: no rule files here (*.yaml with an `id`); is it the rules folder?",
            hint=_RULES_HINT,
        )
    return catalog


def load_inputs(paths: Sequence[Path]) -> tuple[list[Event], list[InputProblem]]:
    """Read every event, printing each problem on stderr as it is found (the rest still loads).

    Paths that hold no event and no problem at all (an empty folder, a folder of schemas) stop
    the command with exit 2: a replay of nothing that "succeeds" hides a wrong path.
    """
    from touchpoints.eventfiles import InputProblem, read_events

    events: list[Event] = []
    problems: list[InputProblem] = []
    for item in read_events(paths):
        if isinstance(item, InputProblem):
            problems.append(item)
            print_error(str(item))
        else:
            events.append(item)
    if not events and not problems:
        _no_events(paths)
    return events, problems


def sourced_events(paths: Sequence[Path], *, what: str = "", allow_empty: bool = False) -> list[SourcedEvent]:
    """Every event of `paths` with its envelope and place, or exit 2 on the first that cannot be used.

    Used where one bad event would change the answer (`explain`, `preview`, `--state`, the demo):
    a state missing an event silently is a wrong verdict.
    """
    from touchpoints.eventfiles import InputProblem, read_sourced_events

    found: list[SourcedEvent] = []
    for item in read_sourced_events(paths):
        if isinstance(item, InputProblem):
            fail(f"{what}{item}")
        found.append(item)
    if not found and not allow_empty:
        _no_events(paths, what=what)
    return found


def one_event(paths: Sequence[Path], command: str) -> SourcedEvent:
    """The one event `paths` hold (`explain EVENT_FILE`, `preview --event`), or exit 2 saying why."""
    found = sourced_events(paths, allow_empty=True)
    if len(found) != 1:
        shown = ", ".join(str(path) for path in paths)
        fail(
            f"{shown}: holds {len(found)} events; {command} takes exactly one event",
            hint="give the order's earlier events with --state"
            + (", or use --order ID to pick the order's events" if command == "explain" else ""),
        )
    return found[0]


def _no_events(paths: Sequence[Path], *, what: str = "") -> None:
    fail(
        f"{what}no events found in {', '.join(str(path) for path in paths)}",
        hint="give event files (.json: one event or an array; .jsonl: one per line), folders of them, or -",
    )


@dataclass
class OrderState:
    """An order's journey built from events, and what it was built from (for the notes of explain)."""

    journey: OrderJourney | None
    used: list[Event] = field(default_factory=list)
    ignored: int = 0  # events of other orders in the state files


def order_state(events: Iterable[Event], order_id: str, *, upto: datetime | None = None) -> OrderState:
    """The journey of `order_id` from its events (other orders' events ignored), up to `upto` if given.

    The reducer is production's (`apply_event`): any order, duplicates ignored, latest by time wins.
    """
    from touchpoints.journey import apply_event

    state = OrderState(journey=None)
    for event in sorted(events, key=lambda e: e.time):
        if event.order_id != order_id:
            state.ignored += 1
            continue
        if upto is not None and event.time > upto:
            continue
        state.journey = apply_event(state.journey, event)
        state.used.append(event)
    return state


def state_notes(journey: OrderJourney, order_id: str, reads: Iterable[str] | None) -> list[str]:
    """What the facts of a partial journey leave at defaults, for the facts a rule or template reads.

    A state that starts mid-way (only the dispatch event, no OrderPlaced) makes `customer.tier`
    "standard" for a gold customer: the verdict must say so instead of looking like the answer.
    `reads` None means "may read anything".
    """
    paths = None if reads is None else set(reads)

    def reads_any(prefix: str) -> bool:
        return paths is None or any(p == prefix.rstrip(".") or p.startswith(prefix) for p in paths)

    notes: list[str] = []
    if journey.customer is None and reads_any("customer."):
        notes.append(
            f"no event of order {order_id} given carries the customer: customer.* facts are defaults "
            "(tier standard, locale en, time zone UTC, no consent, no address)"
        )
    if journey.placed_at is None and reads_any("order."):
        notes.append(
            f"no OrderPlaced of order {order_id} given: what it sets (order.total, order.items, "
            "order.promised_ship_by, order.promised_delivery_by, order.placed_at) is null"
        )
    return notes
