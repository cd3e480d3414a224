"""Cold start: handler import + catalog compile, against `import boto3`, each in a fresh interpreter.

Every sample is a new `python -X importtime` process, rounds interleaved (boto3, the floor, then
each handler configuration) so that machine load hits all of them alike; medians are reported.

- `boto3`: the cumulative import time of `import boto3` (what any Python Lambda using the SDK pays);
- the floor (`coldstart_floor.py`): pydantic's first model, Powertools' Logger, Metrics and
  BatchProcessor, which the house rules require: no handler can start below it;
- a handler, two columns: `import + build_runtime` = the cumulative import time of its module plus
  `build_runtime()` (settings, the catalog layer's folder loaded and compiled, adapters wired) timed
  in the same process; `init + first record` adds the handler's first invocation on one realistic
  record (the sample OrderPlaced in an SQS record; for Dispatch the stream record of the pending
  action it produced), with in-process fake AWS clients (`fakes.py`: no boto3, no network). Work
  moved from the import into the first invocation shows in the second column, so it is not a saving.

Lambda runs what `sam build` produces, so each package is measured from a copy with bytecode
compiled (`compileall`; `--no-pyc` measures the sources compiled on import), and its rules folder is
a copy with `catalog.compiled.json` written by the package itself, as the catalog layer's makefile
build does (`--no-compiled-catalog` ships the bare YAML). `--base DIR` measures a second package
(e.g. an older commit's, from `git archive`) in the same rounds, for before/after tables.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")

HANDLER = """
import time
import {module}
import fakes
{setup}
started = time.perf_counter()
from touchpoints.handlers.runtime import build_runtime, set_runtime
set_runtime(build_runtime(clients=fakes.clients(items)))
built = time.perf_counter()
answer = {module}.handler(event, fakes.FakeContext())
done = time.perf_counter()
assert not answer.get("batchItemFailures"), answer
print("BENCH", round((built - started) * 1e6), round((done - built) * 1e6))
"""
"""A handler sample: `-X importtime` times the import; then (not timed) the fake clients and the
record are made; then build_runtime and the first record are timed (perf_counter)."""

SETUP = {
    "sqs": "items = []\nevent = fakes.sqs_event()",
    "stream": (
        "import json, pathlib\nprepared = json.loads(pathlib.Path({prepared!r}).read_text())\n"
        "items = prepared['items']\nevent = fakes.stream_event(prepared['action'])"
    ),
}

FLOOR = """
import time
import coldstart_floor
import fakes
event = fakes.sqs_event()
started = time.perf_counter()
answer = coldstart_floor.handler(event, fakes.FakeContext())
done = time.perf_counter()
assert not answer.get("batchItemFailures"), answer
print("BENCH 0", round((done - started) * 1e6))
"""
"""The floor: pydantic's first model, Logger, Metrics and BatchProcessor, and one record through them."""

BENCH_DIR = Path(__file__).resolve().parent


