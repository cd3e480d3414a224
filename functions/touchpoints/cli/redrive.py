"""`touchpoints redrive`: finish the actions Dispatch never finished (after its DLQ alarm)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from touchpoints.cli.audit import table_options
from touchpoints.cli.output import EXIT_PROBLEMS, echo_json, fail, handle_errors, stdout_console
from touchpoints.timestamps import format_seconds

__all__ = ["redrive"]


@click.command()
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("rules"),
    show_default=True,
    help="The catalog whose rules' actions are looked at.",
)
@table_options
@click.option(
    "--older-than",
    default="15m",
    show_default=True,
    metavar="DURATION",
    help="Only actions due at least this long ago (Dispatch normally takes one within seconds).",
)
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=click.IntRange(1, 366),
    help="How many days of decisions to look at.",
)
@click.option("--dry-run", is_flag=True, help="List what would be done; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document of what was found and done.")
@handle_errors
def redrive(
    rules_dir: Path,
    table: str | None,
    endpoint_url: str | None,
    region: str | None,
    older_than: str,
    days: int,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Hand `pending` actions that Dispatch never finished back to it (run after the dispatch DLQ alarm).

    A pending action is normally sent within seconds of its decision. One still `pending` long
    after its `send_at` lost its stream record: its retries failed (DynamoDB or the provider down
    for minutes) and the dispatch DLQ kept only the stream position. For each such action:

    \b
      - without the in-flight mark, or with a `retrying: ...` mark (its last attempt was not
        taken by the provider): its row is touched (`redriven_at`, `error` cleared), so the
        table's stream hands it to Dispatch again, which checks its status and sends it once;
      - with the in-flight mark (`error` = "dispatch in flight"): the send may or may not have
        reached the provider, so it is never sent again; it is recorded `failed` saying so;
      - past its rule's `expires_after` (counted from its first decision): it is no longer
        true to send, so it is never handed back; it is recorded `suppressed` / `expired`.

    Every write is conditional on the row still being in that state, so running it twice, or
    while Dispatch is catching up, sends nothing twice. An action that waited (quiet hours, a
    cap) and was released counts for `--days` from its first decision. Exit 0 when nothing was
    left, 1 when actions were found (and redriven, expired or settled, unless --dry-run).

    \b
    Examples:
      touchpoints redrive --table touchpoints-prod-decisions --dry-run
      touchpoints redrive --table touchpoints-prod-decisions --older-than 1h --days 3 --json
    """
    from touchpoints.catalog import CatalogError, DurationError, load_catalog, parse_duration
    from touchpoints.cli.audit import connect_store
    from touchpoints.policy import is_expired
    from touchpoints.ports import StoreError
    from touchpoints.service import IN_FLIGHT, RETRYING, UNKNOWN_OUTCOME

    try:
        wait = parse_duration(older_than)
    except DurationError as exc:
        fail(f"--older-than: {exc}")
    try:
        catalog = load_catalog(rules_dir, check_templates=False)
    except CatalogError as exc:
        fail(f"the catalog in {rules_dir} does not load: {exc}", hint="touchpoints validate shows why")
    now = datetime.now(UTC)
    store = connect_store(table, endpoint_url, region)
    found: list[dict[str, Any]] = []
    try:
        stale = store.stale_pending_actions(
            sorted(catalog.rules), decided_since=now - timedelta(days=days), due_before=now - wait
        )
        for record, sk in stale:
            in_flight = record.error == IN_FLIGHT
            compiled = catalog.rules.get(record.rule_id)
            rule = compiled.rule if compiled is not None else None
            expired = not in_flight and rule is not None and is_expired(rule, record.decided_at, now)
            if dry_run:
                outcome = (
                    "would settle as failed" if in_flight else "would expire" if expired else "would redrive"
                )
            elif in_flight:
                settled = store.settle_in_flight(record.order_id, sk, mark=IN_FLIGHT, error=UNKNOWN_OUTCOME)
                outcome = "settled as failed" if settled else "already finished"
            elif expired:
                outcome = "expired" if store.expire_action(record.order_id, sk) else "already finished"
            else:
                redriven = store.redrive_action(record.order_id, sk, now, retry_prefix=RETRYING)
                outcome = "redriven" if redriven else "already finished"
            found.append(
                {
                    "action_id": record.action_id,
                    "order_id": record.order_id,
                    "rule_id": record.rule_id,
                    "channel": record.channel,
                    "send_at": format_seconds(record.send_at),
                    "in_flight": in_flight,
                    "outcome": outcome,
                }
            )
    except StoreError as exc:
        fail(
            f"redrive stopped: {exc}",
            exit_code=EXIT_PROBLEMS,
            hint="nothing is sent twice by running it again",
        )
    _report(found, store.table_name, dry_run, as_json)
    if found:
        raise click.exceptions.Exit(EXIT_PROBLEMS)


def _report(found: list[dict[str, Any]], table: str, dry_run: bool, as_json: bool) -> None:
    if as_json:
        echo_json({"table": table, "dry_run": dry_run, "actions": found})
        return
    console = stdout_console()
    if not found:
        console.print(f"Nothing to redrive in {table}: no pending action is overdue.")
        return
    from rich.table import Table

    listing = Table(title=f"Overdue pending actions in {table}" + (" (dry run)" if dry_run else ""))
    for column in ("order", "rule", "channel", "due", "in flight", "outcome"):
        listing.add_column(column, overflow="fold")
    for item in found:
        listing.add_row(
            item["order_id"],
            item["rule_id"],
            item["channel"],
            item["send_at"],
            "yes" if item["in_flight"] else "no",
            item["outcome"],
        )
    console.print(listing)
