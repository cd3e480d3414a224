"""`touchpoints rules`: the catalog at a glance: rules per trigger in the order they act, groups, owners."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from touchpoints.cli.inputs import RULES_DIR, open_catalog
from touchpoints.cli.output import echo_json, handle_errors, stdout_console

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog, CompiledRule

__all__ = ["overview", "rules"]


def _timing(compiled: CompiledRule) -> str:
    from touchpoints.catalog import format_duration

    rule = compiled.rule
    if rule.after is not None:
        return f"after {format_duration(rule.after)}"
    if rule.at is not None:
        offset = ""
        if rule.offset:
            sign = "-" if rule.offset.total_seconds() < 0 else "+"
            offset = f" {sign} {format_duration(abs(rule.offset))}"
        return f"at {rule.at}{offset}"
    return "now"


def _does(compiled: CompiledRule) -> list[str]:
    return [
        f"event {a.detail_type}" if a.channel == "event" else f"{a.channel} {a.template}"
        for a in compiled.rule.then
    ]


def _rule(compiled: CompiledRule, root: Path) -> dict[str, Any]:
    from touchpoints.catalog.problems import display_path

    rule = compiled.rule
    limit = None
    if rule.limit is not None:
        from touchpoints.catalog import format_duration

        per = f" per {format_duration(rule.limit.per)}" if rule.limit.per else ""
        limit = f"max {rule.limit.max} per {rule.limit.scope}{per}"
    return {
        "id": rule.id,
        "on": list(rule.on),
        "priority": rule.priority,
        "timing": _timing(compiled),
        "does": _does(compiled),
        "category": rule.category,
        "group": rule.group,
        "limit": limit,
        "enabled": rule.enabled,
        "owner": rule.owner,
        "tags": list(rule.tags),
        "file": f"{display_path(compiled.path)}:{compiled.line}",
    }


def overview(catalog: Catalog, root: Path) -> dict[str, Any]:
    """The catalog as data: rules per trigger (evaluation order), groups (who wins), disabled, owners."""
    from touchpoints.catalog import format_duration

    ordered = sorted(catalog.rules.values(), key=lambda c: (-c.rule.priority, c.rule.id))
    triggers: dict[str, list[str]] = defaultdict(list)
    for compiled in ordered:
        if compiled.rule.enabled:
            for trigger in compiled.rule.on:
                triggers[trigger].append(compiled.rule.id)
    groups = {}
    for name, group in sorted(catalog.policy.groups.items()):
        members = [c.rule.id for c in ordered if c.rule.group == name and c.rule.enabled]
        groups[name] = {"window": format_duration(group.window), "rules": members}
    owners: dict[str, list[str]] = defaultdict(list)
    for compiled in sorted(catalog.rules.values(), key=lambda c: c.rule.id):
        owners[compiled.rule.owner or "(no owner)"].append(compiled.rule.id)
    return {
        "version": catalog.version,
        "rules": [_rule(c, root) for c in sorted(catalog.rules.values(), key=lambda c: c.rule.id)],
        "triggers": {t: triggers[t] for t in sorted(triggers)},
        "groups": groups,
        "disabled": sorted(c.rule.id for c in catalog.rules.values() if not c.rule.enabled),
        "owners": dict(sorted(owners.items())),
    }


@click.command()
@click.argument("rules_dir", type=RULES_DIR, default=Path("rules"), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the overview as one JSON document.")
@handle_errors
def rules(rules_dir: Path, as_json: bool) -> None:
    """The catalog at a glance: which rules act on each event type and in which order, the exclusion
    groups and who wins them, what is disabled, and who owns what.

    On one event, rules act highest priority first (then by id); within an exclusion group the
    first action in the group's window wins and the others are suppressed (`group_exclusion`), so
    on one event the highest priority wins. Exit 0; 2 when RULES_DIR is missing, holds no rule,
    or has problems (run `touchpoints validate` for the list).

    \b
    Examples:
      touchpoints rules
      touchpoints rules rules --json
    """
    catalog = open_catalog(rules_dir, "RULES_DIR")
    data = overview(catalog, rules_dir)
    if as_json:
        echo_json(data)
        return
    console = stdout_console()
    by_id = {r["id"]: r for r in data["rules"]}
    disabled = data["disabled"]
    where = escape(str(rules_dir))
    console.print(
        f"{len(by_id)} rules ({len(disabled)} disabled) in {where}, catalog {data['version'][:19]}…"
    )
    table = Table(title="Rules per trigger, in the order they act (priority, then id)", title_justify="left")
    for name in ("on", "rule", "priority", "when", "does", "category", "group", "limit"):
        table.add_column(
            name, overflow="fold", no_wrap=name in ("on", "rule", "priority", "category", "group")
        )
    for trigger, ids in data["triggers"].items():
        for number, rule_id in enumerate(ids):
            rule = by_id[rule_id]
            table.add_row(
                trigger if number == 0 else "",
                escape(rule_id),
                str(rule["priority"]),
                rule["timing"],
                escape(", ".join(rule["does"])),
                rule["category"],
                rule["group"] or "",
                rule["limit"] or "",
            )
    console.print(table)
    groups = Table(title="Exclusion groups: one action per order within the window", title_justify="left")
    for name in ("group", "window", "rules, highest priority first (wins on one event)"):
        groups.add_column(name, overflow="fold")
    for name, group in data["groups"].items():
        members = ", ".join(f"{r} ({by_id[r]['priority']})" for r in group["rules"]) or "(no rule uses it)"
        groups.add_row(name, group["window"], escape(members))
    console.print(groups)
    console.print(f"[bold]Disabled[/]  {escape(', '.join(disabled)) if disabled else 'none'}")
    for owner, ids in data["owners"].items():
        console.print(f"[bold]Owner[/]     {escape(owner)}: {len(ids)} rule(s): {escape(', '.join(ids))}")
