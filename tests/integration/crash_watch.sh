#!/usr/bin/env bash
# A machine crash (the watcher and all its workers killed with SIGKILL, ECLUSE_FAULT_GROUP=1) at
# named fault points while `ecluse watch --once` runs three drops of one product line through
# the pipeline and promotes them into preprod; then `watch --once` again without the fault (up
# to 3 times while it exits 3). After the restart: (a) every drop promoted; (b) nothing promoted
# twice: one commit, one tag and one promote.promoted per release; (c) git fsck --strict clean;
# (d) every content-store object hashes to its name; (e) the journal's chain verifies; (f) so
# does the channel, from its first root; (g) the journal holds every event a clean run journals
# for each drop, once (the journal outbox writes what a crash left unjournaled; with
# CRASH_STRICT_JOURNAL=0 a lost event is only reported as a gap).
#
# CRASH_POINTS selects the points: unset or "" runs a fixed reduced subset (what ctest runs);
# "all" runs every point a clean run passes (from ECLUSE_FAULT_TRACE), plus journal.appended:N
# for each further journal append of the first worker; anything else is a list of points
# (NAME or NAME:N, separated by spaces or commas), e.g. to reproduce one failure.
# CRASH_KEEP=DIR copies the workspace and outputs of each failed point there.
# scripts/crash-test.sh runs the full set.
source "$(dirname "$0")/lib.sh"
bin=$(realpath "$bin")
export HOME=$t GIT_CONFIG_NOSYSTEM=1
git config --global safe.directory '*'
now_ms() { echo $(($(date +%s%N) / 1000000)); }
since() { local ms=$(($(now_ms) - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }  # seconds
started=$(now_ms)
versions=(1.1 1.2 1.3)
reduced=(intake.staged unpack.committed sign.ran promote.commit_written promote.branch_moved
  promote.tagged)

# The pristine workspace: policy that promotes without review, three drops ready in incoming/.
new_workspace
python3 - "$ECLUSE_WORKSPACE/policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["actions"] = {k: ("allow" if v == "hold" else v) for k, v in p["actions"].items()}
p.pop("thresholds", None)
open(sys.argv[1], "w").write(json.dumps(p, indent=2))
PY
for v in "${versions[@]}"; do
  d=$ECLUSE_WORKSPACE/staging/incoming/big-$v
  random_drop "$d" 2 1 "$v"
  touch "$d/READY"
done
mv "$t/ws" "$t/pristine"

# run_watch LOG [ENV…]: `watch --once` in its own session (a group fault kills only it and its
# workers), like `setsid --wait`, but under a child subreaper that also reaps the workers the
# crash orphaned: it returns once every process of the crashed "machine" is gone (left to init,
# a killed worker can linger as a zombie for a while, and a zombie still counts as a live lease
# holder). Prints the exit status (128 + signal when killed).
reaper='
import ctypes, os, sys
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pid = os.fork()
if pid == 0:
    os.setsid()
    os.execv(sys.argv[1], sys.argv[1:])
status = os.waitpid(pid, 0)[1]
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
'
run_watch() {
  local log=$1 rc=0; shift
  env "$@" python3 -c "$reaper" "$bin" watch --once --jobs 2 </dev/null >"$log" 2>&1 || rc=$?
  echo "$rc"
}

# check WS OUTDIR LABEL: the assertions on a finished workspace; each failure is printed and
# counted.
failures=() gaps=()
bad() { echo "FAIL [$label] $*"; failures+=("$label: $*"); }
check() {
  local ws=$1 out=$2; label=$3
  local repo=$ws/repos/preprod.git v n
  export ECLUSE_WORKSPACE=$ws
  # (a) every drop in a terminal state, here promoted.
  if "$bin" status --json >"$out/status.json" 2>"$out/status.err"; then
    python3 - "$out/status.json" "${versions[@]}" >"$out/status.check" 2>&1 <<'PY' ||
import json, sys
drops = json.load(open(sys.argv[1]))["drops"]
want = sys.argv[2:]
problems = []
for v in want:
    mine = [d for d in drops if d["version"] == v]
    if len(mine) != 1:
        problems.append(f"{len(mine)} drop records for version {v}")
    for d in mine:
        if d["state"] not in ("promoted", "rejected", "held"):
            problems.append(f"version {v} in non-terminal state {d['state']}")
        elif d["state"] != "promoted":
            problems.append(f"version {v} {d['state']}, not promoted")
extra = [d["version"] for d in drops if d["version"] not in want]
if extra:
    problems.append(f"unexpected drops {extra}")
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
      bad "(a) drop states: $(cat "$out/status.check")"
  else
    bad "(a) status --json failed: $(cat "$out/status.err")"
  fi
  # (b) nothing promoted twice: one commit and one tag per release, one promote.promoted each.
  if git --git-dir="$repo" log --format=%s main >"$out/subjects" 2>"$out/git.err"; then
    for v in "${versions[@]}"; do
      n=$(grep -cE "(^|[^0-9.])big/${v//./\\.}([^0-9.]|\$)" "$out/subjects" || true)
      [ "$n" -eq 1 ] || bad "(b) $n commits on preprod main mention big/$v: $(tr '\n' '|' <"$out/subjects")"
    done
    n=$(wc -l <"$out/subjects")
    [ "$n" -eq "${#versions[@]}" ] || bad "(b) preprod main has $n commits, expected ${#versions[@]}: $(tr '\n' '|' <"$out/subjects")"
  else
    bad "(b) git log of preprod main failed: $(cat "$out/git.err")"
  fi
  git --git-dir="$repo" tag -l >"$out/tags" 2>&1 || true
  [ "$(tr '\n' ' ' <"$out/tags")" = "$(printf 'big/%s ' "${versions[@]}")" ] ||
    bad "(b) tags in preprod: $(tr '\n' ' ' <"$out/tags")"
  if "$bin" log --json >"$out/log.json" 2>"$out/log.err"; then
    python3 - "$out/log.json" "$out/status.json" "${versions[@]}" >"$out/log.check" 2>&1 <<'PY' ||
import json, sys
entries = json.load(open(sys.argv[1]))["entries"]
try:
    drops = json.load(open(sys.argv[2]))["drops"]
except Exception:
    drops = []
promoted = [e for e in entries if e["event"] == "promote.promoted"]
problems = []
for v in sys.argv[3:]:
    n = sum(1 for e in promoted if e["details"].get("version") == v)
    if n != 1:
        problems.append(f"{n} promote.promoted for version {v}")
for d in drops:
    n = sum(1 for e in promoted if e["drop"] and d["id"].startswith(e["drop"]))
    if n != 1:
        problems.append(f"{n} promote.promoted for drop {d['short_id']} ({d['version']})")
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
      bad "(b) journal: $(cat "$out/log.check")"
  else
    bad "(b) log --json failed: $(cat "$out/log.err")"
  fi
  # (c) git fsck --strict: exit 0, no error or warning.
  if git --git-dir="$repo" fsck --strict >"$out/fsck" 2>&1; then
    ! grep -Eiq '(^|: )(error|warning)' "$out/fsck" || bad "(c) fsck --strict: $(tr '\n' '|' <"$out/fsck")"
  else
    bad "(c) fsck --strict failed: $(tr '\n' '|' <"$out/fsck")"
  fi
  # (d) every object hashes to its name (objects/sha256/ab/cdef…: name ab + cdef…).
  (cd "$ws/quarantine/objects" && find . -type f -print0 | xargs -0 -r sha256sum) >"$out/hashes" 2>&1 ||
    bad "(d) cannot hash the content store: $(cat "$out/hashes")"
  awk '{ p = $2; sub(/^\.\//, "", p); n = split(p, part, "/")
         if (n != 3 || part[1] != "sha256" || part[2] part[3] != $1) print p }' "$out/hashes" >"$out/badobj"
  [ ! -s "$out/badobj" ] || bad "(d) objects not named by their hash: $(tr '\n' ' ' <"$out/badobj")"
  [ -s "$out/hashes" ] || bad "(d) the content store is empty"
  # (e) the journal's chain and checkpoints.
  "$bin" log --verify >"$out/logverify" 2>&1 || bad "(e) log --verify: $(tr '\n' '|' <"$out/logverify")"
  # (f) the channel verifies from its first root.
  if git --git-dir="$repo" show main:metadata/1.root.json >"$out/root.json" 2>"$out/root.err"; then
    "$bin" verify "$repo" --root "$out/root.json" >"$out/verify" 2>&1 ||
      bad "(f) verify: $(tr '\n' '|' <"$out/verify")"
  else
    bad "(f) no metadata/1.root.json on preprod main: $(cat "$out/root.err")"
  fi
  # (g) the journal tells each drop's whole story: every event a clean run journals for a drop
  # (intake.received, each stage's .done, sign.signed, …) exactly once, none lost to the crash.
  # A failure, or with CRASH_STRICT_JOURNAL=0 only reported as a gap (see the header).
  if [ -s "$t/expected_events" ] && [ -s "$out/log.json" ]; then
    python3 - "$out/log.json" "$out/status.json" "$t/expected_events" >"$out/story.check" 2>&1 <<'PY' ||
import json, sys
entries = json.load(open(sys.argv[1]))["entries"]
try:
    drops = json.load(open(sys.argv[2]))["drops"]
except Exception:
    drops = []
expected = open(sys.argv[3]).read().split()
problems = []
for d in sorted(drops, key=lambda d: d["version"]):
    mine = [e["event"] for e in entries if e["drop"] and d["id"].startswith(e["drop"])]
    lost = [ev for ev in expected if mine.count(ev) == 0]
    twice = [f"{ev} x{mine.count(ev)}" for ev in expected if mine.count(ev) > 1]
    if lost:
        problems.append(f"{d['version']} lacks {' '.join(lost)}")
    if twice:
        problems.append(f"{d['version']} has {' '.join(twice)}")
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
      if [ "${CRASH_STRICT_JOURNAL:-1}" = 1 ]; then
        bad "(g) journal story: $(cat "$out/story.check")"
      else
        echo "gap  [$label] (g) journal story: $(cat "$out/story.check")"
        gaps+=("$label: $(cat "$out/story.check")")
      fi
  fi
}

# Reference run: no fault, the trace of every point passed.
mkdir -p "$t/ref.out"
cp -a "$t/pristine" "$t/ref"
rc=$(run_watch "$t/ref.out/watch.log" ECLUSE_WORKSPACE="$t/ref" ECLUSE_FAULT_TRACE="$t/trace")
[ "$rc" -eq 0 ] || fail "the reference run exited $rc: $(cat "$t/ref.out/watch.log")"
check "$t/ref" "$t/ref.out" reference
[ "${#failures[@]}" -eq 0 ] || fail "the reference run (no fault) fails the checks"
# The events a clean run journals for a drop, each once (for check (g)).
python3 - "$t/ref.out/log.json" "${#versions[@]}" >"$t/expected_events" <<'PY' || fail "the reference journal: $(cat "$t/expected_events")"
import json, sys, collections
per_drop = collections.defaultdict(list)
for e in json.load(open(sys.argv[1]))["entries"]:
    if e["drop"]:
        per_drop[e["drop"]].append(e["event"])
stories = {tuple(sorted(v)) for v in per_drop.values()}
if len(per_drop) != int(sys.argv[2]) or len(stories) != 1 or len(set(next(iter(stories)))) != len(next(iter(stories))):
    print(f"drops journal different or repeated events in a clean run: {dict(per_drop)}")
    sys.exit(1)
print(" ".join(next(iter(stories))))
PY
mapfile -t found < <(sort -u "$t/trace")
[ "${#found[@]}" -ge 20 ] ||
  fail "a clean run passes only ${#found[@]} distinct fault points (want at least 20): ${found[*]}"
echo "a clean run passes ${#found[@]} distinct fault points"

case "${CRASH_POINTS:-}" in
  "") points=("${reduced[@]}") ;;
  all)
    points=("${found[@]}")
    # The first worker's journal appends (each worker counts its own passages): all its lines
    # precede the second intake.staged, as drops of one product line run one at a time.
    appends=$(awk '/^intake.staged$/ && ++s == 2 { exit } /^journal.appended$/ { n++ } END { print n + 0 }' "$t/trace")
    for n in $(seq 2 "$appends"); do points+=("journal.appended:$n"); done
    ;;
  *) read -ra points <<<"${CRASH_POINTS//,/ }" ;;
