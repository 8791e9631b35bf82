#!/usr/bin/env bash
# Times ecluse's diff against the issue's targets and checks that it finds what diff -rq finds:
#   (a) ecluse-bench-diff: unpack::load_tree of two tree manifests of N entries (default
#       100 000; about 2% changed: modified, added, removed, renamed, mode) and
#       diff::compare_trees, in process; median of R runs of load + compare       (< 1 s)
#   (b) a signed v1/v2 drop pair (about M MiB, v2 with 2% of the files changed, as tar.zst and
#       tar.gz artifacts), both ingested into a fresh workspace (v1 approved: the baseline);
#       then, interleaved (A B, A B, …) over R runs:
#         A  `ecluse diff V2 --baseline V1 --json` (the diff analysis: manifests loaded and
#            compared, changed files classified and scanned for endpoints)
#         B  `diff -rq` of the two materialised trees (each artifact extracted by bsdtar into a
#            directory named after it)                                            (A <= 1x B)
#       and, once or twice, `diffoscope` on the same two trees                (>= 50x A)
#       and asserts that A's changed files (leaf regular files; both paths of a rename) are
#       exactly the paths B reports.
# usage: scripts/bench/diff.sh [--mib M] [--runs R] [--entries N] [--artifacts K]
#          [--diffoscope-runs D] [--diffoscope-timeout S] [--no-diffoscope]
#   M: MiB of the v1 tree (default 200); R: runs (default 5); N: entries per manifest in (a)
#   (default 100000) over K archive artifacts (default 4); D: diffoscope runs (default 1);
#   S: its timeout (default 1800 s; when it times out, its ratio is a lower bound "> N x").
#   Installs diffoscope-minimal and hyperfine with apt-get when missing. Exit status 1 when a
#   target is not met or the paths differ.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
mib=200; runs=5; entries=100000; artifacts=4; dfo_runs=1; dfo_timeout=1800; dfo=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --mib) mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --entries) entries=$2; shift 2 ;;
    --artifacts) artifacts=$2; shift 2 ;;
    --diffoscope-runs) dfo_runs=$2; shift 2 ;;
    --diffoscope-timeout) dfo_timeout=$2; shift 2 ;;
    --no-diffoscope) dfo=no; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

# --- tools ------------------------------------------------------------------------------------

# apt_install PACKAGE: installs it (no recommends) and prints the packages apt set up.
apt_install() {
  echo "installing $1: apt-get install -y --no-install-recommends $1"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "$1" >"$work/apt.log" 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -q --no-install-recommends "$1" >"$work/apt.log" 2>&1 || {
      echo "  apt-get failed:"; tail -n 5 "$work/apt.log"; return 1; }
  fi
  sed -n 's/^Setting up \([^ ]*\) (\([^)]*\)).*/  installed \1 \2/p' "$work/apt.log"
}

work=$(mktemp -d /var/tmp/ecluse-bench-diff-XXXXXX)
trap 'rm -rf "$work"' EXIT

bash scripts/install-deps.sh >/dev/null
if [ "$dfo" = yes ] && ! command -v diffoscope >/dev/null; then apt_install diffoscope-minimal; fi
if ! command -v hyperfine >/dev/null; then apt_install hyperfine || true; fi
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ecluse ecluse-bench-diff >/dev/null
ecluse=$PWD/build/release/ecluse
bench=$PWD/build/release/ecluse-bench-diff

