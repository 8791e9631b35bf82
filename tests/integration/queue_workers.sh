#!/usr/bin/env bash
# Several `ecluse worker` processes sharing one job queue in a real PostgreSQL server (the
# throwaway cluster ctest starts; a fresh database per run), one of them killed mid-way: every
# drop is processed exactly once and nothing is lost. `ecluse watch --once --enqueue-only`
# queues 30 drops (10 products, versions 1.0, 1.1, 1.2 of each: a line's drops must run in
# order, or the later version would be judged first and the earlier one refused as a
# rollback); three workers drain the queue; the second SIGKILLs itself inside its first
# sandbox test run (ECLUSE_FAULT=test.ran), holding a job and a drop lease. The survivors take
# its job over from the last committed stage. Then:
#   every drop promoted, one tag each, versions of a product promoted in order; each journal
#   event of a drop's run exactly once; one job per stage per drop, all done; no lease left;
#   the killed worker's job taken over (a second attempt); jobs shared by several workers;
#   git fsck, ecluse verify and log --verify clean. Then a drop held for review, approved: the
#   approval queues its promotion and a worker carries it into the channel; one approved while
#   the release key could not sign is queued by `ecluse sign`.
# QUEUE_STORE=sqlite runs the same against SQLite's state.db.
source "$(dirname "$0")/lib.sh"
export HOME=$t GIT_CONFIG_NOSYSTEM=1
store=${QUEUE_STORE:-postgresql}
new_workspace
allow_all
in=$ECLUSE_WORKSPACE/staging/incoming
repo=$ECLUSE_WORKSPACE/repos/preprod.git
if [ "$store" = postgresql ]; then
  port=${ECLUSE_TEST_PG_PORT:?run through ctest: it starts the test cluster (scripts/pg-cluster.sh)}
  conn=$(bash "$here/scripts/pg-cluster.sh" createdb "$port" "queue_$$")
  python3 - "$ECLUSE_WORKSPACE/ecluse.json" "$conn" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["state"]["connection"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY
fi
products=$(seq -f 'p%02g' 1 10)
for p in $products; do
  for v in 1.0 1.1 1.2; do
    random_drop "$in/$p-$v" 1 0 "$v" "$p"
    head -c 4096 /dev/urandom > "$in/$p-$v/payload/part1.bin"
    python3 - "$in/$p-$v" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
m = json.load(open(d + "/drop.json"))
data = open(d + "/payload/part1.bin", "rb").read()
m["artifacts"][0].update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
open(d + "/drop.json", "w").write(json.dumps(m))
PY
    sign_drop "$in/$p-$v"
    touch "$in/$p-$v/READY"
  done
done

"$bin" watch --once --enqueue-only --log-format json > "$t/watch" 2>&1 || { cat "$t/watch"; fail "watch --enqueue-only"; }
[ "$(grep -c '"drop.queued"' "$t/watch")" -eq 30 ] || { cat "$t/watch"; fail "30 drops not queued"; }
grep -q '"job.started"' "$t/watch" && fail "watch --enqueue-only ran a job itself"
"$bin" queue --json > "$t/q0"
[ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["jobs"]))' "$t/q0")" -eq 30 ] || fail "queue does not list 30 jobs"

"$bin" worker --drain --poll-ms 100 --log-format json > "$t/w1" 2>&1 & w1=$!
ECLUSE_FAULT=test.ran "$bin" worker --drain --poll-ms 100 --log-format json > "$t/w2" 2>&1 & w2=$!
"$bin" worker --drain --poll-ms 100 --log-format json > "$t/w3" 2>&1 & w3=$!
set +e
wait "$w2"; rc2=$?
wait "$w1"; rc1=$?
wait "$w3"; rc3=$?
set -e
[ "$rc2" -eq 137 ] || { cat "$t/w2"; fail "worker 2 was not killed inside a test run (exit $rc2)"; }
[ "$rc1" -eq 0 ] && [ "$rc3" -eq 0 ] || { tail -5 "$t/w1" "$t/w3"; fail "surviving workers exited $rc1 and $rc3"; }

"$bin" status --json > "$t/status.json"
"$bin" log --json > "$t/log.json"
"$bin" queue --all --json > "$t/jobs.json"
git --git-dir="$repo" log --format=%s main > "$t/commits"
python3 - "$t/status.json" "$t/log.json" "$t/jobs.json" "$t/w1" "$t/w2" "$t/w3" <<'PY' || fail "queue run"
import collections, json, sys
drops = json.load(open(sys.argv[1]))["drops"]
entries = json.load(open(sys.argv[2]))["entries"]
jobs = json.load(open(sys.argv[3]))["jobs"]
logs = [[json.loads(l) for l in open(f) if l.startswith("{")] for f in sys.argv[4:7]]

assert len(drops) == 30, len(drops)
bad = [(d["product"], d["version"], d["state"]) for d in drops if d["state"] != "promoted"]
assert not bad, f"not promoted: {bad}"
ids = {d["id"] for d in drops}

# Every event of a drop's run exactly once (none lost, none twice).
count = collections.Counter((e["drop"], e["event"]) for e in entries if e["drop"] in ids)
for i in ids:
    for ev in ("intake.received", "verify.done", "unpack.done", "diff.done", "test.done",
               "policy.done", "sign.done", "sign.signed", "promote.promoted"):
        assert count[(i, ev)] == 1, (i[:12], ev, count[(i, ev)])
    assert count[(i, "intake.replay")] == 0 and count[(i, "intake.retry")] == 0, i[:12]

# Versions of a product promoted in order.
order = [(e["details"].get("product"), e["details"].get("version"))
         for e in entries if e["event"] == "promote.promoted"]