esac
for p in "${points[@]}"; do
  printf '%s\n' "${found[@]}" | grep -xF >/dev/null "${p%%:*}" || fail "point $p is not passed by a clean run"
done

passed=() failed=()
for p in "${points[@]}"; do
  label=$p
  before=${#failures[@]} gaps_before=${#gaps[@]}
  point_start=$(now_ms)
  safe=${p//[^A-Za-z0-9._-]/_}
  ws=$t/ws.$safe out=$t/out.$safe
  mkdir -p "$out"
  cp -a "$t/pristine" "$ws"
  crash_rc=$(run_watch "$out/crash.log" ECLUSE_WORKSPACE="$ws" ECLUSE_FAULT="$p" ECLUSE_FAULT_GROUP=1)
  if [ "$crash_rc" -eq 0 ] || grep -q 'watch.stopped' "$out/crash.log"; then
    bad "the watcher did not die at the fault (exit $crash_rc): $(tail -n 3 "$out/crash.log" | tr '\n' '|')"
  fi
  restarts=0
  while :; do
    restarts=$((restarts + 1))
    rc=$(run_watch "$out/restart$restarts.log" ECLUSE_WORKSPACE="$ws")
    if [ "$rc" -ne 3 ] || [ "$restarts" -ge 3 ]; then break; fi
  done
  [ "$rc" -eq 0 ] ||
    bad "restart $restarts exited $rc: $(grep -vE 'drop\.(seen|started)' "$out/restart$restarts.log" | tr '\n' '|')"
  check "$ws" "$out" "$p"
  took=$(since "$point_start")
  note=""
  [ "${#gaps[@]}" -eq "$gaps_before" ] || note=", journal gap"
  if [ "${#failures[@]}" -eq "$before" ]; then
    passed+=("$p")
    printf 'ok    %-24s crash exit %s, %d restart(s), %s s%s\n' "$p" "$crash_rc" "$restarts" "$took" "$note"
    rm -rf "$ws" "$out"
  else
    failed+=("$p")
    printf 'FAIL  %-24s crash exit %s, %d restart(s), %s s\n' "$p" "$crash_rc" "$restarts" "$took"
    [ -z "${CRASH_KEEP:-}" ] || { cp -a "$ws" "$out" "$CRASH_KEEP/" && echo "      kept in $CRASH_KEEP"; }
    rm -rf "$ws"
  fi
done

printf 'crash points run: %d (%d passed, %d failed) in %s s\n' "${#points[@]}" "${#passed[@]}" "${#failed[@]}" "$(since "$started")"
if [ "${#gaps[@]}" -gt 0 ]; then
  echo "journal gaps (check (g), not counted as failures with CRASH_STRICT_JOURNAL=0):"
  printf '  %s\n' "${gaps[@]}"
fi
if [ "${#failed[@]}" -gt 0 ]; then
  echo "failed points: ${failed[*]}"
  printf '  %s\n' "${failures[@]}"
  fail "${#failed[@]} crash point(s) failed"
fi
echo "crash and watch: all checks passed"
