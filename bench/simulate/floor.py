"""Where the 50,000 events/s target meets CPython: the cost of the parts no optimisation removes.

The target leaves 20 µs of CPU per input event, for everything. This script measures, on the
same generated stream the simulator benchmark uses, what the irreducible parts cost on this
machine, each alone, and prints the arithmetic:

1. reading the JSON at all (`json.loads` of each line: the standard library's floor);
2. parsing into the contract's pydantic models (`parse_valid_event_json`, what production runs);
3. the production path with an empty catalog (load, reduce, idempotency marker, commit: no rule);
4. the whole replay with the shipped playbook;
5. single operations every decision needs: one compiled rule condition on a facts dict, one
   `DecisionRecord`, one journey reduction, one timer name.

Usage: python bench/simulate/floor.py EVENTS_FILE [--rules rules] [--limit 20000]
CPU time of this process (`time.process_time`), so other load on the machine matters less.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
import timeit
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from touchpoints.catalog import load_catalog
from touchpoints.construct import construct
from touchpoints.contract import DecisionRecord, parse_valid_event_json
from touchpoints.journey import History, apply_event, build_facts
from touchpoints.outcome import TimerRequest
from touchpoints.simulator import Simulator, fewer_collections

TARGET = 50_000


def _cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def _per_call_us(stmt: Callable[[], Any], number: int = 20_000) -> float:
    """Best of five runs of `number` calls, in microseconds per call."""
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6


def _empty_catalog(rules: Path, into: Path) -> Path:
    """The same policy and templates, no rule at all."""
    into.mkdir()
    shutil.copy(rules / "policy.yaml", into / "policy.yaml")
    shutil.copytree(rules / "templates", into / "templates")
    return into


def main() -> None:
    """Measure each floor and print the budget arithmetic."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=Path)
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    parser.add_argument("--limit", type=int, default=20_000, help="events to use (from the file's start)")
    args = parser.parse_args()

    lines = [line for line in args.events.read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = lines[: args.limit]
    n = len(lines)
    catalog = load_catalog(args.rules)

    with fewer_collections():
        json_s, _ = _cpu(lambda: [json.loads(line) for line in lines])
        parse_s, parsed = _cpu(lambda: [parse_valid_event_json(line) for line in lines])
        events = [event for event in parsed if event is not None]
        with tempfile.TemporaryDirectory() as tmp:
            empty = load_catalog(_empty_catalog(args.rules, Path(tmp) / "rules"))
        fixed = Simulator(empty)
        fixed_s, _ = _cpu(lambda: sum(1 for _ in fixed.run(events)))
        full = Simulator(catalog)
        full_s, records = _cpu(lambda: sum(1 for _ in full.run(events)))

    decisions = n + full.timers_fired
    # Single operations, on realistic inputs taken from the stream.
    order_events = [e for e in events if e.order_id == events[0].order_id]
    state = None
    for event in order_events:
        state = apply_event(state, event)
    assert state is not None
    facts = build_facts(state, order_events[-1], History(order=[], customer=[]), order_events[-1].time)
    conditions = [compiled.condition for compiled in catalog.rules.values()]
    first = events[0]
    record_fields = {
        "action_id": "a" * 32,
        "order_id": first.order_id,
        "customer_id": "C1",
        "rule_id": "r",
        "trigger": "OrderPlaced",
        "event_id": first.id,
        "channel": "email",
        "template": "t",
        "locale": "en",
        "status": "pending",
        "reason": None,
        "decided_at": first.time,
        "send_at": first.time,
        "catalog_version": catalog.version,
        "address": "c***@example.com",
        "detail_type": None,
        "message_id": None,
        "error": None,
    }
    rule_us = _per_call_us(lambda: [c(facts) for c in conditions]) / len(conditions)
    record_us = _per_call_us(lambda: construct(DecisionRecord, record_fields))
    reduce_us = _per_call_us(lambda: apply_event(None, first))
    timer_us = _per_call_us(
        lambda: TimerRequest(first.order_id, "r", first.id, datetime(2026, 1, 1, tzinfo=UTC)).name
    )

    budget_us = 1e6 / TARGET
    per_event = decisions / n
    print(f"{n} events, {full.timers_fired} timers ({per_event:.2f} decisions per event), {records} records")
    print(f"target {TARGET} events/s = {budget_us:.1f} µs of CPU per event for everything\n")
    rows = [
        ("json.loads of each line (stdlib floor)", json_s),
        ("parse into the contract's models", parse_s),
        ("production path, empty catalog (no rule)", fixed_s),
        ("production path, playbook", full_s),
    ]
    for name, seconds in rows:
        us = seconds / n * 1e6
        share = us / budget_us
        print(f"  {name:44s} {us:7.1f} µs/event  {n / seconds:9.0f} events/s  {share:6.0%} of budget")
    print()
    left_us = budget_us - parse_s / n * 1e6
    print(f"  after parsing, {left_us:.1f} µs per event are left: {left_us / per_event:.1f} µs per decision")
    print(f"  one compiled rule condition                   {rule_us:6.2f} µs")
    print(f"  one DecisionRecord (constructed, no validation) {record_us:4.2f} µs")
    print(f"  one journey reduction (new order)              {reduce_us:5.2f} µs")
    print(f"  one timer name (sha256)                        {timer_us:5.2f} µs")


if __name__ == "__main__":
    main()
