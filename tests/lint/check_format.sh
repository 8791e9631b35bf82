#!/usr/bin/env bash
# Every C++ file is formatted with the project's .clang-format.
set -u
cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null; then
  echo "clang-format not installed (Debian package clang-format; scripts/install-deps.sh installs it)"
  exit 1
fi
files=$(find src include tests -name '*.cpp' -o -name '*.hpp')
# shellcheck disable=SC2086
if ! clang-format --dry-run -Werror $files; then
  echo "run: clang-format -i \$(find src include tests -name '*.cpp' -o -name '*.hpp')"
  exit 1
fi
echo "formatting clean ($(echo "$files" | wc -l) files)"
