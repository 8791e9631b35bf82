#!/usr/bin/env bash
# The verify stage through the ecluse command: trust add-vendor/list/remove, tampered and
# unsigned drops, an unknown vendor, rollback with and without an engineer's allowance, a
# replayed drop.json, and a broken trust store (exit 3, nothing blamed on the vendor).
source "$(dirname "$0")/lib.sh"
expect_rc() {  # RC COMMAND…
  local want=$1; shift
  set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$t/out" "$t/err"; fail "'$*' exited $rc, expected $want"; }
}
reason_of() { grep -o '"reason": "[a-z_.]*"' "$t/out" | head -1 | cut -d'"' -f4; }

"$bin" init "$t/ws" >/dev/null
export ECLUSE_WORKSPACE=$t/ws
"$bin" keys init >/dev/null
demo=$t/demo
bash "$here/scripts/make-demo-drop.sh" "$demo" 2.0.0 v2 >/dev/null

# Trust store commands and their refusals.
expect_rc 2 "$bin" trust add-vendor acme --root "$demo/vendor/leaf.pem"
grep -q 'trust.bad_material' "$t/err" || fail "a leaf accepted as root"
printf 'not a certificate\n' > "$t/junk.pem"
expect_rc 2 "$bin" trust add-vendor acme --root "$t/junk.pem"
grep -q 'trust.bad_material' "$t/err" || fail "junk accepted as root"
expect_rc 2 "$bin" trust add-vendor 'bad/name' --root "$demo/vendor/root.pem"
expect_rc 0 "$bin" trust list
grep -q 'no vendor trust pinned' "$t/out" || fail "empty trust list"

# An unknown vendor is the drop's rejection.
expect_rc 1 "$bin" ingest --json "$demo/v2"
[ "$(reason_of)" = verify.unknown_vendor ] || fail "unknown vendor: $(reason_of)"

expect_rc 0 "$bin" trust add-vendor acme --root "$demo/vendor/root.pem"
expect_rc 0 "$bin" trust list --json
grep -q '"kind": "x509"' "$t/out" || fail "trust list --json lacks the vendor"
fp=$(grep -o '"sha256": "[0-9a-f]*"' "$t/out" | head -1 | cut -d'"' -f4)
"$bin" log | grep -q 'trust.add_vendor' || fail "trust change not journaled"

bash "$here/scripts/make-demo-drop.sh" "$demo" 2.0.1 v201 >/dev/null
expect_rc 0 "$bin" ingest --json "$demo/v201"
grep -Eq '"state": "(held|approved|signed)"' "$t/out" || fail "signed drop not verified"

# drop.json edited after signing: the signature is over other bytes.
cp -r "$demo/v201" "$t/tampered"
sed -i 's/"version": "2.0.1"/"version": "2.0.9"/' "$t/tampered/drop.json"
expect_rc 1 "$bin" ingest --json "$t/tampered"
[ "$(reason_of)" = signature.content_mismatch ] || fail "tampered drop.json: $(reason_of)"

# No signature at all.
cp -r "$demo/v201" "$t/unsigned"
sed -i 's/"version": "2.0.1"/"version": "2.0.2"/' "$t/unsigned/drop.json"
rm "$t/unsigned/drop.json.sig"
expect_rc 1 "$bin" ingest --json "$t/unsigned"
[ "$(reason_of)" = signature.missing ] || fail "unsigned drop: $(reason_of)"

# The same drop.json again: a replay pointing at the earlier drop, and no work done.
before=$("$bin" log | wc -l)
expect_rc 1 "$bin" ingest --json "$demo/v201"
grep -q '"reason": "intake.replay"' "$t/out" || fail "no replay: $(cat "$t/out")"
[ "$("$bin" log | grep -c 'verify.done')" -eq 1 ] || fail "replay re-ran verify"
[ "$("$bin" log | wc -l)" -eq $((before + 1)) ] || fail "replay did more than journal itself"

