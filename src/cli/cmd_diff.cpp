// ecluse diff DROP: what changed since the baseline, the findings and the verdict, on a
// terminal (summary, findings, change list; colours only on a terminal) or as JSON.
#include <ecluse/core/printable.hpp>
#include <ecluse/diff/diff.hpp>
#include <ecluse/pipeline/review.hpp>
#include <ecluse/policy/policy.hpp>

#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct DiffOptions {
  std::string drop;
  std::string baseline;
  std::size_t limit = 200;
  bool json = false;
};

struct Paint {
  bool on = false;

  [[nodiscard]] std::string operator()(std::string_view code, const std::string& s) const {
    if (!on) {
      return s;
    }
    std::string out = "\033[";
    out.append(code).append("m").append(s).append("\033[0m");
    return out;
  }
};

std::string num(const json::Json& j, const char* key) {
  const auto v = j.value(key, json::Json());
  return v.is_number() ? v.dump() : "0";
}

std::string text_of(const json::Json& j, const char* key) {
  const auto v = j.value(key, json::Json());
  return v.is_string() ? printable(v.get<std::string>()) : std::string();
}

std::string bytes_text(double b) {
  static constexpr std::array<const char*, 5> k_units{"B", "KB", "MB", "GB", "TB"};
  std::size_t u = 0;
  while (std::abs(b) >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  std::array<char, 32> buf{};
  (void)std::snprintf(buf.data(), buf.size(), u == 0 ? "%.0f %s" : "%.1f %s", b, k_units.at(u));
  return buf.data();
}

std::string_view decision_colour(const std::string& decision) {
  if (decision == "pass") {
    return "32";
  }
  return decision == "reject" ? std::string_view("31") : std::string_view("33");
}

std::string header_text(const json::Json& doc, const json::Json& verdict, const Paint& p) {
  const auto drop = doc.value("drop", json::Json::object());
  const auto base = doc.value("baseline", json::Json());
  std::string t =
      p("1",
        text_of(drop, "vendor") + "/" + text_of(drop, "product") + " " + text_of(drop, "version"))
      + " (channel " + text_of(drop, "channel") + ")";
  t += base.is_object() ? " vs " + text_of(base, "version") + " [" + text_of(base, "source")
                              + " baseline " + text_of(base, "id").substr(0, 12) + "]\n"
                        : "\nfirst release: no baseline, every entry is new\n";
  if (verdict.is_object()) {
    const auto decision = text_of(verdict, "decision");
    const std::string_view colour = decision_colour(decision);
    const auto approvals = verdict.value("approvals", json::Json::object());
    std::string names;
    for (const auto& a : approvals.value("granted", json::Json::array())) {
      names += (names.empty() ? "" : ", ") + text_of(a, "name");
    }
    t += "verdict: " + p(colour, decision) + " (state " + text_of(verdict, "state") + ")";
    if (text_of(verdict, "decided") == "hold") {
      t += ", " + num(approvals, "required") + " approval(s) required"
           + (names.empty() ? ", none yet" : ", approved by " + names);
    }
    t += "\n";
  }
  return t;
}

std::string summary_text(const json::Json& doc) {
  const auto s = doc.value("summary", json::Json::object());
  std::array<char, 64> share{};
  (void)std::snprintf(share.data(), share.size(), "%.1f%%", s.value("changed_share", 0.0) * 100.0);
  return "summary: " + num(s, "added") + " added, " + num(s, "removed") + " removed, "
         + num(s, "modified") + " modified, " + num(s, "renamed") + " renamed, "
         + num(s, "mode_changed") + " mode, " + num(s, "type_changed") + " type, "
         + num(s, "target_changed") + " link target; " + share.data() + " of "
         + num(s, "entries_after") + " entries; " + bytes_text(s.value("bytes_before", 0.0))
         + " -> " + bytes_text(s.value("bytes_after", 0.0)) + "\n";
}

std::string findings_text(const json::Json& findings, const Paint& p) {
  std::string t = "\nfindings (" + std::to_string(findings.size()) + "):\n";
  for (const auto& f : findings) {
    const auto sev = text_of(f, "severity");
    const std::string_view colour = sev == "critical" || sev == "high" ? "31"
                                    : sev == "medium"                  ? "33"
                                                                       : "2";
    std::string code = text_of(f, "code");
    code.resize(std::max<std::size_t>(code.size(), 26), ' ');
    std::string sevp = sev;
    sevp.resize(std::max<std::size_t>(sevp.size(), 8), ' ');
    t += "  " + p(colour, sevp) + code + " " + text_of(f, "item") + "  " + text_of(f, "detail")
         + "\n";
  }
  return findings.empty() ? "\nfindings: none\n" : t;
}

std::string change_line(const json::Json& c, const Paint& p) {
  const auto kind = text_of(c, "change");
  static const std::map<std::string, std::pair<std::string_view, std::string_view>> k_marks{
      {"added", {"A", "32"}},
      {"removed", {"D", "31"}},
      {"modified", {"M", "33"}},
      {"renamed", {"R", "36"}},
      {"mode", {"P", "35"}},
      {"type", {"T", "35"}},
      {"target", {"L", "35"}}};
  const auto it = k_marks.find(kind);
  const auto mark =
      it == k_marks.end() ? std::pair<std::string_view, std::string_view>{"?", "0"} : it->second;
  std::string line = "  " + p(mark.second, std::string(mark.first)) + "  " + text_of(c, "path");
  if (kind == "renamed") {
    line += " (from " + text_of(c, "from") + ")";
  }
  const auto delta = c.value("size_delta", 0LL);
  if (delta != 0) {
    line += "  " + std::string(delta > 0 ? "+" : "-")
            + bytes_text(static_cast<double>(std::llabs(delta)));
  }
  if (c.contains("mode_before")) {
    line += "  mode " + text_of(c, "mode_before") + " -> " + text_of(c, "mode_after");
  }
  if (kind == "target") {
    line += "  " + text_of(c, "target_before") + " -> " + text_of(c, "target_after");
  }
  if (c.contains("class")) {
    const auto& k = c["class"];
    line += "  [" + text_of(k, "kind") + (k.contains("arch") ? " " + text_of(k, "arch") : "") + "]";
  }
  return line + "\n";
}

std::string changes_text(const json::Json& doc, std::size_t limit, const Paint& p) {
  const auto changes = doc.value("changes", json::Json::array());
  std::string t = "\nchanges (" + std::to_string(changes.size()) + "):\n";
  std::size_t shown = 0;
  for (const auto& c : changes) {
    if (limit != 0 && shown == limit) {
      t += "  … " + std::to_string(changes.size() - shown)
           + " more (--limit 0 shows all, --json gives every field)\n";
      break;
    }
    t += change_line(c, p);
    ++shown;
  }
  return t;
}

// The stored diff (and verdict) of a diffed drop.
Result<json::Json> stored(const pipeline::Session& s, const store::DropRecord& d) {
  ECLUSE_TRY(results, s.state().stage_results(d.id));
  const store::StageRecord* ev = nullptr;
  for (const auto& r : results) {
    if (r.stage == "diff" && r.state_after != DropState::rejected) {
      ev = &r;
    }
  }
  if (ev == nullptr) {
    return fail(reason::k_state_illegal_transition,
                "drop " + d.id.substr(0, 12) + " is " + std::string(to_string(d.state))
                    + ": it has no diff (only unpacked drops are diffed)",
                d.id);
  }
  ECLUSE_TRY(doc, diff::load_document(s.ws(), d.id, ev->evidence));
  ECLUSE_TRY(findings, s.state().findings(d.id));
  ECLUSE_TRY(verdict, pipeline::verdict_view(s, d));
  return json::Json{{"diff", doc},
                    {"findings", store::to_json(findings)},
                    {"verdict", verdict},
                    {"report", (s.ws().drops_dir() / d.id / "report.html").string()}};
}

// An ad hoc diff against another drop: recorded nowhere.
Result<json::Json> ad_hoc(const pipeline::Session& s,
                          const store::DropRecord& d,
                          const std::string& baseline) {
  ECLUSE_TRY(loaded, policy::load_policy(s.ws().root() / policy::k_policy_file));
  const diff::Context ctx{s.ws(), s.state(), s.objects(), loaded.policy.endpoint_allow};
  ECLUSE_TRY(p, diff::preview(ctx, d, baseline));
  return json::Json{{"diff", p.document},
                    {"findings", store::to_json(p.findings)},
                    {"verdict", nullptr},
                    {"report", nullptr}};
}

int run_diff(const GlobalOptions& g, const DiffOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto d = find_drop(*session, o.drop);
  if (!d) {
    return report(d.error(), o.json);
  }
  auto r = o.baseline.empty() ? stored(*session, *d) : ad_hoc(*session, *d, o.baseline);
  if (!r) {
    return report(r.error(), o.json);
  }
  if (o.json) {
    out(json::dump_pretty(*r) + "\n");
    return k_exit_ok;
  }
  const char* no_color = std::getenv("NO_COLOR");  // NOLINT(concurrency-mt-unsafe)
  const Paint p{::isatty(STDOUT_FILENO) != 0 && (no_color == nullptr || *no_color == '\0')};
  std::string t = header_text((*r)["diff"], (*r)["verdict"], p) + summary_text((*r)["diff"])
                  + findings_text((*r)["findings"], p) + changes_text((*r)["diff"], o.limit, p);
  if ((*r)["report"].is_string()) {
    t += "\nreport: " + printable((*r)["report"].get<std::string>()) + "\n";
  }
  out(t);
  return k_exit_ok;
}

}  // namespace

void add_diff(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<DiffOptions>();
  auto* cmd = app.add_subcommand(
      "diff", "what changed in a drop since its baseline: summary, findings, change list");
  cmd->add_option("DROP", o->drop, "short id (hex prefix) or VENDOR/PRODUCT/VERSION")->required();
  cmd->add_option(
      "--baseline", o->baseline, "compare with this drop instead (computed now, recorded nowhere)");
  cmd->add_option("--limit", o->limit, "changes to list on the terminal (0: all)");
  cmd->add_flag("--json", o->json, "print the diff document, findings and verdict as JSON");
  cmd->callback([o, &g, &action] {
    action = [o, &g] {
      return run_diff(g, *o);
    };
  });
}

}  // namespace ecluse::cli
