"""The STATE item and the per-event DynamoDB cost of one busy order, through the real handler on moto.

One order, N carrier updates over five parcels (tests/support/capacity.py: `tracking_order`),
each handed to `process_events.handler` as its own SQS batch against template.yaml's stack in
in-process moto. A meter on the handler's DynamoDB client prices every call with DynamoDB's
documented rules (moto reports no consumed capacity). Prints, at checkpoints, the STATE item's
size and the event's read and transactional write units; stops at the first event the handler
cannot commit (an older version of the code outgrows DynamoDB's 400 KB item).

    python bench/state/bench.py --events 10000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # tests.support: the meter and the order the integration test uses too

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "TouchpointsBench",
        "POWERTOOLS_SERVICE_NAME": "touchpoints",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)


def main() -> None:
    """Command line: --events N (carrier updates), --every K (print every K-th besides the checkpoints)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="carrier updates (default 10000)")
    parser.add_argument("--every", type=int, default=0, help="also print every K-th update")
    args = parser.parse_args()

    from moto import mock_aws
    from tests.support.capacity import CapacityMeter, sqs_batch, tracking_order
    from tests.support.pipeline import fast_moto_transactions

    with mock_aws(), fast_moto_transactions():
        from touchpoints.handlers import process_events
        from touchpoints.local import FakeLambdaContext, make_clients, start_local_stack

        clients = make_clients()
        local = start_local_stack(clients=clients, rules_dir=ROOT / "rules")
        meter = CapacityMeter(clients["dynamodb"])
        envelopes = tracking_order(
            "BENCH-1", "C-BENCH-1", tracking_events=args.events, start=datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
        )
        checkpoints = {1, 10, 100, 1_000, 10_000, 100_000, args.events}
        print(f"{'update':>7} {'STATE bytes':>12} {'read units':>11} {'write units':>12}  calls")
        largest = 0
        for index, envelope in enumerate(envelopes):
            n = index - 5  # the OrderPlaced and five dispatches come first
            local.driver.now = datetime.fromisoformat(envelope["time"].replace("Z", "+00:00"))
            meter.take()
            with contextlib.redirect_stdout(io.StringIO()):  # the handler's metrics (EMF) go to stdout
                answer = process_events.handler(sqs_batch(envelope), FakeLambdaContext())
            cost = meter.take()
            largest = max(largest, cost.state_size)
            if answer.get("batchItemFailures"):
                print(f"{n:>7} the handler could not commit this event (largest STATE: {largest} bytes)")
                break
            if n in checkpoints or (args.every and n > 0 and n % args.every == 0):
                print(
                    f"{n:>7} {cost.state_size:>12} {cost.read_units:>11g} {cost.write_units:>12g}  "
                    f"{'+'.join(cost.calls)}"
                )
        print(f"largest STATE item: {largest} bytes")


if __name__ == "__main__":
    main()
