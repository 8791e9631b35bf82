#!/usr/bin/env bash
# No double processing: two watchers and a CLI ingest started at once on one workspace, over
# the same ready drops. Every drop is ingested once and promoted once (leases in the state
# store), the journal verifies, the channel holds one commit per release, and the state store
# is consistent (one record per drop, every stage committed once).
source "$(dirname "$0")/lib.sh"
export HOME=$t GIT_CONFIG_NOSYSTEM=1
new_workspace
allow_all
# A drop another process holds is looked at again after one second (default 15).
python3 - "$ECLUSE_WORKSPACE/ecluse.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["watch"]["retry_seconds"] = 1
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
in=$ECLUSE_WORKSPACE/staging/incoming
products="p1 p2 p3 p4 p5 p6"
for p in $products; do
  random_drop "$in/$p" 2 2 1.0 "$p" && touch "$in/$p/READY"
done
"$bin" watch --once --jobs 2 > "$t/w1" 2>&1 &
a=$!
"$bin" watch --once --jobs 2 > "$t/w2" 2>&1 &
b=$!
set +e
"$bin" ingest --incoming --promote-to preprod > "$t/cli" 2>&1
cli_rc=$?
wait "$a"; ra=$?
wait "$b"; rb=$?
set -e
[ "$ra" -eq 0 ] && [ "$rb" -eq 0 ] || { cat "$t/w1" "$t/w2"; fail "watchers exited $ra and $rb"; }
[ "$cli_rc" -le 3 ] || { cat "$t/cli"; fail "the CLI ingest exited $cli_rc"; }
# Each of the three processed some drops or found them busy: all six are promoted once.
"$bin" log --json > "$t/log.json"
"$bin" status --json > "$t/status.json"
python3 - "$t/log.json" "$t/status.json" "$products" <<'PY' || { cat "$t/w1" "$t/w2" "$t/cli"; fail "double processing"; }
import collections, json, sys
entries = json.load(open(sys.argv[1]))["entries"]
drops = json.load(open(sys.argv[2]))["drops"]
products = sys.argv[3].split()
assert sorted(d["product"] for d in drops) == sorted(products), drops
assert all(d["state"] == "promoted" for d in drops), [(d["product"], d["state"]) for d in drops]
count = collections.Counter((e["drop"], e["event"]) for e in entries)
for d in drops:
    for event in ("intake.received", "verify.done", "unpack.done", "diff.done", "test.done",
                  "policy.done", "sign.signed", "promote.promoted"):
        assert count[(d["id"], event)] == 1, (d["product"], event, count[(d["id"], event)])
PY
"$bin" log --verify >/dev/null || fail "journal broken"
repo=$ECLUSE_WORKSPACE/repos/preprod.git
git --git-dir="$repo" fsck --strict >/dev/null 2>&1 || fail "fsck"
[ "$(git --git-dir="$repo" rev-list --count main)" -eq 6 ] || fail "preprod has $(git --git-dir="$repo" rev-list --count main) commits, not 6"
[ "$(git --git-dir="$repo" tag -l | wc -l)" -eq 6 ] || fail "not one tag per release"
sqlite3 "$ECLUSE_WORKSPACE/state.db" 'PRAGMA integrity_check' | grep -x ok >/dev/null || fail "state.db integrity"
[ "$(sqlite3 "$ECLUSE_WORKSPACE/state.db" 'SELECT count(*) FROM leases')" -eq 0 ] || fail "leases left behind"
echo "busy or already finished: watcher 1 $(grep -Ec "drop.(busy|already_finished)" "$t/w1"), watcher 2 $(grep -Ec "drop.(busy|already_finished)" "$t/w2"), cli $(grep -c "^busy" "$t/cli")"
echo "concurrent watchers: all checks passed"
