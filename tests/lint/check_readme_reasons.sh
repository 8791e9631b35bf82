#!/usr/bin/env bash
# README.md's reason-code table must equal `ecluse reasons --markdown`
# (scripts/update-readme-reasons.sh regenerates it).
set -u
bin=${1:?usage: check_readme_reasons.sh ECLUSE_BINARY}
cd "$(dirname "$0")/../.."
expected=$("$bin" reasons --markdown)
actual=$(sed -n '/<!-- reasons:begin -->/,/<!-- reasons:end -->/p' README.md | sed '1d;$d')
if [ "$expected" != "$actual" ]; then
  echo "README.md's reason table is stale: run scripts/update-readme-reasons.sh"
  diff <(echo "$expected") <(echo "$actual")
  exit 1
fi
echo "README reason table matches the catalogue ($(echo "$expected" | tail -n +3 | wc -l) codes)"
