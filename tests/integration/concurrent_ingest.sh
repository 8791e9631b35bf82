#!/usr/bin/env bash
# Several processes ingesting the same drop at once: all succeed, the drop is taken in once,
# the journal holds one intake event and its chain verifies.
source "$(dirname "$0")/lib.sh"
new_workspace
random_drop "$t/drop" 1 32
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
