#!/usr/bin/env bash
# Times ecluse's unpack engine (ecluse-bench-unpack: every entry hashed with SHA-256 and stored
# durably in a content store) against standard tools on the same synthetic vendor release, in
# the same run, interleaved (A B C D, A B C D, …), over R runs, and prints medians and ratios:
#   A  ecluse, v1 into an empty store     vs  B  `bsdtar -xf` + `sha256sum` of the files (≤ 1.3x)
#   C  ecluse, v2 into a store holding v1 vs  D  `bsdtar -xf` alone                    (≤ 1.1x)
#   and ecluse's peak RSS (< 200 MiB). v2 is v1 with 2% of the files changed.
# usage: scripts/bench/unpack.sh [--mib N] [--runs R] [--formats LIST]
#   N: MiB of the uncompressed tree (default 1024); R: runs (default 5);
#   LIST: comma-separated, of tar.zst, tar.gz and zip (default tar.zst,tar.gz,zip).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
mib=1024; runs=5; formats=tar.zst,tar.gz,zip
while [ $# -gt 0 ]; do
  case "$1" in
    --mib) mib=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --formats) formats=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
IFS=, read -r -a fmts <<<"$formats"
for f in "${fmts[@]}"; do
  case "$f" in tar.zst|tar.gz|zip) ;; *) echo "unknown format $f" >&2; exit 2 ;; esac
done

bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ecluse-bench-unpack >/dev/null
bin=$PWD/build/release/ecluse-bench-unpack
work=$(mktemp -d /var/tmp/ecluse-bench-unpack-XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- data -------------------------------------------------------------------------------------

# v1 and v2 trees; sets files (count), bytes, changed (files changed in v2).
generate() {
  local line
  line=$(python3 scripts/bench/gen_tree.py "$work/v1" "$work/v2" --mib "$mib")
  files=$(sed -n 's/.*files=\([0-9]*\).*/\1/p' <<<"$line")
  bytes=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$line")
  changed=$(sed -n 's/.* changed=\([0-9]*\).*/\1/p' <<<"$line")
  dirs=$(sed -n 's/.* dirs=\([0-9]*\).*/\1/p' <<<"$line")
}

# pack FORMAT TREE OUT: the tree's contents at the archive's root (packing is not timed).
pack() {
  local tar=(tar -C "$2" --sort=name --owner=0 --group=0 --numeric-owner -cf - .)
  case "$1" in
    tar.zst) "${tar[@]}" | zstd -q -T0 -3 -o "$3" ;;
    tar.gz) if command -v pigz >/dev/null; then "${tar[@]}" | pigz -6 >"$3"; else "${tar[@]}" | gzip -6 >"$3"; fi ;;
    zip) bsdtar --format zip --options zip:compression=deflate -cf "$3" -C "$2" . ;;
  esac
}

# --- measurements -------------------------------------------------------------------------------

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# field KEY: KEY of the JSON line in $json ("" when absent; exit 1 when $json is no JSON object).
field() {
  python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$json" "$1"
}

# ours STORE ARCHIVE: runs ecluse-bench-unpack (after an untimed sync); sets wall (ms),
# rss (KiB) and json; stops the benchmark when ecluse rejects the archive.
ours() {
  local t0 status=0
  sync
  t0=$(date +%s%N)
  json=$(/usr/bin/time -f '%M' -o "$work/rss" "$bin" --store "$1" "$2") || status=$?
  wall=$(ms_since "$t0")
  rss=$(tail -n 1 "$work/rss")
  if [ "$status" -ne 0 ] || ! field reason >/dev/null 2>&1 || [ -n "$(field reason)" ]; then
    echo "FAILED: ecluse-bench-unpack exit $status on $2:" >&2
    echo "$json" >&2
    exit 1
  fi
}

# anchor ARCHIVE [hash]: bsdtar -xf into a fresh directory (and sha256sum over the files).
anchor() {
  local t0 out=$work/x
  rm -rf "$out"; mkdir "$out"
  sync
  t0=$(date +%s%N)
  bsdtar -xf "$1" -C "$out"
  if [ "${2:-}" = hash ]; then find "$out" -type f -print0 | xargs -0 sha256sum >/dev/null; fi
  wall=$(ms_since "$t0")
  rm -rf "$out"
}

# The store holding v1 that every C run starts from (filled untimed, copied with hard links).
prefill() {
  rm -rf "$work/base"
  ours "$work/base" "$work/v1.$1"
  check_v1 "$1"
}

check_v1() {
  local n; n=$(field new_objects)
  if [ "$(field findings)" != 0 ]; then
    echo "warning: $1 v1: findings in a clean tree: $(field first_finding)" >&2
  fi
  if [ "$n" -gt "$files" ]; then
    echo "FAILED: $1 v1 stored $n objects for $files files" >&2
    exit 1
  fi
}

