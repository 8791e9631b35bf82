# Sourced by the integration scripts: the binary under test, a temporary directory removed on
# exit, a workspace, fail(), and a generator of unsigned drops of random bytes.
set -euo pipefail
bin=${1:?usage: $(basename "$0") ECLUSE_BINARY}
here=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# new_workspace: creates $t/ws and exports ECLUSE_WORKSPACE.
new_workspace() {
  "$bin" init "$t/ws" >/dev/null
  export ECLUSE_WORKSPACE=$t/ws
}

# random_drop DIR COUNT MIB: COUNT artifacts part1.bin… of MIB MiB each, with drop.json.
random_drop() {
  local dir=$1 count=$2 size=$(($3 << 20)) arts="" i
  mkdir -p "$dir/payload"
  for i in $(seq 1 "$count"); do
    head -c "$size" /dev/urandom > "$dir/payload/part$i.bin"
    arts="$arts${arts:+,}{\"path\":\"part$i.bin\",\"sha256\":\"$(sha256sum "$dir/payload/part$i.bin" | cut -d' ' -f1)\",\"size\":$size}"
  done
  printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"big","version":"1.0","channel":"prod","released":"2026-01-01T00:00:00Z","artifacts":[%s]}' \
    "$arts" > "$dir/drop.json"
}
