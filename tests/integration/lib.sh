# Sourced by the integration scripts: the binary under test, a temporary directory removed on
# exit, a workspace that pins a demo vendor CA made at test time, fail(), and a generator of
# signed drops of random bytes, and of a drop with one more artifact.
set -euo pipefail
bin=${1:?usage: $(basename "$0") ECLUSE_BINARY}
here=$(cd "$(dirname "$0")/../.." && pwd)
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# new_workspace: creates $t/ws with operator keys (engineers alice, bob, carol), exports
# ECLUSE_WORKSPACE and pins the demo vendor "acme" (root and code-signing leaf generated into
# $t/demo/vendor by scripts/make-demo-drop.sh).
new_workspace() {
  "$bin" init "$t/ws" >/dev/null
  export ECLUSE_WORKSPACE=$t/ws
  "$bin" keys init --engineer alice --engineer bob --engineer carol >/dev/null
  [ -f "$t/demo/vendor/root.pem" ] || bash "$here/scripts/make-demo-drop.sh" "$t/demo" >/dev/null
  "$bin" trust add-vendor acme --root "$t/demo/vendor/root.pem" >/dev/null
}

# sign_drop DIR: detached CMS (DER) over DIR/drop.json with the demo vendor's leaf.
sign_drop() {
  openssl cms -sign -binary -md sha256 -outform DER -in "$1/drop.json" \
    -signer "$t/demo/vendor/leaf.pem" -inkey "$t/demo/vendor/leaf.key" -out "$1/drop.json.sig"
}

# random_drop DIR COUNT MIB [VERSION [PRODUCT]]: COUNT artifacts part1.bin… of MIB MiB each,
# with a signed drop.json (product "big" by default).
random_drop() {
  local dir=$1 count=$2 size=$(($3 << 20)) version=${4:-1.0} product=${5:-big} arts="" i
  mkdir -p "$dir/payload"
  for i in $(seq 1 "$count"); do
    head -c "$size" /dev/urandom > "$dir/payload/part$i.bin"
    arts="$arts${arts:+,}{\"path\":\"part$i.bin\",\"sha256\":\"$(sha256sum "$dir/payload/part$i.bin" | cut -d' ' -f1)\",\"size\":$size}"
  done
  printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"%s","version":"%s","channel":"prod","released":"2026-01-01T00:00:00Z","artifacts":[%s]}' \
    "$product" "$version" "$arts" > "$dir/drop.json"
  sign_drop "$dir"
}

# sign_drop_with_artifact DIR FILE NAME: adds FILE to DIR's payload as NAME, lists it in
# drop.json and signs drop.json again (the demo vendor's leaf).
sign_drop_with_artifact() {
  local dir=$1 file=$2 name=$3
  cp "$file" "$dir/payload/$name"
  python3 - "$dir/drop.json" "$name" "$(sha256sum "$file" | cut -d' ' -f1)" "$(stat -c %s "$file")" <<'PY'
import json, sys
path, name, sha, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
d = json.load(open(path))
d["artifacts"].append({"path": name, "sha256": sha, "size": size})
open(path, "w").write(json.dumps(d, indent=2))
PY
  sign_drop "$dir"
}

# allow_all: every "hold" of policy.json becomes "allow" and the thresholds go, so that drops
# of random bytes pass the verdict and are signed without review.
allow_all() {
  python3 - "$ECLUSE_WORKSPACE/policy.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["actions"] = {k: ("allow" if v == "hold" else v) for k, v in p["actions"].items()}
p.pop("thresholds", None)
json.dump(p, open(sys.argv[1], "w"), indent=2)
PY
}
