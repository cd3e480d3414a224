#!/usr/bin/env bash
# The STATE item and per-event DynamoDB cost of one order with N carrier updates (default 10000),
# through the real ProcessEvents handler on in-process moto; with a commit, the same for that
# commit's code first (its functions/ exported with git archive, the working tree untouched).
# Usage: bash bench/state/run.sh [EVENTS] [BASE_COMMIT]
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-10000}"
BASE="${2:-}"
PY="${PY:-.venv/bin/python}"
echo "machine: $(nproc) cores, $(uname -sm), python $("$PY" -c 'import platform; print(platform.python_version())'), load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$BASE" ]; then
    DIR="$(mktemp -d)"
    trap 'rm -rf "$DIR"' EXIT
    git archive "$BASE" functions | tar -x -C "$DIR"
    echo "== $BASE =="
    PYTHONPATH="$DIR/functions" "$PY" bench/state/bench.py --events "$N"
fi
echo "== working tree ($(git rev-parse --short HEAD)) =="
"$PY" bench/state/bench.py --events "$N"
