#!/usr/bin/env bash
# Promotion into the channel repositories from the command line: a signed demo release promoted
# into preprod and on to prod, checked by stock git (fsck --strict, verify-commit, verify-tag
# with an allowed-signers file from keys export-public), by a standard TUF client (tuf-js) over
# HTTP on 127.0.0.1, and by ecluse verify; the gates, rollbacks and withdrawal; and each attack
# on a copy of the repository or a clone failing verification with its reason code.
source "$(dirname "$0")/lib.sh"
expect_rc() {  # RC COMMAND…
  local want=$1; shift
  set +e; "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$t/out" "$t/err"; fail "'$*' exited $rc, expected $want"; }
}
expect_problem() {  # REASON REPO [ARGS…]: ecluse verify fails naming REASON
  local why=$1 repo=$2; shift 2
  expect_rc 1 "$bin" verify "$repo" --root "$t/root.json" "$@"
  grep -q "problem    $why" "$t/out" || { cat "$t/out"; fail "verify did not report $why"; }
}
export HOME=$t GIT_CONFIG_NOSYSTEM=1
git config --global safe.directory '*'
git config --global user.name tester && git config --global user.email tester@example

new_workspace
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.0.0 v1 >/dev/null
bash "$here/scripts/make-demo-drop.sh" "$t/demo" 1.1.0 v2 >/dev/null
approve_drop() {  # DIR: ingest, approve as alice; prints the drop id
  "$bin" ingest "$1" >"$t/ingest"
  local id; id=$(awk '/^held /{print $2}' "$t/ingest")
  [ -n "$id" ] || fail "drop $1 not held: $(cat "$t/ingest")"
  "$bin" approve "$id" --as alice --reason reviewed >/dev/null
  echo "$id"
}
id1=$(approve_drop "$t/demo/v1")
repo=$ECLUSE_WORKSPACE/repos/preprod.git

# Refusals that change nothing.
expect_rc 2 "$bin" promote "$id1" --to prod
grep -q promote.gate_source "$t/err" || fail "prod accepted a drop directly"
expect_rc 2 "$bin" promote "$id1" --to nowhere
grep -q promote.unknown_channel "$t/err" || fail "an unknown channel"
[ ! -e "$ECLUSE_WORKSPACE/repos/prod.git/refs/heads/main" ] || fail "a refused promotion wrote prod"

