"""`touchpoints explain`: why one rule matches an event of an order or not, on the order's whole state."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from touchpoints.cli.inputs import EVENT_PATHS, RULES_DIR, one_event, open_catalog, sourced_events
from touchpoints.cli.output import echo_json, fail, handle_errors, stdout_console, to_jsonable

if TYPE_CHECKING:
    from touchpoints.catalog import CompiledRule, Rule
    from touchpoints.contract import Event

__all__ = ["explain"]


@click.command()
@click.argument("paths", nargs=-1, required=True, type=EVENT_PATHS, metavar="EVENT_FILE | PATH...")
@click.option("--rule", "rule_id", required=True, help="The id of the rule to explain.")
@click.option(
    "--order",
    "order_id",
    metavar="ID",
    help="Explain an event of this order; its state is built from the order's events in PATH...",
)
@click.option(
    "--event",
    "event_id",
    metavar="ID",
    help="With --order: which of its events (default: the latest that triggers the rule).",
)
@click.option(
    "--rules", "rules_dir", type=RULES_DIR, default=Path("rules"), show_default=True, help="Rules folder."
)
@click.option(
    "--state",
    "state_paths",
    multiple=True,
    type=EVENT_PATHS,
    help="Earlier events of the order (files, folders, -), applied first; repeat it for several.",
)
@click.option("--now", "now_text", help="Evaluate at this time (RFC 3339); default: the event's time.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@handle_errors
def explain(
    paths: tuple[Path, ...],
    rule_id: str,
    order_id: str | None,
    event_id: str | None,
    rules_dir: Path,
    state_paths: tuple[Path, ...],
    now_text: str | None,
    as_json: bool,
) -> None:
    """Show why a rule matches an event or not: trigger, timing, state and every JsonLogic node's value.

    The journey state is built as production builds it: from the order's events up to the moment
    evaluated (--now, default: the event's time), any order, duplicates ignored. Either give ONE
    event and its order's earlier events with --state, or give --order ID and any events (files,
    folders): the order's events there are its state, and the one explained is --event ID or the
    latest that triggers the rule. When the state misses what a fact needs (no OrderPlaced, no
    customer), the explanation says which facts are defaults instead of passing them off as true.
    For a rule with `after`/`at`, the timing line shows when its timer fires: pass that as --now
    to see the facts the delayed decision will read. Exit 0 whether or not the rule matches, 2 on
    unreadable input.

    \b
    Examples:
      touchpoints explain --order A4001 --rule delivery-delay-goodwill events/
      touchpoints explain events/carrier-delay/04-shipment-delayed.json --rule delivery-delay-apology \\
          --state events/carrier-delay/ --now 2026-03-12T12:00:00Z
      touchpoints explain events/carrier-delay/06-review-submitted.json --rule negative-review-apology --json
    """
    from touchpoints.contract import parse_timestamp

    catalog = open_catalog(rules_dir)
    compiled = catalog.rule(rule_id)
    if order_id is None:
        if event_id is not None:
            fail("--event ID picks one of an order's events: give --order ID too")
        event = one_event(paths, "explain").event
        history = [s.event for s in sourced_events(state_paths, what="--state: ")] if state_paths else []
    else:
        history = [s.event for s in sourced_events([*paths, *state_paths])]
        event = _pick_event(history, order_id, event_id, compiled.rule)
    if now_text is not None:
        try:
            now = parse_timestamp(now_text)
        except (ValueError, TypeError) as exc:
            fail(f"--now: '{now_text}' is not an RFC 3339 time ({exc}); e.g. 2026-03-01T10:00:00Z")
    else:
        now = event.time
    earlier = [e for e in history if e.id != event.id]
    result = explain_rule(compiled, event, earlier, now, note_others=order_id is None)
    if as_json:
        echo_json({key: value for key, value in result.items() if key != "tree"})
        return
    _print_explanation(result)


def _pick_event(events: list[Event], order_id: str, event_id: str | None, rule: Rule) -> Event:
    """The event of `order_id` to explain: `event_id`, else the latest triggering `rule`, else the latest."""
    mine = sorted((e for e in events if e.order_id == order_id), key=lambda e: e.time)
    if not mine:
        orders = sorted({str(e.order_id) for e in events})
        shown = ", ".join(orders[:10]) + (" ..." if len(orders) > 10 else "")
        fail(f"no event of order {order_id} in the given paths", hint=f"orders there: {shown or 'none'}")
    if event_id is not None:
        chosen = next((e for e in mine if e.id == event_id), None)
        if chosen is None:
            fail(
                f"order {order_id} has no event {event_id}",
                hint="its events: " + ", ".join(f"{e.id} ({e.detail_type})" for e in mine),
            )
        return chosen
    triggers = [e for e in mine if e.detail_type in rule.on]
    return (triggers or mine)[-1]


def explain_rule(
    compiled: CompiledRule, event: Event, history: list[Event], now: datetime, *, note_others: bool = True
) -> dict[str, Any]:
    """The explanation of one rule on one event, the state built from `history` of the event's order."""
    from touchpoints.catalog.problems import display_path
    from touchpoints.cli.inputs import order_state, state_notes
    from touchpoints.journey import History, apply_event, build_facts
    from touchpoints.logic import explain as explain_logic
    from touchpoints.logic import truthy

    rule = compiled.rule
    order_id = str(event.order_id)
    built = order_state(history, order_id, upto=max(now, event.time))
    state = apply_event(built.journey, event)
    later = sum(1 for e in history if e.order_id == order_id and e.time > max(now, event.time))
    is_trigger = event.detail_type in rule.on
    is_own_timer = event.detail_type == "TimerFired" and getattr(event.detail, "rule_id", None) == rule.id
    trigger_facts = build_facts(state, event, History(), event.time)
    due_at, timing = _timing(rule, event.time, trigger_facts)
    facts = build_facts(state, event, History(), now)
    trace = explain_logic(rule.when, facts)
    condition_holds = truthy(trace.value)
    matches = rule.enabled and (is_trigger or is_own_timer) and condition_holds
    notes = state_notes(state, order_id, compiled.reads)
    partial = bool(notes)
    if partial:
        notes.append(
            f"give the order's earlier events: --state FOLDER, or --order {order_id} --rule {rule.id} PATH..."
        )
    if built.ignored and note_others:
        notes.append(f"{built.ignored} event(s) of other orders in the state were ignored")
    if later:
        moment = _time(max(now, event.time))
        notes.append(f"{later} event(s) of order {order_id} later than {moment} were left out")

    return {
        "rule": rule.id,
        "file": f"{display_path(compiled.path)}:{compiled.line}",
        "enabled": rule.enabled,
        "event": {
            "id": event.id,
            "detail-type": event.detail_type,
            "time": event.time,
            "order_id": event.order_id,
        },
        "state": {
            "events": [{"id": e.id, "detail-type": e.detail_type, "time": e.time} for e in built.used],
            "partial": partial,
            "notes": notes,
        },
        "trigger": {"on": list(rule.on), "matches": is_trigger or is_own_timer},
        "timing": {"kind": timing, "due_at": due_at},
        "now": now,
        "condition": {"value": to_jsonable(trace.value), "holds": condition_holds, "trace": trace.to_dict()},
        "tree": str(trace),
        "matches": matches,
        "facts": facts,
    }


