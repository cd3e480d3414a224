"""`touchpoints demo`: the whole pipeline on an embedded AWS emulation, with the real handlers."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from touchpoints.cli.output import echo_json, fail, handle_errors, stderr_console, stdout_console
from touchpoints.timestamps import format_timestamp

if TYPE_CHECKING:
    from touchpoints.contract import DecisionRecord
    from touchpoints.local import LocalStack

__all__ = ["DemoResult", "demo", "load_sample_events", "run_demo"]

# What the handlers read at import: quiet logs and no metric lines in the demo's output, no X-Ray.
_DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "TouchpointsDemo",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


def _default_dir(name: str) -> Path:
    from touchpoints.local import default_template_path

    here = Path.cwd() / name
    return here if here.is_dir() else default_template_path().parent / name


def load_sample_events(root: Path) -> list[dict[str, Any]]:
    """Every event under `root` as its envelope, read by the one event reader (touchpoints.eventfiles):
    files of one event, arrays, JSON Lines (`.jsonl` too), folders recursively, schemas skipped.
    An unusable file or event stops the demo naming its file and line."""
    from touchpoints.cli.inputs import sourced_events

    return [found.raw for found in sourced_events([root])]


@dataclass
class DemoResult:
    """What the demo did: decisions per order, messages that went out, and the driver's counts."""

    endpoint_url: str
    table_name: str
    orders: dict[str, list[DecisionRecord]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[str]] = field(default_factory=dict)
    first_decided: dict[str, datetime] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    silent: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON for `--json`."""
        return {
            "endpoint_url": self.endpoint_url,
            "table_name": self.table_name,
            "orders": {k: [r.model_dump(mode="json") for r in v] for k, v in self.orders.items()},
            "messages": self.messages,
            "stats": self.stats,
            "history": self.history,
            "details": self.details,
            "silent_events": self.silent,
        }


def run_demo(local: LocalStack, events: list[dict[str, Any]]) -> DemoResult:
    """Replay the events through the stack on the driver's virtual clock and collect the outcome."""
    started = time.perf_counter()
    local.driver.replay(events)
    return collect(local, events, started)


def collect(local: LocalStack, events: list[dict[str, Any]], started: float) -> DemoResult:
    """What the stack decided and sent for these events' orders (also what the live stack shows)."""
    from touchpoints.cli.why import reason_details, silent_events
    from touchpoints.contract import mask_address, parse_event

    store: Any = local.store
    catalog = local.runtime.catalog
    order_ids = sorted({str(e["detail"]["order_id"]) for e in events})
    orders = {order_id: store.records_for_order(order_id) for order_id in order_ids}
    by_message = {r.message_id: r for records in orders.values() for r in records if r.message_id}
    messages: list[dict[str, Any]] = []
    # Only messages of this run's decisions (moto's backends are per process, not per server).
    for mail in local.sent_emails():
        record = by_message.get(mail["id"])
        if record is None:
            continue
        to = [a for addresses in mail["destinations"].values() for a in addresses]
        messages.append(_message("email", record, mask_address(to[0]) if to else None, mail["subject"]))
    for sms in local.sent_sms():
        record = by_message.get(sms["message_id"])
        if record is None:
            continue
        messages.append(_message("sms", record, mask_address(sms["phone"]), sms["body"][:70]))
    for records in orders.values():
        for record in records:
            if record.channel == "event" and record.status == "sent":
                messages.append(_message("event", record, None, record.detail_type or "event"))
    statuses = Counter(r.status for records in orders.values() for r in records)
    stats = {
        "events": len(events),
        "decisions": dict(sorted(statuses.items())),
        "messages": len(messages),
        "timers_fired": local.driver.stats.timers_fired,
        "handler_batches": local.driver.stats.queue_batches + local.driver.stats.stream_batches,
        "rejected_records": local.driver.stats.batch_item_failures,
        "dead_lettered": local.driver.stats.dead_lettered,
        "handler_failures": local.driver.stats.failures[:10],
        "seconds": round(time.perf_counter() - started, 2),
    }
    messages.sort(key=lambda m: (m["sent_at"], m["order_id"], m["rule_id"], m["channel"]))
    parsed = [parse_event(raw) for raw in events]
    details: dict[str, str] = {}
    silent: dict[str, list[str]] = {}
    for order_id, records in orders.items():
        details.update(reason_details(records, catalog))
        mine = [e for e in parsed if e.order_id == order_id]
        lines = silent_events(mine, records, catalog, local.driver.first_decided)
        if lines:
            silent[order_id] = lines
    return DemoResult(
        history=local.driver.history,
        first_decided=local.driver.first_decided,
        details=details,
        silent=silent,
        endpoint_url=local.endpoint_url or "",
        table_name=local.table_name,
        orders=orders,
        messages=messages,
        stats=stats,
    )


