"""`touchpoints simulate` and `touchpoints diff`: replay events through the catalog, in memory."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from touchpoints.cli.inputs import EVENT_PATHS, RULES_DIR, load_inputs, open_catalog
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
    from touchpoints.cli.messages import MessagePreview
    from touchpoints.contract import DecisionRecord, Event
    from touchpoints.eventfiles import InputProblem

__all__ = [
    "DiffResult",
    "diff",
    "diff_records",
    "parse_until",
    "simulate",
]

DIFF_FIELDS = ("status", "reason", "send_at", "template")
"""What makes a decision 'changed' between two catalogs (same event, rule and channel), with the message."""

_PROGRESS_THRESHOLD = 5000
_BIG_TABLE = 5000
"""Above this many records a table takes long to draw: the hint names --summary and --json."""


def parse_until(value: str | None) -> datetime | None:
    """`--until` as an aware UTC datetime; a clear usage error names a bad value."""
    if value is None:
        return None
    from touchpoints.contract import parse_timestamp

    try:
        return parse_timestamp(value)
    except ValueError as exc:
        fail(f"--until {value!r} is not an RFC 3339 time with an offset (e.g. 2026-03-05T00:00:00Z): {exc}")


def _run(
    catalog: Catalog,
    events: list[Event],
    until: datetime | None,
    messages: dict[str, MessagePreview] | None = None,
) -> Iterator[DecisionRecord]:
    """Simulate lazily (rendering each pending action into `messages` when given), with a progress
    bar on stderr when it is a terminal and the run is long."""
    from touchpoints.cli.messages import replay_with_messages
    from touchpoints.simulator import Simulator

    simulator = Simulator(catalog)

    def run() -> Iterator[DecisionRecord]:
        records = simulator.run(events, until)
        return records if messages is None else replay_with_messages(simulator, records, messages)

    if not (sys.stderr.isatty() and len(events) >= _PROGRESS_THRESHOLD):
        yield from run()
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
        yield from run()


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


@click.command()
@click.argument("paths", nargs=-1, required=True, type=EVENT_PATHS)
@click.option(
    "--rules",
    "rules_dir",
    default="rules",
    show_default=True,
    type=RULES_DIR,
    help="The rules folder (catalog) to decide with.",
)
@click.option("--until", help="Fire timers up to this time (default: 30 days after the last event).")
@click.option("--summary", is_flag=True, help="Print only the totals per rule (fast on large inputs).")
@click.option("--json", "as_json", is_flag=True, help="Print one decision record per line (JSON Lines).")
@click.option(
    "--messages", is_flag=True, help="With --json: add the rendered message (or event payload) to each line."
)
@handle_errors
def simulate(
    paths: tuple[Path, ...], rules_dir: Path, until: str | None, summary: bool, as_json: bool, messages: bool
) -> None:
    """Replay events in time order on a virtual clock and show every decision.

    PATH is a file of one event, a JSON array of events, JSON Lines, a folder (read recursively)
    or - (stdin). Timers (delayed rules, quiet hours) fire as the clock passes them. Nothing is
    sent and no AWS is used: a decision to send is `pending` (Dispatch would send it), and the
    table shows the message it would send (subject, sms text or event payload). The totals count
    each action once in its final status; a deferred action has two records (scheduled, then
    released). A bad file or event is reported on stderr (file:line, event id, field) and left
    out; the rest is still simulated. Exit 0, or 2 when some input could not be used (missing or
    non-JSON file, malformed event, no events at all) or an option or the rules folder is wrong.

    \b
    Examples:
      touchpoints simulate events/
      touchpoints simulate events/payment-abandoned --rules rules --until 2026-04-01T00:00:00Z --json
      touchpoints simulate events/ --summary
    """
    from touchpoints.cli.tables import records_table, summarize, summary_table
    from touchpoints.simulator import fewer_collections

    until_at = parse_until(until)
    catalog = open_catalog(rules_dir)
    with fewer_collections():
        events, problems = load_inputs(paths)
        if as_json and not summary:
            # Stream: one line per record as it is decided (pydantic writes the JSON, times in UTC `Z`),
            # through the stream's buffer: click.echo flushes every line, a system call per record.
            out = sys.stdout
            if messages:
                previews: dict[str, MessagePreview] = {}
                for record in _run(catalog, events, until_at, previews):
                    line = record.model_dump(mode="json")
                    preview = previews.get(record.action_id) if record.status == "pending" else None
                    line["message"] = None if preview is None else preview.to_dict()
                    out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            else:
                for record in _run(catalog, events, until_at):
                    out.write(record.model_dump_json() + "\n")
            out.flush()
        elif summary:
            totals = summarize(_run(catalog, events, until_at), events=len(events))
            if as_json:
                echo_json(totals.to_dict())
            else:
                console = stdout_console()
                console.print(totals.header())
                console.print(summary_table(totals))
        else:
            previews = {}
            records = list(_run(catalog, events, until_at, previews))
            totals = summarize(records, events=len(events))
            console = stdout_console()
            if len(records) > _BIG_TABLE:
                print_error(
                    f"{len(records)} records make a long table",
                    hint="--summary prints the totals only; --json streams the records",
                )
            console.print(records_table(records, title=totals.header(), messages=previews))
            console.print(summary_table(totals))
    _report_problems(problems, len(events))
    raise click.exceptions.Exit(_exit_code(problems))


@dataclass
class DiffResult:
    """What changing the catalog changes: decisions added, removed and changed, by rule.

    `before` / `after` hold the message each run would send per action id (rendered as Dispatch
    renders it), so a template edit that changes a subject shows as a changed `message`.
    """

    added: list[DecisionRecord] = field(default_factory=list)
    removed: list[DecisionRecord] = field(default_factory=list)
    changed: list[tuple[DecisionRecord, DecisionRecord]] = field(default_factory=list)
    before: dict[str, MessagePreview] = field(default_factory=dict)
    after: dict[str, MessagePreview] = field(default_factory=dict)

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

    def fields(self, before: DecisionRecord, after: DecisionRecord) -> list[str]:
        """Which of DIFF_FIELDS (and `message`) differ between two decisions of the same action."""
        changed = [f for f in DIFF_FIELDS if getattr(before, f) != getattr(after, f)]
        if self.message(self.before, before) != self.message(self.after, after):
            changed.append("message")
        return changed

    @staticmethod
    def message(messages: dict[str, MessagePreview], record: DecisionRecord) -> tuple[Any, ...] | None:
        """The rendered message's identity for a pending record (None for any other status)."""
        preview = messages.get(record.action_id) if record.status == "pending" else None
        return None if preview is None else preview.key()

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `touchpoints diff --json`."""
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": [
                {
                    "before": before,
                    "after": after,
                    "fields": self.fields(before, after),
                    "messages": {
                        "before": _preview_dict(self.before, before),
                        "after": _preview_dict(self.after, after),
                    },
                }
                for before, after in self.changed
            ],
            "rules": self.per_rule(),
        }


def _preview_dict(messages: dict[str, MessagePreview], record: DecisionRecord) -> dict[str, Any] | None:
    preview = messages.get(record.action_id) if record.status == "pending" else None
    return None if preview is None else preview.to_dict()


def diff_records(
    base: Iterable[DecisionRecord],
    current: Iterable[DecisionRecord],
    *,
    before: dict[str, MessagePreview] | None = None,
    after: dict[str, MessagePreview] | None = None,
) -> DiffResult:
    """Compare two runs by (event, rule, channel), each on its final record (after releases).

    With the runs' rendered messages (`before`, `after`: filled as the runs go), a decision whose
    message differs is changed too.
    """
    old_records = {(r.event_id, r.rule_id, r.channel): r for r in base}
    new_records = {(r.event_id, r.rule_id, r.channel): r for r in current}
    result = DiffResult(before=before or {}, after=after or {})
    for key, record in new_records.items():
        old = old_records.get(key)
        if old is None:
            result.added.append(record)
        elif result.fields(old, record):
            result.changed.append((old, record))
    result.removed = [record for key, record in old_records.items() if key not in new_records]
    return result


@click.command()
@click.argument("paths", nargs=-1, required=True, type=EVENT_PATHS)
@click.option(
    "--base",
    "base_dir",
    required=True,
    type=RULES_DIR,
    help="The rules folder before the change (e.g. a copy of the catalog in production).",
)
@click.option(
    "--rules",
    "rules_dir",
    default="rules",
    show_default=True,
    type=RULES_DIR,
    help="The rules folder after the change.",
)
@click.option("--until", help="Fire timers up to this time (default: 30 days after the last event).")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as one JSON document.")
@handle_errors
def diff(paths: tuple[Path, ...], base_dir: Path, rules_dir: Path, until: str | None, as_json: bool) -> None:
    """Show what a catalog change would change on these events: decisions added, removed, changed.

    A decision is the same when it has the same event, rule and channel; it changed when its
    status, reason, send_at or template differ, or the message it would send (rendered subject,
    body, sms text or event payload). Malformed events are reported on stderr and left out of
    both runs. Exit 0; 2 when a file or a rules folder cannot be read (or holds no rule).

    \b
    Examples:
      cp -r rules /tmp/rules-before   # before you edit rules/ (or: git worktree add --detach /tmp/b HEAD)
      touchpoints diff events/ --base /tmp/rules-before --rules rules
      touchpoints diff events/ --base rules --rules rules --json   # no change: empty lists
    """
    from touchpoints.simulator import fewer_collections

    until_at = parse_until(until)
    base = open_catalog(base_dir, "--base")
    current = open_catalog(rules_dir, "--rules")
    with fewer_collections():
        events, problems = load_inputs(paths)
        before: dict[str, MessagePreview] = {}
        after: dict[str, MessagePreview] = {}
        base_records = list(_run(base, events, until_at, before))
        result = diff_records(
            base_records, _run(current, events, until_at, after), before=before, after=after
        )
    if as_json:
        echo_json(result.to_dict())
    else:
        _print_diff(result, len(events))
    raise click.exceptions.Exit(EXIT_USAGE if any(p.is_unreadable for p in problems) else EXIT_OK)


def _print_diff(result: DiffResult, event_count: int) -> None:
    from touchpoints.cli.tables import records_table

    console = stdout_console()
    if not (result.added or result.removed or result.changed):
        console.print(f"No decision changes on {event_count} events.")
        return
    if result.added:
        title = f"[green]+ {len(result.added)} added[/]"
        console.print(records_table(result.added, title=title, messages=result.after))
    if result.removed:
        title = f"[red]- {len(result.removed)} removed[/]"
        console.print(records_table(result.removed, title=title, messages=result.before))
    if result.changed:
        table = Table(title=f"[yellow]~ {len(result.changed)} changed[/]")
        for name in ("order", "rule", "channel", "event", "changed", "before", "after"):
            table.add_column(name)
        for before, after in result.changed:
            table.add_row(
                escape(after.order_id),
                escape(after.rule_id),
                after.channel,
                escape(after.event_id),
                ", ".join(result.fields(before, after)),
                escape(_describe(before, result.before)),
                escape(_describe(after, result.after)),
            )
        console.print(table)
    counts = Table(title="per rule")
    for name in ("rule", "added", "removed", "changed"):
        counts.add_column(name, justify="left" if name == "rule" else "right")
    for rule_id, row in result.per_rule().items():
        counts.add_row(escape(rule_id), str(row["added"]), str(row["removed"]), str(row["changed"]))
    console.print(counts)


def _describe(record: DecisionRecord, messages: dict[str, MessagePreview]) -> str:
    text = record.status + (f" ({record.reason})" if record.reason else "")
    text = f"{text} at {_time(record.send_at)}" + (f" [{record.template}]" if record.template else "")
    preview = messages.get(record.action_id) if record.status == "pending" else None
    return text + (f": {preview.short(50)}" if preview is not None else "")
