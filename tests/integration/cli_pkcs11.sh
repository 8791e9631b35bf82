#!/usr/bin/env bash
# A release key in a PKCS#11 token (SoftHSM2, a token this test creates) signs a release end to
# end: keys add-pkcs11, an operator CA made with the openssl command line and imported with
# keys import-ca, the sign stage, and the signatures checked by openssl cms and by ecluse
# verify-attestation. An absent token and a wrong PIN are refused with their reason codes.
source "$(dirname "$0")/lib.sh"
expect_rc() {  # RC COMMAND…
  local want=$1; shift
  set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$t/out" "$t/err"; fail "'$*' exited $rc, expected $want"; }
}
module=/usr/lib/softhsm/libsofthsm2.so
command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null && [ -f "$module" ] \
  || fail "softhsm2 and opensc are needed (scripts/install-deps.sh installs them)"
mkdir -p "$t/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\n' "$t/tokens" > "$t/softhsm2.conf"
export SOFTHSM2_CONF=$t/softhsm2.conf
softhsm2-util --init-token --free --label operator --pin 4321 --so-pin 87654321 >/dev/null
pkcs11-tool --module "$module" --login --pin 4321 --keypairgen --key-type EC:prime256v1 \
  --label release --id 01 >/dev/null 2>&1

"$bin" init "$t/ws" >/dev/null
export ECLUSE_WORKSPACE=$t/ws
"$bin" keys generate --role root >/dev/null
"$bin" keys generate --role engineer --name alice >/dev/null
export ECLUSE_PIN=4321
expect_rc 3 "$bin" keys add-pkcs11 --role release --uri 'pkcs11:token=absent;object=release' \
  --module "$module" --pin-env ECLUSE_PIN
grep -q keys.token_absent "$t/err" || fail "an absent token: $(cat "$t/err")"
export WRONG_PIN=97531
expect_rc 3 "$bin" keys add-pkcs11 --role release --uri 'pkcs11:token=operator;object=release' \
  --module "$module" --pin-env WRONG_PIN
grep -q keys.token_absent "$t/err" || fail "a wrong PIN: $(cat "$t/err")"
grep -q 97531 "$t/err" && fail "the PIN appears in a message"
expect_rc 0 "$bin" keys add-pkcs11 --role release --uri 'pkcs11:token=operator;object=release' \
  --module "$module" --pin-env ECLUSE_PIN
grep -q 'release  release  ecdsa-p256  active  pkcs11' "$t/out" || fail "add-pkcs11: $(cat "$t/out")"
release=$("$bin" keys list --json | python3 -c 'import json,sys; print([k["keyid"] for k in json.load(sys.stdin)["keys"] if k["role"]=="release"][0])')

# An operator CA made elsewhere (openssl), certifying the token's key: keys import-ca.
"$bin" keys export-public --out "$t/pub" >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/ca.key" \
  -out "$t/ca.pem" -days 30 -subj "/CN=Operator Test CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > "$t/leaf.ext"
openssl req -new -key "$t/ca.key" -subj "/CN=unused" -out "$t/dummy.csr" 2>/dev/null
openssl x509 -req -in "$t/dummy.csr" -force_pubkey "$t/pub/keys/$release.pem" -CA "$t/ca.pem" \
  -CAkey "$t/ca.key" -CAcreateserial -days 20 -extfile "$t/leaf.ext" -subj "/CN=release in HSM" \
  -out "$t/leaf.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$t/other.key" \
  -out "$t/other.pem" -days 30 -subj "/CN=Other CA" 2>/dev/null
expect_rc 2 "$bin" keys import-ca --ca "$t/other.pem" --cert "$t/leaf.pem"
grep -q keys.certificate_mismatch "$t/err" || fail "a certificate of another CA imported"
expect_rc 0 "$bin" keys import-ca --ca "$t/ca.pem" --cert "$t/leaf.pem"

# The release is signed inside the token.
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.0.0 v1 >/dev/null
"$bin" trust add-vendor acme --root "$t/demo/vendor/root.pem" >/dev/null
expect_rc 0 "$bin" ingest "$t/demo/v1"
id=$(awk '/^held /{print $2}' "$t/out")
expect_rc 0 "$bin" approve "$id" --as alice --reason "reviewed"
grep -q '^signed ' "$t/out" || fail "not signed with the token's key: $(cat "$t/out") $(cat "$t/err")"
drop_dir=$(ls -d "$ECLUSE_WORKSPACE"/quarantine/drops/"$id"*)
art=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["artifacts"][0]["path"])' "$t/demo/v1/drop.json")
openssl cms -verify -binary -inform DER -content "$t/demo/v1/payload/$art" \
  -in "$drop_dir/signatures/$art.p7s" -CAfile "$t/ca.pem" -purpose any -out /dev/null 2>/dev/null \
  || fail "openssl cms refused the token's signature"
expect_rc 0 "$bin" verify-attestation "$drop_dir/attestations/verification-summary.dsse.json" \
  --artifact "$t/demo/v1/payload/$art"
grep -q "${release:0:16} (release)" "$t/out" || fail "not signed by the token's key: $(cat "$t/out")"
python3 "$here/tests/tools/dsse_verify.py" "$drop_dir/attestations/verify.dsse.json" \
  "$t/pub/keys/$release.pem" >/dev/null || fail "independent DSSE check of the token's signature"
echo "cli pkcs11: all checks passed"
