#!/usr/bin/env bash
# Benchmark touchpoints.logic against datalogic-py, panzi-json-logic and json-logic-qubit on the same
# CX workload. Each library runs in its own virtual environment (bench/.venvs/<name>) and process.
# Usage: bash bench/logic/run.sh [ROUNDS] [REPEATS]     (writes bench/logic/RESULTS.md)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
ROUNDS="${1:-3}"
REPEATS="${2:-5}"
PY_MAIN="$REPO/.venv/bin/python"
PYTHON_BOOT="${PYTHON_BOOT:-$PY_MAIN}"
VENVS="$REPO/bench/.venvs"
OUT="${TMPDIR:-/tmp}/touchpoints-bench/logic"  # scratch: workload, raw runs, answers
mkdir -p "$VENVS" "$OUT"

venv() {  # venv NAME PACKAGE: a private environment holding one library
  local name="$1" package="$2"
  if [[ ! -x "$VENVS/$name/bin/python" ]]; then
    "$PYTHON_BOOT" -m venv "$VENVS/$name"
  fi
  "$VENVS/$name/bin/python" -m pip install --quiet --disable-pip-version-check "$package"
}
venv datalogic-py "datalogic-py>=5"
venv panzi-json-logic panzi-json-logic
venv json-logic-qubit json-logic-qubit

"$PY_MAIN" "$HERE/workload.py" --out "$OUT/workload"

declare -A PYTHON=(
  [touchpoints]="$PY_MAIN"
  [touchpoints-bare]="$PY_MAIN"
  [datalogic-py-session]="$VENVS/datalogic-py/bin/python"
  [datalogic-py-many]="$VENVS/datalogic-py/bin/python"
  [panzi-json-logic]="$VENVS/panzi-json-logic/bin/python"
  [json-logic-qubit]="$VENVS/json-logic-qubit/bin/python"
)
: > "$OUT/runs.jsonl"
for round in $(seq "$ROUNDS"); do  # interleave libraries so machine noise hits all of them alike
  for lib in touchpoints touchpoints-bare datalogic-py-session datalogic-py-many panzi-json-logic json-logic-qubit; do
    repeats="$REPEATS"
    [[ "$lib" == panzi-json-logic || "$lib" == json-logic-qubit ]] && repeats=2
    echo "round $round: $lib" >&2
    "${PYTHON[$lib]}" "$HERE/harness.py" "$lib" --workload "$OUT/workload" --repeats "$repeats" \
      --results "$OUT/results-$lib.json" >> "$OUT/runs.jsonl"
  done
done
"$PY_MAIN" "$HERE/report.py" --out "$OUT" --rounds "$ROUNDS" --repeats "$REPEATS" --results-md "$HERE/RESULTS.md"
cat "$HERE/RESULTS.md"