def _message(channel: str, record: DecisionRecord, to: str | None, subject: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "order_id": record.order_id,
        "rule_id": record.rule_id,
        "locale": None if channel == "event" else record.locale,
        "to": to,
        "subject": subject,
        "sent_at": format_timestamp(record.send_at),
    }


@click.command()
@click.option(
    "--events",
    "events_dir",
    type=click.Path(exists=True, path_type=Path),
    help="Events to send (default: ./events).",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Catalog (default: ./rules).",
)
@click.option(
    "--template",
    "template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="SAM template (default: ./template.yaml).",
)
@click.option(
    "--stage", default="local", show_default=True, help="The template's Stage parameter (resource names)."
)
@click.option(
    "--keep-running",
    is_flag=True,
    help="Then keep the stack live: your events are decided and sent; `touchpoints local` moves time.",
)
@click.option(
    "--port", type=int, default=0, help="With --keep-running: the emulated AWS port (default: a free one)."
)
@click.option(
    "--control-port",
    type=int,
    default=0,
    help="With --keep-running: the control endpoint's port (default: free).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as one JSON document.")
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the run's report page (default: touchpoints-demo-report.html in the temp folder).",
)
@handle_errors
def demo(
    events_dir: Path | None,
    rules_dir: Path | None,
    template: Path | None,
    stage: str,
    keep_running: bool,
    port: int,
    control_port: int,
    as_json: bool,
    report_path: Path | None,
) -> None:
    """Run the sample journeys through the real handlers on an embedded AWS emulation (no account needed).

    Starts moto's server on a free loopback port, creates the resources of template.yaml in it,
    sends every event with PutEvents (in time order, on a virtual clock), and prints the audit
    trail per order and the messages that went out. moto cannot invoke Lambda functions or fire
    Scheduler schedules: the demo's driver does those two steps (docs/operating.md, "Local development").

    With --keep-running the stack then stays live until Ctrl-C: events you put on its bus (AWS
    CLI, boto3, your platform's SDK, at the endpoint it prints) are decided and sent within a
    second or two, due timers fire on the wall clock, and every step is logged as it happens;
    `touchpoints local advance 48h` moves the clock on (firing what falls due on the way).

    \b
    Examples:
      touchpoints demo
      touchpoints demo --events events/carrier-delay --json
      touchpoints demo --keep-running --port 4566   # then: touchpoints local advance 48h
      touchpoints demo --report demo-report.html
    """
    # The demo runs the handlers in this process; the variables are set for its duration only, so
    # code that runs the demo in-process (tests, notebooks) gets its environment back afterwards.
    with _demo_environment():
        try:
            import moto  # noqa: F401
        except ImportError:
            fail("touchpoints demo needs moto: pip install 'touchpoints[dev]'")
        from touchpoints.cli.inputs import open_catalog
        from touchpoints.local import start_local_stack, start_moto_server

        rules_dir = rules_dir or _default_dir("rules")
        open_catalog(rules_dir)  # a wrong or empty folder stops here, before anything starts
        events = load_sample_events(events_dir or _default_dir("events"))
        progress = stderr_console()
        server, endpoint_url = start_moto_server(port or None)
        try:
            progress.print(f"[dim]1/3[/] emulated AWS (moto) listening on {endpoint_url}")
            local = start_local_stack(
                endpoint_url=endpoint_url,
                template=template,
                rules_dir=rules_dir,
                parameters={"Stage": stage},
            )
            progress.print(
                f"[dim]2/3[/] stack created from {template or 'template.yaml'}: bus, rule -> queue (+DLQ), "
                "table with stream, schedule group"
            )
            progress.print(
                f"[dim]3/3[/] sending {len(events)} events: PutEvents -> SQS -> ProcessEvents -> DynamoDB "
                "stream -> Dispatch, timers on a virtual clock ..."
            )
            result = run_demo(local, events)
            page = _write_report(local, report_path)
            if as_json:
                echo_json({**result.to_dict(), "report": str(page) if page else None})
            else:
                _print(result)
                stdout_console().print(
                    f"Report of this run: {page}"
                    if page
                    else "[dim]No report page: pip install 'touchpoints[report]' to get one.[/]"
                )
            if keep_running:
                from touchpoints.cli.local_control import run_live

                run_live(local, result.endpoint_url, result.table_name, control_port)
        finally:
            server.stop()


