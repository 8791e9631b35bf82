#!/usr/bin/env bash
# Operator keys and attestations from the command line: keys init/list/generate/rotate/revoke/
# export-public, a signed approval, the sign stage's envelopes verified by ecluse
# verify-attestation, by an independent Python + openssl check and by openssl cms; tampered
# envelopes, a wrong artifact, a revoked release key, a private key with loose permissions, and
# the journal's signed checkpoints (log --verify), each refused with its reason code.
source "$(dirname "$0")/lib.sh"
expect_rc() {  # RC COMMAND…
  local want=$1; shift
  set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$t/out" "$t/err"; fail "'$*' exited $rc, expected $want"; }
}
"$bin" init "$t/ws" >/dev/null
export ECLUSE_WORKSPACE=$t/ws
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.0.0 v1 >/dev/null
"$bin" trust add-vendor acme --root "$t/demo/vendor/root.pem" >/dev/null

# Without keys, an approved drop is not signed: exit 2 naming what to do, the drop stays approved.
expect_rc 2 "$bin" keys generate --role release
grep -q keys.no_key "$t/err" || fail "a release key before the root key"
expect_rc 0 "$bin" keys list
grep -q 'no keys yet' "$t/out" || fail "keys list on an empty key list"
expect_rc 0 "$bin" keys init --engineer alice
grep -q 'generated root key' "$t/out" || fail "keys init made no root key"
grep -q 'created operator CA' "$t/out" || fail "keys init made no CA"
expect_rc 0 "$bin" keys init
grep -q 'generated' "$t/out" && fail "keys init twice generated keys again"
expect_rc 2 "$bin" keys generate --role release --type ecdsa-p256
grep -q 'use ecluse keys rotate' "$t/err" || fail "a second active release key"
expect_rc 2 "$bin" keys generate --role engineer
expect_rc 2 "$bin" keys generate --role wizard
expect_rc 0 "$bin" keys generate --role engineer --name bob --type ed25519
expect_rc 0 "$bin" keys list --json
python3 - "$t/out" <<'PY' || fail "keys list --json"
import json, sys
k = json.load(open(sys.argv[1]))
roles = sorted(x["role"] for x in k["keys"] if x["status"] == "active")
assert roles == ["engineer", "engineer", "journal", "release", "root"], roles
assert all(len(x["keyid"]) == 64 for x in k["keys"])
PY
for f in "$ECLUSE_WORKSPACE"/keys/private/*.pem; do
  [ "$(stat -c %a "$f")" = 600 ] || fail "private key $f is not 0600"
done

# Approve (signed by alice's key), then the sign stage.
expect_rc 0 "$bin" ingest "$t/demo/v1"
id=$(awk '/^held /{print $2}' "$t/out")
[ -n "$id" ] || fail "demo drop not held: $(cat "$t/out")"
expect_rc 2 "$bin" approve "$id" --as mallory --reason "no key"
grep -q keys.no_key "$t/err" || fail "an approval without an engineer key"
expect_rc 0 "$bin" approve "$id" --as alice --reason "reviewed"
grep -q '^signed ' "$t/out" || fail "approved drop not signed: $(cat "$t/out")"
drop_dir=$(ls -d "$ECLUSE_WORKSPACE"/quarantine/drops/"$id"*)
att=$drop_dir/attestations
for n in verify unpack diff approval verification-summary; do
  [ -f "$att/$n.dsse.json" ] || fail "no $n attestation"
done
ls "$drop_dir"/approvals/*.dsse.json >/dev/null || fail "no signed approval stored"
expect_rc 0 "$bin" keys export-public --out "$t/verifier"
art=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["artifacts"][0]["path"])' "$t/demo/v1/drop.json")
expect_rc 0 "$bin" verify-attestation "$att/verification-summary.dsse.json" \
  --keys "$t/verifier/keylist.json" --artifact "$t/demo/v1/payload/$art"
grep -q 'verification_summary/v1' "$t/out" || fail "verify-attestation output: $(cat "$t/out")"
grep -q 'PASSED' "$t/out" || fail "the summary does not say PASSED"
expect_rc 0 "$bin" verify-attestation --json "$att/diff.dsse.json"
grep -q '"ok": true' "$t/out" || fail "verify-attestation --json"
# The same without ecluse: DSSE in Python + openssl pkeyutl, CMS with openssl cms.
release=$(python3 -c 'import json,sys; print([k["keyid"] for k in json.load(open(sys.argv[1]))["keys"] if k["role"]=="release"][0])' <("$bin" keys list --json))
python3 "$here/tests/tools/dsse_verify.py" "$att/verification-summary.dsse.json" \
  "$t/verifier/keys/$release.pem" >/dev/null || fail "independent DSSE check failed"
openssl cms -verify -binary -inform DER -content "$t/demo/v1/payload/$art" \
  -in "$drop_dir/signatures/$art.p7s" -CAfile "$t/verifier/operator-ca.pem" -purpose any \
  -out /dev/null 2>/dev/null || fail "openssl cms -verify refused the artifact signature"

# Rejections: each with its reason and exit 1, never a partial ok.
python3 - "$att/verification-summary.dsse.json" "$t/tampered.json" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1]))
p = base64.b64decode(e["payload"]).replace(b"PASSED", b"FAILED")
e["payload"] = base64.b64encode(p).decode()
json.dump(e, open(sys.argv[2], "w"))
PY
expect_rc 1 "$bin" verify-attestation "$t/tampered.json" --keys "$t/verifier/keylist.json"
grep -q attest.signature_invalid "$t/err" || fail "tampered payload: $(cat "$t/err")"
grep -q '"ok"' "$t/out" && fail "a partial ok for a tampered envelope"
python3 - "$att/diff.dsse.json" "$t/type.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); e["payloadType"] = "application/vnd.in-toto.other+json"
json.dump(e, open(sys.argv[2], "w"))
PY
expect_rc 1 "$bin" verify-attestation "$t/type.json"
grep -q attest.payload_type "$t/err" || fail "tampered payloadType: $(cat "$t/err")"
expect_rc 1 "$bin" verify-attestation "$att/diff.dsse.json" --artifact "$t/demo/v1/drop.json"
grep -q attest.subject_mismatch "$t/err" || fail "a file that is no subject"
printf '{"payload": 1}' > "$t/junk.json"
expect_rc 1 "$bin" verify-attestation "$t/junk.json"
grep -q attest.bad_envelope "$t/err" || fail "junk envelope"
# An approval envelope is an engineer's: it verifies with engineer keys, not as a release statement.
expect_rc 0 "$bin" verify-attestation "$(ls "$drop_dir"/approvals/*.dsse.json | head -1)"
grep -q '(engineer alice)' "$t/out" || fail "approval signer: $(cat "$t/out")"

# Rotation: old attestations still verify; revocation: they stop counting.
expect_rc 0 "$bin" keys rotate release
expect_rc 0 "$bin" verify-attestation "$att/verification-summary.dsse.json"
expect_rc 0 "$bin" keys revoke "${release:0:16}" --reason "test: key compromised"
expect_rc 1 "$bin" verify-attestation "$att/verification-summary.dsse.json"
grep -q attest.revoked_key "$t/err" || fail "revoked release key still counts: $(cat "$t/err")"
# The old exported key list still names the key as valid: a verifier needs the current list.
expect_rc 0 "$bin" verify-attestation "$att/verification-summary.dsse.json" --keys "$t/verifier/keylist.json"

# A private key with loose permissions is refused, nothing is signed.
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.0.1 v2 >/dev/null
new_release=$("$bin" keys list --json | python3 -c 'import json,sys; print([k["keyid"] for k in json.load(sys.stdin)["keys"] if k["role"]=="release" and k["status"]=="active"][0])')
chmod 644 "$ECLUSE_WORKSPACE/keys/private/$new_release.pem"
expect_rc 0 "$bin" ingest "$t/demo/v2"
id2=$(awk '/^held /{print $2}' "$t/out")
expect_rc 3 "$bin" approve "$id2" --as alice --reason "ok"
grep -q keys.loose_permissions "$t/err" || fail "a 0644 release key was used: $(cat "$t/err")"
expect_rc 0 "$bin" status --json
chmod 600 "$ECLUSE_WORKSPACE/keys/private/$new_release.pem"
expect_rc 0 "$bin" sign "$id2"
grep -q '^signed ' "$t/out" || fail "ecluse sign after fixing the key: $(cat "$t/out")"

# The journal: chain and signed checkpoints; a deleted checkpoint is caught.
expect_rc 0 "$bin" log --verify
grep -q 'signed checkpoints verified' "$t/out" || fail "log --verify lacks checkpoints: $(cat "$t/out")"
grep -q ' 0 signed checkpoints' "$t/out" && fail "no checkpoint was signed"
mv "$ECLUSE_WORKSPACE/journal/checkpoints.jsonl" "$t/checkpoints.jsonl"
expect_rc 1 "$bin" log --verify
grep -q journal.checkpoint_invalid "$t/err" || fail "deleted checkpoints not noticed"
echo "cli attest: all checks passed"