for p in sorted({d["product"] for d in drops}):
    seen = [v for q, v in order if q == p]
    assert seen == ["1.0", "1.1", "1.2"], (p, seen, order[:5])

# One job per stage per drop, all done; the killed worker's job taken over.
assert all(j["status"] == "done" for j in jobs), [j for j in jobs if j["status"] != "done"][:3]
stages = collections.Counter((j["dir"], j["stage"]) for j in jobs)
assert len(stages) == 30 * 8 and set(stages.values()) == {1}, stages.most_common(3)
retried = [j for j in jobs if j["attempts"] > 1]
assert len(retried) == 1 and retried[0]["stage"] == "test", retried
owners = collections.Counter(j["owner"] for j in jobs)
assert len(owners) >= 2, owners
orphaned = [e for log in (logs[0], logs[2]) for e in log if e["event"] == "job.orphaned"]
assert len(orphaned) == 1 and orphaned[0]["job"] == retried[0]["id"], orphaned
print(f"ok: 30 drops, {len(jobs)} jobs over {len(owners)} workers, job {retried[0]['id']} taken over")
PY
[ "$(git --git-dir="$repo" tag -l | wc -l)" -eq 30 ] || fail "not 30 tags"
git --git-dir="$repo" fsck --strict >/dev/null 2>&1 || fail "fsck"
git --git-dir="$repo" show main:metadata/1.root.json > "$t/root.json"
"$bin" verify "$repo" --root "$t/root.json" >/dev/null || fail "ecluse verify of the channel"
"$bin" log --verify >/dev/null || fail "journal chain"
[ "$("$bin" queue)" = "no queued or running jobs" ] || fail "jobs left open"

# A drop held for review continues through the queue once approved: the demo release (a new
# executable, a phone-home attempt) under the default policy.
"$bin" policy default > "$ECLUSE_WORKSPACE/policy.json"
"$bin" enqueue "$t/demo/drop" --promote-to preprod >/dev/null
"$bin" worker --drain --poll-ms 100 > "$t/w4" 2>&1 || { cat "$t/w4"; fail "worker on the demo drop"; }
held=$("$bin" status --json | python3 -c 'import json,sys; print(*[d["id"] for d in json.load(sys.stdin)["drops"] if d["product"] == "cloud-agent" and d["state"] == "held"])')
[ -n "$held" ] || fail "the demo drop was not held for review"
[ "$("$bin" queue)" = "no queued or running jobs" ] || fail "a held drop left a job open"
"$bin" approve "$held" --as alice --reason "phone-home reviewed" > "$t/approve" || fail "approve"
grep -Eq '^queued +job [0-9]+: promote to preprod' "$t/approve" || { cat "$t/approve"; fail "approval queued no promotion"; }
"$bin" worker --drain --poll-ms 100 > "$t/w5" 2>&1 || { cat "$t/w5"; fail "worker on the approved drop"; }
"$bin" show "$held" --json | python3 -c 'import json,sys; s=json.load(sys.stdin)["state"]; assert s == "promoted", s' \
  || fail "the approved drop was not promoted by a worker"
git --git-dir="$repo" tag -l | grep -q '^cloud-agent' || fail "no tag for the approved drop"
"$bin" verify "$repo" --root "$t/root.json" >/dev/null || fail "ecluse verify after the approved drop"
"$bin" approve "$held" --as bob --reason "late" > /dev/null 2>&1 && fail "approving a promoted drop"
[ "$("$bin" queue)" = "no queued or running jobs" ] || fail "jobs left open after the approved drop"
# The next release, approved while the release key cannot sign (loose permissions): the approval
# stands, nothing is queued; `ecluse sign` once the key is fixed queues the promotion.
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.0.1 v2 >/dev/null
"$bin" enqueue "$t/demo/v2" --promote-to preprod >/dev/null
"$bin" worker --drain --poll-ms 100 > "$t/w6" 2>&1 || { cat "$t/w6"; fail "worker on the second demo drop"; }
held2=$("$bin" status --json | python3 -c 'import json,sys; print(*[d["id"] for d in json.load(sys.stdin)["drops"] if d["version"] == "1.0.1" and d["state"] == "held"])')
[ -n "$held2" ] || fail "the second demo drop was not held for review"
release=$("$bin" keys list --json | python3 -c 'import json,sys; print([k["keyid"] for k in json.load(sys.stdin)["keys"] if k["role"]=="release" and k["status"]=="active"][0])')
chmod 644 "$ECLUSE_WORKSPACE/keys/private/$release.pem"
set +e; "$bin" approve "$held2" --as alice --reason "endpoint reviewed" > "$t/approve2" 2>&1; rc=$?; set -e
[ "$rc" -eq 3 ] && grep -q keys.loose_permissions "$t/approve2" || { cat "$t/approve2"; fail "approve with a loose release key (exit $rc)"; }
[ "$("$bin" queue)" = "no queued or running jobs" ] || fail "an unsigned drop's promotion was queued"
chmod 600 "$ECLUSE_WORKSPACE/keys/private/$release.pem"
"$bin" sign "$held2" > "$t/sign2" || { cat "$t/sign2"; fail "ecluse sign"; }
grep -Eq '^queued +job [0-9]+: promote to preprod' "$t/sign2" || { cat "$t/sign2"; fail "ecluse sign queued no promotion"; }
"$bin" worker --drain --poll-ms 100 > "$t/w7" 2>&1 || { cat "$t/w7"; fail "worker on the signed drop"; }
"$bin" show "$held2" --json | python3 -c 'import json,sys; s=json.load(sys.stdin)["state"]; assert s == "promoted", s' \
  || fail "the drop signed by hand was not promoted by a worker"
"$bin" verify "$repo" --root "$t/root.json" >/dev/null || fail "ecluse verify after the signed drop"
echo "queue workers ($store): all checks passed"
