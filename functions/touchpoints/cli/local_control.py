"""`touchpoints local`: the client of a live local stack (`touchpoints demo --keep-running`).

The live stack writes its endpoints to a file in the temporary folder; `touchpoints local status`
and `touchpoints local advance 48h` read it (or take `--control URL`) and talk to the stack's
control endpoint on loopback. `run_live` is the demo's side: the loop, the endpoint, the log.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from touchpoints.cli.output import echo_json, fail, handle_errors, stdout_console

if TYPE_CHECKING:
    from touchpoints.local import LocalStack

__all__ = ["local", "local_state_path", "run_live", "write_local_state"]


def run_live(local: LocalStack, endpoint_url: str, table: str, control_port: int) -> None:
    """Keep the stack live (touchpoints.local.live) until Ctrl-C, logging each step as it happens."""
    import threading

    from touchpoints.local.live import LiveLoop, serve_control

    console = stdout_console()

    def log(line: str) -> None:
        console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {escape(line)}")

    loop = LiveLoop(local.driver, log=log)
    loop.mark_seen()
    control, control_url = serve_control(loop, control_port)
    state = write_local_state(
        {"endpoint_url": endpoint_url, "control_url": control_url, "table": table,
         "bus": str(local.resources.outputs["EventBusName"]), "region": "us-east-1"}
    )  # fmt: skip
    where = f"--table {table} --endpoint-url {endpoint_url}"
    bus = local.resources.outputs["EventBusName"]
    console.print(
        f"\n[bold]Live[/]: the stack keeps running on the wall clock ({loop.now():%Y-%m-%d %H:%M} UTC); "
        "Ctrl-C stops it.\n"
        f"  AWS endpoint  {endpoint_url}  (region us-east-1, any credentials; bus {bus})\n"
        f"  control       {control_url}  (touchpoints local advance 48h; written to {state})\n"
        f"  put an event  aws events put-events --endpoint-url {endpoint_url} --region us-east-1 "
        f"--entries file://entries.json\n"
        f"  read it back  touchpoints audit --order ORDER_ID {where}"
    )
    stop = threading.Event()
    try:
        loop.run(stop)
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        stop.set()
        control.shutdown()


def local_state_path() -> Path:
    """Where a live stack writes its endpoints, for `touchpoints local` (one per machine user)."""
    import tempfile

    return (
        Path(tempfile.gettempdir()) / f"touchpoints-local-{os.getuid() if hasattr(os, 'getuid') else 0}.json"
    )


def write_local_state(state: dict[str, Any]) -> Path:
    """Write the live stack's endpoints for `touchpoints local`; returns the file."""
    path = local_state_path()
    path.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return path


def _control_url(control: str | None) -> str:
    if control:
        return control.rstrip("/")
    path = local_state_path()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        fail(
            f"no live local stack found ({path} is missing)",
            hint="start one with `touchpoints demo --keep-running`, or pass --control URL",
        )
    return str(state["control_url"]).rstrip("/")


def _call(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=150) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        fail(f"the live stack refused: {json.loads(exc.read() or b'{}').get('error', exc)}")
    except (urllib.error.URLError, OSError) as exc:
        fail(f"nothing answers at {url}: {exc}", hint="is `touchpoints demo --keep-running` still running?")
    return answer


def _answers(control: str | None) -> bool:
    """True when a live stack answers at the control endpoint (for --wait)."""
    try:
        url = control or json.loads(local_state_path().read_text(encoding="utf-8"))["control_url"]
        with urllib.request.urlopen(f"{str(url).rstrip('/')}/status", timeout=2):
            return True
    except (OSError, ValueError, KeyError):
        return False


@click.group()
def local() -> None:
    """Talk to the live local stack that `touchpoints demo --keep-running` runs.

    \b
    Examples:
      touchpoints local status --wait 60   # once `touchpoints demo --keep-running` is up
      touchpoints local advance 48h        # fires every timer due in the next 48 hours, in order
      touchpoints local stop               # as Ctrl-C in the demo's terminal
    """


_CONTROL = click.option(
    "--control", metavar="URL", help="The control endpoint (default: the running stack's)."
)


@local.command()
@_CONTROL
@click.option(
    "--wait", "wait_seconds", type=float, default=0, help="Wait up to this many seconds for it to be live."
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@handle_errors
def status(control: str | None, wait_seconds: float, as_json: bool) -> None:
    """The live stack's clock and counts. Exit 0; 2 when no live stack answers (within --wait)."""
    deadline = time.monotonic() + wait_seconds
    while wait_seconds and time.monotonic() < deadline and not _answers(control):
        time.sleep(0.5)
    answer = _call(f"{_control_url(control)}/status")
    if as_json:
        echo_json(answer)
        return
    stdout_console().print(
        f"now {answer['now']} (offset {answer['offset_seconds']} s); "
        f"{answer['events_processed']} events processed, "
        f"{answer['dispatched']} dispatched, {answer['timers_fired']} timers fired, "
        f"{answer['pending_timers']} waiting"
    )


@local.command()
@click.argument("duration")
@_CONTROL
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@handle_errors
def advance(duration: str, control: str | None, as_json: bool) -> None:
    """Move the live stack's clock on by DURATION (30m, 48h, 3d), firing each timer due on the way.

    Returns when the stack has processed what fell due (decided, dispatched). Exit 0; 2 on a bad
    duration or when no live stack answers.
    """
    from touchpoints.catalog import DurationError, parse_duration

    try:
        parse_duration(duration)
    except (DurationError, ValueError) as exc:
        fail(f"{duration!r} is not a duration: {exc}")
    answer = _call(f"{_control_url(control)}/advance", {"by": duration})
    if as_json:
        echo_json(answer)
        return
    stdout_console().print(
        f"advanced {duration}: now {answer['now']}; {answer['timers_fired']} timer(s) fired"
    )


@local.command()
@_CONTROL
@handle_errors
def stop(control: str | None) -> None:
    """Stop the live stack (as Ctrl-C in its terminal). Exit 0; 2 when no live stack answers."""
    _call(f"{_control_url(control)}/stop", {})
    local_state_path().unlink(missing_ok=True)
    stdout_console().print("stopping the live stack")
