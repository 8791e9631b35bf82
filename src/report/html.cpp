// Renders the per-drop HTML report: verdict banner, summary, findings, a server-side SVG chart
// of size change by folder, the sortable change list and the endpoints, every string escaped.
#include <ecluse/report/html.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "html_assets.hpp"
#include "html_sections.hpp"
#include "html_text.hpp"

namespace ecluse::report {

namespace {

using detail::badge;
using detail::bytes_of;
using detail::child;
using detail::grouped;
using detail::list;
using detail::member;
using detail::num;
using detail::put;
using detail::put_or_dash;
using detail::str;
using json::Json;

// --- Head and banner -----------------------------------------------------------------------

void put_head(std::string& out, const Json& drop, std::string_view decision) {
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += R"(<meta http-equiv="Content-Security-Policy" content=")";
  out += assets::k_csp;
  out += "\">\n<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  out += "ecluse report: ";
  put(out, str(drop, "vendor"));
  out += ' ';
  put(out, str(drop, "product"));
  out += ' ';
  put(out, str(drop, "version"));
  out += " (";
  out += decision;
  out += ")</title>\n<style>";
  out += assets::k_css;
  out += "</style>\n</head>\n";
}

struct Look {
  std::string_view css;
  std::string_view title;
  std::string_view note;
};

Look look_of(const Json& verdict) {
  const auto d = str(verdict, "decision");
  if (d == "pass" && str(verdict, "decided") == "hold") {
    return {"pass", "APPROVED", "The drop was held for review and engineers approved it."};
  }
  if (d == "pass") {
    return {"pass", "PASS", "The drop passed every check and may be promoted."};
  }
  if (d == "hold") {
    return {"hold", "HOLD", "The drop is held: it needs approval before it can be promoted."};
  }
  if (d == "reject") {
    return {"reject", "REJECT", "The drop is refused and will not be promoted."};
  }
  if (!verdict.is_object() || d.empty()) {
    return {"undecided", "NOT DECIDED YET", "The pipeline has not reached a verdict yet."};
  }
  return {"undecided", "UNKNOWN", "The verdict names a decision this report does not know."};
}

void put_drop_facts(std::string& out, const Json& diff) {
  const Json& d = child(diff, "drop");
  out += "<dt>Drop</dt><dd><strong>";
  put_or_dash(out, str(d, "vendor"));
  out += " / ";
  put_or_dash(out, str(d, "product"));
  out += " ";
  put_or_dash(out, str(d, "version"));
  out += "</strong> on channel <strong>";
  put_or_dash(out, str(d, "channel"));
  out += "</strong></dd>\n<dt>Drop id</dt><dd class=\"mono\">";
  put_or_dash(out, str(d, "id"));
  out += "</dd>\n<dt>Baseline</dt><dd>";
  const auto* base = member(diff, "baseline");
  if (base == nullptr || !base->is_object()) {
    out += "first release: no baseline</dd>\n";
    return;
  }
  out += "<strong>";
  put_or_dash(out, str(*base, "version"));
  out += "</strong>";
  if (const auto source = str(*base, "source"); !source.empty()) {
    out += " (";
    put(out, source);
    out += ')';
  }
  out += " <span class=\"mono muted\">";
  put(out, str(*base, "id"));
  out += "</span></dd>\n";
}

// One person's decision: name, then reason and time when given.
void put_person(std::string& out, const Json& who) {
  out += "<strong>";
  put_or_dash(out, str(who, "name"));
  out += "</strong>";
  if (const auto reason = str(who, "reason"); !reason.empty()) {
    out += ": ";
    put(out, reason);
  }
  if (const auto time = str(who, "time"); !time.empty()) {
    out += " <span class=\"muted\">(";
    put(out, time);
    out += ")</span>";
  }
}

void put_approvals(std::string& out, const Json& verdict) {
  const auto* ap = member(verdict, "approvals");
  out += "<dt>Approvals</dt><dd>";
  if (ap == nullptr || !ap->is_object()) {
    out += "<span class=\"muted\">none recorded</span></dd>\n";
    return;
  }
  const auto& granted = list(*ap, "granted");
  out += "<strong>" + std::to_string(granted.size()) + " of "
         + std::to_string(num(*ap, "required").value_or(0)) + "</strong>";
  if (!granted.empty()) {
    out += "<ul class=\"people\">";
    for (const auto& g : granted) {
      out += "<li>";
      put_person(out, g);
      out += "</li>";
    }
    out += "</ul>";
  }
  out += "</dd>\n";
  if (const auto* by = member(*ap, "rejected_by"); by != nullptr && by->is_object()) {
    out += "<dt>Rejected by</dt><dd>";
    put_person(out, *by);
    out += "</dd>\n";
  }
}

void put_reasons(std::string& out, const Json& verdict) {
  const auto& reasons = list(verdict, "reasons");
  if (reasons.empty()) {
    return;
  }
  out += "<ul class=\"reasons\">\n";
  for (const auto& r : reasons) {
    out += "<li><span class=\"code mono\">";
    put_or_dash(out, str(r, "code"));
    out += "</span> ";
    badge(out, "act-", str(r, "action"), {"hold", "reject"});
    out += " <span class=\"mono\">";
    put(out, str(r, "item"));
    out += "</span> <span class=\"muted\">";
    put(out, str(r, "detail"));
    out += "</span></li>\n";
  }
  out += "</ul>\n";
}

void put_banner(std::string& out, const Json& diff, const Json& verdict, const Look& look) {
  out += "<section class=\"banner ";
  out += look.css;
  out += "\" id=\"verdict\">\n<h1>ecluse quarantine report</h1>\n<p class=\"decision\">Verdict: ";
  out += look.title;
  out += "</p>\n<p class=\"decision-note\">";
  out += look.note;
  if (look.title == "UNKNOWN") {
    out += " <span class=\"mono\">";
    put(out, str(verdict, "decision"));
    out += "</span>";
  }
  out += "</p>\n<dl class=\"facts\">\n";
  put_drop_facts(out, diff);
  put_approvals(out, verdict);
  out += "</dl>\n";
  put_reasons(out, verdict);
  out += "</section>\n";
}

// --- Summary --------------------------------------------------------------------------

void card(std::string& out, std::string_view label, const std::string& value, bool alert = false) {
  out +=
      alert ? R"(<div class="card alert"><div class="v">)" : R"(<div class="card"><div class="v">)";
  out += value.empty() ? std::string("\xe2\x80\x94") : value;
  out += "</div><div class=\"k\">";
  out += label;
  out += "</div></div>\n";
}

std::string count_of(const Json& j, std::string_view key) {
  const auto v = num(j, key);
  return v ? grouped(*v) : std::string();
}

void put_summary(std::string& out, const Json& diff, const Json& findings) {
  const Json& s = child(diff, "summary");
  out += "<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cards\">\n";
  constexpr auto k_counts = std::to_array<std::pair<std::string_view, std::string_view>>(
      {{"entries_before", "entries before"},
       {"entries_after", "entries after"},
       {"added", "added"},
       {"removed", "removed"},
       {"modified", "modified"},
       {"renamed", "renamed"},
       {"mode_changed", "mode changed"},
       {"type_changed", "type changed"},
       {"target_changed", "link target changed"},
       {"unchanged", "unchanged"}});
  for (const auto& [key, label] : k_counts) {
    card(out, label, count_of(s, key));
  }
  const auto before = num(s, "bytes_before");
  const auto after = num(s, "bytes_after");
  card(out, "size before", bytes_of(before, false));
  card(out, "size after", bytes_of(after, false));
  std::optional<std::int64_t> delta;
  if (before && after) {
    delta = detail::difference(*after, *before);
  }
  card(out, "size change", bytes_of(delta, true));
  const auto share = detail::real(s, "changed_share");
  card(out, "entries changed", share ? detail::coord(*share * 100.0) + " %" : std::string());
  const auto& f = detail::as_list(findings);
  card(out, "findings", grouped(static_cast<std::int64_t>(f.size())), !f.empty());
  const auto& endpoints = list(diff, "endpoints");
  const auto refused = std::count_if(endpoints.begin(), endpoints.end(), [](const Json& e) {
    const auto* allowed = member(e, "allowed");
    return allowed != nullptr && allowed->is_boolean() && !allowed->get<bool>();
  });
  card(out, "endpoints not allowed", grouped(refused), refused > 0);
  out += "</div>\n</section>\n";
}

std::string render(const Json& diff, const Json& findings, const Json& verdict, const Json& tests) {
  const auto look = look_of(verdict);
  std::string out;
  out.reserve(std::size_t{64} * 1024);
  put_head(out, child(diff, "drop"), look.title);
  out += "<body>\n<main>\n";
  put_banner(out, diff, verdict, look);
  put_summary(out, diff, findings);
  detail::put_findings(out, findings);
  if (tests.is_object()) {
    detail::put_tests(out, tests);
  }
  detail::put_chart(out, list(diff, "by_folder"));
  detail::put_changes(out, list(diff, "changes"));
  detail::put_endpoints(out, list(diff, "endpoints"));
  out += "<footer>Generated by ecluse from ";
  put_or_dash(out, str(diff, "schema"));
  out += ". This page is self-contained and loads nothing.</footer>\n</main>\n<script>";
  out += assets::k_script;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace

std::string render_html(const Json& diff,
                        const Json& findings,
                        const Json& verdict,
                        const Json& tests) {
  try {
    return render(diff, findings, verdict, tests);
  } catch (...) {  // only allocation can fail here; the contract says no exception escapes
    return "<!DOCTYPE html><title>ecluse report</title><p>The report could not be rendered.</p>";
  }
}

}  // namespace ecluse::report
