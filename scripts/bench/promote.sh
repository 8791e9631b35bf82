#!/usr/bin/env bash
# Times a promotion of a large release against the git command line on the same files:
#   A  `ecluse promote DROP --to preprod` into a fresh channel repository (artifacts streamed
#      from the content store into loose objects, TUF metadata, signed commit and tag, ref
#      update with fsync), for each zlib level given (ecluse.json promotion.compression)
#   B  `git add -A && git commit -q` of the same files in a fresh repository (git's defaults:
#      core.looseCompression 1)
# interleaved (A B A B …) over R runs; prints medians and the ratio A/B (target: <= 1).
# The release: K artifacts totalling M MiB, half random bytes, half compressible text.
# usage: scripts/bench/promote.sh [--mib M] [--artifacts K] [--runs R] [--levels "0 1 6"]
#   [--build DIR]   (default: 1024 MiB, 8 artifacts, 3 runs, levels "1", build/release)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
mib=1024; artifacts=8; runs=3; levels="1"; build=build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --mib) mib=$2; shift 2 ;;
    --artifacts) artifacts=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --levels) levels=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ ! -x "$build/ecluse" ]; then
  preset=$(basename "$build")
  cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" --target ecluse -j "$(nproc)" >/dev/null
fi
bin=$(realpath "$build/ecluse")
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
export HOME=$t GIT_CONFIG_NOSYSTEM=1
git config --global user.name bench && git config --global user.email bench@example

# The release: drop.json signed by a demo vendor, artifacts half random, half text.
bash scripts/make-demo-drop.sh "$t/demo" >/dev/null
drop=$t/drop; mkdir -p "$drop/payload"
each=$(( (mib << 20) / artifacts )); arts=""
for i in $(seq 1 "$artifacts"); do
  f=$drop/payload/part$i.bin
  if [ $((i % 2)) -eq 1 ]; then head -c "$each" /dev/urandom > "$f"
  else { yes "line $i of a compressible vendor log, with some words repeated" || true; } | head -c "$each" > "$f"; fi
  arts="$arts${arts:+,}{\"path\":\"part$i.bin\",\"sha256\":\"$(sha256sum "$f" | cut -d' ' -f1)\",\"size\":$each}"
done
printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"big","version":"1.0","channel":"prod","released":"2026-01-01T00:00:00Z","artifacts":[%s]}' "$arts" > "$drop/drop.json"
openssl cms -sign -binary -md sha256 -outform DER -in "$drop/drop.json" \
  -signer "$t/demo/vendor/leaf.pem" -inkey "$t/demo/vendor/leaf.key" -out "$drop/drop.json.sig"
export ECLUSE_WORKSPACE=$t/ws
"$bin" init "$ECLUSE_WORKSPACE" >/dev/null
"$bin" keys init --engineer alice >/dev/null
"$bin" trust add-vendor acme --root "$t/demo/vendor/root.pem" >/dev/null
"$bin" ingest "$drop" > "$t/ingest"
id=$(awk '/^(held|approved|signed) /{print $2; exit}' "$t/ingest")
grep -q '^held ' "$t/ingest" && "$bin" approve "$id" --as alice --reason bench >/dev/null
cp -r "$drop/payload" "$t/gitwork"

set_level() {
  python3 - "$ECLUSE_WORKSPACE/ecluse.json" "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["promotion"]["compression"] = int(sys.argv[2])
open(sys.argv[1], "w").write(json.dumps(c, indent=2))
PY
}
now() { date +%s.%N; }
run_ecluse() {  # LEVEL → seconds
  set_level "$1"; rm -rf "$ECLUSE_WORKSPACE/repos/preprod.git"; sync
  local s; s=$(now); "$bin" promote "$id" --to preprod >/dev/null; echo "$(now) - $s" | bc
}
run_git() {
  rm -rf "$t/gitwork/.git"; git -C "$t/gitwork" init -q; sync
  local s; s=$(now); (cd "$t/gitwork" && git add -A && git commit -q -m release); echo "$(now) - $s" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A ec
: > "$t/git"
for r in $(seq 1 "$runs"); do
  for l in $levels; do ec[$l]+="$(run_ecluse "$l") "; done
  run_git >> "$t/git"
done
g=$(median < "$t/git")
echo "release: $artifacts artifacts, $mib MiB (half random, half text); $runs runs, medians"
printf '  git add -A && git commit       %6.2f s\n' "$g"
status=0
for l in $levels; do
  e=$(echo "${ec[$l]}" | tr ' ' '\n' | grep . | median)
  size=$(set_level "$l"; rm -rf "$ECLUSE_WORKSPACE/repos/preprod.git"; "$bin" promote "$id" --to preprod >/dev/null; du -sm "$ECLUSE_WORKSPACE/repos/preprod.git" | cut -f1)
  ratio=$(echo "scale=2; $e / $g" | bc)
  printf '  ecluse promote (zlib level %s)  %6.2f s  ratio %s  repository %s MiB\n' "$l" "$e" "$ratio" "$size"
  [ "$(echo "$ratio <= 1.0" | bc)" = 1 ] || status=1
done
printf '  git repository                            %s MiB\n' "$(du -sm "$t/gitwork/.git" | cut -f1)"
exit $status