def _timing(rule: Rule, event_time: datetime, facts: Mapping[str, Any]) -> tuple[datetime | None, str]:
    """When a delayed rule would decide (None for an immediate rule) and a sentence saying why."""
    from touchpoints.catalog import format_duration
    from touchpoints.contract import parse_timestamp

    if rule.after is not None:
        due = event_time + rule.after
        return due, f"after {format_duration(rule.after)}: decided at {_time(due)}, on the state of then"
    if rule.at is not None:
        value = _fact(facts, rule.at)
        offset: timedelta = rule.offset or timedelta()
        shift = (
            f" {'+' if offset >= timedelta() else '-'} {format_duration(abs(offset))}" if rule.offset else ""
        )
        if not isinstance(value, str):
            return None, f"at {rule.at}{shift}: {rule.at} is not set, so no timer would be set"
        due = parse_timestamp(value) + offset
        when = due if due > event_time else event_time
        late = " (already past: decided now)" if due <= event_time else ""
        return when, f"at {rule.at}{shift} = {_time(due)}{late}"
    return None, "immediate: decided when the event arrives"


def _fact(facts: Mapping[str, Any], path: str) -> Any:
    node: Any = facts
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return None
    return node


def _print_explanation(result: Mapping[str, Any]) -> None:
    console = stdout_console()
    event = result["event"]
    trigger = result["trigger"]
    console.print(f"[bold]Rule[/]       {escape(result['rule'])}  [dim]({escape(result['file'])})[/]")
    if not result["enabled"]:
        console.print("[yellow]           disabled: validated but never evaluated[/]")
    console.print(
        f"[bold]Event[/]      {escape(event['id'])}  {event['detail-type']}  at {_time(event['time'])}"
        f"  order {escape(str(event['order_id']))}"
    )
    earlier = result["state"]["events"]
    types = ", ".join(e["detail-type"] for e in earlier)
    console.print(
        f"[bold]State[/]      {len(earlier)} earlier event(s) of the order" + (f": {types}" if types else "")
    )
    for note in result["state"]["notes"]:
        console.print(f"[yellow]  note:[/] {escape(note)}")
    mark = "[green]yes[/]" if trigger["matches"] else "[red]no[/]"
    console.print(f"[bold]Trigger[/]    {mark}  {event['detail-type']} vs on: [{', '.join(trigger['on'])}]")
    console.print(f"[bold]Timing[/]     {escape(result['timing']['kind'])}")
    due_at = result["timing"]["due_at"]
    if due_at is not None and due_at != result["now"]:
        console.print(f"           [dim]to evaluate as the timer will: --now {_time(due_at)}[/]")
    console.print(f"[bold]Now[/]        {_time(result['now'])}")
    console.print("[bold]Condition[/]")
    for line in result["tree"].splitlines():
        console.print(f"  {escape(line)}")
    condition = result["condition"]
    console.print(
        f"[bold]Value[/]      {escape(json.dumps(condition['value']))} -> "
        f"{'true' if condition['holds'] else 'false'}"
    )
    verdict = "[bold green]MATCHES[/]" if result["matches"] else "[bold red]DOES NOT MATCH[/]"
    partial = " [yellow](on a partial state: see the notes)[/]" if result["state"]["partial"] else ""
    console.print(f"[bold]Verdict[/]    {verdict}{partial}")


def _time(value: Any) -> str:
    return str(to_jsonable(value))
