# Sourced by the integration scripts: the binary under test, a temporary directory removed on
# exit, a workspace that pins a demo vendor CA made at test time, fail(), and a generator of
# signed drops of random bytes.
set -euo pipefail
bin=${1:?usage: $(basename "$0") ECLUSE_BINARY}
here=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# new_workspace: creates $t/ws, exports ECLUSE_WORKSPACE and pins the demo vendor "acme"
# (root and code-signing leaf generated into $t/demo/vendor by scripts/make-demo-drop.sh).
new_workspace() {
  "$bin" init "$t/ws" >/dev/null
  export ECLUSE_WORKSPACE=$t/ws
  [ -f "$t/demo/vendor/root.pem" ] || bash "$here/scripts/make-demo-drop.sh" "$t/demo" >/dev/null
  "$bin" trust add-vendor acme --root "$t/demo/vendor/root.pem" >/dev/null
}

# sign_drop DIR: detached CMS (DER) over DIR/drop.json with the demo vendor's leaf.
sign_drop() {
  openssl cms -sign -binary -md sha256 -outform DER -in "$1/drop.json" \
    -signer "$t/demo/vendor/leaf.pem" -inkey "$t/demo/vendor/leaf.key" -out "$1/drop.json.sig"
}

# random_drop DIR COUNT MIB [VERSION]: COUNT artifacts part1.bin… of MIB MiB each, with a
# signed drop.json.
random_drop() {
  local dir=$1 count=$2 size=$(($3 << 20)) version=${4:-1.0} arts="" i
  mkdir -p "$dir/payload"
  for i in $(seq 1 "$count"); do
    head -c "$size" /dev/urandom > "$dir/payload/part$i.bin"
    arts="$arts${arts:+,}{\"path\":\"part$i.bin\",\"sha256\":\"$(sha256sum "$dir/payload/part$i.bin" | cut -d' ' -f1)\",\"size\":$size}"
  done
  printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"big","version":"%s","channel":"prod","released":"2026-01-01T00:00:00Z","artifacts":[%s]}' \
    "$version" "$arts" > "$dir/drop.json"
  sign_drop "$dir"
}
