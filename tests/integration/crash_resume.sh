#!/usr/bin/env bash
# kill -9 during intake leaves no record and no object; the re-run completes, a third run
# re-runs nothing, and the journal holds exactly one intake event.
set -euo pipefail
bin=${1:?usage: crash_resume.sh ECLUSE_BINARY}
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$bin" init "$t/ws" >/dev/null
export ECLUSE_WORKSPACE=$t/ws
drop=$t/drop
mkdir -p "$drop/payload"
arts=""
for i in 1 2 3 4; do
  head -c $((64 << 20)) /dev/urandom > "$drop/payload/part$i.bin"
  arts="$arts${arts:+,}{\"path\":\"part$i.bin\",\"sha256\":\"$(sha256sum "$drop/payload/part$i.bin" | cut -d' ' -f1)\",\"size\":$((64 << 20))}"
done
printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"big","version":"1.0","channel":"prod","released":"2026-01-01T00:00:00Z","artifacts":[%s]}' "$arts" > "$drop/drop.json"

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

"$bin" ingest "$drop" | grep -q '^received' || fail "re-run after the crash did not complete"
[ -z "$(ls -A "$t/ws/quarantine/tmp")" ] || fail "stale temporary files were not swept"
"$bin" ingest "$drop" | grep -q 'already ingested' || fail "third run re-ran intake"
[ "$("$bin" log | grep -c 'intake.received')" -eq 1 ] || fail "intake journaled more than once"
"$bin" log --verify >/dev/null || fail "journal broken after crash"
echo "crash and resume: all checks passed"