def _write_report(local: LocalStack, path: Path | None) -> Path | None:
    """The run's `touchpoints report --table` page, read back from its table (None without the extra)."""
    try:
        import plotly  # noqa: F401
        import statsmodels  # noqa: F401
    except ImportError:
        return None
    import tempfile

    from touchpoints.catalog import load_catalog
    from touchpoints.report import build_numbers, from_table, render_html

    catalog = load_catalog(local.rules_dir)
    source = {"kind": "table", "table": local.table_name, "since": "all"}
    data = from_table(catalog, local.store, since=None, now=local.driver.clock(), source=source)
    target = (path or Path(tempfile.gettempdir()) / "touchpoints-demo-report.html").resolve()
    target.write_text(render_html(build_numbers(data)), encoding="utf-8")
    return target


@contextmanager
def _demo_environment() -> Iterator[None]:
    """`_DEMO_ENV` for variables not set already, restored (or removed) on the way out."""
    saved = {name: os.environ.get(name) for name in _DEMO_ENV}
    for name, value in _DEMO_ENV.items():
        os.environ.setdefault(name, value)
    try:
        yield
    finally:
        for name, before in saved.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before


def _print(result: DemoResult) -> None:
    from touchpoints.cli.audit import records_table

    console = stdout_console()
    for order_id, records in result.orders.items():
        if records:
            console.print(
                records_table(
                    records,
                    f"Order {order_id}",
                    show_order=False,
                    history=result.history,
                    first_decided=result.first_decided,
                    details=result.details,
                )
            )
        else:
            console.print(f"[bold]Order {escape(order_id)}[/]: no decision")
        for line in result.silent.get(order_id, []):
            console.print(f"  [dim]no decision on {escape(line)}[/]")
    table = Table(title="Messages that went out, in the order they were sent", title_justify="left")
    for column in ("sent (UTC)", "channel", "order", "rule", "locale", "to", "subject / text"):
        table.add_column(column, overflow="fold")
    for message in result.messages:
        table.add_row(
            message["sent_at"].replace("T", " ")[:16],
            message["channel"],
            escape(message["order_id"]),
            escape(message["rule_id"]),
            message["locale"] or "",
            escape(message["to"] or "(bus)"),
            escape(message["subject"]),
        )
    console.print(table)
    stats = result.stats
    decisions = (
        ", ".join(f"{count} {status}" for status, count in stats["decisions"].items()) or "no decision"
    )
    console.print(
        f"{stats['events']} events -> {decisions}; {stats['messages']} messages out; "
        f"{stats['timers_fired']} timers fired; {stats['seconds']} s."
    )
    for failure in stats["handler_failures"]:
        console.print(f"[red]handler failure:[/] {escape(failure)}")
    console.print(
        "[dim]Emulated by moto: EventBridge (bus, rule -> SQS), SQS, DynamoDB (+stream), Scheduler, "
        "SES, SNS. "
        "moto cannot invoke Lambda or fire schedules: the demo's driver called the handlers and fired due "
        "timers on a virtual clock.[/]"
    )
