#!/usr/bin/env bash
# Cold start benchmark: handler import + build_runtime (catalog loaded and compiled), and the same
# plus the first record, vs `import boto3` (fresh interpreter each, -X importtime, rounds
# interleaved, medians). Writes nothing; paste the output into RESULTS.md.
# Usage: bash bench/coldstart/run.sh [RUNS] [bench.py options, e.g. --base OTHER/touchpoints]   (default 15)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PY:-.venv/bin/python}"
RUNS="${1:-15}"
shift || true
echo "== precompiled bytecode (ship .pyc: python -m compileall in the build) =="
"$PY" bench/coldstart/bench.py --runs "$RUNS" "$@"
echo "== sources only (no .pyc in the package: every module compiled on import) =="
"$PY" bench/coldstart/bench.py --runs "$((RUNS / 3 > 3 ? RUNS / 3 : 3))" --no-pyc --no-tracing "$@"
