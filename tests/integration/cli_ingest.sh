#!/usr/bin/env bash
# The ecluse command end to end on a signed demo drop: exit codes, --json, rejections with
# their reason and item, lookups by short id and name, journal verification.
source "$(dirname "$0")/lib.sh"
expect_rc() {  # RC COMMAND…
  local want=$1; shift
  set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$t/out" "$t/err"; fail "'$*' exited $rc, expected $want"; }
}

expect_rc 0 "$bin" init "$t/ws"
expect_rc 2 "$bin" init "$t/ws"
grep -q 'workspace.exists' "$t/err" || fail "init twice: no workspace.exists"
expect_rc 2 "$bin" --workspace "$t" status
grep -q 'workspace.not_found' "$t/err" || fail "not a workspace: no workspace.not_found"
export ECLUSE_WORKSPACE=$t/ws
for cmd in init ingest status show diff approve reject policy log reasons trust allow-downgrade gc keys sign verify-attestation; do
  expect_rc 0 "$bin" "$cmd" --help
done
expect_rc 2 "$bin" ingest
grep -q 'usage.invalid_argument' "$t/err" || fail "ingest without drops: no usage error"
expect_rc 2 "$bin" frobnicate

bash "$here/scripts/make-demo-drop.sh" "$t/demo" 2.1.0 >/dev/null
expect_rc 0 "$bin" trust add-vendor acme --root "$t/demo/vendor/root.pem"
expect_rc 0 "$bin" ingest --json "$t/demo/drop"
grep -Eq '"state": "(held|approved|signed)"' "$t/out" || fail "demo drop not unpacked"
id=$(grep -o '"short_id": "[0-9a-f]*"' "$t/out" | cut -d'"' -f4)
[ ${#id} -eq 12 ] || fail "no short id"
expect_rc 1 "$bin" ingest --json "$t/demo/drop"
grep -q '"reason": "intake.replay"' "$t/out" || fail "second ingest is not a replay"
expect_rc 0 "$bin" status "$id"
grep -q 'state    held' "$t/out" || fail "status by short id"
expect_rc 0 "$bin" show --json acme/cloud-agent/2.1.0
grep -q '"stage": "intake"' "$t/out" || fail "show by name lacks intake evidence"
grep -q '"stage": "verify"' "$t/out" || fail "show by name lacks verify evidence"
grep -q 'Acme Demo Release Signing' "$t/out" || fail "show lacks the signer"
expect_rc 0 "$bin" show acme/cloud-agent/2.1.0
grep -q 'stage unpack -> unpacked' "$t/out" || fail "show lacks the unpack stage"
grep -q 'artifact   acme-agent-libs.tar.gz (tar+gzip, 6 entries)' "$t/out" \
  || { cat "$t/out"; fail "show lacks the unpacked archive"; }
tree=$(find "$t/ws/quarantine/drops" -name tree.json | head -1)
grep -q '"target":"libacme.so.1"' "$tree" || fail "tree.json lacks the symlink"
expect_rc 0 "$bin" gc --json --dry-run
grep -q '"objects_removed": 0' "$t/out" || fail "gc would remove a live drop's objects"
expect_rc 2 "$bin" show ffffffff
grep -q 'state.unknown_drop' "$t/err" || fail "unknown drop"

# A drop whose artifact was altered after signing: rejected, reason and item named.
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 2.2.0 drop2 >/dev/null
cp -r "$t/demo/drop2" "$t/bad"
printf 'echo pwned\n' >> "$t/bad/payload/bin/acme-agent"
expect_rc 1 "$bin" ingest "$t/bad"
grep -q 'intake.artifact_size_mismatch' "$t/out" || fail "altered artifact not rejected"
grep -q 'bin/acme-agent' "$t/out" || fail "rejection does not name the artifact"

# A drop whose archive holds a path leaving the tree: rejected at unpack, nothing written there.
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 2.3.0 drop3 >/dev/null
mkdir -p "$t/evil/x"
printf 'pwned\n' > "$t/evil/x/pwned"
tar -C "$t/evil/x" -cf - --transform 's,^,../../canary/,' pwned | gzip -n > "$t/evil.tar.gz"
sign_drop_with_artifact "$t/demo/drop3" "$t/evil.tar.gz" evil.tar.gz
expect_rc 1 "$bin" ingest "$t/demo/drop3"
grep -q 'unpack.path_traversal' "$t/out" || { cat "$t/out"; fail "traversal not rejected at unpack"; }
[ ! -e "$t/canary" ] && [ ! -e "$t/ws/../canary" ] || fail "something was written outside"
expect_rc 0 "$bin" gc --json
grep -q '"objects_removed": [1-9]' "$t/out" || { cat "$t/out"; fail "gc did not remove the rejected drop's objects"; }
expect_rc 0 "$bin" status --json
[ "$(grep -c '"state": "rejected"' "$t/out")" -eq 2 ] || fail "rejections not recorded"

# Drops in staging/incoming/ are picked up only with a READY marker.
cp -r "$t/demo/drop" "$t/ws/staging/incoming/not-ready"
rm "$t/ws/staging/incoming/not-ready/READY"
expect_rc 1 "$bin" ingest --incoming --json "$t/demo/drop"
[ "$(grep -c '"id"' "$t/out")" -eq 1 ] || fail "a drop without READY was ingested"

expect_rc 0 "$bin" log --verify
expect_rc 0 "$bin" log --json --drop "$id"
grep -q 'intake.received' "$t/out" || fail "log --drop lacks the drop's event"
line=$(grep -n 'intake.received' "$t/ws/journal/journal.jsonl" | head -1 | cut -d: -f1)
sed -i "${line}s/intake.received/intake.accepted/" "$t/ws/journal/journal.jsonl"
expect_rc 1 "$bin" log --verify
grep -q "line $line" "$t/out" || fail "tampered journal line not named"
echo "cli ingest: all checks passed"
