#!/usr/bin/env bash
# Builds the drop.json libFuzzer target with clang (ASan+UBSan) and runs it.
# usage: scripts/fuzz.sh [SECONDS]   (default 60; the test suite runs a short smoke)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build/fuzz
mkdir -p "$out/corpus"
if ! command -v clang++ >/dev/null; then
  echo "clang++ not installed (Debian packages clang, libclang-rt-14-dev; scripts/install-deps.sh)" >&2
  exit 3
fi
srcs=(src/core/reasons.cpp src/core/json.cpp src/core/clock.cpp src/core/version.cpp
      src/crypto/sha256.cpp src/intake/drop_manifest.cpp src/intake/artifact_path.cpp
      tests/fuzz/drop_manifest_fuzz.cpp)
bin=$out/drop_manifest_fuzz
newest=$(ls -t "${srcs[@]}" include/ecluse/*/*.hpp | head -1)
if [ ! -x "$bin" ] || [ "$newest" -nt "$bin" ]; then
  clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Iinclude "${srcs[@]}" -lcrypto -o "$bin"
fi
# Seed corpus: a valid drop.json and a few near misses.
sha=$(printf 'x' | sha256sum | cut -d' ' -f1)
printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"p","version":"1.2.3-rc.1","channel":"prod","released":"2026-01-01T00:00:00Z","expires":"2027-01-01T00:00:00Z","artifacts":[{"path":"a/b","sha256":"%s","size":1,"contents":[]}]}' "$sha" > "$out/corpus/valid.json"
printf '{"schema":"ecluse.drop/v1","vendor":"a","vendor":"b"}' > "$out/corpus/dup.json"
printf '{"schema":"ecluse.drop/v1","artifacts":[{"path":"../x"}]}' > "$out/corpus/outside.json"
"$bin" -max_total_time="$seconds" -max_len=4096 -timeout=5 -print_final_stats=1 "$out/corpus" 2>&1 | tail -8
echo "fuzz: no crash in ${seconds}s"
