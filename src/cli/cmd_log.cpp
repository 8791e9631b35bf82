// ecluse log [--verify]: print or check the audit journal.
#include <ecluse/core/printable.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct LogOptions {
  bool json = false;
  bool verify = false;
  std::string drop;
};

// A string field of a journal entry for display (terminal-safe); a field an editor
// mistyped is shown as JSON rather than trusted.
std::string field(const json::Json& entry, const char* key) {
  if (!entry.contains(key)) {
    return {};
  }
  const auto& v = entry.at(key);
  return v.is_string() ? printable(v.get_ref<const std::string&>()) : json::dump_line(v);
}

int run_verify(const pipeline::Session& s, const LogOptions& o) {
  auto check = s.journal().verify();
  if (!check) {
    return report(check.error(), o.json);
  }
  if (o.json) {
    out(json::dump_pretty(json::Json{{"ok", check->ok},
                                     {"entries", check->entries},
                                     {"first_bad_line", check->first_bad_line},
                                     {"problem", check->problem}})
        + "\n");
  } else if (check->ok) {
    out("journal ok: " + std::to_string(check->entries) + " entries, chain and head intact\n");
  } else {
    out("journal tampered: line " + std::to_string(check->first_bad_line) + ": "
        + printable(check->problem) + "\n");
  }
  if (!check->ok) {
    (void)std::fprintf(stderr,
                       "ecluse: journal.tampered: line %llu: %s\n",
                       static_cast<unsigned long long>(check->first_bad_line),
                       printable(check->problem).c_str());
  }
  return check->ok ? k_exit_ok : k_exit_rejected;
}

int run_log(const GlobalOptions& g, const LogOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  if (o.verify) {
    return run_verify(*session, o);
  }
  auto entries = session->journal().entries();
  if (!entries) {
    return report(entries.error(), o.json);
  }
  auto list = json::Json::array();
  std::string text;
  for (const auto& e : *entries) {
    const auto drop = field(e, "drop");
    if (!o.drop.empty() && drop.rfind(o.drop, 0) != 0) {
      continue;
    }
    list.push_back(e);
    text += field(e, "time") + "  " + field(e, "actor") + "  "
            + (drop.empty() ? std::string("-") : drop.substr(0, 12)) + "  " + field(e, "event")
            + "  " + (e.contains("details") ? json::dump_line(e.at("details")) : "{}") + "\n";
  }
  out(o.json ? json::dump_pretty(json::Json{{"entries", list}}) + "\n" : text);
  return k_exit_ok;
}

}  // namespace

void add_log(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto opts = std::make_shared<LogOptions>();
  auto* cmd =
      app.add_subcommand("log", "print the audit journal, or check its hash chain with --verify");
  cmd->add_flag(
      "--verify",
      opts->verify,
      "check the chain; name the first edited, removed, inserted, reordered or truncated line");
  cmd->add_option("--drop", opts->drop, "only entries of drops whose id starts with this");
  cmd->add_flag("--json", opts->json, "print as JSON");
  cmd->callback([opts, &g, &action] {
    action = [opts, &g] {
      return run_log(g, *opts);
    };
  });
}

}  // namespace ecluse::cli
