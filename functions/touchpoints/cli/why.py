"""What an audit trail leaves implicit, said: which rule won a group, which consent was missing, and why
an event decided nothing. Used by the demo's audit tables (and by anything that has the catalog)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.contract import DecisionRecord, Event

__all__ = ["reason_details", "silent_events"]


def reason_details(records: Sequence[DecisionRecord], catalog: Catalog) -> dict[str, str]:
    """action id -> what its reason leaves out: `group_exclusion` names the rule that won (and when),
    `no_consent` names the consent that was missing (`consent.marketing`, `consent.sms`)."""
    details: dict[str, str] = {}
    for record in records:
        compiled = catalog.rules.get(record.rule_id)
        if compiled is None:
            continue
        rule = compiled.rule
        if record.reason == "group_exclusion" and rule.group is not None:
            winners = [
                r
                for r in records
                if r.status != "suppressed"
                and r.decided_at <= record.decided_at
                and r.action_id != record.action_id
                and (other := catalog.rules.get(r.rule_id)) is not None
                and other.rule.group == rule.group
            ]
            if winners:
                won = max(winners, key=lambda r: r.decided_at)
                details[record.action_id] = (
                    f"{won.rule_id} of group {rule.group} went first ({won.decided_at:%Y-%m-%d %H:%M})"
                )
            else:
                details[record.action_id] = f"another action of group {rule.group} went first"
        elif record.reason == "no_consent":
            missing = []
            if rule.category == "marketing":
                missing.append("consent.marketing")
            if record.channel == "sms":
                missing.append("consent.sms")
            details[record.action_id] = (
                f"needs {' and '.join(missing) or 'consent'} ({rule.category} {record.channel})"
            )
    return details


def silent_events(
    events: Iterable[Event],
    records: Sequence[DecisionRecord],
    catalog: Catalog,
    first_decided: Mapping[str, datetime] | None = None,
) -> list[str]:
    """One line per event that decided nothing, saying why (no rule acts on it, or its conditions failed).

    A record belongs to an event by id, or (the bus gives events put on it new ids) by its trigger
    type and the time it was first decided, which is the event's time on the driver's clock.
    """
    first = first_decided or {}
    decided = {r.event_id for r in records} | {
        (r.trigger, first.get(r.action_id, r.decided_at)) for r in records
    }
    # A delayed rule's record names the timer's event; its trigger names the type that set the timer.
    timed = {r.trigger for r in records if r.rule_id in catalog.rules and catalog.rules[r.rule_id].is_delayed}
    lines = []
    for event in sorted(events, key=lambda e: e.time):
        if event.id in decided or (event.detail_type, event.time) in decided or event.detail_type in timed:
            continue
        rules = catalog.rules_for(event.detail_type)
        when = f"{event.time:%Y-%m-%d %H:%M}"
        if not rules:
            lines.append(f"{event.detail_type} ({when}): no rule acts on {event.detail_type}")
            continue
        delayed = [c.rule.id for c in rules if c.rule.is_delayed]
        immediate = [c.rule.id for c in rules if not c.rule.is_delayed]
        parts = []
        if immediate:
            parts.append(f"the condition of {', '.join(immediate)} did not hold")
        if delayed:
            parts.append(f"{', '.join(delayed)} decided nothing when its timer fired")
        hint = f"touchpoints explain --order {event.order_id} --rule {rules[0].rule.id} events/"
        lines.append(f"{event.detail_type} ({when}): {'; '.join(parts)} (why: {hint})")
    return lines
