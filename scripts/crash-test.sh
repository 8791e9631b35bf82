#!/usr/bin/env bash
# The full crash test: a machine crash (the watcher and its workers killed) at every fault point
# a clean `ecluse watch --once` passes, then a restart, each checked for completed, unduplicated
# promotions and intact stores (tests/integration/crash_watch.sh; ctest runs a reduced subset).
# Builds nothing.
# usage: scripts/crash-test.sh [ECLUSE_BINARY]   (default build/dev/ecluse, else build/release/ecluse)
#   CRASH_POINTS="NAME NAME:N …" runs only those points; CRASH_KEEP=DIR keeps failed workspaces;
#   CRASH_STRICT_JOURNAL=0 only reports a point whose crash lost a journal event (default: fails it).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
esac
bin=${1:-}
if [ -z "$bin" ]; then
  for candidate in build/dev/ecluse build/release/ecluse; do
    [ -x "$candidate" ] && { bin=$candidate; break; }
  done
  [ -n "$bin" ] || { echo "no ecluse binary in build/dev or build/release: build one, or name it" >&2; exit 2; }
fi
[ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
bin=$(realpath "$bin")

echo "== crash test: $bin ($("$bin" --version 2>/dev/null || echo "version unknown"))"
start=$(date +%s)
log=$(mktemp); trap 'rm -f "$log"' EXIT
rc=0
CRASH_POINTS=${CRASH_POINTS:-all} bash tests/integration/crash_watch.sh "$bin" 2>&1 | tee "$log" || rc=$?
# crash_watch.sh prints one line per point: "ok    POINT …" or "FAIL  POINT …".
total=$(grep -Ec '^(ok|FAIL)  ' "$log" || true)
ok=$(grep -Ec '^ok  ' "$log" || true)
echo "== $total crash points, $ok passed, $((total - ok)) failed, $(($(date +%s) - start)) s in all"
if [ "$rc" -ne 0 ]; then
  grep -E '^FAIL  ' "$log" | sed 's/^FAIL  */   failed: /' || true
  exit 1
fi
