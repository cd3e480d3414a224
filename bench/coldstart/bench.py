"""Cold start: handler import + catalog compile, against `import boto3`, each in a fresh interpreter.

Every sample is a new `python -X importtime` process, rounds interleaved (boto3, then each
handler configuration) so that machine load hits all of them alike; medians are reported.

- `boto3`: the cumulative import time of `import boto3` (what any Python Lambda using the SDK pays);
- a handler: the cumulative import time of its module, plus `build_runtime()` (settings, the shipped
  catalog loaded and compiled, adapters wired; no AWS call) timed in the same process.

Lambda runs what SAM copies, so the package is measured from a copy with bytecode compiled
(`compileall`, as a build step should ship it); `--no-pyc` measures the sources compiled on import.
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
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")

HANDLER = """
import time
import {module}
started = time.perf_counter()
from touchpoints.handlers.runtime import build_runtime
build_runtime()
print(round((time.perf_counter() - started) * 1e6))
"""


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


def measure(runs: int, rules: Path, package: Path) -> dict[str, object]:
    """Median milliseconds of boto3 and of each handler configuration, plus the heaviest imports."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PYTHONPATH", "PYDANTIC_"))
    }
    base.update(template_environment())
    base.update(
        {
            "PYTHONPATH": str(package),
            "TABLE_NAME": "bench",
            "RULES_DIR": str(rules),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_SERVICE_NAME": "touchpoints",
            "POWERTOOLS_METRICS_NAMESPACE": "Touchpoints",
        }
    )
    configurations = {
        "process_events (tracing off)": ("touchpoints.handlers.process_events", "true"),
        "dispatch (tracing off)": ("touchpoints.handlers.dispatch", "true"),
        "process_events (tracing on, X-Ray SDK)": ("touchpoints.handlers.process_events", "false"),
    }
    samples: dict[str, list[float]] = {"boto3": [], **{name: [] for name in configurations}}
    modules: dict[str, tuple[int, int, int]] = {}
    for _ in range(runs):
        _, times = _run("import boto3", base)
        samples["boto3"].append(times["boto3"][1] / 1000)
        for name, (module, trace_disabled) in configurations.items():
            out, times = _run(
                HANDLER.format(module=module), {**base, "POWERTOOLS_TRACE_DISABLED": trace_disabled}
            )
            samples[name].append((times[module][1] + int(out.strip())) / 1000)
            if name == "process_events (tracing off)":
                modules = times
    medians = {name: round(statistics.median(values), 1) for name, values in samples.items()}
    heaviest = sorted(((us[0] / 1000, name) for name, us in modules.items()), reverse=True)[:12]
    return {
        "median_ms": medians,
        "ratio_to_boto3": {
            name: round(ms / medians["boto3"], 2) for name, ms in medians.items() if name != "boto3"
        },
        "runs": runs,
        "heaviest_self_ms": [(round(ms, 1), name) for ms, name in heaviest],
        "loaded_by_process_events": sorted(
            m
            for m in ("boto3", "jinja2", "rich", "click", "asyncio", "aws_xray_sdk", "jsonschema")
            if m in modules
        ),
    }


def main() -> None:
    """Parse arguments, prepare the package copy, measure, print (or --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rules", type=Path, default=REPO / "rules")
    parser.add_argument("--no-pyc", action="store_true", help="do not precompile the package copy")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--source",
        type=Path,
        default=REPO / "functions" / "touchpoints",
        help="the package to measure (default: this checkout's; e.g. an older commit's, to compare)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="touchpoints-coldstart-") as tmp:
        package = Path(tmp)
        shutil.copytree(args.source, package / "touchpoints")
        if not args.no_pyc:
            compileall.compile_dir(package, quiet=1)
        result = measure(args.runs, args.rules.resolve(), package)
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
    assert isinstance(medians, dict)
    assert isinstance(ratios, dict)
    for name, ms in medians.items():
        ratio = "" if name == "boto3" else f"  {ratios[name]:.2f}x boto3"
        print(f"  {name:42s} {ms:8.1f} ms{ratio}")
    print("  heaviest modules (self ms):", ", ".join(f"{n} {ms}" for ms, n in result["heaviest_self_ms"]))
    print("  heavy modules loaded by process_events:", result["loaded_by_process_events"] or "none")


if __name__ == "__main__":
    main()
