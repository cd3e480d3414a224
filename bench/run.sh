#!/usr/bin/env bash
# Run every benchmark: each bench/<area>/run.sh in turn.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for script in "$HERE"/*/run.sh; do
  echo "== $script" >&2
  bash "$script"
done
