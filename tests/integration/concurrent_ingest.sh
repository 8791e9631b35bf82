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
ok=0
for p in "${pids[@]}"; do
  set +e; wait "$p"; rc=$?; set -e
  [ "$rc" -le 1 ] || fail "an ingest failed: $(cat "$t"/out*)"
  [ "$rc" -eq 0 ] && ok=$((ok + 1))
done
[ "$ok" -eq 1 ] || fail "$ok processes report success, expected exactly 1"
[ "$(grep -l '^verified' "$t"/out* | wc -l)" -eq 1 ] || fail "not exactly one process verified the drop"
[ "$(grep -l 'intake.replay' "$t"/out* | wc -l)" -eq 3 ] || fail "the other processes do not report a replay"
[ "$("$bin" log | grep -c 'intake.received')" -eq 1 ] || fail "intake journaled more than once"
"$bin" log --verify >/dev/null || fail "journal chain broken by concurrent writers"
echo "concurrent ingest: all checks passed"
