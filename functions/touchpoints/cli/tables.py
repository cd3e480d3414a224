"""The tables of a replay (simulate, diff, test): its decision records, and its totals per rule that add up.

A replay's records are decisions as they are made: a deferred action is recorded when it is
`scheduled` and again when it is released (same action id, usually `pending`). So a run has more
records than actions. The totals count ACTIONS, each once, in its final status, plus how many of
them waited first: their sum is the header's action count and the number of distinct `action_id`s
in `--json`, whose line count is the header's record count.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from touchpoints.cli.output import to_jsonable

if TYPE_CHECKING:
    from touchpoints.cli.messages import MessagePreview
    from touchpoints.contract import DecisionRecord

__all__ = ["STATUS_ORDER", "ReplaySummary", "records_table", "summarize", "summary_table"]

STATUS_ORDER = ("pending", "scheduled", "suppressed", "held_out", "sent", "failed")
"""Columns in this order; a status no action ended in is left out of the table (sent and failed
happen only after Dispatch, so a replay, which sends nothing, never shows them)."""

_STYLES = {"pending": "green", "scheduled": "yellow", "suppressed": "dim", "failed": "red", "sent": "green"}


def _time(value: datetime) -> str:
    return str(to_jsonable(value))


def records_table(
    records: Iterable[DecisionRecord],
    *,
    title: str | None = None,
    messages: Mapping[str, MessagePreview] | None = None,
) -> Table:
    """A table of decision records: time, order, rule, channel, status, reason, send_at (and the message).

    The time is the first decision's; a record of a release also says when it was released.
    """
    table = Table(title=title, show_lines=False)
    columns = ["decided", "order", "rule", "channel", "status", "reason", "send_at"]
    if messages is not None:
        columns.append("message (subject, sms text or event payload)")
    for name in columns:
        table.add_column(name, overflow="fold")
    for record in records:
        style = _STYLES.get(record.status)
        decided = _time(record.decided_at)
        if record.released_at is not None:  # waited, then was decided again at its release
            decided += f"\nreleased {_time(record.released_at)}"
        row = [
            decided,
            escape(record.order_id),
            escape(record.rule_id),
            record.channel,
            f"[{style}]{record.status}[/]" if style else record.status,
            record.reason or "",
            _time(record.send_at),
        ]
        if messages is not None:
            preview = messages.get(record.action_id) if record.status == "pending" else None
            row.append(escape(preview.short()) if preview is not None else "")
        table.add_row(*row)
    return table


@dataclass
class ReplaySummary:
    """Per rule, how many actions ended in each status, and how many waited (`scheduled`) first."""

    events: int = 0
    records: int = 0
    rules: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    deferred: Counter[str] = field(default_factory=Counter)

    @property
    def actions(self) -> int:
        """Distinct actions (a deferred and released one counts once)."""
        return sum(sum(counts.values()) for counts in self.rules.values())

    def statuses(self) -> list[str]:
        """The statuses some action ended in, in the vocabulary's order (unknown ones last)."""
        seen = {status for counts in self.rules.values() for status in counts}
        return [s for s in STATUS_ORDER if s in seen] + sorted(seen - set(STATUS_ORDER))

    def header(self) -> str:
        """`34 decision records for 33 actions from 33 events (...)`: every number the tables add up to."""
        released = sum(self.deferred.values())
        text = f"{self.records} decision records for {self.actions} actions from {self.events} events"
        if self.records != self.actions:
            text += f" ({released} deferred: recorded when scheduled and again when released)"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The JSON of `simulate --summary --json`."""
        return {
            "events": self.events,
            "records": self.records,
            "actions": self.actions,
            "rules": {
                rule_id: {
                    **dict(sorted(counts.items())),
                    "total": sum(counts.values()),
                    "deferred": self.deferred[rule_id],
                }
                for rule_id, counts in sorted(self.rules.items())
            },
        }


def summarize(records: Iterable[DecisionRecord], *, events: int = 0) -> ReplaySummary:
    """Count a replay's records into per-rule action totals (final status per action id)."""
    final: dict[str, DecisionRecord] = {}
    waited: set[str] = set()
    summary = ReplaySummary(events=events)
    for record in records:
        summary.records += 1
        final[record.action_id] = record
        if record.status == "scheduled":
            waited.add(record.action_id)
    for action_id, record in final.items():
        summary.rules[record.rule_id][record.status] += 1
        if action_id in waited and record.status != "scheduled":
            summary.deferred[record.rule_id] += 1
    return summary


def summary_table(summary: ReplaySummary) -> Table:
    """Per rule: actions by final status, the total, and how many of them were deferred first."""
    statuses = summary.statuses() or ["pending"]
    table = Table(title="actions per rule (each once, in its final status)")
    table.add_column("rule")
    for status in statuses:
        table.add_column(status, justify="right")
    table.add_column("total", justify="right")
    table.add_column("of which deferred first", justify="right")
    for rule_id in sorted(summary.rules):
        row = summary.rules[rule_id]
        table.add_row(
            escape(rule_id),
            *(str(row[s]) for s in statuses),
            str(sum(row.values())),
            str(summary.deferred[rule_id]),
        )
    totals = Counter[str]()
    for counts in summary.rules.values():
        totals.update(counts)
    table.add_section()
    table.add_row(
        "[bold]all rules[/]",
        *(str(totals[s]) for s in statuses),
        f"[bold]{summary.actions}[/]",
        str(sum(summary.deferred.values())),
    )
    return table
