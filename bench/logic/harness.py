"""One benchmark harness for every JsonLogic library: same rules, same events, evals/s (best of N repeats).

Runs inside the library's own virtual environment; prints one JSON line with the measurement and
writes the library's results to --results so run.sh can check the libraries agree.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
Pass = Callable[[list[Any]], list[Any]]  # evaluates every rule on every event, returns the results


def touchpoints_adapter(rules: list[Any], bare: bool) -> Pass:
    sys.path.insert(0, str(REPO / "functions"))
    from touchpoints.logic import compile as compile_logic

    compiled = [compile_logic(rule) for rule in rules]
    functions = [c.function for c in compiled] if bare else compiled

    def run(events: list[Any]) -> list[Any]:
        return [[fn(event) for fn in functions] for event in events]

    return run


def datalogic_adapter(rules: list[Any], shape: str) -> Pass:
    import datalogic_py

    engine = datalogic_py.Engine()
    compiled = [engine.compile(rule) for rule in rules]
    session = engine.session()
    DataHandle = datalogic_py.DataHandle

    if shape == "many":  # many rules, one data handle: one native call per event (results as JSON text)

        def run(events: list[Any]) -> list[Any]:
            return [session.evaluate_many(compiled, DataHandle(event)) for event in events]

        return run

    evaluate_data = session.evaluate_data

    def run_each(events: list[Any]) -> list[Any]:
        out = []
        for event in events:
            handle = DataHandle(event)  # parsed once per event, shared by the 50 rules
            out.append([evaluate_data(rule, handle) for rule in compiled])
        return out

    return run_each


def json_logic_adapter(rules: list[Any]) -> Pass:
    from json_logic import jsonLogic  # panzi-json-logic or json-logic-qubit, whichever this venv holds

    def run(events: list[Any]) -> list[Any]:
        return [[jsonLogic(rule, event) for rule in rules] for event in events]

    return run


ADAPTERS: dict[str, Callable[[list[Any]], Pass]] = {
    "touchpoints": lambda rules: touchpoints_adapter(rules, bare=False),
    "touchpoints-bare": lambda rules: touchpoints_adapter(rules, bare=True),
    "datalogic-py-session": lambda rules: datalogic_adapter(rules, "each"),
    "datalogic-py-many": lambda rules: datalogic_adapter(rules, "many"),
    "panzi-json-logic": json_logic_adapter,
    "json-logic-qubit": json_logic_adapter,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("library", choices=sorted(ADAPTERS))
    parser.add_argument("--workload", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--results", type=Path)
    args = parser.parse_args()
    rules = json.loads((args.workload / "rules.json").read_text())
    events = json.loads((args.workload / "events.json").read_text())
    run = ADAPTERS[args.library](rules)
    results = run(events)  # warm-up, and the answers for the agreement check
    timings = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        run(events)
        timings.append(time.perf_counter() - start)
    evals = len(rules) * len(events)
    best = min(timings)
    if args.results:
        if args.library == "datalogic-py-many":
            results = [
                [json.loads(item) if isinstance(item, str) else None for item in row] for row in results
            ]
        args.results.write_text(json.dumps(results, default=repr))
    print(
        json.dumps(
            {
                "library": args.library,
                "python": sys.version.split()[0],
                "evals": evals,
                "best_seconds": round(best, 4),
                "evals_per_second": round(evals / best),
                "repeats": args.repeats,
            }
        )
    )


if __name__ == "__main__":
    main()
