// ecluse log [--verify]: print or check the audit journal.
#include <ecluse/core/printable.hpp>
#include <ecluse/pipeline/sign.hpp>

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

json::Json report_json(const pipeline::JournalReport& r) {
  auto problems = json::Json::array();
  for (const auto& p : r.problems) {
    problems.push_back({{"checkpoint_line", p.line}, {"problem", p.problem}});
  }
  return {{"ok", r.ok()},
          {"entries", r.chain.entries},
          {"first_bad_line", r.chain.first_bad_line},
          {"problem", r.chain.problem},
          {"checkpoints",
           {{"verified", r.checkpoints},
            {"last_seq", r.last_checkpoint},
            {"signers", r.signers},
            {"problems", problems}}}};
}

std::string report_text(const pipeline::JournalReport& r) {
  std::string t;
  if (r.chain.ok) {
    t = "journal ok: " + std::to_string(r.chain.entries) + " entries, chain and head intact\n";
  } else {
    t = "journal tampered: line " + std::to_string(r.chain.first_bad_line) + ": "
        + printable(r.chain.problem) + "\n";
  }
  t += "checkpoints: " + std::to_string(r.checkpoints) + " signed checkpoints verified";
  t += r.checkpoints > 0 ? ", the last at seq " + std::to_string(r.last_checkpoint) + "\n" : "\n";
  for (const auto& p : r.problems) {
    t += "checkpoint problem"
         + (p.line > 0 ? " (checkpoints.jsonl line " + std::to_string(p.line) + ")" : std::string())
         + ": " + printable(p.problem) + "\n";
  }
  return t;
}

int run_verify(const pipeline::Session& s, const LogOptions& o) {
  auto r = pipeline::verify_journal(s);
  if (!r) {
    return report(r.error(), o.json);
  }
  out(o.json ? json::dump_pretty(report_json(*r)) + "\n" : report_text(*r));
  if (!r->chain.ok) {
    (void)std::fprintf(stderr,
                       "ecluse: journal.tampered: line %llu: %s\n",
                       static_cast<unsigned long long>(r->chain.first_bad_line),
                       printable(r->chain.problem).c_str());
  }
  for (const auto& p : r->problems) {
    (void)std::fprintf(
        stderr, "ecluse: journal.checkpoint_invalid: %s\n", printable(p.problem).c_str());
  }
  return r->ok() ? k_exit_ok : k_exit_rejected;
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
      "check the chain (name the first edited, removed, inserted, reordered or truncated line) and "
      "every signed checkpoint");
  cmd->add_option("--drop", opts->drop, "only entries of drops whose id starts with this");
  cmd->add_flag("--json", opts->json, "print as JSON");
  cmd->callback([opts, &g, &action] {
    action = [opts, &g] {
      return run_log(g, *opts);
    };
  });
}

}  // namespace ecluse::cli
