#!/usr/bin/env bash
# Simulator benchmark: generate N realistic events (deterministic), then time
#   1. the simulator API (parse + simulate, CPU and wall time), and
#   2. the command line: `touchpoints simulate --json` (wall time, output to /dev/null).
# Usage: bash bench/simulate/run.sh [EVENTS] [RULES_DIR]     (defaults: 100000 rules)
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-100000}"
RULES="${2:-rules}"
PY="${PY:-.venv/bin/python}"
TP="${TP:-.venv/bin/touchpoints}"
FILE="${TMPDIR:-/tmp}/touchpoints-bench-${N}.jsonl"

"$PY" bench/simulate/generate.py --events "$N" --seed 7 --out "$FILE"
echo "machine: $(nproc) cores, $(uname -sm), python $("$PY" -c 'import platform; print(platform.python_version())'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== simulator API =="
"$PY" bench/simulate/bench.py "$FILE" --rules "$RULES"
echo "== touchpoints simulate --json =="
start=$(date +%s.%N)
"$TP" simulate "$FILE" --rules "$RULES" --json > /dev/null
end=$(date +%s.%N)
"$PY" -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); n=int(sys.argv[3]); print(f'{n} events in {s:.1f}s wall = {n/s:.0f} events/s')" "$start" "$end" "$N"