# Promote into preprod.
expect_rc 0 "$bin" promote "$id1" --to preprod --json
python3 - "$t/out" <<'PY' || fail "promote --json"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["ok"] and p["channel"] == "preprod" and p["version"] == "1.0.0" and len(p["commit"]) == 40, p
PY
"$bin" status --json | grep -q '"state": "promoted"' || fail "drop not promoted in the state store"
git --git-dir="$repo" fsck --strict 2>&1 | tee "$t/fsck" | grep -Eq '^(error|warning)' && fail "fsck: $(cat "$t/fsck")"
git --git-dir="$repo" show main:metadata/1.root.json > "$t/root.json"
"$bin" keys export-public --allowed-signers "$t/allowed_signers" >/dev/null
gv() { git --git-dir="$repo" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$t/allowed_signers" "$@"; }
gv verify-commit main 2>"$t/gv" || fail "git verify-commit: $(cat "$t/gv")"
grep -q 'Good "git" signature' "$t/gv" || fail "git verify-commit output: $(cat "$t/gv")"
gv verify-tag cloud-agent/1.0.0 2>"$t/gv" || fail "git verify-tag: $(cat "$t/gv")"
expect_rc 0 "$bin" verify "$repo" --root "$t/root.json"
grep -q '^verified ' "$t/out" || fail "ecluse verify: $(cat "$t/out")"

# A standard TUF client over HTTP, from the trusted root, downloading every target.
git clone -q "$repo" "$t/clone"
node "$here/tests/tools/tuf-client/client.mjs" --root "$t/root.json" --dir "$t/clone" --all >"$t/tuf" \
  || fail "tuf-js: $(cat "$t/tuf")"
grep -q '"ok":true' "$t/tuf" || fail "tuf-js: $(cat "$t/tuf")"
expect_rc 0 "$bin" verify "$t/clone" --root "$t/root.json"

# Second release; preprod → prod with gates.
id2=$(approve_drop "$t/demo/v2")
expect_rc 0 "$bin" promote "$id2" --to preprod
product=cloud-agent
cp "$ECLUSE_WORKSPACE/policy.json" "$t/policy.saved"
python3 - "$ECLUSE_WORKSPACE/policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["promotion"]["prod"]["soak_hours"] = 48
open(sys.argv[1], "w").write(json.dumps(p))
PY
expect_rc 2 "$bin" promote "$product" 1.1.0 --from preprod --to prod
grep -q promote.gate_soak "$t/err" || fail "soak gate"
python3 - "$ECLUSE_WORKSPACE/policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); p["promotion"]["prod"] = {"from": "preprod", "approvals": 2}
open(sys.argv[1], "w").write(json.dumps(p))
PY
expect_rc 2 "$bin" promote "$product" 1.1.0 --from preprod --to prod
grep -q promote.gate_approvals "$t/err" || fail "approvals gate"
cp "$t/policy.saved" "$ECLUSE_WORKSPACE/policy.json"
expect_rc 0 "$bin" promote "$product" 1.1.0 --from preprod --to prod
expect_rc 1 "$bin" promote "$product" 1.0.0 --from preprod --to prod
grep -q promote.rollback "$t/err" || fail "a rollback into prod"
expect_rc 2 "$bin" promote "$product" 9.9.9 --from preprod --to prod
grep -q promote.not_in_channel "$t/err" || fail "an absent release"
prod=$ECLUSE_WORKSPACE/repos/prod.git
git --git-dir="$prod" show main:metadata/1.root.json > "$t/prod-root.json"
expect_rc 0 "$bin" verify "$prod" --root "$t/prod-root.json" --release "$product/1.1.0"
git --git-dir="$prod" fsck --strict >/dev/null 2>&1 || fail "prod fsck"

# Withdraw from preprod: a new signed version, history kept, the release no longer a target.
before=$(git --git-dir="$repo" rev-parse main)
expect_rc 0 "$bin" withdraw "$product" 1.0.0 --channel preprod --reason "superseded"
[ "$(git --git-dir="$repo" rev-parse main~1)" = "$before" ] || fail "withdraw rewrote history"
expect_rc 0 "$bin" verify "$repo" --root "$t/root.json"
expect_problem tuf.target_missing "$repo" --release "$product/1.0.0"
expect_rc 2 "$bin" withdraw "$product" 1.0.0 --channel preprod --reason again
"$bin" log --verify >/dev/null || fail "journal after promotions"

# Attacks, each on a fresh copy (bare) or clone, must fail with its reason code.
attack_copy() { rm -rf "$t/evil"; cp -a "$repo" "$t/evil"; }
commit_unsigned() {  # DIR MESSAGE: commit the work tree of a clone without a signature
  git -C "$1" add -A && git -C "$1" commit -q -m "$2"
}
# A modified, removed and added target in a clone's work tree.
rm -rf "$t/c2" && git clone -q "$repo" "$t/c2"
target=$(cd "$t/c2" && find targets -type f ! -name '*.p7s' | grep -v '/[0-9a-f]\{64\}\.' | head -1)
printf 'x' >> "$t/c2/$target"
expect_problem tuf.target_mismatch "$t/c2"
git -C "$t/c2" checkout -q -- . && rm "$t/c2/$target"
expect_problem tuf.target_missing "$t/c2"
git -C "$t/c2" checkout -q -- . && echo extra > "$t/c2/targets/extra.bin"
expect_problem tuf.target_unlisted "$t/c2"
# The same as commits (unsigned): a rewritten history.
rm "$t/c2/targets/extra.bin" && printf 'y' >> "$t/c2/$target" && commit_unsigned "$t/c2" "evil"
expect_problem repo.commit_unsigned "$t/c2"
expect_problem tuf.target_mismatch "$t/c2"
# A commit signed by another key (a forged promotion).
ssh-keygen -q -t ecdsa -N '' -f "$t/evil_key"
git -C "$t/c2" -c gpg.format=ssh -c user.signingkey="$t/evil_key" commit -q -S --amend -m forged
expect_problem repo.commit_signature "$t/c2"
# A rolled-back snapshot and targets (older metadata in a new commit).
rm -rf "$t/c3" && git clone -q "$repo" "$t/c3"
git -C "$t/c3" checkout -q HEAD~2 -- metadata/timestamp.json metadata/snapshot.json metadata/targets.json
commit_unsigned "$t/c3" "roll back"
expect_problem tuf.rollback "$t/c3"
# An expired timestamp (verified as of 400 days on).
at=$(date -u -d '+400 days' +%Y-%m-%dT%H:%M:%SZ)
expect_rc 1 "$bin" verify "$repo" --root "$t/root.json" --at "$at"
grep -q "problem    tuf.expired" "$t/out" || { cat "$t/out"; fail "expired timestamp not reported"; }
# A moved tag, and a branch rolled back to an older signed commit.
attack_copy
git --git-dir="$t/evil" update-ref "refs/tags/$product/1.1.0" "$(git --git-dir="$t/evil" rev-parse "refs/tags/$product/1.0.0")"
expect_problem repo.tag_invalid "$t/evil"
attack_copy
git --git-dir="$t/evil" update-ref refs/heads/main "$(git --git-dir="$t/evil" rev-parse main~2)"
expect_problem repo.tag_invalid "$t/evil"
attack_copy
git --git-dir="$t/evil" tag -f "$product/1.1.0" main~1 >/dev/null 2>&1
expect_problem repo.tag_invalid "$t/evil"
# A root.json the consumer does not trust.
"$bin" init "$t/ws2" >/dev/null
ECLUSE_WORKSPACE=$t/ws2 "$bin" keys init >/dev/null
cp "$t/root.json" "$t/root.saved"
python3 - "$t/root.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["signed"]["version"] = 1; r["signatures"] = []
open(sys.argv[1], "w").write(json.dumps(r))
PY
expect_rc 1 "$bin" verify "$repo" --root "$t/root.json"
cp "$t/root.saved" "$t/root.json"

# kill -9 during a promotion: the branch is at the old or the new commit, fsck stays clean,
# and the re-run completes.
random_drop "$t/big" 2 32 2.0
"$bin" ingest "$t/big" >"$t/ingest"
bid=$(awk '/^held /{print $2}' "$t/ingest")
"$bin" approve "$bid" --as alice --reason big >/dev/null
for delay in 0.05 0.5 1.5 3; do
  old=$(git --git-dir="$repo" rev-parse -q --verify main || true)
  "$bin" promote "$bid" --to preprod >/dev/null 2>&1 &
  pid=$!; sleep "$delay"; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  now=$(git --git-dir="$repo" rev-parse main)
  echo "kill -9 after $delay s: branch $([ "$now" = "$old" ] && echo unchanged || echo moved)"
  if [ "$now" != "$old" ]; then
    [ "$(git --git-dir="$repo" rev-parse main~1)" = "$old" ] || fail "branch moved by more than one commit"
    git --git-dir="$repo" cat-file -e "main:releases/big/2.0/release.json" || fail "new head lacks the release"
  fi
  git --git-dir="$repo" fsck --strict >/dev/null 2>&1 || fail "fsck after kill at $delay s"
done
expect_rc 0 "$bin" promote "$bid" --to preprod
git --git-dir="$repo" rev-parse -q --verify "refs/tags/big/2.0" >/dev/null || fail "no tag after resume"
expect_rc 0 "$bin" verify "$repo" --root "$t/root.json"

# The release key revoked since: what it signed no longer moves between channels, and new
# promotions are signed by its successor (a new root version lists it).
old_key=$("$bin" keys list --json | python3 -c 'import json,sys; print([k["keyid"] for k in json.load(sys.stdin)["keys"] if k["role"] == "release" and k["status"] == "active"][0])')
"$bin" keys rotate release >/dev/null
"$bin" keys revoke "$old_key" --reason compromised >/dev/null || fail "revoke"

expect_rc 1 "$bin" promote big 2.0 --from preprod --to prod
grep -q promote.evidence_invalid "$t/err" || fail "a release signed by a revoked key moved to prod"
echo "promotion: all checks passed"
