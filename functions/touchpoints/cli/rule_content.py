"""Rule-test checks on the message a pending action would send: subject and body contain, never contain.

A case's pending actions are rendered as Dispatch renders them (cli/messages.py); an expectation
may then say what the customer reads (`subject_contains`, `body_contains`, `not_contains: None`),
and a message that would fail at send time fails the case even without an expectation on it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from touchpoints.cli.messages import MessagePreview
    from touchpoints.contract import DecisionRecord

__all__ = ["CONTENT_FIELDS", "bad_content", "closest_messages", "content_holds", "render_failures"]

CONTENT_FIELDS: Mapping[str, str] = {
    "subject_contains": "the rendered subject contains this text (or each of a list)",
    "body_contains": "the rendered body (of an sms: its text; of an event: its payload) contains this text",
    "not_contains": "neither subject nor body contains this text (or any of a list), e.g. None",
}
"""Expectation keys on the message a pending action would send, rendered as Dispatch renders it."""


def bad_content(expectation: Mapping[str, Any]) -> tuple[str, str] | None:
    """(field, message) for a content expectation that is not text, or a status no replay reaches.

    A replay sends nothing, so `status: sent` could never match ("found none" forever).
    """
    if expectation.get("status") == "sent":
        return "status", (
            "status: 'sent' happens only when Dispatch sends; a rule test decides without sending: "
            "expect `pending` (decided to send) and check the message with subject_contains / body_contains"
        )
    for name in CONTENT_FIELDS:
        value = expectation.get(name)
        texts = value if isinstance(value, list) else [value]
        if name in expectation and not (texts and all(isinstance(t, str) and t for t in texts)):
            return name, f"{name}: give a text or a list of texts ({CONTENT_FIELDS[name]})"
    return None


def _texts(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _parts(preview: MessagePreview) -> tuple[str, str]:
    body = preview.body or ""
    if preview.channel == "event":
        body = json.dumps(preview.detail or {}, ensure_ascii=False)
    return preview.subject or "", body


def content_holds(preview: MessagePreview | None, expectation: Mapping[str, Any]) -> bool:
    """True when the expectation has no content key, or the rendered message satisfies every one."""
    wanted = {key: expectation[key] for key in CONTENT_FIELDS if key in expectation}
    if not wanted:
        return True
    if preview is None or preview.error is not None:
        return False
    subject, body = _parts(preview)
    if any(text not in subject for text in _texts(wanted.get("subject_contains", []))):
        return False
    if any(text not in body for text in _texts(wanted.get("body_contains", []))):
        return False
    return not any(text in subject or text in body for text in _texts(wanted.get("not_contains", [])))


def render_failures(records: Iterable[DecisionRecord], messages: Mapping[str, MessagePreview]) -> list[str]:
    """Every pending action whose message cannot be rendered: what Dispatch would record `failed`."""
    failures = set()
    for record in records:
        preview = messages.get(record.action_id) if record.status == "pending" else None
        if preview is not None and preview.error is not None:
            failures.add(f"{record.rule_id} ({record.channel}) would fail at send time: {preview.error}")
    return sorted(failures)


def closest_messages(
    records: Iterable[DecisionRecord], messages: Mapping[str, MessagePreview], expectation: Mapping[str, Any]
) -> str:
    """For a content expectation that failed: what the messages of the records it could be said."""
    if not any(key in expectation for key in CONTENT_FIELDS):
        return ""
    seen = []
    for record in records:
        preview = messages.get(record.action_id) if record.status == "pending" else None
        if preview is None:
            seen.append(f"{record.status} (no message)")
        elif preview.error is not None:
            seen.append(f"cannot render: {preview.error}")
        else:
            subject, body = _parts(preview)
            seen.append(f"subject {subject!r}, body {' '.join(body.split())[:120]!r}")
    return "; the decisions it could be: " + " | ".join(seen) if seen else ""
