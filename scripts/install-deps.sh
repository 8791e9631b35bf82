#!/usr/bin/env bash
# Installs ecluse's build and test dependencies from Debian 12 packages (idempotent).
set -euo pipefail

packages=(
  cmake g++ pkg-config make git
  libssl-dev libgit2-dev libarchive-dev zlib1g-dev libicu-dev
  libboost-dev libboost-filesystem-dev
  nlohmann-json3-dev doctest-dev libexpected-dev libcli11-dev
  libsqlite3-dev sqlite3 libpq-dev postgresql
  bubblewrap libseccomp-dev faketime
  libarchive-tools zstd lz4 python3
  openssl coreutils time bc
  softhsm2 libengine-pkcs11-openssl opensc
  openssh-client nodejs
  clang clang-format libclang-rt-14-dev
  chromium
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# The standard TUF client the tests verify served repositories with (tuf-js, pinned by
# tests/tools/tuf-client/package-lock.json; it needs Node.js 20.17 or later).
node_deps() {
  local dir=tests/tools/tuf-client
  [ -d "$dir/node_modules/tuf-js" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] && return 0
  command -v npm >/dev/null || { echo "install-deps: npm is missing (Node.js 20 with npm)" >&2; return 3; }
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}
cd "$(dirname "$0")/.."

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  node_deps
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 3
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
node_deps
