"""Cold start stays lean: what a handler's import and runtime build must not load (bench/coldstart)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Heavy modules a decision never needs at cold start, and why each was a problem.
NEVER_AT_COLD_START = {
    "boto3": "clients are created on first use (the SDK is the baseline, not ours to pay twice)",
    "jinja2": "templates are rendered by Dispatch at send time; the runtime does not lint them",
    "rich": "CLI output only",
    "click": "CLI only",
    "aws_xray_sdk": "only when tracing is on",
    "hypothesis": "test-only",
    "moto": "test-only",
}

CODE = """
import json, sys
import {module}
from touchpoints.handlers.runtime import build_runtime
build_runtime()
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("module", ["touchpoints.handlers.process_events", "touchpoints.handlers.dispatch"])
def test_a_handler_cold_start_loads_no_heavy_module(repo_root: Path, module: str) -> None:
    # GIVEN a fresh interpreter with the functions' environment, tracing off
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    env.update(
        {
            "PYTHONPATH": str(repo_root / "functions"),
            "TABLE_NAME": "cold-start",
            "RULES_DIR": str(repo_root / "rules"),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    # WHEN the handler module is imported and its runtime (catalog included) is built
    done = subprocess.run(
        [sys.executable, "-c", CODE.format(module=module)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout))
    # THEN none of the heavy modules is loaded (the runtime really was built: the catalog is there)
    assert "touchpoints.catalog.loader" in loaded
    assert {name: why for name, why in NEVER_AT_COLD_START.items() if name in loaded} == {}
