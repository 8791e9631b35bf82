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
[ "$(grep -lE '^(held|approved|signed)' "$t"/out* | wc -l)" -eq 1 ] || fail "not exactly one process unpacked the drop"
[ "$(grep -l 'intake.replay' "$t"/out* | wc -l)" -eq 3 ] || fail "the other processes do not report a replay"
[ "$("$bin" log | grep -c 'intake.received')" -eq 1 ] || fail "intake journaled more than once"
# Different drops of one (vendor, product, channel) and version, at the same time: the version
# checks are serialised per line, so exactly one is verified and the others reuse its version.
for round in 1 2 3; do
  pids=()
  for i in 1 2 3; do
    random_drop "$t/line$round-$i" 1 1 "3.$round"
    "$bin" ingest "$t/line$round-$i" > "$t/line-out$round-$i" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || true; done
  [ "$(grep -lE '^(held|approved|signed)' "$t"/line-out$round-* | wc -l)" -eq 1 ] \
    || fail "round $round: not exactly one drop of version 3.$round unpacked: $(cat "$t"/line-out$round-*)"
  [ "$(grep -l 'verify.version_reuse' "$t"/line-out$round-* | wc -l)" -eq 2 ] \
    || fail "round $round: the other drops are not version reuses"
done
"$bin" log --verify >/dev/null || fail "journal chain broken by concurrent writers"
echo "concurrent ingest: all checks passed"
