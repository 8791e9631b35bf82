#!/usr/bin/env bash
# Regenerates README.md's reason-code table from `ecluse reasons --markdown`.
# usage: scripts/update-readme-reasons.sh [ECLUSE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/dev/ecluse}
table=$("$bin" reasons --markdown)
awk -v table="$table" '
  /<!-- reasons:begin -->/ { print; print table; skip = 1; next }
  /<!-- reasons:end -->/ { skip = 0 }
  !skip { print }
' README.md > README.md.tmp
mv README.md.tmp README.md
