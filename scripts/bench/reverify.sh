#!/usr/bin/env bash
# Times `ecluse reverify --all --no-refresh` of a channel repository holding G GiB of promoted
# artifacts against the machine's SHA-256 throughput on both cores, measured in the same run:
#   A  ecluse reverify: every artifact streamed out of the repository's loose objects
#      (inflated), re-hashed on every core, plus the signature, key, CMS, vendor, history and
#      journal checks
#   B  `openssl speed -evp sha256 -multi 2 -seconds 3` (16 KiB blocks: its largest)
# interleaved (B A B A … B) over R runs; prints the medians and A's throughput as a share of
# B's (target: >= 70%). Repositories of each zlib level given (ecluse.json
# promotion.compression) are measured; the data: K drops of N artifacts of random bytes.
# usage: scripts/bench/reverify.sh [--gib G] [--drops K] [--artifacts N] [--runs R]
#   [--levels "0 1"] [--build DIR]   (default: 2 GiB, 4 drops, 4 artifacts, 5 runs, "0 1",
#   build/release)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/../.."
gib=2; drops=4; artifacts=4; runs=5; levels="0 1"; build=build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --gib) gib=$2; shift 2 ;;
    --drops) drops=$2; shift 2 ;;
    --artifacts) artifacts=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --levels) levels=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ ! -x "$build/ecluse" ]; then
  preset=$(basename "$build")
  cmake --preset "$preset" >/dev/null && cmake --build --preset "$preset" --target ecluse -j "$(nproc)" >/dev/null
fi
bin=$(realpath "$build/ecluse")
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
bash scripts/make-demo-drop.sh "$t/demo" >/dev/null
each_mib=$(( (gib << 10) / (drops * artifacts) ))

# A drop of N random artifacts, version V, signed by the demo vendor.
make_drop() {
  local dir=$1 version=$2 arts="" i f
  mkdir -p "$dir/payload"
  for i in $(seq 1 "$artifacts"); do
    f=$dir/payload/part$i.bin
    head -c $((each_mib << 20)) /dev/urandom > "$f"
    arts="$arts${arts:+,}{\"path\":\"part$i.bin\",\"sha256\":\"$(sha256sum "$f" | cut -d' ' -f1)\",\"size\":$((each_mib << 20))}"
  done
  printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"big","version":"%s","channel":"prod","released":"2026-01-01T00:00:00Z","artifacts":[%s]}' "$version" "$arts" > "$dir/drop.json"
  openssl cms -sign -binary -md sha256 -outform DER -in "$dir/drop.json" \
    -signer "$t/demo/vendor/leaf.pem" -inkey "$t/demo/vendor/leaf.key" -out "$dir/drop.json.sig"
}
for k in $(seq 1 "$drops"); do make_drop "$t/drop$k" "1.$k"; done

# A workspace per level, every drop promoted into preprod.
setup() {  # LEVEL
  local ws=$t/ws$1 k
  "$bin" init "$ws" >/dev/null
  export ECLUSE_WORKSPACE=$ws
  "$bin" keys init --engineer alice >/dev/null
  "$bin" trust add-vendor acme --root "$t/demo/vendor/root.pem" >/dev/null
  python3 - "$ws/policy.json" "$ws/ecluse.json" "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["actions"] = {k: ("allow" if v == "hold" else v) for k, v in p["actions"].items()}
p.pop("thresholds", None)
json.dump(p, open(sys.argv[1], "w"), indent=2)
c = json.load(open(sys.argv[2]))
c["promotion"]["compression"] = int(sys.argv[3])
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
  for k in $(seq 1 "$drops"); do
    "$bin" ingest "$t/drop$k" --promote-to preprod --json > "$t/ingest"
    grep -q '"state": "promoted"' "$t/ingest" || { cat "$t/ingest"; echo "bench: drop $k not promoted" >&2; exit 1; }
  done
}

openssl_rate() {  # bytes/s of sha256 on 16 KiB blocks, both cores
  openssl speed -evp sha256 -multi 2 -seconds 3 2>/dev/null | awk '/^sha256 /{v=$NF} END{sub("k","",v); printf "%.0f\n", v*1000}'
}
median() { sort -n | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "reverify bench: $gib GiB in $drops drops x $artifacts artifacts of $each_mib MiB, $runs runs"
for level in $levels; do
  setup "$level"
  export ECLUSE_WORKSPACE=$t/ws$level
  # Warm the page cache once (the data was just written; this reads it all back).
  "$bin" reverify --all --no-refresh --json > "$t/warm" || { cat "$t/warm"; echo "bench: reverify found problems" >&2; exit 1; }
  : > "$t/a"; : > "$t/b"
  openssl_rate >> "$t/b"
  for r in $(seq 1 "$runs"); do
    s=$(date +%s.%N)
    "$bin" reverify --all --no-refresh --json > "$t/out"
    e=$(date +%s.%N)
    bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes_hashed"])' "$t/out")
    python3 -c "print($bytes / ($e - $s))" >> "$t/a"
    openssl_rate >> "$t/b"
  done
  a=$(median < "$t/a"); b=$(median < "$t/b")
  printf 'level %s: reverify %.0f MB/s (median of %s; %s bytes hashed), openssl sha256 -multi 2 %.0f MB/s (median of %s): %.0f%%\n' \
    "$level" "$(python3 -c "print($a/1e6)")" "$runs" "$bytes" "$(python3 -c "print($b/1e6)")" \
    "$((runs + 1))" "$(python3 -c "print(100*$a/$b)")"
  echo "  reverify runs (MB/s): $(python3 -c "import sys; print(' '.join('%.0f' % (float(l)/1e6) for l in open('$t/a')))")"
  echo "  openssl runs (MB/s): $(python3 -c "import sys; print(' '.join('%.0f' % (float(l)/1e6) for l in open('$t/b')))")"
  rm -rf "$t/ws$level"
done
