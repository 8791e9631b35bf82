#!/usr/bin/env bash
# Throughput of the job queue with 1, 2 and 4 `ecluse worker` processes on this machine, over a
# sandbox-heavy synthetic suite: D drops (default 16) of distinct products, each with a 4 MiB
# artifact and a test suite of 3 commands (hash the artifact 4 times; a busy shell loop; a
# shell loop that also sleeps, as a test waiting on a service would), each run twice in the
# sandbox (real clock and +400 days), so most of a drop's time is spent in bubblewrap
# sandboxes. The state store is a throwaway PostgreSQL cluster (scripts/pg-cluster.sh), as
# for workers on several machines; --store sqlite uses state.db instead.
# For each worker count, R runs (default 3) on a fresh workspace and database: every drop is
# queued first (`ecluse enqueue`), then the workers drain the queue; the time is from their
# start to the last one's exit. Prints drops/s per count (median) and the speed-up over one
# worker, as a table and as JSON (also in /tmp/ecluse-bench-workers.json). With PostgreSQL it
# also reports the database load: transactions per drop (from pg_stat_database, enqueue
# included) and the transactions per second of one idle worker at the default poll interval.
# usage: scripts/bench/workers.sh [--drops D] [--runs R] [--store postgresql|sqlite]
#                                 [--build-dir DIR]   (default build/release, built if absent)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
drops=16; runs=3; store=postgresql; build=build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --drops) drops=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$build" = build/release ] && [ ! -x build/release/ecluse ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target ecluse >/dev/null
fi
bin=$(cd "$build" && pwd)/ecluse
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
t=$(mktemp -d /tmp/ecluse-bench-workers.XXXXXX)
port=$((56000 + RANDOM % 900))
pg=/tmp/ecluse-bench-pg-$port  # outside $t: the server runs as user postgres
cleanup() { [ "$store" = postgresql ] && bash "$root/scripts/pg-cluster.sh" stop "$pg" || true; rm -rf "$t"; }
trap cleanup EXIT
export HOME=$t GIT_CONFIG_NOSYSTEM=1
if [ "$store" = postgresql ]; then
  bash scripts/pg-cluster.sh start "$pg" "$port" >/dev/null
fi
bash scripts/make-demo-drop.sh "$t/demo" >/dev/null

# The drops, made once: product bNN, version 1.0, one artifact of random bytes, signed.
mkdir -p "$t/drops"
for i in $(seq -f '%02g' 1 "$drops"); do
  d=$t/drops/b$i; mkdir -p "$d/payload"
  head -c $((4 << 20)) /dev/urandom > "$d/payload/data.bin"
  sum=$(sha256sum "$d/payload/data.bin" | cut -d' ' -f1)
  printf '{"schema":"ecluse.drop/v1","vendor":"acme","product":"b%s","version":"1.0","channel":"prod","released":"2026-01-01T00:00:00Z","artifacts":[{"path":"data.bin","sha256":"%s","size":%d}]}' \
    "$i" "$sum" $((4 << 20)) > "$d/drop.json"
  openssl cms -sign -binary -md sha256 -outform DER -in "$d/drop.json" -signer "$t/demo/vendor/leaf.pem" \
    -inkey "$t/demo/vendor/leaf.key" -out "$d/drop.json.sig"
done

# A fresh workspace (and database) with the suite for every product: prints its path.
workspace() {  # NAME
  local ws=$t/$1
  "$bin" init "$ws" >/dev/null
  ECLUSE_WORKSPACE=$ws "$bin" keys init --engineer alice >/dev/null
  ECLUSE_WORKSPACE=$ws "$bin" trust add-vendor acme --root "$t/demo/vendor/root.pem" >/dev/null
  local conn=""
  [ "$store" = postgresql ] && conn=$(bash "$root/scripts/pg-cluster.sh" createdb "$port" "$1")
  python3 - "$ws" "$conn" "$drops" <<'PY'
import json, os, sys
ws, conn, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = json.load(open(f"{ws}/ecluse.json"))
c["state"]["connection"] = conn
json.dump(c, open(f"{ws}/ecluse.json", "w"), indent=2)
p = json.load(open(f"{ws}/policy.json"))
p["actions"] = {k: ("allow" if v == "hold" else v) for k, v in p["actions"].items()}
p.pop("thresholds", None)
json.dump(p, open(f"{ws}/policy.json", "w"), indent=2)
suite = {"schema": "ecluse.suite/v1", "description": "synthetic sandbox-heavy suite",
         "commands": [
             {"name": "hash", "description": "hash the artifact four times",
              "argv": ["/bin/sh", "-c", "for i in 1 2 3 4; do sha256sum /drop/payload/data.bin; done"]},
             {"name": "cpu", "description": "a busy shell loop",
              "argv": ["/bin/sh", "-c", "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done"]},
             {"name": "wait", "description": "a test that waits on something",
              "argv": ["/bin/sh", "-c", "sleep 0.3; i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done"]}]}
for i in range(1, n + 1):
    d = f"{ws}/sandbox/suites/b{i:02d}"
    os.makedirs(d, exist_ok=True)
    json.dump(suite, open(f"{d}/suite.json", "w"), indent=2)
PY
  echo "$ws"
}

