#!/usr/bin/env bash
# ecluse watch, the drop watcher: drops become ready by READY marker (or by staying unchanged
# with --ready quiet), run in worker processes and end promoted into preprod; half-written,
# unreadable and vanished drops get a clear rejection or log line, never a crash; a finished
# drop is not processed again after a restart; SIGTERM lets the running stage commit, the
# watcher exits 0 and the drop resumes on restart; --reverify-every runs reverify; the log is
# one line per event, human or JSON.
source "$(dirname "$0")/lib.sh"
export HOME=$t GIT_CONFIG_NOSYSTEM=1
new_workspace
allow_all
in=$ECLUSE_WORKSPACE/staging/incoming
repo=$ECLUSE_WORKSPACE/repos/preprod.git
state_of() {  # PRODUCT → its drop's state
  "$bin" status --json | python3 -c '
import json, sys
s = [d["state"] for d in json.load(sys.stdin)["drops"] if d["product"] == sys.argv[1]]
print(",".join(s))' "$1"
}
is_state() { [ "$(state_of "$1")" = "$2" ]; }  # PRODUCT STATE
wait_for() {  # SECONDS COMMAND…: polls until COMMAND succeeds
  local until=$(($(date +%s) + $1)); shift
  until "$@"; do
    [ "$(date +%s)" -lt "$until" ] || return 1
    sleep 0.1
  done
}

# 1. --once: two ready drops, one not ready (no READY), a half-written one (truncated
# drop.json), one without drop.json, one whose drop.json is a directory (unreadable).
random_drop "$in/a-1.0" 2 1 1.0 alpha && touch "$in/a-1.0/READY"
random_drop "$in/b-1.0" 2 1 1.0 beta && touch "$in/b-1.0/READY"
random_drop "$in/c-1.0" 1 1 1.0 gamma  # no READY yet
random_drop "$in/half" 1 1 1.0 half && head -c 40 "$in/half/drop.json" > "$t/trunc" \
  && mv "$t/trunc" "$in/half/drop.json" && touch "$in/half/READY"
mkdir -p "$in/empty" && touch "$in/empty/READY"
mkdir -p "$in/weird/drop.json" && touch "$in/weird/READY"
"$bin" watch --once --log-format json > "$t/log1" 2>"$t/err1" || { cat "$t/log1" "$t/err1"; fail "watch --once exited $?"; }
python3 - "$t/log1" <<'PY' || { cat "$t/log1"; fail "the JSON log"; }
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]   # every line is one JSON object
assert all("time" in e and "event" in e for e in events), events
fin = {e["dir"].rsplit("/", 1)[1]: e for e in events if e["event"] == "drop.finished"}
assert fin["a-1.0"]["state"] == "promoted" and fin["a-1.0"]["promoted_to"] == "preprod", fin
assert fin["b-1.0"]["state"] == "promoted", fin
assert "c-1.0" not in fin, "a drop without READY was processed"
for bad in ("half", "empty", "weird"):
    assert fin[bad]["state"] == "rejected" and fin[bad]["reason"], (bad, fin.get(bad))
assert events[0]["event"] == "watch.started" and events[-1]["event"] == "watch.stopped"
PY
[ "$(state_of alpha)" = promoted ] && [ "$(state_of beta)" = promoted ] || fail "not promoted"
[ -z "$(state_of gamma)" ] || fail "the drop without READY has a record"
"$bin" status --json | grep '"reason": "drop\.' >/dev/null || fail "the half-written drop.json has no drop.* reason"
git --git-dir="$repo" tag -l | grep -x alpha/1.0 >/dev/null || fail "no tag alpha/1.0"

# 2. Restarting changes nothing: finished drops are skipped without a journal entry.
before=$("$bin" log | wc -l)
"$bin" watch --once > "$t/log2" || fail "second --once"
grep -q 'drop.already_finished' "$t/log2" || { cat "$t/log2"; fail "finished drops were not recognised"; }
grep -q 'drop.started.*c-1.0' "$t/log2" && fail "a drop without READY was started"
[ "$("$bin" log | wc -l)" -eq "$before" ] || fail "a restart journaled something: $("$bin" log | tail -3)"