check_v2() {
  local n; n=$(field new_objects)
  if [ "$n" -lt 1 ] || [ "$n" -gt $(( changed + changed / 4 + 2 )) ]; then
    echo "FAILED: $1 v2 stored $n new objects, $changed files changed: no deduplication?" >&2
    echo "$json" >&2
    exit 1
  fi
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
secs() { awk -v ms="$1" 'BEGIN {printf "%.2f", ms / 1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
mib_of() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

# bench FORMAT: R interleaved runs of A B C D; sets the results in res_* (by format).
declare -A res_a res_b res_c res_d res_rss res_new
bench() {
  local f=$1 r a b c d ra rc ea ec new rss_max=0 as=() bs=() cs=() ds=()
  prefill "$f"
  for r in $(seq 1 "$runs"); do
    rm -rf "$work/s"
    ours "$work/s" "$work/v1.$f"; a=$wall ra=$rss; check_v1 "$f"
    ea=$(field seconds)
    rm -rf "$work/s"
    anchor "$work/v1.$f" hash; b=$wall
    cp -al "$work/base" "$work/s"
    ours "$work/s" "$work/v2.$f"; c=$wall rc=$rss; check_v2 "$f"
    ec=$(field seconds) new=$(field new_objects)
    rm -rf "$work/s"
    anchor "$work/v2.$f"; d=$wall
    as+=("$a") bs+=("$b") cs+=("$c") ds+=("$d")
    rss_max=$(printf '%s\n' "$rss_max" "$ra" "$rc" | sort -n | tail -n 1)
    printf '%-7s run %d:  A %6s s (engine %.2f, %3d MiB)  B %6s s  |  C %6s s (engine %.2f, %3d MiB, %d new)  D %6s s\n' \
      "$f" "$r" "$(secs "$a")" "$ea" $((ra / 1024)) "$(secs "$b")" \
      "$(secs "$c")" "$ec" $((rc / 1024)) "$new" "$(secs "$d")"
  done
  rm -rf "$work/base"
  res_a[$f]=$(printf '%s\n' "${as[@]}" | median)
  res_b[$f]=$(printf '%s\n' "${bs[@]}" | median)
  res_c[$f]=$(printf '%s\n' "${cs[@]}" | median)
  res_d[$f]=$(printf '%s\n' "${ds[@]}" | median)
  res_rss[$f]=$rss_max res_new[$f]=$new
}

# --- report -------------------------------------------------------------------------------------

facts() {
  local f
  echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo), kernel $(uname -r)"
  echo "tools: $(bsdtar --version | head -n 1)"
  echo "data: $(mib_of "$bytes") MiB in $files files, $dirs directories; v2 changes $changed files"
  for f in "${fmts[@]}"; do
    echo "  $f: v1 $(mib_of "$(stat -c %s "$work/v1.$f")") MiB, v2 $(mib_of "$(stat -c %s "$work/v2.$f")") MiB"
  done
  echo "$runs runs per format, interleaved A B C D; wall times include process start"
  echo
}

verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v + 0 <= t + 0 ? "met" : "NOT met")}'; }

table() {
  local f ab cd m worst_ab=0 worst_cd=0 worst_m=0 line_ab="" line_cd="" line_m=""
  echo
  echo "medians (s):"
  printf '%-8s %10s %16s %6s %10s %10s %6s %9s %9s\n' format "A ecluse" "B bsdtar+sha256" "A/B" \
    "C ecluse v2" "D bsdtar" "C/D" "peak MiB" "v2 new"
  for f in "${fmts[@]}"; do
    ab=$(ratio "${res_a[$f]}" "${res_b[$f]}") cd=$(ratio "${res_c[$f]}" "${res_d[$f]}")
    m=$(( res_rss[$f] / 1024 ))
    printf '%-8s %10s %16s %6s %10s %10s %6s %9d %9d\n' "$f" "$(secs "${res_a[$f]}")" \
      "$(secs "${res_b[$f]}")" "$ab" "$(secs "${res_c[$f]}")" "$(secs "${res_d[$f]}")" "$cd" \
      "$m" "${res_new[$f]}"
    line_ab+=" $f ${ab}x" line_cd+=" $f ${cd}x" line_m+=" $f ${m} MiB"
    worst_ab=$(printf '%s\n' "$worst_ab" "$ab" | sort -g | tail -n 1)
    worst_cd=$(printf '%s\n' "$worst_cd" "$cd" | sort -g | tail -n 1)
    worst_m=$(printf '%s\n' "$worst_m" "$m" | sort -g | tail -n 1)
  done
  echo
  echo "target v1 unpack <= 1.3x bsdtar -xf + sha256sum: $(verdict "$worst_ab" 1.3) (${line_ab# })"
  echo "target v2 unpack <= 1.1x bsdtar -xf:             $(verdict "$worst_cd" 1.1) (${line_cd# })"
  echo "target peak RSS < 200 MiB:                       $(verdict "$worst_m" 199) (${line_m# })"
}

generate
for f in "${fmts[@]}"; do
  pack "$f" "$work/v1" "$work/v1.$f"
  pack "$f" "$work/v2" "$work/v2.$f"
done
facts
for f in "${fmts[@]}"; do bench "$f"; done
table
