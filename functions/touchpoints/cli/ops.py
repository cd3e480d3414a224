"""The operations commands: `validate` a rules folder, `explain` one rule on one event, write the `schema`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from touchpoints.cli.output import (
    EXIT_PROBLEMS,
    echo_json,
    fail,
    handle_errors,
    stdout_console,
    to_jsonable,
)
from touchpoints.errors import TouchpointsError

if TYPE_CHECKING:
    from touchpoints.catalog import Problem, Rule
    from touchpoints.contract import Event
    from touchpoints.journey import OrderJourney

__all__ = ["explain", "load_prior_journey", "read_event_file", "schema", "validate"]

_RULES_DIR = click.Path(path_type=Path, file_okay=False)


@click.command()
@click.argument("rules_dir", type=_RULES_DIR, default=Path("rules"), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for CI and scripts).")
@handle_errors
def validate(rules_dir: Path, as_json: bool) -> None:
    """Load, type-check and lint the rule files, policy.yaml and templates.

    Every problem is printed as `file:line: message`, all of them in one run. A folder without
    a single rule file is a problem too (usually the wrong folder).
    Exit code 0 when the catalog is valid, 1 when there are problems, 2 when the folder is missing.

    \b
    Examples:
      touchpoints validate                 # ./rules
      touchpoints validate rules/ --json   # machine-readable problems
    """
    from touchpoints.catalog import build_catalog
    from touchpoints.catalog.problems import display_path

    if not rules_dir.is_dir():
        fail(f"{rules_dir}: no such rules folder", hint="run it from the project root or pass RULES_DIR")
    catalog, problems = build_catalog(rules_dir)
    if catalog is not None and not problems and not catalog.rules:
        problems = [_no_rules_problem(rules_dir, display_path(rules_dir))]
    if problems or catalog is None:
        if as_json:
            echo_json({"ok": False, "problems": [problem.to_dict() for problem in problems]})
        else:
            console = stdout_console()
            for problem in problems:
                console.print(f"[bold]{_escape(problem.path)}:{problem.line}:[/] {_escape(problem.message)}")
            files = len({problem.path for problem in problems})
            count = len(problems)
            console.print(f"[red]{_plural(count, 'problem')} in {_plural(files, 'file')}[/]")
        raise click.exceptions.Exit(EXIT_PROBLEMS)
    disabled = sorted(rule_id for rule_id, compiled in catalog.rules.items() if not compiled.rule.enabled)
    summary = {
        "ok": True,
        "rules": len(catalog.rules),
        "disabled": disabled,
        "templates": len(catalog.template_names),
        "locales": catalog.locales,
        "version": catalog.version,
    }
    if as_json:
        echo_json(summary)
        return
    off = f" ({len(disabled)} disabled)" if disabled else ""
    stdout_console().print(
        f"[green]ok[/] {len(catalog.rules)} rules{off}, {len(catalog.template_names)} templates x "
        f"{len(catalog.locales)} locales, policy ok, catalog {catalog.version}"
    )


@click.command()
@click.argument("event_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--rule", "rule_id", required=True, help="The id of the rule to explain.")
@click.option(
    "--rules", "rules_dir", type=_RULES_DIR, default=Path("rules"), show_default=True, help="Rules folder."
)
@click.option(
    "--state",
    "state_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Earlier events of the order (a JSON array or JSON Lines of envelopes), applied first.",
)
@click.option("--now", "now_text", help="Evaluate at this time (RFC 3339); default: the event's time.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@handle_errors
def explain(
    event_file: Path,
    rule_id: str,
    rules_dir: Path,
    state_file: Path | None,
    now_text: str | None,
    as_json: bool,
) -> None:
    """Show why a rule matches an event or not: trigger, timing and every JsonLogic node's value.

    The journey state is built from --state (earlier events of the order) plus this event, then
    the facts are computed at --now (default: the event's time). For a rule with `after`/`at`, the
    timing line shows when its timer fires: pass that as --now to see the facts the decision will
    read. Exit code 0 whether or not the rule matches, 2 on unreadable input.

    \b
    Examples:
      touchpoints explain events/carrier-delay/04-shipment-delayed.json --rule delivery-delay-apology
      touchpoints explain events/carrier-delay/04-shipment-delayed.json --rule delivery-delay-apology \\
          --state events/carrier-delay/03-shipment-dispatched.json --now 2026-03-12T12:00:00Z
      touchpoints explain events/carrier-delay/06-review-submitted.json --rule negative-review-apology --json
    """
    from touchpoints.catalog import load_catalog
    from touchpoints.contract import parse_timestamp
    from touchpoints.journey import History, apply_event, build_facts
    from touchpoints.logic import explain as explain_logic
    from touchpoints.logic import truthy

    catalog = load_catalog(rules_dir)
    compiled = catalog.rule(rule_id)
    rule = compiled.rule
    event = read_event_file(event_file, command="explain")
    state = apply_event(load_prior_journey(state_file), event)

    is_trigger = event.detail_type in rule.on
    is_own_timer = event.detail_type == "TimerFired" and getattr(event.detail, "rule_id", None) == rule.id
    trigger_facts = build_facts(state, event, History(), event.time)
    due_at, timing = _timing(rule, event.time, trigger_facts)
    if now_text is not None:
        try:
            now = parse_timestamp(now_text)
        except (ValueError, TypeError) as exc:
            fail(f"--now: '{now_text}' is not an RFC 3339 time ({exc}); e.g. 2026-03-01T10:00:00Z")
    else:
        now = event.time
    facts = build_facts(state, event, History(), now)
    trace = explain_logic(rule.when, facts)
    condition_holds = truthy(trace.value)
    matches = rule.enabled and (is_trigger or is_own_timer) and condition_holds

    result = {
        "rule": rule.id,
        "file": f"{_display(compiled.path)}:{compiled.line}",
        "enabled": rule.enabled,
        "event": {
            "id": event.id,
            "detail-type": event.detail_type,
            "time": event.time,
            "order_id": event.order_id,
        },
        "trigger": {"on": list(rule.on), "matches": is_trigger or is_own_timer},
        "timing": {"kind": timing, "due_at": due_at},
        "now": now,
        "condition": {"value": to_jsonable(trace.value), "holds": condition_holds, "trace": trace.to_dict()},
        "matches": matches,
        "facts": facts,
    }
    if as_json:
        echo_json(result)
        return
    _print_explanation(result, str(trace))


def _no_rules_problem(rules_dir: Path, shown: str) -> Problem:
    """`RULES_DIR:1: no rule files`, so that `validate events/` or a typo'd folder never passes CI."""
    from touchpoints.catalog import Problem

    return Problem(
        path=shown,
        line=1,
        message=f"no rule files here (*.yaml with an `id`); is {rules_dir} the rules folder?",
    )


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


def _print_explanation(result: Mapping[str, Any], tree: str) -> None:
    console = stdout_console()
    event = result["event"]
    trigger = result["trigger"]
    console.print(f"[bold]Rule[/]       {result['rule']}  [dim]({result['file']})[/]")
    if not result["enabled"]:
        console.print("[yellow]           disabled: validated but never evaluated[/]")
    console.print(
        f"[bold]Event[/]      {_escape(event['id'])}  {event['detail-type']}  at {_time(event['time'])}"
        f"  order {_escape(str(event['order_id']))}"
    )
    mark = "[green]yes[/]" if trigger["matches"] else "[red]no[/]"
    console.print(f"[bold]Trigger[/]    {mark}  {event['detail-type']} vs on: [{', '.join(trigger['on'])}]")
    console.print(f"[bold]Timing[/]     {_escape(result['timing']['kind'])}")
    due_at = result["timing"]["due_at"]
    if due_at is not None and due_at != result["now"]:
        console.print(f"           [dim]to evaluate as the timer will: --now {_time(due_at)}[/]")
    console.print(f"[bold]Now[/]        {_time(result['now'])}")
    console.print("[bold]Condition[/]")
    for line in tree.splitlines():
        console.print(f"  {_escape(line)}")
    condition = result["condition"]
    console.print(
        f"[bold]Value[/]      {_escape(json.dumps(condition['value']))} -> "
        f"{'true' if condition['holds'] else 'false'}"
    )
    verdict = "[bold green]MATCHES[/]" if result["matches"] else "[bold red]DOES NOT MATCH[/]"
    console.print(f"[bold]Verdict[/]    {verdict}")


@click.command()
@click.argument("rules_dir", type=_RULES_DIR, default=Path("rules"), required=False)
@click.option("--check", is_flag=True, help="Do not write; exit 1 if the committed schemas are out of date.")
@click.option("--json", "as_json", is_flag=True, help="Print each file's status as JSON (for CI).")
@handle_errors
def schema(rules_dir: Path, check: bool, as_json: bool) -> None:
    """Write the JSON Schemas of rule files and policy.yaml into RULES_DIR.

    Rule files point at it with a first line `# yaml-language-server: $schema=../rule.schema.json`
    so editors (VS Code with the YAML extension, IntelliJ) complete keys and flag mistakes as you type.

    \b
    Examples:
      touchpoints schema             # writes rules/rule.schema.json and rules/policy.schema.json
      touchpoints schema --check     # in CI: fail when a model changed but the schema was not rewritten
      touchpoints schema --check --json
    """
    from touchpoints.catalog.problems import display_path
    from touchpoints.catalog.schema import schema_files

    if not rules_dir.is_dir():
        fail(f"{rules_dir}: no such rules folder", hint="run it from the project root or pass RULES_DIR")
    statuses: dict[str, str] = {}
    for path, text in schema_files(rules_dir).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            statuses[display_path(path)] = "up to date"
        elif check:
            statuses[display_path(path)] = "out of date"
        else:
            path.write_text(text, encoding="utf-8")
            statuses[display_path(path)] = "wrote"
    stale = "out of date" in statuses.values()
    if as_json:
        files = [{"path": shown, "status": status} for shown, status in statuses.items()]
        echo_json({"ok": not stale, "files": files})
    else:
        console = stdout_console()
        styles = {"up to date": "", "out of date": "red", "wrote": "green"}
        for shown, status in statuses.items():
            style = styles[status]
            label = f"[{style}]{status}[/]" if style else status
            console.print(f"{label}{' ' * (12 - len(status))}{shown}")
        if stale:
            console.print("run `touchpoints schema` and commit the result")
    if stale:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


def load_prior_journey(state_file: Path | None) -> OrderJourney | None:
    """The order's journey from a file of its earlier events (`--state` of explain and preview).

    The events are reduced exactly as production does (any order, duplicates ignored); a bad one
    stops the command naming the file, the event's position and the field at fault.
    """
    from touchpoints.journey import apply_event

    if state_file is None:
        return None
    state: OrderJourney | None = None
    for index, document in enumerate(_read_events(state_file), start=1):
        prior = _parse_document(document, f"{_display(state_file)}: event #{index}")
        state = apply_event(state, prior)
    return state


def read_event_file(path: Path, *, command: str) -> Event:
    """The one event a file holds (`explain EVENT_FILE`, `preview --event`), or exit 2 saying why.

    The file may hold the event itself, a one-element array or one JSON line. Every error names
    the file: an empty or binary file, JSON that is not an object, an event that fails the contract.
    """
    documents = _read_events(path)
    if len(documents) != 1:
        fail(f"{_display(path)}: holds {len(documents)} events; {command} takes exactly one event")
    return _parse_document(documents[0], _display(path))


def _parse_document(document: Any, where: str) -> Event:
    """An envelope validated against the contract; `where` (file, position) prefixes any error."""
    from touchpoints.contract import parse_event

    if not isinstance(document, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(document), "a number"
        )
        fail(f"{where}: {kind} where an event object (an EventBridge envelope) was expected")
    try:
        return parse_event(document)
    except TouchpointsError as exc:
        fail(f"{where}: {exc}")


def _read_events(path: Path) -> list[Any]:
    """Envelopes from a file: one JSON object, a JSON array, or JSON Lines (one object per line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        fail(f"{_display(path)}: not UTF-8 text; expected JSON events")
    try:
        loaded = json.loads(text)
    except RecursionError:
        fail(f"{_display(path)}: JSON nested too deeply to be an event")
    except json.JSONDecodeError:
        loaded = None
        lines = [(number, line) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
        documents: list[Any] = []
        for number, line in lines:
            try:
                documents.append(json.loads(line))
            except RecursionError:
                fail(f"{_display(path)}:{number}: JSON nested too deeply to be an event")
            except json.JSONDecodeError as exc:
                fail(
                    f"{_display(path)}:{number}: not JSON ({exc.msg}); expected an event, array or JSON Lines"
                )
        if not documents:
            fail(f"{_display(path)}: the file is empty")
        return documents
    return loaded if isinstance(loaded, list) else [loaded]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _display(path: Path) -> str:
    from touchpoints.catalog.problems import display_path

    return display_path(path)


def _time(value: Any) -> str:
    return str(to_jsonable(value))


def _escape(text: str) -> str:
    return escape(text)
