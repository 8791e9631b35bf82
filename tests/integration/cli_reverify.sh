#!/usr/bin/env bash
# Re-verification from the command line: a promoted release re-checked by reverify (exit 0, the
# reports, a signed SLSA verification summary, the journal entry, the TUF metadata re-signed in a
# new commit that stock git and ecluse verify accept); each tampering on its own copy of the
# workspace (a flipped artifact byte, a replaced signature, a branch forced back, a deleted TUF
# metadata file, an edited journal line, a revoked release key, an expired timestamp) making it
# exit 1 with its reason code; and the demotion of a release whose artifact no longer verifies.
source "$(dirname "$0")/lib.sh"
export HOME=$t GIT_CONFIG_NOSYSTEM=1
git config --global safe.directory '*'
git config --global user.name tester && git config --global user.email tester@example

# reverify_rc RC [ARGS…]: ecluse reverify --all --json ARGS exits RC; the report is in $t/out.
reverify_rc() {
  local want=$1; shift
  set +e; "$bin" reverify --all --json "$@" >"$t/out" 2>"$t/err"; local rc=$?; set -e
  [ "$rc" -eq "$want" ] || { cat "$t/out" "$t/err"; fail "reverify $* exited $rc, expected $want"; }
}
# expect_reason REASON [ITEM-SUBSTRING]: $t/out lists a problem REASON (whose item contains
# ITEM-SUBSTRING); prints the problems otherwise.
expect_reason() {
  python3 - "$t/out" "$1" "${2:-}" <<'PY' || fail "reverify did not report $1${2:+ for $2}"
import json, sys
r = json.load(open(sys.argv[1])); why, item = sys.argv[2], sys.argv[3]
ok = not r["ok"] and any(p["reason"] == why and item in p.get("item", "") for p in r["problems"])
if not ok:
    print("problems:", json.dumps(r["problems"], indent=1))
    sys.exit(1)
PY
}
# reverify_fails REASON [ITEM-SUBSTRING] [-- ARGS…]: exit 1 naming REASON.
reverify_fails() {
  local why=$1 item=${2:-}; shift $(($# < 2 ? $# : 2)); [ "${1:-}" = "--" ] && shift
  reverify_rc 1 "$@"
  expect_reason "$why" "$item"
}
# fresh NAME: a copy of the base workspace (one release promoted, never re-verified) in $t/NAME.
fresh() {
  rm -rf "$t/$1"; cp -a "$t/base" "$t/$1"
  export ECLUSE_WORKSPACE=$t/$1
  repo=$ECLUSE_WORKSPACE/repos/preprod.git
}
# commit_tree_edit EDIT…: a new unsigned commit on main whose tree is main's with each EDIT
# applied ("rm PATH" or "put PATH FILE"), the branch moved to it (git plumbing, a scratch index).
commit_tree_edit() {
  local idx=$t/index.edit; rm -f "$idx"; mkdir -p "$t/no-worktree"
  export GIT_WORK_TREE=$t/no-worktree  # update-index wants one; nothing is read from it
  GIT_INDEX_FILE=$idx git --git-dir="$repo" read-tree main
  while [ $# -gt 0 ]; do
    case $1 in
      rm) GIT_INDEX_FILE=$idx git --git-dir="$repo" update-index --force-remove "$2"; shift 2 ;;
      put) GIT_INDEX_FILE=$idx git --git-dir="$repo" update-index --add --cacheinfo \
             "100644,$(git --git-dir="$repo" hash-object -w "$3"),$2"; shift 3 ;;
      *) fail "commit_tree_edit: $1" ;;
    esac
  done
  local tree commit
  tree=$(GIT_INDEX_FILE=$idx git --git-dir="$repo" write-tree)
  commit=$(git --git-dir="$repo" commit-tree "$tree" -p main -m "tampered")
  git --git-dir="$repo" update-ref refs/heads/main "$commit"
  unset GIT_WORK_TREE
}
# flip_blob PATH: flips one byte in the middle of the loose object of main:PATH.
flip_blob() {
  local b; b=$(git --git-dir="$repo" rev-parse "main:$1")
  local f=$repo/objects/${b:0:2}/${b:2}
  [ -f "$f" ] || fail "no loose object for $1 ($b)"
  chmod u+w "$f"
  python3 - "$f" <<'PY'
import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[len(d) // 2] ^= 0xFF
open(p, "wb").write(d)
PY
}
policy_edit() {  # PYTHON: runs PYTHON with p = policy.json's object, writes it back
  python3 - "$ECLUSE_WORKSPACE/policy.json" "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); exec(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(p, indent=2))
PY
}

# The base: every "hold" allowed and no thresholds, so that ingest --promote-to promotes; one
# release big/1.0 (two artifacts of 1 MiB) in preprod.
new_workspace
policy_edit 'p["actions"] = {k: ("allow" if v == "hold" else v) for k, v in p["actions"].items()}; p.pop("thresholds", None)'
random_drop "$t/d1" 2 1 1.0
random_drop "$t/d2" 2 1 1.1
"$bin" ingest "$t/d1" --promote-to preprod >"$t/ingest" || fail "ingest: $(cat "$t/ingest")"
grep -q '^promoted ' "$t/ingest" || fail "drop 1.0 not promoted: $(cat "$t/ingest")"
git --git-dir="$t/ws/repos/preprod.git" rev-parse -q --verify refs/tags/big/1.0 >/dev/null || fail "no tag big/1.0"
mv "$t/ws" "$t/base"

# 1. A clean run.
fresh clean
before=$(git --git-dir="$repo" rev-parse main)
git --git-dir="$repo" show main:metadata/1.root.json > "$t/root.json"
reverify_rc 0
python3 - "$t/out" "$before" > "$t/clean.out" <<'PY' || { cat "$t/out"; fail "reverify --json of a clean run"; }
import json, sys
r = json.load(open(sys.argv[1])); before = sys.argv[2]
assert r["ok"] is True and r["problems"] == [], r["problems"]
assert r["journal"]["ok"] is True and r["journal"]["entries"] > 0, r["journal"]
assert r["bytes_hashed"] >= 2 << 20, r["bytes_hashed"]
c = {x["channel"]: x for x in r["channels"]}
pre = c["preprod"]
assert pre["releases"] == ["big/1.0"], pre
assert pre["demoted"] == [], pre
assert pre["verified"]["ok"] is True, pre["verified"]
ref = pre["refreshed"]
assert isinstance(ref, str) and len(ref) == 40 and ref != before, ref
assert pre["head"] == ref, pre
assert len(pre["summaries"]) == 1, pre["summaries"]
print(r["report"]); print(ref); print(pre["summaries"][0])
PY
{ read -r report; read -r refreshed; read -r vsa; } < "$t/clean.out"
[ -f "$report" ] || fail "no report.json at $report"
[ -f "$(dirname "$report")/report.txt" ] || fail "no report.txt beside $report"
case $report in "$ECLUSE_WORKSPACE"/reports/reverify/*/report.json) ;; *) fail "report at $report";; esac
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["ok"] is True' "$report" || fail "report.json"
grep -q ok "$(dirname "$report")/report.txt" || fail "report.txt: $(cat "$(dirname "$report")/report.txt")"
[ -f "$vsa" ] || fail "no verification summary at $vsa"
python3 - "$vsa" <<'PY' || fail "verification summary $vsa"
import base64, json, sys
e = json.load(open(sys.argv[1]))
assert e["payloadType"] == "application/vnd.in-toto+json", e["payloadType"]
assert e["signatures"] and all(s["sig"] for s in e["signatures"]), e["signatures"]
s = json.loads(base64.b64decode(e["payload"]))
assert s["_type"] == "https://in-toto.io/Statement/v1", s["_type"]
assert s["predicateType"] == "https://slsa.dev/verification_summary/v1", s["predicateType"]
assert s["predicate"]["verificationResult"] == "PASSED", s["predicate"]
assert sorted(x["name"] for x in s["subject"]) == ["part1.bin", "part2.bin"], s["subject"]
PY
"$bin" verify-attestation "$vsa" --artifact "$t/d1/payload/part1.bin" >"$t/va" 2>&1 \
  || fail "verify-attestation of the summary: $(cat "$t/va")"
"$bin" log >"$t/log" || fail "log"
grep -q 'reverify.run' "$t/log" || fail "no reverify.run in the journal: $(tail -5 "$t/log")"
"$bin" log --verify >/dev/null || fail "journal after reverify"
[ "$(git --git-dir="$repo" rev-parse main)" = "$refreshed" ] || fail "main is not the refreshed commit"
[ "$(git --git-dir="$repo" rev-parse main~1)" = "$before" ] || fail "the refresh is not one commit on the old head"
git --git-dir="$repo" log --format=%H main | grep -x "$refreshed" >/dev/null || fail "git log lacks $refreshed"
[ "$(git --git-dir="$repo" cat-file -t "$refreshed")" = commit ] || fail "$refreshed is not a commit"
"$bin" keys export-public --allowed-signers "$t/allowed_signers" >/dev/null
git --git-dir="$repo" -c gpg.format=ssh -c gpg.ssh.allowedSignersFile="$t/allowed_signers" \
  verify-commit "$refreshed" 2>"$t/gv" || fail "the refresh commit is not signed: $(cat "$t/gv")"
git --git-dir="$repo" fsck --strict 2>&1 | tee "$t/fsck" | grep -Eq '^(error|warning)' && fail "fsck: $(cat "$t/fsck")"
git --git-dir="$repo" fsck --strict >/dev/null 2>&1 || fail "fsck --strict failed"
"$bin" verify "$repo" --root "$t/root.json" >"$t/verify" 2>&1 || fail "verify after refresh: $(cat "$t/verify")"
grep -q '^verified ' "$t/verify" || fail "ecluse verify: $(cat "$t/verify")"
reverify_rc 0
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and r["report"] != sys.argv[2]' \
  "$t/out" "$report" || fail "second run: $(cat "$t/out")"
reverify_rc 0 --no-refresh
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert all(c["refreshed"] is None for c in r["channels"]), r["channels"]' \
  "$t/out" || fail "--no-refresh re-signed metadata"
[ "$(grep -c reverify.run <("$bin" log))" -ge 3 ] || fail "three runs, fewer reverify.run entries"
set +e; "$bin" reverify --channel preprod --json --no-refresh --threads 1 >"$t/out" 2>"$t/err"; rc=$?; set -e
[ "$rc" -eq 0 ] || { cat "$t/out" "$t/err"; fail "reverify --channel preprod exited $rc"; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and [c["channel"] for c in r["channels"]] == ["preprod"], r' \
  "$t/out" || fail "--channel preprod: $(cat "$t/out")"
# Usage errors (exit 2): no channel, --at malformed, an unknown channel.
for args in "" "--all --at tomorrow" "--channel nowhere"; do
  set +e; "$bin" reverify $args >/dev/null 2>&1; rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "reverify $args exited $rc, expected 2"
done

# 2a. A flipped byte in a promoted artifact (its loose object in the bare repository).
fresh flip
flip_blob targets/big/1.0/part1.bin
reverify_fails tuf.target_mismatch part1.bin
python3 - "$t/out" <<'PY' || fail "summary of a failed release"
import base64, json, sys
r = json.load(open(sys.argv[1])); pre = [c for c in r["channels"] if c["channel"] == "preprod"][0]
assert pre["refreshed"] is None, pre["refreshed"]
for path in pre["summaries"]:
    s = json.loads(base64.b64decode(json.load(open(path))["payload"]))
    assert s["predicate"]["verificationResult"] == "FAILED", s["predicate"]
PY
grep -q 'reverify.run' <("$bin" log) || fail "a failed run not journaled"

# 2b. A replaced signature file (an unsigned commit on top with another .p7s).
fresh sig
git --git-dir="$repo" show main:targets/big/1.0/part2.bin.p7s > "$t/other.p7s"
commit_tree_edit put targets/big/1.0/part1.bin.p7s "$t/other.p7s"
reverify_fails tuf.target_mismatch part1.bin.p7s
expect_reason repo.commit_unsigned

# 2c. The branch forced back to an older head after the remembered one.
fresh back
reverify_rc 0
old=$(git --git-dir="$repo" rev-parse main)
"$bin" ingest "$t/d2" --promote-to preprod >"$t/ingest" || fail "ingest 1.1: $(cat "$t/ingest")"
grep -q '^promoted ' "$t/ingest" || fail "drop 1.1 not promoted: $(cat "$t/ingest")"
[ "$(git --git-dir="$repo" rev-parse main)" != "$old" ] || fail "main did not move"
reverify_rc 0
git --git-dir="$repo" update-ref refs/heads/main "$old"
reverify_fails reverify.history_rewritten refs/heads/main
reverify_fails reverify.history_rewritten refs/heads/main -- --no-refresh  # not forgotten

# 2d. A deleted TUF metadata file: timestamp.json, and snapshot.json.
fresh nots
commit_tree_edit rm metadata/timestamp.json
reverify_fails tuf.metadata_missing timestamp
fresh nosnap
commit_tree_edit rm metadata/snapshot.json
reverify_fails tuf.metadata_missing snapshot

# 2e. One character of a middle journal line edited (a time value's last digit).
fresh journal
python3 - "$ECLUSE_WORKSPACE/journal/journal.jsonl" <<'PY'
import re, sys
p = sys.argv[1]; lines = open(p).read().split("\n")
n = len([l for l in lines if l]) // 2
m = re.search(r'"time":"[^"]*(\d)Z"', lines[n])
i = m.end(1) - 1
lines[n] = lines[n][:i] + str((int(lines[n][i]) + 1) % 10) + lines[n][i + 1:]
open(p, "w").write("\n".join(lines))
PY
reverify_fails journal.tampered
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["journal"]["ok"] is False' "$t/out" \
  || fail "journal.ok after an edit"

# 2f. The release key revoked (after its successor was made).
fresh revoke
old_key=$("$bin" keys list --json | python3 -c 'import json,sys; print([k["keyid"] for k in json.load(sys.stdin)["keys"] if k["role"] == "release" and k["status"] == "active"][0])')
"$bin" keys rotate release >/dev/null || fail "keys rotate release"
"$bin" keys revoke "$old_key" --reason compromised >/dev/null || fail "keys revoke"
reverify_fails reverify.key_revoked

# 2g. An expired timestamp: judged three days on.
fresh expire
reverify_fails tuf.expired "" -- --at "$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert all(c["refreshed"] is None for c in r["channels"])' \
  "$t/out" || fail "--at re-signed metadata"

# 3. Demotion: with reverify.demote, a release whose artifact no longer verifies is withdrawn.
fresh demote
policy_edit 'p["reverify"] = {"demote": True}'
"$bin" policy check >/dev/null || fail "policy with reverify.demote"
flip_blob targets/big/1.0/part1.bin
set +e; "$bin" reverify --all --json >"$t/out" 2>"$t/err"; rc=$?; set -e
[ "$rc" -eq 1 ] || { cat "$t/out" "$t/err"; fail "reverify with demotion exited $rc, expected 1"; }
expect_reason tuf.target_mismatch part1.bin
python3 - "$t/out" <<'PY' || fail "demoted"
import json, sys
r = json.load(open(sys.argv[1])); pre = [c for c in r["channels"] if c["channel"] == "preprod"][0]
assert pre["demoted"] == ["big/1.0"], pre
PY
git --git-dir="$repo" show main:releases/big/1.0/release.json > "$t/release.json" || fail "no release.json on main"
grep -q withdrawn "$t/release.json" || fail "release.json not withdrawn: $(cat "$t/release.json")"
grep -q 'promote.withdrawn.*"version":"1.0"' <("$bin" log) || fail "the demotion not journaled"
echo "reverify: all checks passed"
