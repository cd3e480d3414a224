"""The live local stack (`touchpoints demo --keep-running`), driven as a developer would: with boto3 and
the AWS CLI against its endpoint, `touchpoints audit` and `touchpoints local advance`, in a real process.

Done-when of issue 16: an event put after start is decided, dispatched and visible in
`touchpoints audit` within 10 seconds, and a timer due in 48 hours fires after `advance 48h`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from touchpoints.local import free_port

REPO = Path(__file__).resolve().parents[2]
TOUCHPOINTS = str(Path(sys.executable).with_name("touchpoints"))
TABLE = "touchpoints-local-decisions"
BUS = "touchpoints-local"


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class LiveStack:
    """A `touchpoints demo --keep-running` process and the lines it printed so far."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.control_port = free_port(), free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.control = f"http://127.0.0.1:{self.control_port}"
        samples = tmp / "samples"
        samples.mkdir()
        shutil.copy(REPO / "events" / "happy-path" / "01-order-placed.json", samples)
        self.env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "live",
            "AWS_SECRET_ACCESS_KEY": "live",
            "COLUMNS": "300",
        }
        self.env["TMPDIR"] = str(tmp)  # its state file (for `touchpoints local`) stays in this test
        self.process = subprocess.Popen(
            [TOUCHPOINTS, "demo", "--keep-running", "--events", str(samples), "--port", str(self.port),
             "--control-port", str(self.control_port)],
            cwd=REPO, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not printed within {timeout} s:\n" + "\n".join(self.lines[-40:]))

    def touchpoints(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TOUCHPOINTS, *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def audit(self, order_id: str) -> list[dict[str, Any]]:
        result = self.touchpoints(
            "audit", "--order", order_id, "--table", TABLE, "--endpoint-url", self.endpoint, "--json"
        )
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveStack]:
    stack = LiveStack(tmp_path)
    try:
        stack.wait_for("AWS endpoint", timeout=90)
        yield stack
    finally:
        code = stack.stop()
    # Ctrl-C ends it cleanly: "stopped", no traceback (130 is the house's code for an interrupt)
    assert code in (0, 130), "\n".join(stack.lines[-20:])
    assert not any("Traceback" in line for line in stack.lines)


def _entry(sample: str, order_id: str, now: datetime, **detail: Any) -> dict[str, Any]:
    """A PutEvents entry from a sample event, for a new order, happening now."""
    event = json.loads((REPO / "events" / "happy-path" / sample).read_text())
    body = {**event["detail"], "order_id": order_id, **detail}
    return {"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(body),
            "EventBusName": BUS, "Time": _z(now)}  # fmt: skip


def _until(check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def _sent(records: list[dict[str, Any]], rule_id: str) -> bool:
    return any(r["rule_id"] == rule_id and r["status"] == "sent" for r in records)


def test_an_event_put_with_boto3_is_decided_dispatched_and_audited_and_advance_fires_a_48h_timer(
    live: LiveStack,
) -> None:
    import boto3

    # GIVEN a live stack and a platform's SDK pointed at its endpoint
    events = boto3.client(
        "events", endpoint_url=live.endpoint, region_name="us-east-1",
        aws_access_key_id="platform", aws_secret_access_key="platform",
    )  # fmt: skip
    now = datetime.now(UTC).replace(microsecond=0)
    # WHEN an order placed now (dispatch promised in 47 hours) and its payment are put on the bus
    promised = {
        "promised_ship_by": _z(now + timedelta(hours=47)),
        "promised_delivery_by": _z(now + timedelta(days=5)),
    }
    started = time.monotonic()
    response = events.put_events(
        Entries=[
            _entry("01-order-placed.json", "L1001", now, **promised),
            _entry("02-payment-succeeded.json", "L1001", now),
        ]
    )
    assert response["FailedEntryCount"] == 0
    # THEN within 10 seconds the confirmation is decided, sent, and `touchpoints audit` shows it
    records = _until(lambda: _sent(live.audit("L1001"), "order-confirmation") and live.audit("L1001"), 10)
    assert records, "order-confirmation not sent within 10 s:\n" + "\n".join(live.lines[-30:])
    assert time.monotonic() - started < 10
    # AND the email is in moto's SES, and the stack logged what it did as it happened
    with urllib.request.urlopen(f"{live.endpoint}/moto-api/data.json", timeout=10) as answer:
        mails = json.loads(answer.read())["ses"]["Message"]
    assert any(m.get("subject") == "Thank you for your order L1001" for m in mails)
    live.wait_for("order L1001: order-confirmation (email) -> pending -> sent", timeout=5)
    # AND the late-shipping timer (due in 47 hours) has not fired yet
    assert not any(r["rule_id"] == "shipping-late-notice" for r in live.audit("L1001"))
    # WHEN the clock is advanced 48 hours through the control endpoint
    advanced = live.touchpoints("local", "advance", "48h", "--json")
    # THEN the timer fired in between and its apology was decided and sent
    assert advanced.returncode == 0, advanced.stderr
    assert json.loads(advanced.stdout)["timers_fired"] >= 1
    assert _until(lambda: _sent(live.audit("L1001"), "shipping-late-notice"), 10)
    status = live.touchpoints("local", "status", "--json")
    assert json.loads(status.stdout)["offset_seconds"] == 48 * 3600


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is optional: boto3 covers the same path")
def test_an_event_put_with_the_aws_cli_is_decided_and_sent(live: LiveStack, tmp_path: Path) -> None:
    # GIVEN the entries file a developer writes for `aws events put-events`
    entries = tmp_path / "entries.json"
    entries.write_text(json.dumps([_entry("01-order-placed.json", "L2001", datetime.now(UTC))]))
    # WHEN put with the AWS CLI (as the demo's own instructions say)
    put = subprocess.run(
        ["aws", "events", "put-events", "--endpoint-url", live.endpoint, "--region", "us-east-1",
         "--entries", f"file://{entries}"],
        env=live.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert put.returncode == 0, put.stderr
    # THEN the confirmation is sent within 10 seconds
    assert _until(lambda: _sent(live.audit("L2001"), "order-confirmation"), 10)


def test_local_without_a_live_stack_says_how_to_start_one(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run(
        [TOUCHPOINTS, "local", "advance", "48h"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "touchpoints demo --keep-running" in result.stderr