# 3. A running watcher (human log): a drop that becomes ready later is seen through inotify;
# a drop directory that vanishes is logged; SIGTERM stops it with exit 0.
"$bin" watch --jobs 1 > "$t/log3" 2>&1 &
w=$!
wait_for 10 grep -q watch.started "$t/log3" || fail "watcher did not start"
touch "$in/c-1.0/READY"
wait_for 30 grep -q 'drop.finished.*c-1.0.*state=promoted' "$t/log3" || { cat "$t/log3"; fail "c-1.0 not processed"; }
mkdir "$in/gone" && wait_for 10 grep -q 'drop.seen.*gone' "$t/log3" || fail "new directory not seen"
rmdir "$in/gone" && wait_for 10 grep -q 'drop.vanished.*gone' "$t/log3" || { cat "$t/log3"; fail "vanished not logged"; }
kill -TERM "$w"
wait "$w" || fail "watcher exited $? after SIGTERM"
grep -q 'watch.stopping signal=SIGTERM' "$t/log3" && grep -q 'watch.stopped' "$t/log3" || fail "no clean stop: $(tail -3 "$t/log3")"

# 4. SIGTERM while a drop is being processed: the running stage commits, the worker stops at
# the next commit point, the watcher exits 0; the restart resumes and finishes it, with one
# intake in the journal. The worker pauses after unpack ran (ECLUSE_FAULT_SLEEP) and the signal
# comes once verify has committed, so it lands during unpack: the drop stops at unpacked.
random_drop "$in/d-1.0" 2 1 1.0 delta && touch "$in/d-1.0/READY"
ECLUSE_FAULT_SLEEP=unpack.ran:3000 "$bin" watch --jobs 1 > "$t/log4" 2>&1 &
w=$!
wait_for 30 is_state delta verified || { cat "$t/log4"; fail "d-1.0 not verified"; }
kill -TERM "$w"
wait "$w" || { cat "$t/log4"; fail "watcher exited $? after SIGTERM during a drop"; }
grep -q 'drop.interrupted.*d-1.0' "$t/log4" && grep -q 'watch.stopped' "$t/log4" || { cat "$t/log4"; fail "no interrupted drop and clean stop"; }
[ "$(state_of delta)" = unpacked ] || fail "the interrupted drop is $(state_of delta), not unpacked"
"$bin" watch --once > "$t/log5" || { cat "$t/log5"; fail "restart"; }
[ "$(state_of delta)" = promoted ] || fail "d-1.0 not promoted after the restart: $(state_of delta)"
"$bin" log --json > "$t/log.json"
python3 - "$t/log.json" <<'PY' || fail "the resumed drop ran a stage twice"
import collections, json, sys
entries = json.load(open(sys.argv[1]))["entries"]
ids = {e["drop"] for e in entries if e["event"] == "intake.received" and e["details"].get("product") == "delta"}
assert len(ids) == 1, ids
count = collections.Counter(e["event"] for e in entries if e["drop"] in ids)
for event in ("intake.received", "verify.done", "unpack.done", "diff.done", "promote.promoted"):
    assert count[event] == 1, (event, count)
PY

# 5. --ready quiet: a drop without READY is taken once it stopped changing.
random_drop "$in/e-1.0" 1 1 1.0 epsilon
"$bin" watch --once --ready quiet --quiet-seconds 1 > "$t/log6" || { cat "$t/log6"; fail "quiet once"; }
[ "$(state_of epsilon)" = promoted ] || { cat "$t/log6"; fail "quiet drop not processed"; }

# 6. --reverify-every: the watcher runs ecluse reverify on its schedule.
"$bin" watch --reverify-every 1s > "$t/log7" 2>&1 &
w=$!
wait_for 60 grep -q 'reverify.finished' "$t/log7" || { kill "$w"; cat "$t/log7"; fail "no scheduled reverify"; }
kill -TERM "$w"; wait "$w" || fail "watcher with a schedule exited $?"
grep -q 'reverify.finished exit=0' "$t/log7" || { cat "$t/log7"; fail "scheduled reverify did not pass"; }
"$bin" log | grep reverify.run >/dev/null || fail "reverify not journaled"

# Bad options are usage errors.
set +e; "$bin" watch --reverify-every soon >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 2 ] || fail "--reverify-every soon exited $rc"
set +e; "$bin" watch --promote-to nowhere >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -ne 0 ] || fail "--promote-to nowhere accepted"
# The shipped systemd units start commands this binary has, with options it accepts.
for unit in "$here"/scripts/systemd/*.service; do
  cmd=$(sed -n 's|^ExecStart=/usr/local/bin/ecluse ||p' "$unit")
  [ -n "$cmd" ] || fail "$unit has no ExecStart of ecluse"
  # shellcheck disable=SC2086 # the unit's words
  "$bin" $cmd --help >/dev/null || fail "$unit: 'ecluse $cmd' is not a valid command line"
done
grep -q '^Unit=\|^OnCalendar=' "$here/scripts/systemd/ecluse-reverify.timer" || fail "timer has no schedule"
"$bin" log --verify >/dev/null || fail "journal broken"
git --git-dir="$repo" fsck --strict >/dev/null 2>&1 || fail "fsck"
echo "watch: all checks passed"
