#!/usr/bin/env bash
# Layering rules of STYLE.md: each C library stays in its adapter folder, and public headers
# include none of them. Fails naming each offending line.
set -u
cd "$(dirname "$0")/../.."
status=0
check() {  # PATTERN ALLOWED_DIR DESCRIPTION
  local hits
  hits=$(grep -rnE "#include <($1)" src include | grep -vE "^($2)/" || true)
  if [ -n "$hits" ]; then
    echo "only $2 may include $3:"
    echo "$hits"
    status=1
  fi
}
check 'openssl/' src/crypto "OpenSSL"
check 'sqlite3\.h' src/store "SQLite"
check 'libpq-fe\.h' src/store/pg "libpq"
check 'archive(_entry)?\.h' src/unpack "libarchive"
check 'zlib\.h' 'src/unpack|src/repo' "zlib (src/repo: git's loose objects)"
check 'unicode/' src/text "ICU"
check 'git2' src/repo "libgit2"
check 'boost/process' 'src/sandbox|src/watch' "Boost.Process (src/watch: the watcher's workers)"
check 'CLI/' src/cli "CLI11"
hits=$(grep -rnE '#include <(openssl/|sqlite3|libpq|archive|git2|boost/|CLI/|zlib|unicode/)' include || true)
if [ -n "$hits" ]; then
  echo "public headers must not include C libraries:"
  echo "$hits"
  status=1
fi
# main stays one statement: everything lives in the library.
if [ "$(grep -c ";" src/main.cpp)" -ne 1 ]; then
  echo "src/main.cpp must hold exactly one statement"
  status=1
fi
[ $status -eq 0 ] && echo "include rules hold"
exit $status
