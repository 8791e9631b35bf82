// The report's tables: findings, the change list and the endpoints, with cells whose numbers
// carry a data-sort key for the sorting script and whose text is escaped.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "html_sections.hpp"
#include "html_text.hpp"

namespace ecluse::report::detail {

namespace {

// Caps keep a huge drop's page openable in a browser; diff.json keeps every row.
constexpr std::size_t k_max_change_rows = 20'000;
constexpr std::size_t k_max_endpoint_rows = 5'000;
constexpr std::size_t k_max_finding_rows = 5'000;

// How a column sorts and aligns: text, a right-aligned number, or a left-aligned rank.
enum class Sort { text, number, rank };

struct Column {
  std::string_view title;
  Sort sort = Sort::text;
};

void open_table(std::string& out, std::string_view id, std::initializer_list<Column> columns) {
  out += R"(<div class="scroll"><table class="sortable" id=")";
  out += id;
  out += "\"><thead><tr>";
  for (const auto& c : columns) {
    out += c.sort == Sort::text     ? "<th>"
           : c.sort == Sort::number ? R"(<th class="num" data-type="num">)"
                                    : "<th data-type=\"num\">";
    out += c.title;
    out += "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
}

void close_table(std::string& out) {
  out += "</tbody></table></div>\n";
}

void text_cell(std::string& out, std::string_view untrusted, std::string_view css = {}) {
  out += css.empty() ? "<td>" : "<td class=\"";
  if (!css.empty()) {
    out += css;
    out += "\">";
  }
  put(out, untrusted);
  out += "</td>";
}

// A right-aligned number cell: people read the text, the script sorts by data-sort.
void number_cell(std::string& out, std::optional<std::int64_t> value, const std::string& shown) {
  if (!value) {
    out += "<td class=\"num\"></td>";
    return;
  }
  out += R"(<td class="num" data-sort=")" + std::to_string(*value) + "\" title=\"" + grouped(*value)
         + "\">" + shown + "</td>";
}

int severity_rank(std::string_view s) {
  constexpr auto k_order =
      std::to_array<std::string_view>({"info", "low", "medium", "high", "critical"});
  for (std::size_t i = 0; i < k_order.size(); ++i) {
    if (k_order.at(i) == s) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace

void put_findings(std::string& out, const Json& findings) {
  const auto& all = as_list(findings);
  section_heading(out, "findings", "Findings", all.size());
  if (all.empty()) {
    out += "<p class=\"empty\">No findings.</p>\n</section>\n";
    return;
  }
  // Most severe first; the drop's own order among equals.
  std::vector<const Json*> rows;
  for (const auto& f : all) {
    rows.push_back(&f);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Json* a, const Json* b) {
    return severity_rank(str(*a, "severity")) > severity_rank(str(*b, "severity"));
  });
  const auto shown = std::min(rows.size(), k_max_finding_rows);
  open_table(
      out, "findings-table", {{"Severity", Sort::rank}, {"Code"}, {"Stage"}, {"Item"}, {"Detail"}});
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& f = *rows[i];
    const auto severity = str(f, "severity");
    out += "<tr><td data-sort=\"" + std::to_string(severity_rank(severity)) + "\">";
    badge(out, "sev-", severity, {"info", "low", "medium", "high", "critical"});
    out += "</td>";
    text_cell(out, str(f, "code"), "mono");
    text_cell(out, str(f, "stage"));
    text_cell(out, str(f, "item"), "path");
    text_cell(out, str(f, "detail"));
    out += "</tr>\n";
  }
  close_table(out);
  cap_note(out, all.size(), shown, "findings");
  out += "</section>\n";
}

namespace {

// Sizes differ by the delta the diff wrote, or by what its two sizes imply.
std::optional<std::int64_t> size_delta(const Json& c) {
  if (auto d = num(c, "size_delta")) {
    return d;
  }
  const auto before = num(c, "size_before");
  const auto after = num(c, "size_after");
  if (!before && !after) {
    return std::nullopt;
  }
  return std::max<std::int64_t>(after.value_or(0), 0)
         - std::max<std::int64_t>(before.value_or(0), 0);
}

// The path, then the secondary facts a reviewer needs beside it: rename source, link target.
void path_cell(std::string& out, const Json& c) {
  out += "<td class=\"path\">";
  put_or_dash(out, str(c, "path"));
  const auto line = [&out](std::string_view label, std::string_view value) {
    if (!value.empty()) {
      out += "<span class=\"from\">";
      out += label;
      put(out, value);
      out += "</span>";
    }
  };
  line("renamed from ", str(c, "from"));
  const auto was = str(c, "target_before");
  const auto now = str(c, "target_after");
  if (!was.empty() && !now.empty()) {
    out += "<span class=\"from\">link target ";
    put(out, was);
    out += " \xe2\x86\x92 ";
    put(out, now);
    out += "</span>";
  } else {
    line("was a link to ", was);
    line("link to ", now);
  }
  out += "</td>";
}

void put_change_row(std::string& out, const Json& c) {
  out += "<tr>";
  path_cell(out, c);
  out += "<td>";
  badge(out,
        "c-",
        str(c, "change"),
        {"added", "removed", "modified", "renamed", "mode", "type", "target"});
  if (const auto mb = str(c, "mode_before"), ma = str(c, "mode_after");
      !mb.empty() || !ma.empty()) {
    out += " <span class=\"mono muted\">";
    put(out, mb);
    out += "\xe2\x86\x92";
    put(out, ma);
    out += "</span>";
  }
  out += "</td><td>";
  if (const auto before = str(c, "type_before"); !before.empty()) {
    put(out, before);
    out += " \xe2\x86\x92 ";
  }
  put(out, str(c, "type"));
  out += "</td>";
  const auto delta = size_delta(c);
  number_cell(out, delta, delta ? human_bytes(*delta, true) : std::string());
  const Json& cls = child(c, "class");
  out += "<td>";
  put(out, str(cls, "kind"));
  if (const auto arch = str(cls, "arch"); !arch.empty()) {
    out += " <span class=\"muted\">";
    put(out, arch);
    out += "</span>";
  }
  out += "</td></tr>\n";
}

}  // namespace

void put_changes(std::string& out, const Json& changes) {
  section_heading(out, "changes", "Changes", changes.size());
  if (changes.empty()) {
    out += "<p class=\"empty\">No changes.</p>\n</section>\n";
    return;
  }
  const auto shown = std::min(changes.size(), k_max_change_rows);
  open_table(out,
             "changes-table",
             {{"Path"}, {"Change"}, {"Type"}, {"Size change", Sort::number}, {"Class"}});
  for (std::size_t i = 0; i < shown; ++i) {
    put_change_row(out, changes[i]);
  }
  close_table(out);
  cap_note(out, changes.size(), shown, "changes");
  out += "</section>\n";
}

namespace {

void put_endpoint_row(std::string& out, const Json& e) {
  out += "<tr>";
  text_cell(out, str(e, "file"), "path");
  const auto offset = num(e, "offset");
  number_cell(out, offset, offset ? grouped(*offset) : std::string());
  text_cell(out, str(e, "endpoint"), "mono");
  text_cell(out, str(e, "kind"));
  text_cell(out, str(e, "host"), "mono host");
  const auto* allowed = member(e, "allowed");
  out += "<td>";
  if (allowed != nullptr && allowed->is_boolean()) {
    out += allowed->get<bool>() ? "<span class=\"badge yes\">allowed</span>"
                                : "<span class=\"badge no\">not allowed</span>";
  }
  out += "</td></tr>\n";
}

}  // namespace

void put_endpoints(std::string& out, const Json& endpoints) {
  section_heading(out, "endpoints", "Network endpoints", endpoints.size());
  if (endpoints.empty()) {
    out += "<p class=\"empty\">No network endpoints found in changed files.</p>\n</section>\n";
    return;
  }
  const auto shown = std::min(endpoints.size(), k_max_endpoint_rows);
  open_table(out,
             "endpoints-table",
             {{"File"}, {"Offset", Sort::number}, {"Endpoint"}, {"Kind"}, {"Host"}, {"Policy"}});
  for (std::size_t i = 0; i < shown; ++i) {
    put_endpoint_row(out, endpoints[i]);
  }
  close_table(out);
  cap_note(out, endpoints.size(), shown, "endpoints");
  out += "</section>\n";
}

namespace {

// "passed", "exit 3", "timeout", "signal 9" for one run of a suite command.
std::string outcome_of(const Json& run, std::int64_t expect) {
  if (!run.is_object()) {
    return "-";
  }
  const auto* timed_out = member(run, "timed_out");
  if (timed_out != nullptr && timed_out->is_boolean() && timed_out->get<bool>()) {
    return "timeout";
  }
  if (const auto sig = num(run, "signal"); sig && *sig != 0) {
    return "signal " + std::to_string(*sig);
  }
  const auto code = num(run, "exit_code").value_or(-1);
  return code == expect ? "passed" : "exit " + std::to_string(code);
}

void outcome_cell(std::string& out, const std::string& outcome) {
  out += outcome == "passed" ? "<td class=\"ok\">" : outcome == "-" ? "<td>" : "<td class=\"bad\">";
  put(out, outcome);
  out += "</td>";
}

}  // namespace

void put_tests(std::string& out, const Json& tests) {
  const auto& commands = list(tests, "commands");
  section_heading(out, "tests", "Sandbox tests", commands.size());
  if (commands.empty()) {
    out += "<p class=\"empty\">No suite ran (see the findings).</p>\n</section>\n";
    return;
  }
  out += "<p>Profile ";
  put(out, str(child(tests, "profile"), "name"));
  out += ", suite ";
  put(out, str(child(tests, "suite"), "name"));
  out += ", ";
  put(out, str(child(tests, "environment"), "bwrap"));
  out += "; no network; second run with the clock "
         + std::to_string(num(tests, "time_shift_days").value_or(0)) + " days ahead.</p>\n";
  open_table(out,
             "tests-table",
             {{"Command"},
              {"Real clock"},
              {"Shifted clock"},
              {"Egress attempts", Sort::number},
              {"Seconds", Sort::number},
              {"Peak memory", Sort::number}});
  for (const auto& c : commands) {
    const auto expect = num(c, "expect_exit").value_or(0);
    const auto& now = child(c, "now");
    out += "<tr>";
    text_cell(out, str(c, "name"), "mono");
    outcome_cell(out, outcome_of(now, expect));
    outcome_cell(out, outcome_of(child(c, "shifted"), expect));
    const auto egress = list(now, "egress").size() + list(child(c, "shifted"), "egress").size();
    out += "<td class=\"num\">" + std::to_string(egress) + "</td>";
    const auto secs = real(now, "seconds").value_or(0.0);
    out += "<td class=\"num\">" + std::to_string(static_cast<std::int64_t>(secs * 1000.0))
           + " ms</td>";
    out += "<td class=\"num\">" + human_bytes(num(now, "peak_rss_kib").value_or(0) * 1024, false)
           + "</td></tr>\n";
  }
  close_table(out);
  out += "</section>\n";
}

}  // namespace ecluse::report::detail
