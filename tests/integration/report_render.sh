#!/usr/bin/env bash
# The HTML report renders offline in headless Chromium: a screenshot of real size is taken, the
# sorting script runs (body data-ready="1") and the verdict banner shows.
# Usage: report_render.sh ECLUSE_BINARY REPORT_HTML (cli_review.sh calls it on the report of a
# drop it ingested and reviewed). Keeps the screenshot in $ECLUSE_RENDER_OUT when that is set.
set -euo pipefail
bin=${1?usage: $(basename "$0") ECLUSE_BINARY REPORT_HTML}
report=${2:-}
fail() { echo "FAIL: $*"; exit 1; }
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
out=${ECLUSE_RENDER_OUT:-$t/out}
mkdir -p "$out"

[ -x "$bin" ] || [ -z "$bin" ] || fail "$bin is not an executable"
[ -n "$report" ] || fail "no report.html given"
[ -f "$report" ] || fail "$report does not exist"
report=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")

chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || fail "chromium is not installed (Debian package chromium; scripts/install-deps.sh installs it)"

# Every network feature Chromium has on its own is off: the page must render from file:// alone.
run_chromium() {  # CHROMIUM-ARGS…
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$t/profile.XXXXXX")" --window-size=1280,1600 "$@" \
    "file://$report"
}

run_chromium --screenshot="$out/report.png" >"$t/shot.log" 2>&1 \
  || { cat "$t/shot.log"; fail "chromium --screenshot failed"; }
[ -f "$out/report.png" ] || { cat "$t/shot.log"; fail "no screenshot written"; }
[ "$(head -c 8 "$out/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
  || fail "report.png is not a PNG"
size=$(stat -c %s "$out/report.png")
[ "$size" -gt 20000 ] || fail "report.png is only $size bytes: the page looks blank"

run_chromium --dump-dom >"$t/dom.html" 2>"$t/dom.log" \
  || { cat "$t/dom.log"; fail "chromium --dump-dom failed"; }
grep -q '<body[^>]* data-ready="1"' "$t/dom.html" \
  || fail "the report's script did not run (no data-ready=\"1\" on <body>)"
grep -qE 'Verdict: (PASS|APPROVED|HOLD|REJECT|NOT DECIDED YET|UNKNOWN)' "$t/dom.html" \
  || fail "no verdict banner in the rendered page"
grep -q 'class="sortable js-sortable"' "$t/dom.html" || fail "the tables were not made sortable"
echo "report renders: $out/report.png ($size bytes), script ran, verdict banner shown"
