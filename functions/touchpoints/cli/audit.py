"""`touchpoints audit`: decision records from DynamoDB, by order or by customer."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from touchpoints.cli.output import echo_json_lines, fail, handle_errors, stdout_console

if TYPE_CHECKING:
    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore
    from touchpoints.contract import DecisionRecord

__all__ = ["audit", "connect_store", "records_table", "table_options"]

DEFAULT_TABLE = "touchpoints-dev-decisions"
_MAX_DAYS = 401
"""Decision records live 400 days (policy.retention): `--rule --since` never queries further back."""


def connect_store(table: str | None, endpoint_url: str | None, region: str | None) -> DynamoDBDecisionStore:
    """A store on the table, with a client that fails fast (no long retries against a dead endpoint)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    from touchpoints.adapters.dynamodb import DynamoDBDecisionStore

    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region is None and endpoint_url is not None:
        region = "us-east-1"  # the local emulation does not care, and should not need configuring
    if endpoint_url is not None:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    config = Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
    try:
        # A session of its own: credentials are resolved now, from this environment (never a cached default).
        session = boto3.session.Session(region_name=region)
        client = session.client("dynamodb", endpoint_url=endpoint_url, config=config)
    except BotoCoreError as exc:
        hint = "pass --region or set AWS_REGION" if "region" in str(exc).lower() else "check AWS_PROFILE"
        fail(f"cannot connect to DynamoDB: {exc}", hint=hint)
    except ValueError as exc:  # botocore: "Invalid endpoint: ..." for a URL it cannot parse
        fail(f"--endpoint-url {endpoint_url!r} is not a URL ({exc})", hint="e.g. http://127.0.0.1:5000")
    return DynamoDBDecisionStore(table or os.environ.get("TABLE_NAME") or DEFAULT_TABLE, client=client)


def _explain_store_error(message: str, store: DynamoDBDecisionStore, endpoint_url: str | None) -> str | None:
    """A hint for the usual causes: wrong table, no credentials, nothing listening at the endpoint."""
    if "ResourceNotFoundException" in message:
        tables = _table_names(store)
        known = f"; tables here: {', '.join(tables)}" if tables else ""
        return f"no table {store.table_name!r} here: pass --table (the stack's TableName output){known}"
    if "credentials" in message.lower():
        return "configure AWS credentials (aws configure, AWS_PROFILE) or pass --endpoint-url for local"
    if "Could not connect" in message or "Connect timeout" in message:
        where = endpoint_url or "the AWS endpoint"
        return f"nothing answers at {where}: is `touchpoints demo --keep-running` still running?"
    return None


def _table_names(store: DynamoDBDecisionStore) -> list[str]:
    """The tables at the endpoint (first 20), to name the right `--table`; [] when they cannot be listed."""
    try:
        return list(store.client.list_tables(Limit=20).get("TableNames", []))
    except Exception:  # only a hint: an error here must not hide the real one
        return []


def records_table(
    records: Sequence[DecisionRecord],
    title: str,
    *,
    show_order: bool = True,
    history: Mapping[str, Sequence[str]] | None = None,
    first_decided: Mapping[str, datetime] | None = None,
    details: Mapping[str, str] | None = None,
) -> Table:
    """The audit trail as a table: one row per decision, oldest first (message ids: see `--json`).

    Narrow on purpose (status and reason in one cell, send time only when it differs), so that an
    80-column terminal still shows rule ids whole. The decided column is the first decision's
    time; an action that waited and was decided again says when it was released. `history`
    (action id -> statuses, as the demo's driver saw them on the stream) shows what a row went
    through, e.g. `scheduled: quiet_hours -> sent`; `first_decided` (action id -> when it was first
    decided, from the row's key) keeps a row under the time it was first decided whatever the record
    says; `details` (action id -> text) says what a reason leaves out. Every cell is escaped:
    `[erased]` is text, not markup.
    """
    first = first_decided or {}
    table = Table(title=escape(title), title_justify="left")
    table.add_column("decided (UTC)", no_wrap=True)
    if show_order:
        table.add_column("order", overflow="fold")
    table.add_column("rule", overflow="fold")
    table.add_column("via", overflow="fold")
    table.add_column("outcome", overflow="fold")
    table.add_column("to", overflow="fold")
    rows = sorted(records, key=lambda r: (first.get(r.action_id, r.decided_at), r.rule_id, r.channel))
    for record in rows:
        decided = first.get(record.action_id, record.decided_at)
        outcome: str = record.status
        if record.reason or record.error:
            outcome += f": {record.reason or record.error}"
        earlier = [
            step for step in (history or {}).get(record.action_id, []) if step.split(":")[0] != "pending"
        ]
        if len(earlier) > 1:
            outcome = " -> ".join([*earlier[:-1], outcome])
        times = []
        if record.released_at is not None:  # waited, then was decided again at its release
            times.append(f"released {record.released_at:%Y-%m-%d %H:%M}")
        if record.send_at != (record.released_at or decided):
            times.append(f"send {record.send_at:%Y-%m-%d %H:%M}")
        if times:
            outcome += f" ({', '.join(times)})"
        if details and record.action_id in details:
            outcome += f": {details[record.action_id]}"
        row = [f"{decided:%Y-%m-%d %H:%M}"]
        if show_order:
            row.append(escape(record.order_id))
        via = record.channel if record.channel == "event" else f"{record.channel}/{record.locale}"
        row += [escape(record.rule_id), via, escape(outcome), escape(record.address or "")]
        table.add_row(*row)
    return table


