#!/usr/bin/env bash
# Builds ecluse, then runs it end to end on an embedded default: a temporary workspace, a
# generated demo vendor CA pinned in the workspace trust store and a signed demo drop, ingested
# through every stage that exists (intake, verify, unpack, diff, sandboxed tests, policy
# verdict), held for its new executable and endpoint, the phone-home its self-test attempts and
# the licence that stops working in the future, approved by a demo engineer with a signed
# approval, then signed with generated operator keys (in-toto attestations in DSSE envelopes, a
# SLSA verification summary, a CMS signature per artifact) and verified three ways; then a
# then promoted into the preprod channel's git repository (signed commit and tag, TUF
# metadata) and checked by git verify-commit, git verify-tag and ecluse verify, and
# re-verified as the daily schedule does (ecluse reverify); then a
# second release diffed against the first; then a tampered copy of the drop, rejected.
# usage: scripts/quickstart.sh [WORK_DIR]   (default: a new temporary directory, kept for you)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/install-deps.sh
echo "== build (release)"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc 2>/dev/null || echo 2)" --target ecluse >/dev/null
ecluse=$root/build/release/ecluse

work=${1:-$(mktemp -d /tmp/ecluse-quickstart-XXXXXX)}
mkdir -p "$work"
ws=$work/workspace
echo "== workspace"
"$ecluse" init "$ws"
echo "== demo vendor CA and signed drop"
bash scripts/make-demo-drop.sh "$work/demo" 1.0.0 >/dev/null
cp -r "$work/demo/drop" "$ws/staging/incoming/acme-cloud-agent-1.0.0"
echo "   vendor root: $work/demo/vendor/root.pem"
echo "   drop:        $ws/staging/incoming/acme-cloud-agent-1.0.0 (drop.json, drop.json.sig, payload/, READY)"
echo "== pin the vendor's root in the workspace trust store"
"$ecluse" --workspace "$ws" trust add-vendor acme --root "$work/demo/vendor/root.pem"
"$ecluse" --workspace "$ws" trust list
echo "== operator keys: root (signs the key list, the CA), release, journal, one engineer"
"$ecluse" --workspace "$ws" keys init --engineer demo-engineer
"$ecluse" --workspace "$ws" keys list
echo "== can this machine run the test sandbox?"
"$ecluse" --workspace "$ws" sandbox check
echo "== ingest (intake; verify: signature, chain, code signing, algorithms, version; unpack; diff;"
echo "   test: the product's suite in the sandbox, now and 400 days ahead; policy)"
"$ecluse" --workspace "$ws" ingest --incoming
echo "== what verify checked"
"$ecluse" --workspace "$ws" show acme/cloud-agent/1.0.0 | sed -n '/^stage verify/,/^  version/p'
echo "== what unpack found (every archive taken apart into the content store, tree manifest kept)"
"$ecluse" --workspace "$ws" show acme/cloud-agent/1.0.0 | sed -n '/^stage unpack/,/^  stored/p'
echo "== what the sandbox saw (no network: every attempt recorded; the clock shifted 400 days)"
"$ecluse" --workspace "$ws" show acme/cloud-agent/1.0.0 | sed -n '/^stage test/,/^stage policy/p' \
  | sed '$d'
shown=$("$ecluse" --workspace "$ws" show acme/cloud-agent/1.0.0)
for code in test.egress_attempt test.fails_in_future; do
  if ! grep -q "finding .* $code " <<<"$shown"; then
    echo "quickstart: the sandbox did not report $code for the demo agent" >&2
    exit 1
  fi
done
echo "== what changed, and should I worry? (a first release: everything is new)"
"$ecluse" --workspace "$ws" diff acme/cloud-agent/1.0.0
echo "== what waits for whom"
"$ecluse" --workspace "$ws" status | sed -n '/^waiting for review/,$p'
echo "== a release engineer approves with a signed approval (policy: one; distinct keys count)"
"$ecluse" --workspace "$ws" approve acme/cloud-agent/1.0.0 --as demo-engineer \
  --reason "quickstart: demo script and endpoint reviewed"
echo "== the release is attested: operator keys signed every stage, the summary and each artifact"
drop_id=$("$ecluse" --workspace "$ws" status --json | python3 -c '
import json, sys
for d in json.load(sys.stdin)["drops"]:
    if d["version"] == "1.0.0" and d["state"] == "signed":
        print(d["id"])')
if [ -z "$drop_id" ]; then
  echo "quickstart: the approved release 1.0.0 was not signed" >&2
  exit 1
fi
attest_dir=$ws/quarantine/drops/$drop_id/attestations
ls "$attest_dir"
"$ecluse" --workspace "$ws" keys export-public --out "$work/verifier"
artifact=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["artifacts"][0]["path"])' \
  "$work/demo/drop/drop.json")
echo "== verify it as a consumer would, with nothing but the exported key list"
"$ecluse" verify-attestation "$attest_dir/verification-summary.dsse.json" \
  --keys "$work/verifier/keylist.json" --artifact "$work/demo/drop/payload/$artifact"