# Rollback: 2.0.0 after 2.0.1 is refused until an engineer allows exactly that downgrade.
# The drop first refused for want of trust runs again now (intake.retry): 2.0.1 is accepted,
# so 2.0.0 is a rollback.
expect_rc 1 "$bin" ingest --json "$demo/v2"
[ "$(reason_of)" = verify.rollback ] || fail "retried 2.0.0: $(reason_of)"
"$bin" log | grep -q 'intake.retry' || fail "retry not journaled"
bash "$here/scripts/make-demo-drop.sh" "$demo" 2.0.0 v200b >/dev/null
expect_rc 1 "$bin" ingest --json "$demo/v200b"
[ "$(reason_of)" = verify.rollback ] || fail "rollback: $(reason_of)"
expect_rc 2 "$bin" allow-downgrade acme cloud-agent prod 1.9.0
grep -q 'reason' "$t/err" || fail "allow-downgrade without --reason accepted"
expect_rc 0 "$bin" allow-downgrade acme cloud-agent prod 1.9.0 --reason "revert a broken 2.0.1 (CHG-1234)"
"$bin" log | grep -q 'verify.downgrade_allowed' || fail "allowance not journaled"
bash "$here/scripts/make-demo-drop.sh" "$demo" 1.9.0 v190 >/dev/null
expect_rc 0 "$bin" ingest --json "$demo/v190"
grep -Eq '"state": "(held|approved|signed)"' "$t/out" || fail "allowed downgrade not verified"
# The refused 2.0.0 itself, once an engineer allows it, runs again and passes.
expect_rc 0 "$bin" allow-downgrade acme cloud-agent prod 2.0.0 --reason "vendor asked us to stay on 2.0.0"
expect_rc 0 "$bin" ingest --json "$demo/v2"
grep -Eq '"state": "(held|approved|signed)"' "$t/out" || fail "allowed 2.0.0 not verified on retry"
bash "$here/scripts/make-demo-drop.sh" "$demo" 1.9.0 v190b >/dev/null
expect_rc 1 "$bin" ingest --json "$demo/v190b"
[ "$(reason_of)" = verify.version_reuse ] || fail "same version, other content: $(reason_of)"
bash "$here/scripts/make-demo-drop.sh" "$demo" 1.8.0 v180 >/dev/null
expect_rc 1 "$bin" ingest --json "$demo/v180"
[ "$(reason_of)" = verify.rollback ] || fail "an allowance was used twice: $(reason_of)"
expect_rc 0 "$bin" allow-downgrade --list --json
grep -q '"used_by": "[0-9a-f]' "$t/out" || fail "used allowance not listed"

# Our own trust store broken: exit 3, the drop stays received, and verifies once fixed.
chmod 644 "$t/ws/trust/acme/roots/$fp.pem"
cp "$t/ws/trust/acme/roots/$fp.pem" "$t/root.bak"
printf 'garbage\n' > "$t/ws/trust/acme/roots/$fp.pem"
bash "$here/scripts/make-demo-drop.sh" "$demo" 2.1.0 v210 >/dev/null
expect_rc 3 "$bin" ingest "$demo/v210"
grep -q 'trust.store_broken' "$t/err" || fail "broken trust store not reported"
"$bin" status | grep -q 'received.*acme/cloud-agent/2.1.0' || fail "drop not left received"
cp "$t/root.bak" "$t/ws/trust/acme/roots/$fp.pem"
expect_rc 0 "$bin" ingest --json "$demo/v210"
grep -Eq '"state": "(held|approved|signed)"' "$t/out" || fail "drop not verified after the fix"

# Removing the vendor's trust: later drops are from an unknown vendor.
expect_rc 2 "$bin" trust remove acme --fingerprint 0000
expect_rc 0 "$bin" trust remove acme
bash "$here/scripts/make-demo-drop.sh" "$demo" 2.2.0 v220 >/dev/null
expect_rc 1 "$bin" ingest --json "$demo/v220"
[ "$(reason_of)" = verify.unknown_vendor ] || fail "removed vendor: $(reason_of)"
expect_rc 0 "$bin" log --verify
echo "cli verify: all checks passed"
