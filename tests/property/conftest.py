"""Property-test fixtures: one persistent json-logic-js process (the reference implementation) per run."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).resolve().parent.parent / "node"
RUNNER = NODE_DIR / "jsonlogic_runner.js"
PACKAGE = NODE_DIR / "node_modules" / "json-logic-js" / "logic.js"
INSTALL_HINT = (
    "run `make install` (it runs `npm install` in tests/node) to install node's json-logic-js 2.0.5"
)


class JsonLogicJs:
    """Talks JSON lines to tests/node/jsonlogic_runner.js: one request, one reply."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    def apply(self, rule: Any, data: Any) -> dict[str, Any]:
        """json-logic-js's answer: {"result": tagged value} or {"error": message}."""
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps({"rule": rule, "data": data}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the json-logic-js runner exited unexpectedly")
        reply: dict[str, Any] = json.loads(line)
        return reply


@pytest.fixture(scope="session")
def jsonlogic_js() -> Iterator[JsonLogicJs]:
    """The reference implementation; fails (never skips) when node or the npm package is missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not on PATH: the JsonLogic differential test needs it; {INSTALL_HINT}")
    if not PACKAGE.exists():
        pytest.fail(f"json-logic-js is not installed in {NODE_DIR}; {INSTALL_HINT}")
    process = subprocess.Popen(
        [node, str(RUNNER)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=NODE_DIR,
    )
    try:
        yield JsonLogicJs(process)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
