#!/usr/bin/env bash
# Builds a libFuzzer target with clang (ASan+UBSan) and runs it.
# usage: scripts/fuzz.sh [SECONDS] [TARGET]   (default 60 s; TARGET drop_manifest (default),
#        signature, unpack, classify or packet; the test suite runs a short smoke of the first
#        four)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
target=${2:-drop_manifest}
out=build/fuzz/$target
mkdir -p "$out/corpus"
if ! command -v clang++ >/dev/null; then
  echo "clang++ not installed (Debian packages clang, libclang-rt-14-dev; scripts/install-deps.sh)" >&2
  exit 3
fi
core=(src/core/reasons.cpp src/core/json.cpp src/core/clock.cpp src/core/version.cpp
      src/core/base64.cpp src/crypto/sha256.cpp src/crypto/openssl.cpp)
libs=()
case "$target" in
  drop_manifest)
    srcs=("${core[@]}" src/intake/drop_manifest.cpp src/intake/artifact_path.cpp
          tests/fuzz/drop_manifest_fuzz.cpp) ;;
  signature)
    srcs=("${core[@]}" src/crypto/x509.cpp src/crypto/policy.cpp
          src/crypto/cms_verify.cpp src/crypto/raw_verify.cpp tests/fuzz/signature_fuzz.cpp) ;;
  unpack)
    srcs=("${core[@]}" src/core/fs.cpp src/core/printable.cpp src/store/content_store.cpp
          src/workspace/config.cpp src/crypto/policy.cpp src/crypto/x509.cpp
          src/text/unicode.cpp src/unpack/*.cpp tests/fuzz/unpack_fuzz.cpp)
    libs=(-larchive -lz -licuuc) ;;
  classify)
    srcs=("${core[@]}" src/core/fs.cpp src/core/printable.cpp src/diff/classify*.cpp
          src/diff/endpoint*.cpp tests/fuzz/classify_fuzz.cpp) ;;
  packet)
    srcs=("${core[@]}" src/core/printable.cpp src/sandbox/packet.cpp tests/fuzz/packet_fuzz.cpp) ;;
  *) echo "unknown fuzz target $target (drop_manifest, signature, unpack, classify, packet)" >&2; exit 2 ;;
esac
# ECLUSE_FUZZ_OPT=-O0 builds faster (the test suite's short smoke uses it); -O1 fuzzes faster.
opt=${ECLUSE_FUZZ_OPT:--O1}
bin=$out/${target}_fuzz${opt//[^A-Za-z0-9]/}
newest=$(ls -t "${srcs[@]}" include/ecluse/*/*.hpp src/crypto/*.hpp src/unpack/*.hpp src/diff/*.hpp \
  src/sandbox/*.hpp | head -1)
if [ ! -x "$bin" ] || [ "$newest" -nt "$bin" ]; then
  clang++ -std=c++20 -g "$opt" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Iinclude -Isrc "${srcs[@]}" -lcrypto "${libs[@]}" -o "$bin"
fi
if [ "$target" = unpack ]; then
  # Seed corpus: every valid and hostile archive of the test corpus, each with a name byte.
  if [ ! -f "$out/corpus/.seeded" ]; then
    seeds=$(mktemp -d)
    python3 tests/support/make_archives.py "$seeds" >/dev/null
    i=0
    for f in "$seeds"/*; do
      [ "$(stat -c %s "$f")" -le 262144 ] || continue
      { printf "\\x$(printf %02x $((i % 8)))"; cat "$f"; } > "$out/corpus/seed-$i"
      i=$((i + 1))
    done
    rm -rf "$seeds"
    touch "$out/corpus/.seeded"
  fi
  max_len=262144
elif [ "$target" = classify ]; then
  # Seed corpus: headers of real binaries of the machine, a script and text naming endpoints.
  for f in /bin/ls /usr/lib/x86_64-linux-gnu/libz.so.1; do
    [ -f "$f" ] && head -c 65536 "$f" > "$out/corpus/$(basename "$f")"
  done
  printf '#!/usr/bin/env python3\nURL = "https://telemetry.example.com:8443/v1"\n' > "$out/corpus/script"
  printf 'MZ\x90\x00 ldap://10.0.0.1/ [2001:db8::1] mail@host.example.org' > "$out/corpus/mixed"
  max_len=65536
elif [ "$target" = drop_manifest ]; then
  # Seed corpus: a valid drop.json and a few near misses.
  sha=$(printf 'x' | sha256sum | cut -d' ' -f1)
  printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"p","version":"1.2.3-rc.1","channel":"prod","released":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00Z","artifacts":[{"path":"a/b","sha256":"%s","size":1,"contents":[]}]}' "$sha" > "$out/corpus/valid.json"
  printf '{"schema":"ecluse.drop/v1","vendor":"a","vendor":"b"}' > "$out/corpus/dup.json"
  printf '{"schema":"ecluse.drop/v1","artifacts":[{"path":"../x"}]}' > "$out/corpus/outside.json"
  max_len=4096
else
  # A demo vendor CA, a raw key and valid signatures (DER, PEM, raw) as seeds.
  pki=$out/pki
  if [ ! -f "$pki/root.pem" ]; then
    bash scripts/make-demo-drop.sh "$pki/demo" 1.0.0 >/dev/null
    cp "$pki/demo/vendor/root.pem" "$pki/demo/drop/drop.json" "$pki/"
    openssl genpkey -algorithm ed25519 -out "$pki/raw.key" 2>/dev/null
    openssl pkey -in "$pki/raw.key" -pubout -out "$pki/raw.pub.pem"
    cp "$pki/demo/drop/drop.json.sig" "$out/corpus/cms.der"
    openssl cms -cmsout -inform DER -in "$out/corpus/cms.der" -outform PEM -out "$out/corpus/cms.pem"
    openssl pkeyutl -sign -rawin -inkey "$pki/raw.key" -in "$pki/drop.json" | base64 -w0 > "$out/corpus/raw.b64"
  fi
  export ECLUSE_FUZZ_PKI=$PWD/$pki
  max_len=8192
fi
"$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=5 -print_final_stats=1 "$out/corpus" 2>&1 | tail -8
echo "fuzz $target: no crash in ${seconds}s"
