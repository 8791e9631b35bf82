#!/usr/bin/env bash
# kill -9 during intake leaves no record and no object; the re-run completes, a third run
# re-runs nothing, and the journal holds exactly one intake event.
source "$(dirname "$0")/lib.sh"
new_workspace
drop=$t/drop
random_drop "$drop" 4 64

"$bin" ingest "$drop" >/dev/null 2>&1 &
pid=$!
# Kill once intake has started copying (a temporary object exists).
for _ in $(seq 1 400); do
  if [ -n "$(ls -A "$t/ws/quarantine/tmp" 2>/dev/null)" ]; then break; fi
  sleep 0.005
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
"$bin" status --json | grep -q '"drops": \[\]' || fail "a killed intake left a drop record"
[ -z "$(find "$t/ws/quarantine/objects" -type f)" ] || fail "a killed intake left objects"

"$bin" ingest "$drop" | grep -Eq '^(held|approved|signed)' || fail "re-run after the crash did not complete"
[ -z "$(ls -A "$t/ws/quarantine/tmp")" ] || fail "stale temporary files were not swept"
{ "$bin" ingest "$drop" || true; } | grep -q 'intake.replay' || fail "third run re-ran intake"
[ "$("$bin" log | grep -c 'intake.received')" -eq 1 ] || fail "intake journaled more than once"
"$bin" log --verify >/dev/null || fail "journal broken after crash"
echo "crash and resume: all checks passed"
