#!/usr/bin/env bash
# Sandbox start and teardown overhead per test command (target: under 50 ms over /bin/true run
# directly; the median of R runs, default 50). ecluse-bench-sandbox runs /bin/true R times
# directly (posix_spawn + wait), then R times through ecluse's sandbox exactly as the test stage
# does (bwrap with the shipped default profile, the seccomp filter, a pids cgroup, rlimits, the
# egress recorder attached through the start handshake, the /work listing, teardown), then R
# direct runs again; it prints the medians as JSON and exits 1 when the overhead is 50 ms or more.
# Also prints bwrap alone (same namespaces, no ecluse) for comparison, timed by hyperfine.
# usage: scripts/bench/sandbox.sh [--runs R] [--build-dir DIR]   (default build/release)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=50; build=build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$build" = build/release ]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target ecluse-bench-sandbox >/dev/null
fi
echo "== ecluse sandbox vs /bin/true ($runs runs each)"
"$build/ecluse-bench-sandbox" "$runs" .
status=$?
if command -v hyperfine >/dev/null; then
  echo "== for comparison: bwrap alone with the same namespaces and binds, no ecluse"
  hyperfine -N --warmup 3 --runs "$runs" --export-json /tmp/ecluse-bwrap-alone.json \
    "bwrap --unshare-all --unshare-user --disable-userns --die-with-parent --new-session --cap-drop ALL --ro-bind /usr /usr --ro-bind-try /bin /bin --ro-bind-try /lib /lib --ro-bind-try /lib64 /lib64 --proc /proc --dev /dev --remount-ro / -- /bin/true" \
    2>/dev/null | sed -n '2,3p'
fi
exit $status
