"""The live local stack: the driver kept running on the wall clock, with a control endpoint to move time.

`touchpoints demo --keep-running` replays the samples, then hands the stack to `LiveLoop`: every
`poll` seconds it fires the schedules that are due, feeds the queue to ProcessEvents and the
stream to Dispatch (what Lambda and Scheduler do in AWS), and logs each thing as it happens. So an
event put on the bus with the AWS CLI or any SDK is decided and sent within a second or two.

Time is the wall clock plus an offset. `POST /advance {"by": "48h"}` on the control endpoint
(`touchpoints local advance 48h` is its client) moves the offset on, firing every timer due on the
way in time order, so a 48-hour rule can be seen in seconds. The endpoint listens on loopback only.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from touchpoints.catalog import format_duration
from touchpoints.local.driver import Driver
from touchpoints.timestamps import format_seconds

__all__ = ["LiveLoop", "serve_control"]


def _wall() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Advance:
    by: timedelta
    done: threading.Event = field(default_factory=threading.Event)
    result: dict[str, Any] = field(default_factory=dict)


class LiveLoop:
    """Drives the stack's handlers and timers as AWS would, on the wall clock moved by `offset`."""

    def __init__(
        self,
        driver: Driver,
        *,
        log: Callable[[str], None],
        poll: float = 0.5,
        wall: Callable[[], datetime] = _wall,
    ) -> None:
        self.driver = driver
        self.log = log
        self.poll = poll
        self.wall = wall
        self.offset = timedelta()
        self.requests: queue.Queue[_Advance] = queue.Queue()
        self.stopping = threading.Event()
        """Set by `POST /stop` (`touchpoints local stop`): the loop ends as after Ctrl-C."""
        self._seen: dict[str, int] = {}
        self._failures = len(driver.stats.failures)

    def now(self) -> datetime:
        """The stack's clock: the wall clock plus the offset `advance` added."""
        return self.wall() + self.offset

    def tick(self) -> int:
        """One round at the current time: due timers, the queue, the stream; returns what moved."""
        self.driver.now = self.now()
        return self._round()

    def _round(self) -> int:
        stats = self.driver.stats
        timers, events, dispatched = stats.timers_fired, stats.events_processed, stats.dispatched
        moved = 0
        for _ in range(50):
            step = self.driver.fire_due_timers() + self.driver.drain_queue() + self.driver.pump_stream()
            moved += step
            if not step:
                break
        if stats.timers_fired > timers:
            self.log(f"Scheduler: {stats.timers_fired - timers} timer(s) due -> TimerFired on the queue")
        if stats.events_processed > events:
            self.log(f"ProcessEvents: {stats.events_processed - events} event(s) from the queue")
        self._log_actions()
        if stats.dispatched > dispatched:
            self.log(f"Dispatch: {stats.dispatched - dispatched} stream record(s) handled")
        for failure in stats.failures[self._failures :]:
            self.log(f"handler failure: {failure}")
        self._failures = len(stats.failures)
        return moved

    def _log_actions(self) -> None:
        """One line per new status of an action, as the table's stream showed it."""
        for action_id, steps in self.driver.history.items():
            seen = self._seen.get(action_id, 0)
            if len(steps) > seen:
                order, rule, channel = self.driver.actions.get(action_id, ("?", "?", "?"))
                self.log(f"  order {order}: {rule} ({channel}) -> {' -> '.join(steps[seen:])}")
                self._seen[action_id] = len(steps)

    def advance(self, by: timedelta) -> dict[str, Any]:
        """Move the clock on by `by`, stopping at each due timer on the way (time order is kept)."""
        before = self.now()
        target = before + by
        fired = self.driver.stats.timers_fired
        self.log(f"advance {format_duration(by)}: {format_seconds(before)} -> {format_seconds(target)}")
        self.offset += by
        self.driver.advance(target)
        if self.driver.stats.timers_fired > fired:
            self.log(
                f"Scheduler: {self.driver.stats.timers_fired - fired} timer(s) due on the way fired in order"
            )
        self._round()
        return {
            "from": format_seconds(before),
            "now": format_seconds(self.now()),
            "timers_fired": self.driver.stats.timers_fired - fired,
        }

    def mark_seen(self) -> None:
        """Treat every status so far as logged (the replay before going live printed its own tables)."""
        self._seen = {action_id: len(steps) for action_id, steps in self.driver.history.items()}
        self._failures = len(self.driver.stats.failures)

    def status(self) -> dict[str, Any]:
        """What `GET /status` answers: the clock and the driver's counts."""
        stats = self.driver.stats
        return {
            "now": format_seconds(self.now()),
            "offset_seconds": int(self.offset.total_seconds()),
            "events_processed": stats.events_processed,
            "dispatched": stats.dispatched,
            "timers_fired": stats.timers_fired,
            "pending_timers": len(self.driver.due_schedules()),
        }

    def run(self, stop: threading.Event) -> None:
        """Tick until `stop` is set, serving `advance` requests between ticks (one thread drives)."""
        while not (stop.is_set() or self.stopping.is_set()):
            try:
                request = self.requests.get(timeout=self.poll)
            except queue.Empty:
                self.tick()
                continue
            try:
                request.result.update(self.advance(request.by))
            except Exception as exc:  # the caller gets the reason; the loop keeps driving
                request.result.update({"error": f"{type(exc).__name__}: {exc}"})
            finally:
                request.done.set()


def serve_control(loop: LiveLoop, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """The control endpoint on 127.0.0.1: `GET /status`, `POST /advance {"by": "48h"}`, `POST /stop`."""
    from touchpoints.catalog import DurationError, parse_duration

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return  # the loop logs what matters

        def _reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/status":
                self._reply(200, loop.status())
            else:
                self._reply(404, {"error": 'GET /status or POST /advance {"by": "48h"}'})

        def do_POST(self) -> None:
            if self.path.rstrip("/") == "/stop":
                loop.stopping.set()
                self._reply(200, {"stopping": True})
                return
            if self.path.rstrip("/") != "/advance":
                self._reply(404, {"error": 'POST /advance {"by": "48h"}'})
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                by = parse_duration(str(body["by"]))
            except (ValueError, KeyError, TypeError, DurationError) as exc:
                self._reply(400, {"error": f'give {{"by": "48h"}} (a duration: 30m, 48h, 3d): {exc}'})
                return
            request = _Advance(by)
            loop.requests.put(request)
            if not request.done.wait(timeout=120):
                self._reply(504, {"error": "the stack did not finish advancing within 120 s"})
                return
            self._reply(500 if "error" in request.result else 200, request.result)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, name="touchpoints-control", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