echo "== and without ecluse: the DSSE signature (Python + openssl), the CMS signature (openssl cms)"
release_key=$("$ecluse" --workspace "$ws" keys list --json | python3 -c '
import json, sys
print([k["keyid"] for k in json.load(sys.stdin)["keys"] if k["role"] == "release" and k["status"] == "active"][0])')
python3 tests/tools/dsse_verify.py "$attest_dir/verification-summary.dsse.json" \
  "$work/verifier/keys/$release_key.pem"
openssl cms -verify -binary -inform DER -content "$work/demo/drop/payload/$artifact" \
  -in "$ws/quarantine/drops/$drop_id/signatures/$artifact.p7s" \
  -CAfile "$work/verifier/operator-ca.pem" -purpose any -out /dev/null
echo "== promote 1.0.0 into the preprod channel: a signed commit and tag, TUF metadata"
"$ecluse" --workspace "$ws" promote "$drop_id" --to preprod
repo=$ws/repos/preprod.git
git --git-dir="$repo" show main:metadata/1.root.json > "$work/verifier/root.json"
"$ecluse" --workspace "$ws" keys export-public --allowed-signers "$work/verifier/allowed_signers"
echo "== the consumer's checks: git verify-commit, git verify-tag, ecluse verify"
git --git-dir="$repo" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$work/verifier/allowed_signers" \
  verify-commit main
git --git-dir="$repo" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$work/verifier/allowed_signers" \
  verify-tag cloud-agent/1.0.0
"$ecluse" verify "$repo" --root "$work/verifier/root.json"
echo "== scheduled re-verification (what ecluse-reverify.timer runs daily): every artifact re-hashed,"
echo "   every signature against today's keys and trust, history, journal; TUF timestamp re-signed"
"$ecluse" --workspace "$ws" reverify --all
echo "== release 1.1.0: the vendor adds a destination to the agent's configuration"
bash scripts/make-demo-drop.sh "$work/demo" 1.1.0 drop-1.1.0 >/dev/null
printf 'backup = https://collect.vendor-analytics.example.com/upload\n' \
  >>"$work/demo/drop-1.1.0/payload/etc/agent.conf"
python3 - "$work/demo/drop-1.1.0" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]; m = json.load(open(d + "/drop.json"))
for a in m["artifacts"]:
    data = open(os.path.join(d, "payload", a["path"]), "rb").read()
    a["sha256"] = hashlib.sha256(data).hexdigest(); a["size"] = len(data)
open(d + "/drop.json", "w").write(json.dumps(m, indent=2))
PY
openssl cms -sign -binary -md sha256 -outform DER -in "$work/demo/drop-1.1.0/drop.json" \
  -signer "$work/demo/vendor/leaf.pem" -inkey "$work/demo/vendor/leaf.key" \
  -out "$work/demo/drop-1.1.0/drop.json.sig"
set +e
"$ecluse" --workspace "$ws" ingest "$work/demo/drop-1.1.0"
set -e
"$ecluse" --workspace "$ws" diff acme/cloud-agent/1.1.0
# (Read whole, then searched: grep -q closing the pipe early would fail the pipeline.)
diff_json=$("$ecluse" --workspace "$ws" diff --json acme/cloud-agent/1.1.0)
if ! grep -q 'collect.vendor-analytics.example.com' <<<"$diff_json"; then
  echo "quickstart: the new endpoint of 1.1.0 was not reported" >&2
  exit 1
fi
echo "== a tampered copy: drop.json edited after the vendor signed it"
cp -r "$work/demo/drop" "$work/tampered"
sed -i 's/"version": "1.0.0"/"version": "1.0.1"/' "$work/tampered/drop.json"
set +e
"$ecluse" --workspace "$ws" ingest "$work/tampered"
rc=$?
set -e
if [ "$rc" -ne 1 ] || ! "$ecluse" --workspace "$ws" status | grep -q 'signature.content_mismatch'; then
  echo "quickstart: the tampered drop was not rejected with signature.content_mismatch" >&2
  exit 1
fi
echo "   (exit code $rc: rejected, as it must be)"
echo "== status"
"$ecluse" --workspace "$ws" status
echo "== audit journal"
"$ecluse" --workspace "$ws" log
"$ecluse" --workspace "$ws" log --verify
cat <<MSG

Where to look:
  workspace          $ws
  drop evidence      $ws/quarantine/drops/ (drop.json, signature, tree.json, diff.json, test.json, test-output/, report.html)
  attestations       $attest_dir (DSSE envelopes; signatures/ beside it holds ARTIFACT.p7s)
  the HTML report    $(ls "$ws"/quarantine/drops/*/report.html | head -1) (self-contained, opens offline)
  the policy         $ws/policy.json (ecluse policy check validates it)
  content store      $ws/quarantine/objects/sha256/
  one drop in full   $ecluse --workspace $ws show acme/cloud-agent/1.0.0
  everything as JSON $ecluse --workspace $ws status --json

  channel repository $repo (bare git: metadata/ targets/ attestations/ releases/)

Release acme/cloud-agent 1.0.0 is promoted to preprod and verified (signed commit and tag, TUF
metadata, attestations). Verify it yourself:
  $ecluse verify $repo --root $work/verifier/root.json
  git --git-dir=$repo -c gpg.format=ssh -c gpg.ssh.allowedSignersFile=$work/verifier/allowed_signers verify-commit main
  $ecluse verify-attestation $attest_dir/verification-summary.dsse.json --keys $work/verifier/keylist.json --artifact $work/demo/drop/payload/$artifact
MSG
