#!/usr/bin/env bash
# Verification cost of the verify stage on the demo drop (ECDSA P-256 root and code-signing
# leaf, detached DER CMS): ecluse's in-process check (crypto::verify_cms, median of N) against
# `openssl cms -verify` on the same files (one process per run, median of R), interleaved.
# usage: scripts/bench/verify.sh [--runs R] [--iterations N]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=7; iterations=500
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
bash scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target ecluse ecluse-bench-verify >/dev/null
work=$(mktemp -d /var/tmp/ecluse-bench-verify-XXXXXX)
trap 'rm -rf "$work"' EXIT
bash scripts/make-demo-drop.sh "$work/demo" 1.0.0 >/dev/null
drop=$work/demo/drop root=$work/demo/vendor/root.pem

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ours=() theirs=()
for _ in $(seq 1 "$runs"); do
  ours+=("$(build/release/ecluse-bench-verify "$drop" "$root" "$iterations")")
  t0=$(date +%s%N)
  openssl cms -verify -binary -inform DER -in "$drop/drop.json.sig" -content "$drop/drop.json" \
    -CAfile "$root" -purpose any -out /dev/null 2>/dev/null
  t1=$(date +%s%N)
  theirs+=("$(( (t1 - t0) / 1000 ))")
done
o=$(printf '%s\n' "${ours[@]}" | median)
s=$(printf '%s\n' "${theirs[@]}" | median)
echo "ecluse verify_cms (in process, median of $iterations x $runs): ${o} us"
echo "openssl cms -verify (one process, median of $runs):           ${s} us"
echo "ratio: $(echo "scale=3; $o / $s" | bc)x"
