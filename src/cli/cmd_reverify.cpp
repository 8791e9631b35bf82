// ecluse reverify [--channel C | --all] [--json]: scheduled re-verification (trigger three).
#include <ecluse/core/printable.hpp>
#include <ecluse/reverify/reverify.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct ReverifyCli {
  std::vector<std::string> channels;
  bool all = false;
  bool json = false;
  bool no_refresh = false;
  unsigned threads = 0;
  std::string at;
};

int run_reverify(const GlobalOptions& g, const ReverifyCli& o) {
  if (o.all == !o.channels.empty()) {
    return report(Error::from(reason::k_usage, "give --all or --channel CHANNEL (repeatable)"),
                  o.json);
  }
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  const auto& known = session->ws().config().channels;
  for (const auto& c : o.channels) {
    if (std::find(known.begin(), known.end(), c) == known.end()) {
      return report(Error::from(reason::k_promote_unknown_channel,
                                "channel '" + c + "' is not in ecluse.json's channels",
                                c),
                    o.json);
    }
  }
  reverify::Options opts;
  if (!o.at.empty()) {
    opts.at = parse_utc(o.at);
    if (!opts.at) {
      return report(Error::from(reason::k_usage, "--at takes YYYY-MM-DDTHH:MM:SSZ", o.at), o.json);
    }
  }
  opts.channels = o.channels;
  opts.threads = o.threads;
  opts.refresh = !o.no_refresh;
  auto r = reverify::reverify(*session, opts);
  if (!r) {
    return report(r.error(), o.json);
  }
  if (o.json) {
    out(json::dump_pretty(r->to_json()) + "\n");
  } else {
    out(r->to_text() + "  report: " + printable(r->json_file.string()) + "\n");
  }
  return r->ok() ? k_exit_ok : k_exit_rejected;
}

}  // namespace

void add_reverify(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto opts = std::make_shared<ReverifyCli>();
  auto* cmd = app.add_subcommand(
      "reverify",
      "re-check everything promoted: re-hash every artifact, every signature against today's "
      "keys and trust, history never rewritten, the journal; re-sign TUF timestamps before they "
      "expire; exit 1 listing each problem with its reason code");
  cmd->add_option("--channel", opts->channels, "a channel to re-verify (repeatable)");
  cmd->add_flag("--all", opts->all, "every channel of ecluse.json");
  cmd->add_flag("--no-refresh", opts->no_refresh, "check only: re-sign no metadata");
  cmd->add_option("--at",
                  opts->at,
                  "judge expiries and certificates as of this UTC time (YYYY-MM-DDTHH:MM:SSZ): "
                  "what will have expired; re-signs nothing");
  cmd->add_option("--threads", opts->threads, "hashing threads (default: one per core)");
  cmd->add_flag("--json", opts->json, "print the report as JSON");
  cmd->callback([opts, &g, &action] {
    action = [opts, &g] {
      return run_reverify(g, *opts);
    };
  });
}

}  // namespace ecluse::cli