def table_options(command: Any) -> Any:
    """`--table`, `--endpoint-url` and `--region`: where the decision table is (audit, forget, redrive)."""
    for option in reversed(
        [
            click.option(
                "--table",
                "table",
                metavar="NAME",
                help="Table name (default: $TABLE_NAME or touchpoints-dev-decisions).",
            ),
            click.option(
                "--endpoint-url",
                metavar="URL",
                help="DynamoDB endpoint, e.g. the one `touchpoints demo --keep-running` prints.",
            ),
            click.option("--region", metavar="REGION", help="AWS region (default: $AWS_REGION)."),
        ]
    ):
        command = option(command)
    return command


def parse_since(value: str, now: datetime) -> datetime:
    """`--since`: a duration back from now (`7d`, `36h`), a date (`2026-03-01`) or an RFC 3339 time."""
    from touchpoints.catalog import DurationError, parse_duration
    from touchpoints.contract import parse_timestamp

    try:
        return now - parse_duration(value)
    except (DurationError, ValueError, TypeError):
        pass
    text = f"{value}T00:00:00Z" if len(value) == 10 and value[4:5] == "-" else value
    try:
        return parse_timestamp(text)
    except (ValueError, TypeError):
        fail(f"--since {value!r} is neither a duration (7d, 36h) nor a date (2026-03-01) or time")


def _rule_records(
    store: DynamoDBDecisionStore, rule_id: str, since: datetime, now: datetime
) -> list[DecisionRecord]:
    """A rule's decisions since `since`: one by-rule index query per UTC day (the index's sort key starts
    with the day), so a week costs eight small queries, never a scan."""
    from datetime import timedelta

    days = (now.astimezone(UTC).date() - since.astimezone(UTC).date()).days + 1
    if days > _MAX_DAYS:
        fail(
            f"--since {since:%Y-%m-%d} asks for {days} days of rule {rule_id}: one query per day",
            hint="decision records are kept 400 days; give a shorter --since (e.g. 30d)",
        )
    found: list[DecisionRecord] = []
    day = since.astimezone(UTC).date()
    while day <= now.astimezone(UTC).date():
        found.extend(r for r in store.records_for_rule(rule_id, day.isoformat()) if r.decided_at >= since)
        day += timedelta(days=1)
    return found


@click.command()
@click.option("--order", "order_id", metavar="ID", help="An order's decisions (one query on its partition).")
@click.option(
    "--customer",
    "customer_id",
    metavar="ID",
    help="A customer's decisions across orders (by-customer index).",
)
@click.option("--rule", "rule_id", metavar="ID", help="A rule's decisions across orders (by-rule index).")
@click.option(
    "--since",
    metavar="WHEN",
    help="Only decisions since then: 7d, 36h, 2026-03-01 or an RFC 3339 time (--rule: default 7d).",
)
@table_options
@click.option("--json", "as_json", is_flag=True, help="One decision record per line (JSON Lines).")
@handle_errors
def audit(
    order_id: str | None,
    customer_id: str | None,
    rule_id: str | None,
    since: str | None,
    table: str | None,
    endpoint_url: str | None,
    region: str | None,
    as_json: bool,
) -> None:
    """Show what was decided for an order, a customer or a rule: sent, deferred, suppressed, and why.

    A record's status is where its action is now: `pending` (decided to send; Dispatch takes it
    within seconds), `scheduled` (waiting for a timer, e.g. quiet hours), `sent`, `failed` or
    `suppressed` (the reason says why). Exit 0 (also when nothing was decided); 2 when the table
    cannot be read, with a hint (wrong --table, no credentials, nothing listening at --endpoint-url).

    \b
    Examples:
      touchpoints audit --order A1001 --table touchpoints-prod-decisions
      touchpoints audit --customer C1001 --table touchpoints-local-decisions \\
          --endpoint-url http://127.0.0.1:5000     # the URL `touchpoints demo --keep-running` prints
      touchpoints audit --order A1001 --json | jq .status
      touchpoints audit --rule delivery-delay-apology --since 7d --table touchpoints-prod-decisions
    """
    from touchpoints.ports import StoreError

    if sum(value is not None for value in (order_id, customer_id, rule_id)) != 1:
        fail("give exactly one of --order ID, --customer ID or --rule ID")
    now = datetime.now(UTC)
    since_at = parse_since(since or "7d", now) if since is not None or rule_id is not None else None
    store = connect_store(table, endpoint_url, region)
    try:
        if order_id is not None:
            records = store.records_for_order(order_id)
            title = f"Decisions for order {order_id}"
        elif customer_id is not None:
            records = store.records_for_customer(customer_id)
            title = f"Decisions for customer {customer_id}"
        else:
            assert rule_id is not None
            assert since_at is not None
            records = _rule_records(store, rule_id, since_at, now)
            title = f"Decisions of rule {rule_id}"
    except StoreError as exc:
        fail(str(exc), hint=_explain_store_error(str(exc), store, endpoint_url))
    if since_at is not None:
        records = [r for r in records if r.decided_at >= since_at]
        title += f" since {since_at:%Y-%m-%d %H:%M} UTC"
    records.sort(key=lambda r: (r.decided_at, r.order_id, r.rule_id, r.channel))
    if as_json:
        echo_json_lines(records)
        return
    console = stdout_console()
    if not records:
        console.print(f"{title}: none (table {store.table_name})")
        return
    console.print(records_table(records, title))
