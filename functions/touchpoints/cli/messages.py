"""The messages a replay would send, rendered as Dispatch renders them (simulate, diff and test show them).

A `pending` record is a decision to send: Dispatch would render its template (or build its event)
from the store right after the decision. `replay` does the same on the simulator's in-memory store,
record by record as they are decided (so the facts are those of that moment), with the same code
(`service.render_action`); nothing is sent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.contract import DecisionRecord
    from touchpoints.simulator import Simulator

__all__ = ["MessagePreview", "render_record", "replay_with_messages"]

_IDS = ("rule_id", "action_id", "event_id", "locale")
"""Event payload keys a table leaves out (the row shows them, or they are ids); `--json` has them all."""


@dataclass(frozen=True)
class MessagePreview:
    """What Dispatch would send for one action: the rendered texts, or the event and its payload."""

    channel: str
    subject: str | None = None
    body: str | None = None
    detail_type: str | None = None
    detail: dict[str, Any] | None = None
    error: str | None = None

    def short(self, width: int = 70) -> str:
        """One line for a table: the subject, the sms text, or the event's type and payload."""
        if self.error is not None:
            text = f"cannot render: {self.error}"
        elif self.channel == "event":
            payload = {k: v for k, v in (self.detail or {}).items() if k not in _IDS and v is not None}
            text = (
                f"{self.detail_type} {json.dumps(payload, ensure_ascii=False)}"
                if payload
                else f"{self.detail_type}"
            )
        elif self.channel == "sms":
            text = self.body or ""
        else:
            text = self.subject or ""
        text = " ".join(text.split())
        return text if len(text) <= width else text[: width - 1] + "…"

    def key(self) -> tuple[Any, ...]:
        """What makes two renderings the same message (for `diff`)."""
        detail = json.dumps(self.detail, sort_keys=True, default=str) if self.detail else None
        return (self.subject, self.body, self.detail_type, detail, self.error)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape (`--messages`, `test --json`)."""
        data: dict[str, Any] = {"channel": self.channel}
        for name in ("subject", "body", "detail_type", "detail", "error"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


def render_record(record: DecisionRecord, catalog: Catalog, store: Any) -> MessagePreview:
    """Render one pending action from `store` at its send time, as Dispatch would."""
    from touchpoints.errors import TouchpointsError
    from touchpoints.service import render_action

    try:
        message = render_action(record, catalog=catalog, store=store, now=record.send_at)
    except TouchpointsError as exc:
        return MessagePreview(channel=record.channel, error=str(exc))
    if record.channel == "event":
        return MessagePreview(channel="event", detail_type=message.detail_type, detail=dict(message.detail))
    return MessagePreview(channel=record.channel, subject=message.subject, body=message.body)


def replay_with_messages(
    simulator: Simulator, records: Iterable[DecisionRecord], messages: dict[str, MessagePreview]
) -> Iterator[DecisionRecord]:
    """Pass `records` (the simulator's run) through, rendering each `pending` one as it is decided."""
    for record in records:
        if record.status == "pending":
            messages[record.action_id] = render_record(record, simulator.catalog, simulator.store)
        yield record