def _importtime(stderr: str) -> dict[str, tuple[int, int, int]]:
    """module -> (self us, cumulative us, depth) from `-X importtime` output."""
    found: dict[str, tuple[int, int, int]] = {}
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            found[match[4]] = (int(match[1]), int(match[2]), len(match[3]) // 2)
    return found


def _run(code: str, env: dict[str, str]) -> tuple[str, dict[str, tuple[int, int, int]]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=REPO,
    )
    return done.stdout, _importtime(done.stderr)


def template_environment() -> dict[str, str]:
    """The functions' literal environment variables in template.yaml (what Lambda sets at cold start)."""
    sys.path.insert(0, str(REPO / "functions"))
    from touchpoints.local import load_template

    variables = load_template(REPO / "template.yaml")["Globals"]["Function"]["Environment"]["Variables"]
    return {name: value for name, value in variables.items() if isinstance(value, str)}


def _timings(stdout: str) -> tuple[int, int]:
    """(build_runtime us, first record us) from the sample's `BENCH` line (the handler logs too)."""
    line = next(line for line in reversed(stdout.splitlines()) if line.startswith("BENCH "))
    _, built, first = line.split()
    return int(built), int(first)


def prepare_dispatch(env: dict[str, str], out: Path) -> None:
    """The fake table a Dispatch sample starts from: what ProcessEvents leaves for the sample order."""
    subprocess.run(
        [sys.executable, str(BENCH_DIR / "fakes.py"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=REPO,
    )


@dataclass(frozen=True)
class Build:
    """One package to measure, as the Lambda would get it: code (+ .pyc) and the catalog layer's folder."""

    label: str
    package: Path
    rules: Path
    compiled_catalog: bool


def build(label: str, source: Path, rules: Path, into: Path, *, pyc: bool, compiled: bool) -> Build:
    """Copy the package (and compile its bytecode) and the rules folder, as `sam build` does.

    The rules copy gets `catalog.compiled.json` when the package can write one (the layer's
    makefile build runs the same command), unless `compiled` is False.
    """
    package, layer = into / label / "package", into / label / "layer"
    shutil.copytree(source, package / "touchpoints")
    shutil.copytree(rules, layer)
    if pyc:
        compileall.compile_dir(package, quiet=1)
    can_compile = (package / "touchpoints" / "catalog" / "compiled.py").exists()
    if compiled and can_compile:
        subprocess.run(
            [sys.executable, "-m", "touchpoints.catalog", str(layer)],
            env={**os.environ, "PYTHONPATH": str(package)},
            capture_output=True,
            check=True,
        )
    return Build(label, package, layer, compiled and can_compile)


def _environment(build: Build) -> dict[str, str]:
    """template.yaml's environment for the functions, plus what build_runtime needs, for this build."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PYTHONPATH", "PYDANTIC_"))
    }
    base.update(template_environment())
    base.update(
        {
            "PYTHONPATH": os.pathsep.join([str(build.package), str(BENCH_DIR)]),
            "TABLE_NAME": "bench",
            "RULES_DIR": str(build.rules),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "touchpoints",
            "POWERTOOLS_METRICS_NAMESPACE": "Touchpoints",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:touchpoints-events",
            "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/touchpoints-scheduler",
            "SENDER_EMAIL": "orders@example.com",
        }
    )
    return base


def _paired(values: list[float], boto3: list[float]) -> float:
    """The median over rounds of (this sample / boto3's sample of the same round).

    A burst of load from other jobs hits one round's samples together, so per-round ratios move
    less than the ratio of two medians taken across different rounds.
    """
    return round(statistics.median(value / base for value, base in zip(values, boto3, strict=True)), 2)


def measure(runs: int, builds: list[Build], *, tracing: bool = True) -> dict[str, object]:
    """Median milliseconds of boto3, the floor and each handler of each build, both columns.

    `import` = the module's cumulative import time + build_runtime; `first record` adds the
    handler's first invocation on one realistic record, with the AWS clients faked in-process.
    The first build is the one measured with tracing on too (X-Ray SDK), unless `tracing` is False.
    """
    floor = "floor: pydantic + Logger + Metrics + BatchProcessor"
    configurations: dict[str, tuple[dict[str, str], str, str]] = {}
    for index, one in enumerate(builds):
        env = _environment(one)
        prepared = one.package / "dispatch-table.json"
        prepare_dispatch(env, prepared)
        setups = {kind: setup.format(prepared=str(prepared)) for kind, setup in SETUP.items()}
        prefix = f"{one.label}: " if len(builds) > 1 else ""
        catalog = "compiled catalog" if one.compiled_catalog else "YAML catalog"
        configurations[f"{prefix}process_events ({catalog})"] = (
            env,
            "touchpoints.handlers.process_events",
            setups["sqs"],
        )
        configurations[f"{prefix}dispatch ({catalog})"] = (
            env,
            "touchpoints.handlers.dispatch",
            setups["stream"],
        )
        if index == 0 and tracing:
            configurations[f"{prefix}process_events (tracing on, X-Ray SDK)"] = (
                {**env, "POWERTOOLS_TRACE_DISABLED": "false"},
                "touchpoints.handlers.process_events",
                setups["sqs"],
            )
    base = _environment(builds[0])
    names = ["boto3", floor, *configurations]
    samples: dict[str, list[float]] = {name: [] for name in names}
    first: dict[str, list[float]] = {name: [] for name in names if name != "boto3"}
    modules: dict[str, tuple[int, int, int]] = {}
    for _ in range(runs):
        _, times = _run("import boto3", base)
        samples["boto3"].append(times["boto3"][1] / 1000)
        out, times = _run(FLOOR, base)
        _, handled = _timings(out)
        samples[floor].append(times["coldstart_floor"][1] / 1000)
        first[floor].append((times["coldstart_floor"][1] + handled) / 1000)
        for name, (env, module, setup) in configurations.items():
            out, times = _run(HANDLER.format(module=module, setup=setup), env)
            built, handled = _timings(out)
            samples[name].append((times[module][1] + built) / 1000)
            first[name].append((times[module][1] + built + handled) / 1000)
            if name == next(iter(configurations)):
                modules = times  # the last round's profile (the first one reads cold files)
    medians = {name: round(statistics.median(values), 1) for name, values in samples.items()}
    first_medians = {name: round(statistics.median(values), 1) for name, values in first.items()}
    heaviest = sorted(((us[0] / 1000, name) for name, us in modules.items()), reverse=True)[:12]
    return {
        "median_ms": medians,
        "ratio_to_boto3": {name: _paired(values, samples["boto3"]) for name, values in samples.items()},
        "first_record_median_ms": first_medians,
        "first_record_ratio_to_boto3": {
            name: _paired(values, samples["boto3"]) for name, values in first.items()
        },
        "runs": runs,
        "heaviest_self_ms": [(round(ms, 1), name) for ms, name in heaviest],
        "loaded_by_process_events": sorted(
            m
            for m in ("boto3", "ruamel", "jinja2", "rich", "click", "asyncio", "aws_xray_sdk", "jsonschema")
            if m in modules
        ),
    }


def main() -> None:
    """Parse arguments, prepare the package copies, measure, print (or --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rules", type=Path, default=REPO / "rules")
    parser.add_argument("--no-pyc", action="store_true", help="do not precompile the package copy")
    parser.add_argument(
        "--no-compiled-catalog",
        action="store_true",
        help="ship the rules without catalog.compiled.json (the Lambda parses and validates the YAML)",
    )
    parser.add_argument("--no-tracing", action="store_true", help="skip the tracing-on configuration")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--source",
        type=Path,
        default=REPO / "functions" / "touchpoints",
        help="the package to measure (default: this checkout's)",
    )
    parser.add_argument(
        "--base",
        type=Path,
        default=None,
        help="another package (e.g. an older commit's, from `git archive`) measured in the same rounds",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="touchpoints-coldstart-") as tmp:
        options = {"pyc": not args.no_pyc, "compiled": not args.no_compiled_catalog}
        builds = [build("this", args.source, args.rules, Path(tmp), **options)]
        if args.base is not None:
            builds.append(build("base", args.base, args.rules, Path(tmp), **options))
        result = measure(args.runs, builds, tracing=not args.no_tracing)
    result["bytecode"] = "source only" if args.no_pyc else "precompiled"
    result["machine"] = (
        f"{os.cpu_count()} cpu, {platform.machine()}, {platform.system()} {platform.release()}, "
        f"python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    result["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['date']} | {result['machine']} | {args.runs} runs | bytecode {result['bytecode']}")
    medians = result["median_ms"]
    ratios = result["ratio_to_boto3"]
    first = result["first_record_median_ms"]
    first_ratios = result["first_record_ratio_to_boto3"]
    assert isinstance(medians, dict)
    assert isinstance(ratios, dict)
    assert isinstance(first, dict)
    assert isinstance(first_ratios, dict)
    print("  ms = medians; x = median over rounds of the ratio to that round's boto3 sample")
    print(f"  {'configuration':52s} {'import + build_runtime':>22s} {'init + first record':>22s}")
    for name, ms in medians.items():
        ratio = "" if name == "boto3" else f" {ratios[name]:.2f}x"  # paired: median of per-round ratios
        handled = f"{first[name]:8.1f} ms {first_ratios[name]:.2f}x" if name in first else ""
        print(f"  {name:52s} {ms:8.1f} ms{ratio:6s} {handled:>22s}")
    print("  heaviest modules (self ms):", ", ".join(f"{n} {ms}" for ms, n in result["heaviest_self_ms"]))
    print("  heavy modules loaded by process_events:", result["loaded_by_process_events"] or "none")


if __name__ == "__main__":
    main()
