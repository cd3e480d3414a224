"""`touchpoints preview`: render one template from the facts of an event, as the customer would see it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from touchpoints.cli.inputs import (
    EVENT_PATHS,
    one_event,
    open_catalog,
    order_state,
    sourced_events,
    state_notes,
)
from touchpoints.cli.output import EXIT_PROBLEMS, echo_json, fail, handle_errors, stdout_console

if TYPE_CHECKING:
    from touchpoints.catalog import RenderedMessage, Template

__all__ = ["preview"]


@click.command()
@click.argument("template")
@click.option(
    "--locale",
    "-l",
    required=True,
    help="The customer locale to render for (falls back zh-Hant -> zh -> en).",
)
@click.option(
    "--event",
    "event_file",
    required=True,
    type=EVENT_PATHS,
    help="An EventBridge event file (or -) whose facts fill the template.",
)
@click.option(
    "--rules",
    "rules_dir",
    default="rules",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The rules folder holding templates/.",
)
@click.option(
    "--state",
    "state_paths",
    multiple=True,
    type=EVENT_PATHS,
    help="Earlier events of the order (files, folders, -), applied before EVENT; repeat for several.",
)
@click.option("--json", "as_json", is_flag=True, help="Print subject, body and sms as JSON.")
@handle_errors
def preview(
    template: str,
    locale: str,
    event_file: Path,
    rules_dir: Path,
    state_paths: tuple[Path, ...],
    as_json: bool,
) -> None:
    """Render TEMPLATE (subject, body, sms) for one event, in the locale the customer would get.

    The facts are those a rule would see: the journey after the event (on top of the order's
    earlier events given with --state, as `explain` takes them), the event, the customer and
    `now` = the event's time.

    Exit 0; 1 when the template cannot be rendered for this event (it prints a fact that is null
    here, or breaks the render budget: Dispatch would record the action `failed` with reason
    `template_error`); 2 on an unknown template, an unreadable or invalid event file, or a broken
    catalog.

    \b
    Examples:
      touchpoints preview payment-retry --locale zh-Hant \\
          --event events/payment-abandoned/02-payment-failed.json
      touchpoints preview delivery-delay-apology --locale en --json \\
          --event events/carrier-delay/04-shipment-delayed.json \\
          --state events/carrier-delay/01-order-placed.json
    """
    from touchpoints.catalog import resolve_locale
    from touchpoints.journey import History, apply_event, build_facts

    catalog = open_catalog(rules_dir)
    if template not in catalog.template_names:
        known = ", ".join(catalog.template_names) or "(none)"
        fail(f"unknown template '{template}' in {rules_dir}/templates", hint=f"known templates: {known}")
    resolved = resolve_locale(catalog, template, locale)
    event = one_event([event_file], "preview").event
    earlier = [s.event for s in sourced_events(state_paths, what="--state: ")] if state_paths else []
    built = order_state([e for e in earlier if e.id != event.id], str(event.order_id), upto=event.time)
    new_state = apply_event(built.journey, event)
    facts = build_facts(new_state, event, History(), event.time)
    notes = state_notes(new_state, str(event.order_id), None)
    rendered = _render(catalog.templates[(template, resolved)], facts, notes)
    if as_json:
        echo_json(
            {
                "template": template,
                "locale": resolved,
                "subject": rendered.subject,
                "body": rendered.body,
                "sms": rendered.sms,
                "notes": notes,
            }
        )
        return
    console = stdout_console()
    note = "" if resolved == locale else f" (no '{escape(locale)}' version; fell back)"
    console.print(f"[bold]{escape(template)}[/] in [bold]{escape(resolved)}[/]{note}")
    for line in notes:
        console.print(f"[yellow]note:[/] {escape(line)} (give its earlier events with --state)")
    console.print(f"[dim]subject:[/] {escape(rendered.subject)}")
    console.print("[dim]body:[/]")
    console.print(escape(rendered.body))
    if rendered.sms is not None:
        console.print(f"[dim]sms ({len(rendered.sms)} chars):[/] {escape(rendered.sms)}")


def _render(template: Template, facts: Mapping[str, Any], notes: Sequence[str]) -> RenderedMessage:
    """Render; a failure on a partial state names what the state lacks and suggests --state."""
    from touchpoints.catalog import TemplateRenderError, render_template

    try:
        return render_template(template, facts)
    except TemplateRenderError as exc:
        if notes:
            fail(
                f"{exc}; on this state: {'; '.join(notes)}",
                hint="give the order's earlier events with --state (files or a folder of them)",
            )
        fail(
            f"{exc}; nothing would be sent (the action would be failed, reason template_error)",
            exit_code=EXIT_PROBLEMS,
            hint="guard the sentence with {% if ... %} or give the fact a | default(...)",
        )
