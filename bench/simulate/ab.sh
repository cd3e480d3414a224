#!/usr/bin/env bash
# A/B timing of the simulator: an older commit against the working tree, alternately, same events.
#   bash bench/simulate/ab.sh BASE_COMMIT EVENTS_FILE [ROUNDS] [RULES_DIR]
# The base's `functions/` is exported with `git archive` into a temporary folder (no worktree, no
# checkout: the working tree is not touched) and put first on PYTHONPATH. Each round runs
# bench.py on the base, then on the working tree: on a shared machine only back-to-back runs
# compare, and the minimum over rounds is the least disturbed number.
set -euo pipefail
cd "$(dirname "$0")/../.."
BASE="${1:?usage: ab.sh BASE_COMMIT EVENTS_FILE [ROUNDS] [RULES_DIR]}"
FILE="${2:?usage: ab.sh BASE_COMMIT EVENTS_FILE [ROUNDS] [RULES_DIR]}"
ROUNDS="${3:-2}"
RULES="${4:-rules}"
PY="${PY:-.venv/bin/python}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
git archive "$BASE" functions | tar -x -C "$DIR"
echo "base $BASE vs working tree, $ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
    printf "round %s base: " "$round"
    PYTHONPATH="$DIR/functions" "$PY" bench/simulate/bench.py "$FILE" --rules "$RULES" | grep '^simulate'
    printf "round %s new:  " "$round"
    "$PY" bench/simulate/bench.py "$FILE" --rules "$RULES" | grep '^simulate'
done
