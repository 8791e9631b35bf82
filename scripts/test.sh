#!/usr/bin/env bash
# Installs dependencies if missing, configures, builds and runs the whole test suite (ctest).
# usage: scripts/test.sh [--asan | --release] [ctest arguments…]
#   --asan      AddressSanitizer + UndefinedBehaviorSanitizer build (also: ECLUSE_SANITIZE=1)
#   --release   optimised, hardened build
set -euo pipefail
cd "$(dirname "$0")/.."

preset=dev
[ "${ECLUSE_SANITIZE:-0}" = 1 ] && preset=asan
ctest_args=()
for arg in "$@"; do
  case "$arg" in
    --asan) preset=asan ;;
    --release) preset=release ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) ctest_args+=("$arg") ;;
  esac
done

bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
extra=()
if [ "${CI:-}" = true ]; then
  # CI builds without debug info: less compile and link time on its 2 cores. doctest reports
  # file:line itself, and ASan's reports still name functions (from the symbol table); build
  # locally (without CI=true) for line numbers.
  case "$preset" in
    dev) extra=(-DCMAKE_CXX_FLAGS_DEBUG=-g0) ;;
    asan) extra=(-DCMAKE_CXX_FLAGS_DEBUG=-g0) ;;
  esac
fi
echo "== configure ($preset)"
cmake --preset "$preset" "${extra[@]}" >/dev/null
echo "== build ($preset)"
# Only what ctest runs: the benchmark tools (scripts/bench/) are built by their own scripts.
cmake --build --preset "$preset" -j "$jobs" --target ecluse ecluse_tests ecluse_sandbox_tests
echo "== test ($preset)"
if [ "$preset" = asan ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp}
fi
ctest --preset "$preset" -j "$jobs" "${ctest_args[@]}"
