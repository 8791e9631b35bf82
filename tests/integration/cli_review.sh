#!/usr/bin/env bash
# Diff, verdict and review from the command line: a first release held for its new executable
# and endpoint, `ecluse diff` (terminal and --json), `status` listing what waits for whom,
# approvals by distinct names, a second release diffed against the first, a held drop rejected,
# a malformed policy refused with exit 2 and the field named, and the HTML report rendered in
# headless Chromium.
source "$(dirname "$0")/lib.sh"
expect_rc() {  # RC COMMAND…
  local want=$1; shift
  set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$t/out" "$t/err"; fail "'$*' exited $rc, expected $want"; }
}
new_workspace
python3 - "$ECLUSE_WORKSPACE/policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["approvals"]["prod"] = 2
open(sys.argv[1], "w").write(json.dumps(p))
PY
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.0.0 v1 >/dev/null
expect_rc 0 "$bin" ingest "$t/demo/v1"
grep -q '^held ' "$t/out" || fail "first release not held: $(cat "$t/out")"
id=$(awk '/^held /{print $2}' "$t/out")

expect_rc 0 "$bin" diff "$id"
grep -q 'first release: no baseline' "$t/out" || fail "diff does not say first release"
grep -q 'diff.new_executable *bin/acme-agent' "$t/out" || fail "diff lacks the new executable"
grep -q 'diff.new_endpoint *etc/agent.conf' "$t/out" || fail "diff lacks the new endpoint"
grep -q $'\033\[' "$t/out" && fail "colours written to a pipe"
if command -v script >/dev/null; then  # on a terminal (script(1) gives it one): colours
  script -qec "$bin diff $id" /dev/null >"$t/tty" </dev/null || fail "diff on a terminal failed"
  grep -q $'\033\[' "$t/tty" || fail "no colours on a terminal"
  NO_COLOR=1 script -qec "$bin diff $id" /dev/null >"$t/tty" </dev/null || fail "diff failed"
  grep -q $'\033\[3' "$t/tty" && fail "colours despite NO_COLOR"
fi
expect_rc 0 "$bin" diff --json "$id"
python3 - "$t/out" <<'PY' || fail "diff --json lacks stable fields"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["diff"]["schema"] == "ecluse.diff/v1"
assert d["diff"]["baseline"] is None
assert d["diff"]["summary"]["added"] == 10
assert d["verdict"]["decision"] == "hold" and d["verdict"]["approvals"]["required"] == 2
assert any(f["code"] == "diff.new_endpoint" for f in d["findings"])
assert any(e["endpoint"] == "https://telemetry.acme.example/v1" for e in d["diff"]["endpoints"])
PY

expect_rc 0 "$bin" status
grep -q "waiting for review" "$t/out" || fail "status does not list held drops"
grep -q "$id.*needs 2 more of 2 approvals" "$t/out" || fail "status lacks what the drop waits for"
expect_rc 2 "$bin" approve "$id" --as "bad name" --reason ok
grep -q usage.invalid_argument "$t/err" || fail "bad reviewer name accepted"
expect_rc 2 "$bin" approve "$id" --as alice
expect_rc 0 "$bin" approve "$id" --as alice --reason "script and endpoint reviewed"
grep -q 'waiting for 1 more' "$t/out" || fail "one approval of two: $(cat "$t/out")"
expect_rc 0 "$bin" approve "$id" --as alice --reason "again"
grep -q 'waiting for 1 more' "$t/out" || fail "a repeated name counted twice"
expect_rc 0 "$bin" status --json
grep -q '"approved_by": \[' "$t/out" || fail "status --json lacks approvals"
expect_rc 0 "$bin" approve --json "$id" --as bob --reason "agreed"
grep -q '"state": "signed"' "$t/out" || fail "two distinct approvals did not approve and sign"
expect_rc 2 "$bin" approve "$id" --as carol --reason late
grep -q review.not_held "$t/err" || fail "approving an approved drop"

# The second release diffs against the first: one changed file, one new endpoint.
cp -r "$t/demo/v1" "$t/v2"
sed -i 's#telemetry.acme.example/v1#telemetry.acme.example/v1\nbackup = https://exfil.other-cloud.example.com/up#' \
  "$t/v2/payload/etc/agent.conf"
python3 - "$t/v2" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]; m = json.load(open(d + "/drop.json"))
m["version"] = "1.1.0"
for a in m["artifacts"]:
    data = open(os.path.join(d, "payload", a["path"]), "rb").read()
    a["sha256"] = hashlib.sha256(data).hexdigest(); a["size"] = len(data)
open(d + "/drop.json", "w").write(json.dumps(m, indent=2))
PY
sign_drop "$t/v2"
expect_rc 0 "$bin" ingest "$t/v2"
id2=$(awk '/^held /{print $2}' "$t/out")
[ -n "$id2" ] || fail "second release not held for its new endpoint: $(cat "$t/out")"
expect_rc 0 "$bin" diff "$id2"
grep -q "vs 1.0.0 \[accepted baseline ${id:0:12}\]" "$t/out" || fail "baseline not named: $(head -3 "$t/out")"
grep -q '  M  etc/agent.conf' "$t/out" || fail "modified file not listed"
grep -q 'exfil.other-cloud.example.com' "$t/out" || fail "new endpoint not reported"
grep "new endpoint\|endpoint" "$t/out" | grep -q "telemetry.acme.example" && fail "an endpoint of the baseline reported as new"
expect_rc 0 "$bin" reject "$id2" --as carol --reason "unknown destination"
grep -q '^rejected' "$t/out" || fail "reject did not reject"
expect_rc 0 "$bin" show --json "$id2"
grep -q '"reason": "review.rejected"' "$t/out" || fail "rejection reason not recorded"
expect_rc 0 "$bin" log --verify
expect_rc 0 "$bin" log --json
for ev in review.approved review.completed review.rejected; do
  grep -q "\"event\": \"$ev\"" "$t/out" || fail "journal lacks $ev"
done

# A malformed policy: exit 2 naming the field, nothing evaluated, the drop resumes once fixed.
cp "$ECLUSE_WORKSPACE/policy.json" "$t/policy.good"
python3 - "$ECLUSE_WORKSPACE/policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["thresholds"]["max_changed_share"]["limit"] = "half"
open(sys.argv[1], "w").write(json.dumps(p))
PY
expect_rc 2 "$bin" policy check
grep -q 'thresholds.max_changed_share.limit' "$t/err" || fail "policy check does not name the field"
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.2.0 v3 >/dev/null
expect_rc 2 "$bin" ingest "$t/demo/v3"
grep -q 'policy.invalid' "$t/err" || fail "ingest with a bad policy: $(cat "$t/err")"
expect_rc 0 "$bin" status --json
grep -q '"state": "unpacked"' "$t/out" || fail "the drop did not stay unpacked under a bad policy"
cp "$t/policy.good" "$ECLUSE_WORKSPACE/policy.json"
expect_rc 0 "$bin" ingest "$t/demo/v3"
grep -Eq '^(held|approved|signed) ' "$t/out" || fail "drop did not resume once the policy was fixed"

# The report renders offline in headless Chromium.
report=$(find "$ECLUSE_WORKSPACE/quarantine/drops/$(ls "$ECLUSE_WORKSPACE/quarantine/drops" | grep "^${id:0:12}")" -name report.html)
[ -f "$report" ] || fail "no report.html for $id"
grep -q 'bob' "$report" || fail "report lacks the approvals"
bash "$here/tests/integration/report_render.sh" "$bin" "$report" || fail "report does not render"
echo "cli review: all checks passed"
