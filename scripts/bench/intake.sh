#!/usr/bin/env bash
# Times `ecluse ingest` (intake) against `cp -r` + `sha256sum` of the same files, in the same
# run, interleaved (A B A B …), and prints medians, the ratio and ecluse's peak memory.
# usage: scripts/bench/intake.sh [--total-mib N] [--runs R] [--mix L,M,S] [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
total=1024; runs=5; mix=50,30,20; keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --total-mib) total=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --mix) mix=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ecluse ecluse-gen-drop >/dev/null
bin=$PWD/build/release/ecluse
work=${keep:-$(mktemp -d /var/tmp/ecluse-bench-XXXXXX)}
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
[ -f "$work/drop/drop.json" ] || build/release/ecluse-gen-drop "$work/drop" --total-mib "$total" --mix "$mix"
files=$(find "$work/drop/payload" -type f | wc -l)

now() { date +%s.%N; }
baseline() {
  rm -rf "$work/copy"
  local t0; t0=$(now)
  cp -r "$work/drop" "$work/copy"
  (cd "$work/copy/payload" && find . -type f -print0 | xargs -0 sha256sum >/dev/null)
  echo "$(now) - $t0" | bc
}
ingest() {
  rm -rf "$work/ws"
  "$bin" init "$work/ws" >/dev/null
  local t0; t0=$(now)
  /usr/bin/time -f '%M' -o "$work/rss" "$bin" --workspace "$work/ws" ingest "$work/drop" >/dev/null
  echo "$(now) - $t0" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

base_times=(); ecl_times=(); rss=()
for r in $(seq 1 "$runs"); do
  b=$(baseline); e=$(ingest); m=$(cat "$work/rss")
  base_times+=("$b"); ecl_times+=("$e"); rss+=("$m")
  printf 'run %d: cp -r + sha256sum %.2f s   ecluse ingest %.2f s   peak RSS %d MiB\n' "$r" "$b" "$e" $((m / 1024))
done
mb=$(printf '%s\n' "${base_times[@]}" | median)
me=$(printf '%s\n' "${ecl_times[@]}" | median)
mr=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
printf '\n%d MiB in %d files, %d runs, medians:\n' "$total" "$files" "$runs"
printf '  cp -r + sha256sum  %.2f s\n  ecluse ingest      %.2f s  (%.0f MiB/s)\n' "$mb" "$me" "$(echo "$total / $me" | bc -l)"
printf '  ratio              %.2fx (target <= 1.5x)\n  peak RSS (max)     %d MiB (target < 200 MiB)\n' \
  "$(echo "$me / $mb" | bc -l)" $((mr / 1024))
