#!/usr/bin/env bash
# Air-gap transfer: ecluse export writes a git bundle (checked by `git bundle verify`) and a
# signed index; ecluse import on another workspace verifies everything before applying it,
# fast-forward only; a tampered bundle, a forged index, an untrusted root and a diverged
# history are refused and change nothing.
source "$(dirname "$0")/lib.sh"
expect_rc() {  # RC COMMAND…
  local want=$1; shift
  set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$t/out" "$t/err"; fail "'$*' exited $rc, expected $want"; }
}
export HOME=$t GIT_CONFIG_NOSYSTEM=1
git config --global safe.directory '*'
git config --global user.name tester && git config --global user.email tester@example

new_workspace
A=$ECLUSE_WORKSPACE
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.0.0 v1 >/dev/null
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.1.0 v2 >/dev/null
promote_dir() {  # DIR: ingest, approve, promote into preprod
  "$bin" ingest "$1" >"$t/ingest"
  local id; id=$(awk '/^held /{print $2}' "$t/ingest")
  "$bin" approve "$id" --as alice --reason ok >/dev/null
  "$bin" promote "$id" --to preprod >/dev/null
}
promote_dir "$t/demo/v1"
git --git-dir="$A/repos/preprod.git" show main:metadata/1.root.json > "$t/root.json"
expect_rc 0 "$bin" export preprod "$t/out1" --json
[ -s "$t/out1/preprod.bundle" ] && [ -s "$t/out1/preprod.index.json" ] || fail "export wrote no bundle or index"

# The other side: a workspace with no keys, only the root it trusts.
"$bin" init "$t/B" >/dev/null
B=$t/B
expect_rc 1 env ECLUSE_WORKSPACE="$B" "$bin" import "$t/out1/preprod.bundle"
grep -q transfer.bad_index "$t/err" || fail "a first import without --root"
expect_rc 0 env ECLUSE_WORKSPACE="$B" "$bin" import "$t/out1/preprod.bundle" --root "$t/root.json" --json
[ "$(git --git-dir="$B/repos/preprod.git" rev-parse main)" = "$(git --git-dir="$A/repos/preprod.git" rev-parse main)" ] \
  || fail "import did not apply the branch"
git --git-dir="$B/repos/preprod.git" fsck --strict >/dev/null 2>&1 || fail "fsck after import"
expect_rc 0 "$bin" verify "$B/repos/preprod.git" --root "$t/root.json"
git --git-dir="$B/repos/preprod.git" rev-parse -q --verify refs/tags/cloud-agent/1.0.0 >/dev/null || fail "tag not imported"

# An incremental export, checked by stock git against the receiver's repository.
promote_dir "$t/demo/v2"
expect_rc 0 "$bin" export preprod "$t/out2" --since cloud-agent/1.0.0
git --git-dir="$B/repos/preprod.git" bundle verify "$t/out2/preprod.bundle" >/dev/null 2>&1 \
  || fail "git bundle verify refused the incremental bundle"

# Refusals: each leaves the receiver unchanged.
before=$(git --git-dir="$B/repos/preprod.git" rev-parse main)
cp -r "$t/out2" "$t/bad"
python3 - "$t/bad/preprod.bundle" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-30] ^= 1; open(p, "wb").write(bytes(b))
PY
expect_rc 1 env ECLUSE_WORKSPACE="$B" "$bin" import "$t/bad/preprod.bundle"
grep -Eq 'transfer.mismatch|repo.bad_bundle' "$t/err" || fail "a tampered bundle: $(cat "$t/err")"
# An index signed by another operator's key.
"$bin" init "$t/C" >/dev/null
ECLUSE_WORKSPACE=$t/C "$bin" keys init >/dev/null
rm -rf "$t/bad" && cp -r "$t/out2" "$t/bad"
python3 - "$t/bad/preprod.index.json" "$t/C/keys/private" <<'PY'
import base64, json, subprocess, sys, glob
env = json.load(open(sys.argv[1]))
payload = base64.b64decode(env["payload"])
ptype = env["payloadType"].encode()
pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
key = sorted(glob.glob(sys.argv[2] + "/*.pem"))[0]
sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-digest", "sha256"],
                     input=pae, capture_output=True).stdout or subprocess.run(
    ["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin"], input=pae, capture_output=True).stdout
env["signatures"] = [{"keyid": "evil", "sig": base64.b64encode(sig).decode()}]
open(sys.argv[1], "w").write(json.dumps(env))
PY
expect_rc 1 env ECLUSE_WORKSPACE="$B" "$bin" import "$t/bad/preprod.bundle"
grep -Eq 'transfer.bad_index|attest.bad_envelope' "$t/err" || fail "a forged index: $(cat "$t/err")"
# A root the receiver does not trust (another operator's).
expect_rc 1 env ECLUSE_WORKSPACE="$B" "$bin" import "$t/out2/preprod.bundle" --root "$t/C/keys/keylist.json"
[ "$(git --git-dir="$B/repos/preprod.git" rev-parse main)" = "$before" ] || fail "a refused import moved the branch"

# The genuine incremental bundle applies, fast-forward.
expect_rc 0 env ECLUSE_WORKSPACE="$B" "$bin" import "$t/out2/preprod.bundle"
[ "$(git --git-dir="$B/repos/preprod.git" rev-parse main~1)" = "$before" ] || fail "incremental import is not a fast-forward"
expect_rc 0 "$bin" verify "$B/repos/preprod.git" --root "$t/root.json" --release cloud-agent/1.1.0

# A diverged history (the receiver has a commit the bundle does not descend from).
rm -rf "$t/D" && "$bin" init "$t/D" >/dev/null
expect_rc 0 env ECLUSE_WORKSPACE="$t/D" "$bin" import "$t/out1/preprod.bundle" --root "$t/root.json"
git --git-dir="$t/D/repos/preprod.git" update-ref refs/heads/main "$(git --git-dir="$t/D/repos/preprod.git" commit-tree -m x "$(git --git-dir="$t/D/repos/preprod.git" rev-parse main^{tree})" -p main)"
expect_rc 2 env ECLUSE_WORKSPACE="$t/D" "$bin" import "$t/out2/preprod.bundle" --root "$t/root.json"
grep -Eq 'repo.ref_moved|repo.bad_bundle' "$t/err" || fail "a diverged history: $(cat "$t/err")"
"$bin" log --verify >/dev/null || fail "journal"
echo "transfer: all checks passed"