# Transactions committed or rolled back in database NAME so far (PostgreSQL's statistics).
xacts() {  # NAME
  "$pgbin/psql" -tA "host=127.0.0.1 port=$port user=ecluse dbname=postgres" \
    -c "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$1'"
}

# One run: N workers drain the queue of every drop; prints the seconds it took.
run() {  # N NAME
  local n=$1 ws; ws=$(workspace "$2")
  cp -r "$t/drops/." "$ws/staging/incoming/"
  ECLUSE_WORKSPACE=$ws "$bin" enqueue "$ws"/staging/incoming/* >/dev/null
  local start end pids=() k
  start=$(date +%s.%N)
  for k in $(seq 1 "$n"); do
    ECLUSE_WORKSPACE=$ws "$bin" worker --drain --poll-ms 50 > "$ws/worker$k.log" 2>&1 & pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || { echo "a worker failed:" >&2; cat "$ws"/worker*.log >&2; exit 1; }; done
  end=$(date +%s.%N)
  if [ "$store" = postgresql ]; then  # the database's transactions for this run (workers flush their counts at exit)
    echo "$(xacts "$2") $n" >> "$t/xacts"
  fi
  local promoted
  promoted=$(ECLUSE_WORKSPACE=$ws "$bin" status --json | python3 -c 'import json,sys; print(sum(d["state"]=="promoted" for d in json.load(sys.stdin)["drops"]))')
  [ "$promoted" -eq "$drops" ] || { echo "only $promoted of $drops promoted" >&2; exit 1; }
  rm -rf "$ws"
  echo "$end - $start" | bc -l
}

# The cost of idle workers: one worker with the default poll interval on an empty queue for
# 10 s; prints transactions per second.
idle_rate() {
  local ws; ws=$(workspace idle)
  local before after pid
  before=$(xacts idle)
  ECLUSE_WORKSPACE=$ws "$bin" worker > "$ws/worker.log" 2>&1 & pid=$!
  sleep 10; kill -TERM "$pid"; wait "$pid" || true
  sleep 1; after=$(xacts idle)
  rm -rf "$ws"
  echo "($after - $before) / 10" | bc -l
}

echo "== $drops drops, $(nproc) cores, store $store, $runs runs per worker count"
results=()
for n in 1 2 4; do
  times=()
  for r in $(seq 1 "$runs"); do times+=("$(run "$n" "w${n}r$r")"); done
  results+=("$n:${times[*]}")
  echo "   $n worker(s): ${times[*]} s"
done
idle=0
[ "$store" = postgresql ] && idle=$(idle_rate)
touch "$t/xacts"
python3 - "$drops" "$store" "$t/xacts" "$idle" "${results[@]}" <<'PY' | tee /tmp/ecluse-bench-workers.json
import json, statistics, sys
drops, store = int(sys.argv[1]), sys.argv[2]
per_run = [line.split() for line in open(sys.argv[3]) if line.strip()]
idle = float(sys.argv[4])
rows = []
for arg in sys.argv[5:]:
    n, times = arg.split(":")
    t = statistics.median(float(x) for x in times.split())
    rows.append({"workers": int(n), "median_seconds": round(t, 2), "drops_per_second": round(drops / t, 3)})
base = rows[0]["drops_per_second"]
for r in rows:
    r["speedup"] = round(r["drops_per_second"] / base, 2)
for r in rows:
    x = [int(v) for v, n in per_run if int(n) == r["workers"]]
    if x:
        r["db_transactions_per_drop"] = round(statistics.median(x) / drops, 1)
out = {"drops": drops, "store": store, "results": rows}
if store == "postgresql":
    out["idle_worker_transactions_per_second"] = round(idle, 2)
print(json.dumps(out, indent=2))
PY