# --- measurements -----------------------------------------------------------------------------

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# timed CMD…: runs it once with stdout to /dev/null (hyperfine -N when present, else date);
# sets wall (ms) and status (its exit status).
timed() {
  local t0
  status=0
  if command -v hyperfine >/dev/null; then
    hyperfine -N -i --runs 1 --style none --export-json "$work/hf.json" -- "$*" >/dev/null 2>&1 \
      || { echo "FAILED: hyperfine on $*" >&2; exit 3; }
    read -r wall status < <(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["results"][0]
print(round(r["times"][0] * 1000), r["exit_codes"][0])' "$work/hf.json")
  else
    t0=$(date +%s%N)
    "$@" >/dev/null || status=$?
    wall=$(ms_since "$t0")
  fi
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.3f", ms / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
mib_of() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
# jget JSON EXPR: a Python expression over the parsed JSON `j`.
jget() { python3 -c 'import json, sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2" <<<"$1"; }
verdict() { if [ "$1" = 1 ]; then echo PASS; else echo FAIL; fi; }
failed=0

# --- (a) two tree manifests ---------------------------------------------------------------------

part_a() {
  local gen r line load cmp loads=() cmps=() totals=() walls=() rss=0 k want got
  gen=$("$bench" gen "$work/a" --entries "$entries" --artifacts "$artifacts")
  echo "(a) manifests ($artifacts artifacts): $(jget "$gen" 'j["entries_before"]') and $(jget "$gen" 'j["entries_after"]') entries," \
    "$(mib_of "$(stat -c %s "$work/a/before.json")") and $(mib_of "$(stat -c %s "$work/a/after.json")") MiB of JSON;" \
    "generated changes: $(jget "$gen" '", ".join(f"{k} {j[k]}" for k in ("modified", "added", "removed", "renamed", "mode_changed"))')"
  for r in $(seq 1 "$runs"); do
    local t0; t0=$(date +%s%N)
    line=$(/usr/bin/time -f '%M' -o "$work/rss" "$bench" compare "$work/a/before.json" "$work/a/after.json")
    walls+=("$(ms_since "$t0")")
    for k in modified added removed renamed mode_changed; do
      want=$(jget "$gen" "j['$k']") got=$(jget "$line" "j['$k']")
      if [ "$want" != "$got" ]; then
        echo "FAILED: compare_trees found $k $got, the generator made $want" >&2; exit 1
      fi
    done
    load=$(jget "$line" 'round(j["load_seconds"] * 1000, 1)')
    cmp=$(jget "$line" 'round(j["compare_seconds"] * 1000, 1)')
    loads+=("$load") cmps+=("$cmp") totals+=("$(awk -v a="$load" -v b="$cmp" 'BEGIN {print a + b}')")
    rss=$(printf '%s\n' "$rss" "$(tail -n 1 "$work/rss")" | sort -n | tail -n 1)
    printf '(a) run %d: load %7.1f ms  compare %6.1f ms  process %5d ms  (%d changes)\n' \
      "$r" "$load" "$cmp" "${walls[-1]}" "$(jget "$line" 'j["changes"]')"
  done
  line=$("$bench" profile "$work/a/after.json")
  echo "(a) where one manifest's load goes (ms): $(jget "$line" '", ".join("%s %.0f" % (k[:-8], j[k] * 1000) for k in ("read_seconds", "sha256_seconds", "parse_strict_seconds", "tree_from_json_seconds"))');" \
    "for scale, nlohmann's parse without load_tree's duplicate-key callback: $(jget "$line" '"%.0f" % (j["parse_plain_seconds"] * 1000)') ms"
  a_load=$(printf '%s\n' "${loads[@]}" | median)
  a_cmp=$(printf '%s\n' "${cmps[@]}" | median)
  a_total=$(printf '%s\n' "${totals[@]}" | median)
  a_wall=$(printf '%s\n' "${walls[@]}" | median)
  a_rss=$((rss / 1024))
}

# --- (b) a drop pair ----------------------------------------------------------------------------

# v1 and v2 trees: gen_tree.py (v2: 2% of the files rewritten), then a few ELF programs, URLs
# in text files, and in v2 a few files added (one new directory), removed and renamed.
make_trees() {
  python3 scripts/bench/gen_tree.py "$work/v1" "$work/v2" --mib "$mib" >"$work/gen.txt"
  python3 - "$work/v1" "$work/v2" <<'PY'
import os, random, shutil, sys
v1, v2 = sys.argv[1:3]
rng = random.Random(7)
def files(root):
    out = []
    for d, _, names in os.walk(root):
        out += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return sorted(out)
def own(path):  # v2's unchanged files are hard links into v1: never write through them
    if os.stat(path).st_nlink > 1:
        tmp = path + ".tmp"
        shutil.copy2(path, tmp)
        os.replace(tmp, path)
def append(path, text):
    with open(path, "a") as f:
        f.write(text)
# ELF programs, as a vendor ships them: v2 replaces one and adds one.
elves = [p for p in ("/usr/bin/ls", "/usr/bin/tar", "/usr/bin/grep", "/usr/bin/sort")
         if os.path.isfile(p)]
for i, src in enumerate(elves[:3]):
    for root in (v1, v2):
        dst = os.path.join(root, "bin", "acme-" + os.path.basename(src))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(src, dst)
        os.chmod(dst, 0o755)
if len(elves) >= 4:
    shutil.copy(elves[3], os.path.join(v2, "bin", "acme-" + os.path.basename(elves[0])))
    shutil.copy(elves[3], os.path.join(v2, "bin", "acme-" + os.path.basename(elves[3])))
# URLs in one text file in ten (both releases: the same file), and new ones in v2's changes.
text_ext = (".conf", ".json", ".yaml", ".xml", ".md", ".html", ".txt", ".h", ".py")
texts = [f for f in files(v1) if f.endswith(text_ext)]
hosts = ["updates.acme-cloud.com", "licence.acme-cloud.com", "telemetry.acme-cloud.io",
         "mirror.acme.net", "10.20.30.40"]
for k, f in enumerate(texts[::10]):
    append(os.path.join(v1, f), "\n# endpoint: https://%s/api/v%d/%s\n" % (hosts[k % len(hosts)], k % 3, f.split("/")[-1]))
changed = [f for f in texts if os.stat(os.path.join(v2, f)).st_ino != os.stat(os.path.join(v1, f)).st_ino]
for k, f in enumerate(changed[:5]):
    append(os.path.join(v2, f), "\nurl = \"https://collect%d.acme-analytics.com/v2/ingest\"\n" % k)
# Added (one in ten in a new directory), removed and renamed: 0.25% of the files each.
all2 = [f for f in files(v2) if os.path.exists(os.path.join(v1, f))
        and os.stat(os.path.join(v2, f)).st_ino == os.stat(os.path.join(v1, f)).st_ino]
n = max(3, len(all2) // 400)
picked = rng.sample(all2, 2 * n)
for f in picked[:n]:
    os.remove(os.path.join(v2, f))
for k, f in enumerate(picked[n:]):
    d, base = os.path.split(f)
    os.rename(os.path.join(v2, f), os.path.join(v2, d, "renamed-%d-%s" % (k, base)))
for k in range(n):
    d = "share/acme/feature-x" if k % 10 == 0 else os.path.dirname(rng.choice(all2))
    os.makedirs(os.path.join(v2, d), exist_ok=True)
    with open(os.path.join(v2, d, "added-%d.json" % k), "w") as f:
        f.write('{"feature": %d, "docs": "https://docs.acme-cloud.com/feature/%d"}\n' % (k, k)
                + "".join('{"row": %d, "value": %d}\n' % (i, rng.randrange(1 << 30)) for i in range(rng.randrange(10, 400))))
PY
  files=$(find "$work/v1" -type f | wc -l) dirs=$(find "$work/v1" -mindepth 1 -type d | wc -l)
  bytes=$(du -sb "$work/v1" | cut -f1)
}

# Artifacts: the top-level folders grouped into three archives (packing is not timed).
declare -A group=([bin]=acme-runtime.tar.zst [lib]=acme-runtime.tar.zst
  [images]=acme-images.tar.zst [firmware]=acme-images.tar.zst [data]=acme-images.tar.zst)
pack_drop() {  # pack_drop TREE DROP VERSION
  local tree=$1 drop=$2 version=$3 art top tops
  mkdir -p "$drop/payload"
  declare -A members=()
  for top in $(ls "$tree"); do
    art=${group[$top]:-acme-sdk.tar.gz}
    members[$art]+=" $top"
  done
  for art in "${!members[@]}"; do
    read -r -a tops <<<"${members[$art]}"
    local tar=(tar -C "$tree" --sort=name --owner=0 --group=0 --numeric-owner -cf - "${tops[@]}")
    case "$art" in
      *.zst) "${tar[@]}" | zstd -q -T0 -3 -o "$drop/payload/$art" ;;
      *.gz) if command -v pigz >/dev/null; then "${tar[@]}" | pigz -n -6 >"$drop/payload/$art"
            else "${tar[@]}" | gzip -n -6 >"$drop/payload/$art"; fi ;;
    esac
  done
  python3 - "$drop" "$version" <<'PY'
import hashlib, json, os, sys
drop, version = sys.argv[1:3]
arts = []
for name in sorted(os.listdir(os.path.join(drop, "payload"))):
    p = os.path.join(drop, "payload", name)
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    arts.append({"path": name, "sha256": h.hexdigest(), "size": os.path.getsize(p)})
doc = {"schema": "ecluse.drop/v1", "vendor": "acme", "product": "cloud-platform",
       "version": version, "channel": "prod",
       "released": "2026-01-0%dT00:00:00Z" % (1 if version == "1.0.0" else 2), "artifacts": arts}
open(os.path.join(drop, "drop.json"), "w").write(json.dumps(doc, indent=2) + "\n")
PY
  openssl cms -sign -binary -md sha256 -outform DER -in "$drop/drop.json" \
    -signer "$work/demo/vendor/leaf.pem" -inkey "$work/demo/vendor/leaf.key" -out "$drop/drop.json.sig"
  touch "$drop/READY"
}

# materialise DROP OUT: each artifact extracted into OUT/ARTIFACT (ecluse's joined paths).
materialise() {
  local f
  for f in "$1"/payload/*; do
    mkdir -p "$2/$(basename "$f")"
    bsdtar -xf "$f" -C "$2/$(basename "$f")"
  done
}

# id_of VERSION: the drop id of acme/cloud-platform VERSION.
id_of() {
  jget "$("$ecluse" status --json)" \
    "[d['id'] for d in (j if isinstance(j, list) else j.get('drops', [])) if d.get('version') == '$1'][0]"
}
state_of() { jget "$("$ecluse" show "$1" --json)" 'j.get("state") or j["drop"]["state"]'; }

setup_b() {
  make_trees
  bash scripts/make-demo-drop.sh "$work/demo" >/dev/null
  pack_drop "$work/v1" "$work/drop1" 1.0.0
  pack_drop "$work/v2" "$work/drop2" 1.0.1
  "$ecluse" init "$work/ws" >/dev/null
  export ECLUSE_WORKSPACE=$work/ws
  "$ecluse" trust add-vendor acme --root "$work/demo/vendor/root.pem" >/dev/null
  "$ecluse" ingest "$work/drop1" >"$work/ingest1.txt" || true
  v1=$(id_of 1.0.0)
  if [ "$(state_of "$v1")" = held ]; then
    "$ecluse" approve "$v1" --as bench --reason "diff benchmark baseline" >/dev/null
  fi
  s1=$(state_of "$v1")
  "$ecluse" ingest "$work/drop2" >"$work/ingest2.txt" || true
  v2=$(id_of 1.0.1)
  s2=$(state_of "$v2")
  if [ "$s1" != approved ]; then
    echo "FAILED: v1 is $s1, not approved: no baseline" >&2; cat "$work/ingest1.txt" >&2; exit 1
  fi
  case "$s2" in held|approved|rejected) ;; *)
    echo "FAILED: v2 is $s2 after ingest" >&2; cat "$work/ingest2.txt" >&2; exit 1 ;;
  esac
  materialise "$work/drop1" "$work/t1"
  materialise "$work/drop2" "$work/t2"
  rm -rf "$work/v1" "$work/v2"
}

# The changed paths as ecluse and as diff -rq see them; sets same_paths (1 when equal).
check_paths() {
  "$ecluse" diff "$v2" --baseline "$v1" --json >"$work/ecluse.json"
  diff -rq "$work/t1" "$work/t2" >"$work/diffrq.txt" || [ $? -eq 1 ]
  python3 - "$work/ecluse.json" "$work/diffrq.txt" "$work/t1" "$work/t2" "$work/drop2/payload" \
    "$work/drop1/payload" >"$work/paths.txt" <<'PY' && same_paths=1 || same_paths=0
import json, os, re, sys
doc_file, rq_file, t1, t2, p2, p1 = sys.argv[1:7]
artifacts = set(os.listdir(p1)) | set(os.listdir(p2))
doc = json.load(open(doc_file))["diff"]
ours, blind, kinds = set(), [], {}
for c in doc["changes"]:
    kinds[c["change"]] = kinds.get(c["change"], 0) + 1
    if c["path"] in artifacts or c.get("class", {}).get("kind") == "archive":
        continue  # an artifact itself: its entries are listed apart
    if c["type"] != "file" and c.get("type_before", c["type"]) != "file":
        continue
    if c["change"] in ("mode",):
        blind.append(c["path"])  # diff -rq compares contents only
        continue
    ours.add(c["path"])
    if c["change"] == "renamed":
        ours.add(c["from"])
theirs = set()
def rel(p):
    for root in (t1, t2):
        if p == root or p.startswith(root + "/"):
            return root, os.path.relpath(p, root)
    raise SystemExit("unexpected path in diff -rq output: " + p)
for line in open(rq_file):
    line = line.rstrip("\n")
    m = re.match(r"^Files (.+) and (.+) differ$", line) or \
        re.match(r"^File (.+) is a .+ while file (.+) is a .+$", line)
    if m:
        theirs.add(rel(m.group(1))[1]); continue
    m = re.match(r"^Only in (.+): (.+)$", line)
    if m:
        root, d = rel(m.group(1))
        full = os.path.join(m.group(1), m.group(2))
        if os.path.isdir(full) and not os.path.islink(full):
            for dp, _, names in os.walk(full):
                theirs.update(os.path.relpath(os.path.join(dp, n), root) for n in names)
        else:
            theirs.add(os.path.relpath(full, root))
        continue
    raise SystemExit("unexpected diff -rq line: " + line)
s = doc["summary"]
print("ecluse: %d changes (%s); %d changed file paths; diff -rq: %d lines, %d paths" % (
    len(doc["changes"]), ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
    len(ours), sum(1 for _ in open(rq_file)), len(theirs)))
print("endpoints new in v2: %d" % len(doc["endpoints"]))
if blind:
    print("mode-only changes (diff -rq cannot see them, left out): %d" % len(blind))
only_ours, only_theirs = sorted(ours - theirs), sorted(theirs - ours)
for p in only_ours:
    print("  only ecluse:  " + p)
for p in only_theirs:
    print("  only diff -rq: " + p)
sys.exit(1 if only_ours or only_theirs else 0)
PY
  sed 's/^/(b) /' "$work/paths.txt"
}

part_b() {
  local r as=() bs=() ds=() analysis
  setup_b
  check_paths
  analysis=$(jget "$("$ecluse" show "$v2" --json)" \
    'next((json.dumps(s.get("evidence", {}).get("analysis")) for s in j.get("stages", j.get("stage_results", [])) if s.get("stage") == "diff"), "")' 2>/dev/null || true)
  echo "(b) v2's own diff stage at ingest: ${analysis:-?}"
  /usr/bin/time -f '%M' -o "$work/rss" "$ecluse" diff "$v2" --baseline "$v1" --json >/dev/null
  b_rss=$(( $(tail -n 1 "$work/rss") / 1024 ))
  for r in $(seq 1 "$runs"); do
    timed "$ecluse" diff "$v2" --baseline "$v1" --json
    [ "$status" -eq 0 ] || { echo "FAILED: ecluse diff exit $status" >&2; exit 1; }
    as+=("$wall")
    timed diff -rq "$work/t1" "$work/t2"
    [ "$status" -le 1 ] || { echo "FAILED: diff -rq exit $status" >&2; exit 1; }
    bs+=("$wall")
    printf '(b) run %d:  A ecluse diff %7s s   B diff -rq %7s s\n' "$r" "$(secs "${as[-1]}")" "$(secs "${bs[-1]}")"
  done
  b_a=$(printf '%s\n' "${as[@]}" | median)
  b_b=$(printf '%s\n' "${bs[@]}" | median)
  b_d="" b_d_timeout=0
  if [ "$dfo" = yes ]; then
    for r in $(seq 1 "$dfo_runs"); do
      local t0 st=0; t0=$(date +%s%N)
      timeout "$dfo_timeout" diffoscope --no-progress --exclude-directory-metadata=recursive \
        "$work/t1" "$work/t2" >/dev/null 2>"$work/diffoscope.err" || st=$?
      ds+=("$(ms_since "$t0")")
      case "$st" in
        0|1) ;;
        124) b_d_timeout=1 ;;
        *) echo "FAILED: diffoscope exit $st:" >&2; tail -n 5 "$work/diffoscope.err" >&2; exit 1 ;;
      esac
      printf '(b) diffoscope run %d: %s s%s\n' "$r" "$(secs "${ds[-1]}")" \
        "$([ "$st" = 124 ] && echo " (timed out)")"
    done
    b_d=$(printf '%s\n' "${ds[@]}" | median)
  fi
}

# --- report -------------------------------------------------------------------------------------

facts() {
  echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo), kernel $(uname -r)"
  echo "tools: $(diff --version | head -n 1); $(bsdtar --version | head -n 1)"\
"$([ "$dfo" = yes ] && echo "; diffoscope $(diffoscope --version 2>/dev/null | awk '{print $2}')")"\
"$(command -v hyperfine >/dev/null && echo "; $(hyperfine --version) (one run per call, interleaved by this script)")"
}

table() {
  local t ok
  echo
  echo "medians:"
  printf '  (a) %s entries, %s artifacts: load %.1f ms + compare %.1f ms = %.1f ms (process wall %d ms, peak %d MiB)\n' \
    "$entries" "$artifacts" "$a_load" "$a_cmp" "$a_total" "$a_wall" "$a_rss"
  printf '  (b) %s MiB, %d files: A ecluse diff %s s (peak %d MiB), B diff -rq %s s' \
    "$(mib_of "$bytes")" "$files" "$(secs "$b_a")" "$b_rss" "$(secs "$b_b")"
  [ -n "$b_d" ] && printf ', C diffoscope %s s%s' "$(secs "$b_d")" "$([ "$b_d_timeout" = 1 ] && echo ' (timed out)')"
  echo
  echo
  ok=$(awk -v t="$a_total" 'BEGIN {print (t < 1000) ? 1 : 0}')
  echo "target (a) two ${entries}-entry manifests diffed in < 1 s:  $(verdict "$ok") ($(secs "$a_total") s)"
  [ "$ok" = 1 ] || failed=1
  if [ -n "$b_d" ]; then
    t=$(ratio "$b_d" "$b_a")
    ok=$(awk -v r="$t" 'BEGIN {print (r >= 50) ? 1 : 0}')
    if [ "$b_d_timeout" = 1 ]; then
      echo "target (b) >= 50x faster than diffoscope:  $(verdict "$ok") (> ${t}x: diffoscope timed out after ${dfo_timeout} s)"
    else
      echo "target (b) >= 50x faster than diffoscope:  $(verdict "$ok") (${t}x)"
    fi
    [ "$ok" = 1 ] || failed=1
  else
    echo "target (b) >= 50x faster than diffoscope:  not measured (--no-diffoscope)"
  fi
  t=$(ratio "$b_a" "$b_b")
  ok=$(awk -v r="$t" 'BEGIN {print (r <= 1) ? 1 : 0}')
  echo "target (b) no slower than diff -rq:        $(verdict "$ok") (${t}x)"
  [ "$ok" = 1 ] || failed=1
  echo "target (b) same changed paths as diff -rq: $(verdict "$same_paths")"
  [ "$same_paths" = 1 ] || failed=1
}

facts
part_a
echo
part_b
echo "(b) data: $(mib_of "$bytes") MiB in $files files, $dirs directories;" \
  "gen_tree: $(cat "$work/gen.txt"); v1 $v1 ($s1), v2 $v2 ($s2)"
for f in "$work"/drop1/payload/*; do
  echo "(b)   $(basename "$f"): v1 $(mib_of "$(stat -c %s "$f")") MiB, v2 $(mib_of "$(stat -c %s "$work/drop2/payload/$(basename "$f")")") MiB"
done
table
exit "$failed"
