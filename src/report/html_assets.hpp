// The report's fixed stylesheet and script, kept as raw string literals so the report stays one
// self-contained file; neither holds any data from a drop.
#pragma once

#include <string_view>

namespace ecluse::report::assets {

// The policy every report carries: nothing may be fetched, only the inline style and script run.
inline constexpr std::string_view k_csp =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'";

inline constexpr std::string_view k_css = R"CSS(
:root {
  --ink: #1f2933; --muted: #616e7c; --line: #d9dee4; --soft: #f5f7fa; --page: #ffffff;
  --pass: #1e7d3a; --pass-bg: #e6f4ea; --hold: #9a5b00; --hold-bg: #fff4e0;
  --reject: #b3261e; --reject-bg: #fdecea; --none: #52606d; --none-bg: #eef1f4;
  --grow: #d9822b; --shrink: #2b8a9e;
}
* { box-sizing: border-box; }
html { background: var(--soft); }
body {
  margin: 0; padding: 24px; color: var(--ink); font-size: 14px; line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1200px; margin: 0 auto; }
h1 { font-size: 15px; font-weight: 600; color: var(--muted); margin: 0 0 12px;
  letter-spacing: .04em; text-transform: uppercase; }
h2 { font-size: 17px; margin: 0 0 12px; display: flex; align-items: baseline; gap: 8px; }
h2 .count { font-size: 13px; font-weight: 400; color: var(--muted); }
section { background: var(--page); border: 1px solid var(--line); border-radius: 8px;
  padding: 18px 20px; margin: 0 0 18px; }
.mono, td.path, td.mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.note { color: var(--muted); font-size: 13px; margin: 10px 0 0; }
.empty { color: var(--muted); font-style: italic; margin: 0; }

.banner { border-left: 8px solid var(--none); background: var(--none-bg); }
.banner.pass { border-color: var(--pass); background: var(--pass-bg); }
.banner.hold { border-color: var(--hold); background: var(--hold-bg); }
.banner.reject { border-color: var(--reject); background: var(--reject-bg); }
.decision { font-size: 26px; font-weight: 700; margin: 0 0 2px; color: var(--none); }
.pass .decision { color: var(--pass); } .hold .decision { color: var(--hold); }
.reject .decision { color: var(--reject); }
.decision-note { margin: 0 0 14px; color: var(--ink); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.reasons { margin: 14px 0 0; padding: 0; list-style: none; }
.reasons li { padding: 6px 10px; background: rgba(255,255,255,.65); border-radius: 4px;
  margin: 0 0 4px; overflow-wrap: anywhere; }
.reasons .code { font-weight: 600; }
.people { margin: 2px 0 0; padding-left: 18px; }

.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(130px, 1fr)); gap: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; background: var(--soft); }
.card .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.card .k { color: var(--muted); font-size: 12px; }
.card.alert .v { color: var(--reject); }

.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
td { overflow-wrap: anywhere; }
th { background: var(--soft); font-weight: 600; font-size: 12.5px; white-space: nowrap;
  position: sticky; top: 0; }
tbody tr:nth-child(even) { background: #fafbfc; }
tbody tr:hover { background: #eef4fb; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.path { min-width: 260px; }
td.host { white-space: nowrap; }
.from { display: block; color: var(--muted); }
table.js-sortable th { cursor: pointer; user-select: none; }
table.js-sortable th::after { content: " \2195"; color: #9aa5b1; font-weight: 400; }
table.js-sortable th[aria-sort="ascending"]::after { content: " \25B2"; color: var(--ink); }
table.js-sortable th[aria-sort="descending"]::after { content: " \25BC"; color: var(--ink); }
table.js-sortable th:focus-visible { outline: 2px solid #3b82f6; outline-offset: -2px; }

.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
  font-weight: 600; background: var(--none-bg); color: var(--none); white-space: nowrap; }
.sev-critical, .sev-high, .c-removed, .no, .act-reject { background: var(--reject-bg); color: var(--reject); }
.sev-medium, .c-modified, .c-type, .c-mode, .c-target, .act-hold { background: var(--hold-bg); color: var(--hold); }
.sev-low, .c-renamed { background: #e8f0fe; color: #1a56b3; }
.c-added, .yes { background: var(--pass-bg); color: var(--pass); }
.grow { color: var(--grow); } .shrink { color: var(--shrink); }
td.ok { color: var(--pass); font-weight: 600; } td.bad { color: var(--reject); font-weight: 600; }

svg.chart { display: block; width: 100%; height: auto; font-size: 12px; }
svg.chart .label { fill: var(--ink); }
svg.chart .value { fill: var(--muted); }
svg.chart .axis { stroke: #9aa5b1; stroke-width: 1; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .bar.pos { fill: var(--grow); } svg.chart .bar.neg { fill: var(--shrink); }
svg.chart .bar.zero { fill: #9aa5b1; }
svg.chart g.row:hover .bar { opacity: .8; }
.legend { display: flex; gap: 16px; color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 5px; vertical-align: -1px; }
.legend .pos { background: var(--grow); } .legend .neg { background: var(--shrink); }
footer { color: var(--muted); font-size: 12px; text-align: center; margin: 8px 0 0; }
@media print {
  html, body { background: #fff; padding: 0; }
  section { break-inside: avoid-page; border-color: #bbb; }
  th { position: static; }
}
)CSS";

// Sorts tables with class "sortable" by the clicked header (numbers from the cells' data-sort,
// our own values; text from the cells), then marks the body ready for the rendering test.
inline constexpr std::string_view k_script = R"JS(
(function () {
  'use strict';
  function keyOf(cell, numeric) {
    if (!cell) { return null; }
    if (numeric) {
      var v = parseFloat(cell.getAttribute('data-sort'));
      return isNaN(v) ? null : v;
    }
    var t = cell.textContent;
    return t === '' ? null : t;
  }
  function sortBy(table, heads, col, numeric) {
    var body = table.tBodies[0];
    var th = heads[col];
    if (!body) { return; }
    var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
    var keyed = Array.prototype.map.call(body.rows, function (row, i) {
      return { row: row, key: keyOf(row.cells[col], numeric), i: i };
    });
    keyed.sort(function (a, b) {
      if (a.key === b.key) { return a.i - b.i; }
      if (a.key === null) { return 1; }
      if (b.key === null) { return -1; }
      return (a.key < b.key ? -1 : 1) * dir;
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (e) { frag.appendChild(e.row); });
    body.appendChild(frag);
    Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    if (!table.tHead || table.tHead.rows.length === 0) { return; }
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var numeric = th.getAttribute('data-type') === 'num';
      var go = function () { sortBy(table, heads, col, numeric); };
      th.tabIndex = 0;
      th.setAttribute('title', 'Sort by this column');
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); go(); }
      });
    });
    table.classList.add('js-sortable');
  });
  document.body.setAttribute('data-ready', '1');
})();
)JS";

}  // namespace ecluse::report::assets
