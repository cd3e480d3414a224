"""Time the simulator on generated journeys: parsing, deciding, and the whole replay, in events per second.

Reports CPU time of this process (what one core does, robust to other load on the machine) next
to wall time. Usage: python bench/simulate/bench.py EVENTS_FILE [--rules rules] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

from touchpoints.catalog import load_catalog
from touchpoints.contract import Event
from touchpoints.simulator import InputProblem, Simulator, fewer_collections, read_events


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def main() -> None:
    """Parse, then simulate, then print one line per stage."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=Path)
    parser.add_argument("--rules", type=Path, default=Path("rules"))
    parser.add_argument("--profile", action="store_true", help="print the 25 costliest functions")
    args = parser.parse_args()

    with fewer_collections():  # as `touchpoints simulate` runs
        run(args)


def run(args: argparse.Namespace) -> None:
    """Load the catalog, parse, simulate; print the timings (and the profile)."""
    _, cpu0 = _clock()
    catalog = load_catalog(args.rules)
    wall1, cpu1 = _clock()
    events: list[Event] = [item for item in read_events([args.events]) if not isinstance(item, InputProblem)]
    wall2, cpu2 = _clock()
    simulator = Simulator(catalog)
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    records = sum(1 for _ in simulator.run(events))
    if profiler is not None:
        profiler.disable()
    wall3, cpu3 = _clock()

    n = len(events)
    print(f"catalog: {len(catalog.rules)} rules from {args.rules}, loaded in {cpu1 - cpu0:.2f}s cpu")
    print(
        f"parse:    {n} events  {cpu2 - cpu1:6.2f}s cpu {wall2 - wall1:6.2f}s wall  "
        f"{n / (cpu2 - cpu1):8.0f} events/s"
    )
    print(
        f"simulate: {n} events + {simulator.timers_fired} timers -> {records} records  "
        f"{cpu3 - cpu2:6.2f}s cpu {wall3 - wall2:6.2f}s wall  {n / (cpu3 - cpu2):8.0f} events/s"
    )
    print(f"total:    {n / (cpu3 - cpu1):8.0f} events/s (cpu), {n / (wall3 - wall1):8.0f} events/s (wall)")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
