#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: Debian's postgresql binaries, a fresh data
# directory, listening on 127.0.0.1 only, trust authentication, superuser "ecluse".
# usage: scripts/pg-cluster.sh start DIR PORT   (prints the connection string)
#        scripts/pg-cluster.sh stop DIR
#        scripts/pg-cluster.sh createdb PORT NAME (prints the connection string)
# As root the server runs as the "postgres" system user (PostgreSQL refuses to run as root).
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "${bin:-}/initdb" ] || { echo "pg-cluster: PostgreSQL is missing (apt-get install postgresql; scripts/install-deps.sh)" >&2; exit 3; }
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
conninfo() { echo "host=127.0.0.1 port=$1 user=ecluse dbname=$2 connect_timeout=10"; }
cmd=${1:-}
case "$cmd" in
  start)
    dir=$2 port=$3
    if [ -f "$dir/data/postmaster.pid" ]; then "$0" stop "$dir" || true; fi
    rm -rf "$dir"; mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      runuser -u postgres -- test -w "$dir" || { echo "pg-cluster: user postgres cannot reach $dir (a parent directory is private): choose a directory under /tmp" >&2; exit 1; }
    fi
    as_owner "$bin/initdb" -D "$dir/data" -U ecluse --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync stays on (the default): the state store's durability is what the tests rely on.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    conninfo "$port" postgres
    ;;
  stop)
    dir=$2
    [ -d "$dir/data" ] || exit 0
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  createdb)
    port=$2 name=$3
    PGOPTIONS="-c client_min_messages=warning" "$bin/psql" -q -v ON_ERROR_STOP=1 "$(conninfo "$port" postgres)" \
      -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\"" >/dev/null
    conninfo "$port" "$name"
    ;;
  *) sed -n '2,7p' "$0"; exit 2 ;;
esac
