"""`touchpoints report`: one HTML page (or JSON) of what the rules did and what it changed."""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from touchpoints.cli.audit import connect_store, table_options
from touchpoints.cli.output import EXIT_OK, EXIT_USAGE, echo_json, fail, handle_errors, stderr_console

if TYPE_CHECKING:
    from touchpoints.catalog import Catalog
    from touchpoints.report import ReportInput

__all__ = ["parse_since", "report"]


def parse_since(value: str, now: datetime) -> datetime | None:
    """`--since`: a duration back from now (30d, 12h, 2w), an RFC 3339 time, or `all` (None)."""
    if value.strip().lower() == "all":
        return None
    from touchpoints.catalog import DurationError, parse_duration
    from touchpoints.contract import parse_timestamp

    try:
        return now - parse_duration(value)
    except DurationError:
        pass
    try:
        return parse_timestamp(value)
    except ValueError:
        fail(f"--since {value!r} is neither a duration (30d, 12h) nor an RFC 3339 time, nor `all`")


def _window(value: str) -> timedelta:
    from touchpoints.catalog import DurationError, parse_duration

    try:
        return parse_duration(value)
    except DurationError as exc:
        fail(f"--window {value!r}: {exc}", hint="e.g. --window 30d")


def _require_extra() -> None:
    try:
        import plotly  # noqa: F401
        import statsmodels  # noqa: F401
    except ImportError:
        fail("touchpoints report needs its extra: pip install 'touchpoints[report]' (plotly, statsmodels)")


def _paths(paths: tuple[Path, ...], scratch: Path) -> list[Path]:
    """The event paths, with `-` replaced by a file holding standard input (JSON Lines or JSON)."""
    resolved: list[Path] = []
    for path in paths:
        if str(path) == "-":
            stdin = scratch / "stdin.jsonl"
            stdin.write_text(sys.stdin.read(), encoding="utf-8")
            resolved.append(stdin)
        else:
            resolved.append(path)
    return resolved


def _simulated(
    paths: list[Path], catalog: Catalog, base_dir: Path | None, until: str | None, window: timedelta
) -> tuple[ReportInput, int]:
    from touchpoints.cli.inputs import load_inputs, open_catalog
    from touchpoints.cli.simulate import _run, diff_records, parse_until
    from touchpoints.report import from_simulation
    from touchpoints.simulator import fewer_collections

    until_at = parse_until(until)
    with fewer_collections():
        events, problems = load_inputs(paths)
        source: dict[str, Any] = {"kind": "simulation", "paths": [str(p) for p in paths]}
        data = from_simulation(catalog, events, until=until_at, window=window, source=source)
        if base_dir is not None:
            base = open_catalog(base_dir, "--base")
            data.diff = diff_records(_run(base, events, until_at), _run(catalog, events, until_at))
            data.source["base"] = str(base_dir)
    return data, EXIT_USAGE if problems else EXIT_OK


def _from_table(
    catalog: Catalog,
    table: str | None,
    endpoint_url: str | None,
    region: str | None,
    since: str,
    window: timedelta,
) -> ReportInput:
    from touchpoints.ports import StoreError
    from touchpoints.report import from_table

    now = datetime.now(UTC)
    since_at = parse_since(since, now)
    store = connect_store(table, endpoint_url, region)
    source = {"kind": "table", "table": store.table_name, "since": since}
    try:
        return from_table(catalog, store, since=since_at, now=now, window=window, source=source)
    except StoreError as exc:
        fail(f"cannot read table {store.table_name}: {exc}", hint="check --table and --endpoint-url")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, allow_dash=True))
@click.option(
    "--rules",
    "rules_dir",
    default="rules",
    show_default=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The rules folder (catalog): rules, experiments and templates.",
)
@click.option(
    "--base",
    "base_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also diff against this catalog.",
)
@click.option("--until", help="Fire timers up to this time (default: 30 days after the last event).")
@table_options
@click.option(
    "--since", default="30d", show_default=True, help="With --table: 30d, an RFC 3339 time, or all."
)
@click.option(
    "--window",
    "window_text",
    default="30d",
    show_default=True,
    help="Outcomes count this long after a decision.",
)
@click.option(
    "--orders", "timeline_orders", default=30, show_default=True, help="How many order timelines to show."
)
@click.option(
    "--order", "chosen", multiple=True, metavar="ID", help="Show this order's timeline (repeatable)."
)
@click.option(
    "--out", "out", type=click.Path(path_type=Path, dir_okay=False), help="The HTML file [report.html]."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the numbers as JSON (the HTML too only with --out)."
)
@handle_errors
def report(
    paths: tuple[Path, ...],
    rules_dir: Path,
    base_dir: Path | None,
    until: str | None,
    table: str | None,
    endpoint_url: str | None,
    region: str | None,
    since: str,
    window_text: str,
    timeline_orders: int,
    chosen: tuple[str, ...],
    out: Path | None,
    as_json: bool,
) -> None:
    """Write one self-contained HTML page of what the rules did and what it changed.

    From events (files, folders, `-` for standard input): the simulation of `touchpoints simulate`,
    with each pending action dispatched as production would; with --base, the diff too. From the
    production table (--table): the decisions of the catalog's rules since --since, from the by-rule
    index, and their orders' journeys. Either way the same numbers: per rule and day by status and
    reason, per locale and channel, what the contact policy held back, each experiment's arms with
    the outcome rates and the difference with its 95% interval, NPS and CSAT per week, and per-order
    timelines. The page needs no network to open (docs/report.md).

    Exit 0; 2 when some input could not be used or an option is wrong.

    \b
    Examples:
      touchpoints report events/ --out report.html
      touchpoints report events/ --json | python -m json.tool | head
      touchpoints report events/ --base rules --rules rules --out diff.html
      touchpoints report --table touchpoints-dev-decisions --since 30d --out last-month.html
    """
    from touchpoints.cli.inputs import open_catalog

    if table is None and endpoint_url is None and not paths:
        fail(
            "give event files or folders (or - for standard input), or --table NAME",
            hint="touchpoints report events/",
        )
    if paths and (table is not None or endpoint_url is not None):
        fail("give either event paths or --table, not both")
    if not paths and base_dir is not None:
        fail(
            "--base diffs two simulations: give the event paths to simulate",
            hint="touchpoints report events/ --base DIR",
        )
    _require_extra()
    window = _window(window_text)
    catalog = open_catalog(rules_dir, "--rules")
    code = EXIT_OK
    with tempfile.TemporaryDirectory(prefix="touchpoints-report-") as scratch:
        if paths:
            data, code = _simulated(_paths(paths, Path(scratch)), catalog, base_dir, until, window)
        else:
            data = _from_table(catalog, table, endpoint_url, region, since, window)
        from touchpoints.report import build_numbers, render_html

        numbers = build_numbers(data, timeline_orders=timeline_orders, orders=chosen)
    target = out if out is not None or not as_json else None
    if as_json:
        echo_json(numbers)
    if target is not None or not as_json:
        path = target or Path("report.html")
        path.write_text(render_html(numbers), encoding="utf-8")
        stderr_console().print(f"report written to {path.resolve()}")
    raise click.exceptions.Exit(code)
