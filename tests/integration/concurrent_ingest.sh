#!/usr/bin/env bash
# Several processes ingesting the same drop at once: all succeed, the drop is taken in once,
# the journal holds one intake event and its chain verifies.
set -euo pipefail
bin=${1:?usage: concurrent_ingest.sh ECLUSE_BINARY}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$bin" init "$t/ws" >/dev/null
export ECLUSE_WORKSPACE=$t/ws
mkdir -p "$t/drop/payload"
head -c $((32 << 20)) /dev/urandom > "$t/drop/payload/blob"
printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"p","version":"1.0","channel":"prod","released":"2026-01-01T00:00:00Z","artifacts":[{"path":"blob","sha256":"%s","size":%d}]}' \
  "$(sha256sum "$t/drop/payload/blob" | cut -d' ' -f1)" $((32 << 20)) > "$t/drop/drop.json"
pids=()
for i in 1 2 3 4; do
  "$bin" ingest "$t/drop" > "$t/out$i" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "an ingest failed: $(cat "$t"/out*)"; done
[ "$(grep -l '^received' "$t"/out* | wc -l)" -eq 4 ] || fail "not every process reports received"
[ "$(grep -c 'already ingested' "$t"/out* | awk -F: '{s+=$2} END {print s}')" -eq 3 ] || fail "more than one process took the drop in"
[ "$("$bin" log | grep -c 'intake.received')" -eq 1 ] || fail "intake journaled more than once"
"$bin" log --verify >/dev/null || fail "journal chain broken by concurrent writers"
echo "concurrent ingest: all checks passed"
