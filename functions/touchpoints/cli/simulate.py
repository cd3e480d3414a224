"""`touchpoints simulate` and `touchpoints diff`: replay events through the catalog, in memory."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from touchpoints.cli.output import (
    EXIT_OK,
    EXIT_USAGE,
    echo_json,
    fail,
    handle_errors,
    print_error,
    stderr_console,
    stdout_console,
    to_jsonable,
)

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.simulator import InputProblem

__all__ = [
    "DiffResult",
    "diff",
    "diff_records",
    "load_inputs",
    "parse_until",
    "records_table",
    "simulate",
    "summary_table",
]

DIFF_FIELDS = ("status", "reason", "send_at", "template")
"""What makes a decision 'changed' between two catalogs (same event, rule and channel)."""

_PROGRESS_THRESHOLD = 5000


def parse_until(value: str | None) -> datetime | None:
    """`--until` as an aware UTC datetime; a clear usage error names a bad value."""
    if value is None:
        return None
    from touchpoints.contract import parse_timestamp

    try:
        return parse_timestamp(value)
    except ValueError as exc:
        fail(f"--until {value!r} is not an RFC 3339 time with an offset (e.g. 2026-03-05T00:00:00Z): {exc}")


def load_inputs(paths: Sequence[Path]) -> tuple[list[Event], list[InputProblem]]:
    """Read every event, printing each problem on stderr as it is found (the rest still loads).

    Paths that hold no event and no problem at all (an empty folder, a folder of schemas) stop
    the command with exit 2: a replay of nothing that "succeeds" hides a wrong path.
    """
    from touchpoints.simulator import InputProblem, read_events

    events: list[Event] = []
    problems: list[InputProblem] = []
    for item in read_events(paths):
        if isinstance(item, InputProblem):
            problems.append(item)
            print_error(str(item))
        else:
            events.append(item)
    if not events and not problems:
        fail(
            f"no events found in {', '.join(str(path) for path in paths)}",
            hint="give event files (.json: one event or an array; .jsonl: one per line) or folders of them",
        )
    return events, problems


def _load_catalog(rules_dir: Path, option: str) -> Catalog:
    from touchpoints.catalog import load_catalog

    if not rules_dir.is_dir():
        fail(
            f"{option} {rules_dir}: no such rules folder", hint="point it at a folder of rule files (./rules)"
        )
    return load_catalog(rules_dir)


def _run(catalog: Catalog, events: list[Event], until: datetime | None) -> Iterator[DecisionRecord]:
    """Simulate lazily, with a progress bar on stderr when it is a terminal and the run is long."""
    from touchpoints.simulator import Simulator

    simulator = Simulator(catalog)
    if not (sys.stderr.isatty() and len(events) >= _PROGRESS_THRESHOLD):
        yield from simulator.run(events, until)
        return
    from rich.progress import Progress

    with Progress(console=stderr_console(), transient=True) as progress:
        task = progress.add_task("simulating", total=len(events))
        seen = 0

        def advance(_: Event) -> None:
            nonlocal seen
            seen += 1
            if seen % 1000 == 0:
                progress.update(task, completed=seen)

        simulator.on_event = advance
        yield from simulator.run(events, until)


def _exit_code(problems: Sequence[InputProblem]) -> int:
    """docs/CONTRACT.md: 0, or 2 on unreadable input, which names the file and the event.

    A malformed event is unreadable input too (the contract's "names ... the event"): the run
    goes on without it, but a CI job or script must not mistake a partial replay for a full one.
    """
    return EXIT_USAGE if problems else EXIT_OK


def _report_problems(problems: Sequence[InputProblem], used: int) -> None:
    """One closing line on stderr saying how much of the input was left out."""
    if not problems:
        return
    unreadable = sum(problem.is_unreadable for problem in problems)
    parts = []
    if unreadable:
        parts.append(f"{unreadable} unreadable input(s)")
    if len(problems) > unreadable:
        parts.append(f"{len(problems) - unreadable} malformed event(s)")
    print_error(f"{' and '.join(parts)} left out; {used} event(s) were used")


def _time(value: datetime) -> str:
    return str(to_jsonable(value))


def records_table(records: Iterable[DecisionRecord], *, title: str | None = None) -> Table:
    """A table of decision records: time, order, rule, channel, status, reason, send_at.

    The time is the first decision's; a record of a release also says when it was released.
    """
    table = Table(title=title, show_lines=False)
    for name in ("decided", "order", "rule", "channel", "status", "reason", "send_at"):
        table.add_column(name, overflow="fold")
    styles = {
        "pending": "green",
        "scheduled": "yellow",
        "suppressed": "dim",
        "failed": "red",
        "sent": "green",
    }
    for record in records:
        decided = _time(record.decided_at)
        if record.released_at is not None:  # waited, then was decided again at its release
            decided += f"\nreleased {_time(record.released_at)}"
        table.add_row(
            decided,
            record.order_id,
            record.rule_id,
            record.channel,
            f"[{styles.get(record.status, '')}]{record.status}[/]"
            if record.status in styles
            else record.status,
            record.reason or "",
            _time(record.send_at),
        )
    return table


def summary_table(records: Iterable[DecisionRecord]) -> Table:
    """Per rule, how many records ended in each status (a released action counts once, as released)."""
    final = {(r.event_id, r.rule_id, r.channel): r for r in records}
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for record in final.values():
        counts[record.rule_id][record.status] += 1
    statuses = ("pending", "scheduled", "suppressed", "sent", "failed")
    table = Table(title="per rule")
    table.add_column("rule")
    for status in statuses:
        table.add_column(status, justify="right")
    table.add_column("total", justify="right")
    for rule_id in sorted(counts):
        row = counts[rule_id]
        table.add_row(rule_id, *(str(row[s]) for s in statuses), str(sum(row.values())))
    return table


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--rules",
    "rules_dir",
    default="rules",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The rules folder (catalog) to decide with.",
)
@click.option("--until", help="Fire timers up to this time (default: 30 days after the last event).")
@click.option("--json", "as_json", is_flag=True, help="Print one decision record per line (JSON Lines).")
@handle_errors
def simulate(paths: tuple[Path, ...], rules_dir: Path, until: str | None, as_json: bool) -> None:
    """Replay events in time order on a virtual clock and show every decision.

    PATH is a file of one event, a JSON array of events, JSON Lines, or a folder (read
    recursively). Timers (delayed rules, quiet hours) fire as the clock passes them. Nothing
    is sent and no AWS is used. A bad file or event is reported on stderr (file, position, event
    id, field) and left out; the rest is still simulated. Exit 0, or 2 when some input could not
    be used (missing or non-JSON file, malformed event, no events at all) or an option is wrong.

    \b
    Examples:
      touchpoints simulate events/
      touchpoints simulate orders.jsonl --rules rules --until 2026-04-01T00:00:00Z --json
    """
    from touchpoints.simulator import fewer_collections

    until_at = parse_until(until)
    catalog = _load_catalog(rules_dir, "--rules")
    with fewer_collections():
        events, problems = load_inputs(paths)
        if as_json:
            # Stream: one line per record as it is decided (pydantic writes the JSON, times in UTC `Z`),
            # through the stream's buffer: click.echo flushes every line, a system call per record.
            out = sys.stdout
            for record in _run(catalog, events, until_at):
                out.write(record.model_dump_json() + "\n")
            out.flush()
        else:
            records = list(_run(catalog, events, until_at))
            console = stdout_console()
            console.print(records_table(records, title=f"{len(records)} decisions from {len(events)} events"))
            console.print(summary_table(records))
    _report_problems(problems, len(events))
    raise click.exceptions.Exit(_exit_code(problems))


@dataclass
class DiffResult:
    """What changing the catalog changes: decisions added, removed and changed, by rule."""

    added: list[DecisionRecord] = field(default_factory=list)
    removed: list[DecisionRecord] = field(default_factory=list)
    changed: list[tuple[DecisionRecord, DecisionRecord]] = field(default_factory=list)

    def per_rule(self) -> dict[str, dict[str, int]]:
        """rule id -> {added, removed, changed} counts."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: {"added": 0, "removed": 0, "changed": 0})
        for record in self.added:
            counts[record.rule_id]["added"] += 1
        for record in self.removed:
            counts[record.rule_id]["removed"] += 1
        for _, after in self.changed:
            counts[after.rule_id]["changed"] += 1
        return dict(sorted(counts.items()))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `touchpoints diff --json`."""
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": [
                {
                    "before": before,
                    "after": after,
                    "fields": [f for f in DIFF_FIELDS if getattr(before, f) != getattr(after, f)],
                }
                for before, after in self.changed
            ],
            "rules": self.per_rule(),
        }


def diff_records(base: Iterable[DecisionRecord], current: Iterable[DecisionRecord]) -> DiffResult:
    """Compare two runs by (event, rule, channel), each on its final record (after releases)."""
    before = {(r.event_id, r.rule_id, r.channel): r for r in base}
    after = {(r.event_id, r.rule_id, r.channel): r for r in current}
    result = DiffResult()
    for key, record in after.items():
        old = before.get(key)
        if old is None:
            result.added.append(record)
        elif any(getattr(old, f) != getattr(record, f) for f in DIFF_FIELDS):
            result.changed.append((old, record))
    result.removed = [record for key, record in before.items() if key not in after]
    return result


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--base",
    "base_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The rules folder before the change (e.g. a checkout of main).",
)
@click.option(
    "--rules",
    "rules_dir",
    default="rules",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The rules folder after the change.",
)
@click.option("--until", help="Fire timers up to this time (default: 30 days after the last event).")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as one JSON document.")
@handle_errors
def diff(paths: tuple[Path, ...], base_dir: Path, rules_dir: Path, until: str | None, as_json: bool) -> None:
    """Show what a catalog change would change on these events: decisions added, removed, changed.

    A decision is the same when it has the same event, rule and channel; it changed when its
    status, reason, send_at or template differ. Malformed events are reported on stderr and left
    out of both runs. Exit 0; 2 when a file or a rules folder cannot be read.

    \b
    Example:
      git worktree add /tmp/main main
      touchpoints diff events/ --base /tmp/main/rules --rules rules
    """
    until_at = parse_until(until)
    base = _load_catalog(base_dir, "--base")
    current = _load_catalog(rules_dir, "--rules")
    from touchpoints.simulator import fewer_collections

    with fewer_collections():
        events, problems = load_inputs(paths)
        result = diff_records(_run(base, events, until_at), _run(current, events, until_at))
    if as_json:
        echo_json(result.to_dict())
    else:
        _print_diff(result, len(events))
    raise click.exceptions.Exit(EXIT_USAGE if any(p.is_unreadable for p in problems) else EXIT_OK)


def _print_diff(result: DiffResult, event_count: int) -> None:
    console = stdout_console()
    if not (result.added or result.removed or result.changed):
        console.print(f"No decision changes on {event_count} events.")
        return
    if result.added:
        console.print(records_table(result.added, title=f"[green]+ {len(result.added)} added[/]"))
    if result.removed:
        console.print(records_table(result.removed, title=f"[red]- {len(result.removed)} removed[/]"))
    if result.changed:
        table = Table(title=f"[yellow]~ {len(result.changed)} changed[/]")
        for name in ("order", "rule", "channel", "event", "before", "after"):
            table.add_column(name)
        for before, after in result.changed:
            table.add_row(
                after.order_id,
                after.rule_id,
                after.channel,
                after.event_id,
                _describe(before),
                _describe(after),
            )
        console.print(table)
    counts = Table(title="per rule")
    for name in ("rule", "added", "removed", "changed"):
        counts.add_column(name, justify="left" if name == "rule" else "right")
    for rule_id, row in result.per_rule().items():
        counts.add_row(rule_id, str(row["added"]), str(row["removed"]), str(row["changed"]))
    console.print(counts)


def _describe(record: DecisionRecord) -> str:
    text = record.status + (f" ({record.reason})" if record.reason else "")
    return f"{text} at {_time(record.send_at)}" + (f" [{record.template}]" if record.template else "")
