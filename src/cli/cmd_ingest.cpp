// ecluse ingest DROP_DIR… | --incoming: run drops through the pipeline.
#include <ecluse/core/interrupt.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/pipeline/promote.hpp>

#include <unistd.h>

#include <cstdio>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct IngestOptions {
  std::vector<std::string> dirs;
  bool incoming = false;
  bool json = false;
  std::string baseline;
  std::string promote_to;  // promote each drop that ends signed into this channel
  bool skip_finished = false;
  bool no_wait = false;
};

std::string mib(std::uint64_t bytes) {
  return std::to_string(bytes >> 20U) + " MiB";
}

// A progress line on stderr, only when stderr is a terminal.
store::ProgressFn progress_line(const std::string& label) {
  if (::isatty(STDERR_FILENO) == 0) {
    return {};
  }
  auto last = std::make_shared<std::uint64_t>(0);
  return [label = printable(label), last](std::uint64_t bytes) {
    if (bytes - *last >= (64ULL << 20U)) {
      *last = bytes;
      (void)std::fprintf(
          stderr, "\r\033[Kingest %s: %s copied and hashed", label.c_str(), mib(bytes).c_str());
    }
  };
}

std::string human_line(const pipeline::IngestOutcome& o) {
  const auto& d = o.drop;
  if (o.replay) {
    return "replay  " + d.id.substr(0, 12) + "  " + drop_name(d) + "\n  " + o.replay->reason + ": "
           + printable(o.replay->message) + "\n  details: ecluse show " + d.id.substr(0, 12) + "\n";
  }
  std::string line =
      std::string(to_string(d.state)) + "  " + d.id.substr(0, 12) + "  " + drop_name(d);
  if (!d.channel.empty()) {
    line += " (channel " + printable(d.channel) + ")";
  }
  if (o.already_known) {
    line += "  [resumed: committed stages were not re-run]";
  }
  if (d.rejection) {
    line += "\n  " + d.rejection->reason + ": " + printable(d.rejection->message);
  }
  if (d.state == DropState::held) {
    line += "\n  held for review: ecluse diff " + d.id.substr(0, 12) + ", then ecluse approve "
            + d.id.substr(0, 12) + " --as NAME --reason TEXT (or ecluse reject)";
  }
  return line + "\n  details: ecluse show " + d.id.substr(0, 12) + "\n";
}

// Promotes a drop the run left signed into o.promote_to; its outcome (or why not) as JSON and
// a human line. A promotion refused (a gate, a rollback) is reported, not an error of the run.
json::Json promote_after(const pipeline::Session& s,
                         const IngestOptions& o,
                         store::DropRecord& d,
                         std::string& line) {
  if (o.promote_to.empty() || d.state != DropState::signed_off) {
    return nullptr;
  }
  auto done = pipeline::promote_drop(s, d.id, o.promote_to);
  if (!done) {
    line += "  not promoted to " + printable(o.promote_to) + ": " + done.error().reason + ": "
            + printable(done.error().message) + "\n";
    return {{"channel", o.promote_to},
            {"error", {{"reason", done.error().reason}, {"message", done.error().message}}}};
  }
  if (auto after = s.state().get_drop(d.id); after && *after) {
    d = std::move(**after);
  }
  line += "  promoted to " + printable(done->channel) + ": commit " + done->commit.substr(0, 12)
          + ", tag " + printable(done->product) + "/" + printable(done->version) + "\n";
  return {{"channel", done->channel},
          {"commit", done->commit},
          {"tag", done->tag},
          {"targets_version", done->targets_version}};
}

int run_ingest(const GlobalOptions& g, const IngestOptions& o) {
  // A first SIGTERM or SIGINT lets the running stage commit; a second ends it at once.
  interrupt::install();
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  std::vector<std::filesystem::path> dirs(o.dirs.begin(), o.dirs.end());
  if (o.incoming) {
    const auto ready = intake::ready_drops(session->ws().incoming_dir());
    dirs.insert(dirs.end(), ready.begin(), ready.end());
  }
  if (dirs.empty()) {
    return report(Error::from(reason::k_usage, "nothing to ingest: give DROP_DIR or --incoming"),
                  o.json);
  }
  int rc = k_exit_ok;
  auto results = json::Json::array();
  for (const auto& dir : dirs) {
    auto outcome =
        pipeline::ingest(*session,
                         dir,
                         progress_line(dir.filename().string()),
                         pipeline::IngestOptions{o.baseline, o.skip_finished, !o.no_wait});
    if (::isatty(STDERR_FILENO) != 0) {
      (void)std::fputs("\r\033[K", stderr);
    }
    if (!outcome && outcome.error().reason == reason::k_state_lease_held.code && dirs.size() > 1) {
      // Another process is working on this drop: not ours to wait for; go on with the rest.
      rc = std::max(rc, exit_code_of(outcome.error()));
      results.push_back(
          {{"source", dir.string()},
           {"busy", {{"reason", outcome.error().reason}, {"message", outcome.error().message}}}});
      if (!o.json) {
        out("busy  " + printable(dir.string()) + "\n  " + outcome.error().reason + ": "
            + printable(outcome.error().message) + "\n");
      }
      continue;
    }
    if (!outcome) {
      return report(outcome.error(), o.json);
    }
    std::string promoted_line;
    auto promotion = promote_after(*session, o, outcome->drop, promoted_line);
    if (outcome->drop.state == DropState::rejected || outcome->replay) {
      rc = std::max(rc, k_exit_rejected);
    }
    auto j = drop_json(outcome->drop);
    j["promotion"] = promotion;
    j["skipped"] = outcome->skipped;
    j["already_known"] = outcome->already_known;
    j["replay"] = nullptr;
    if (outcome->replay) {
      j["replay"] = {{"reason", outcome->replay->reason},
                     {"message", outcome->replay->message},
                     {"of", outcome->replay->item}};
    }
    results.push_back(std::move(j));
    if (!o.json) {
      out(human_line(*outcome) + promoted_line);
    }
  }
  if (o.json) {
    out(json::dump_pretty(json::Json{{"drops", results}}) + "\n");
  }
  return rc;
}

}  // namespace

void add_ingest(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto opts = std::make_shared<IngestOptions>();
  auto* cmd = app.add_subcommand(
      "ingest", "run drops through the pipeline (intake, verify, unpack, diff, policy verdict)");
  cmd->add_option("DROP_DIR", opts->dirs, "drop directories (drop.json, drop.json.sig, payload/)");
  cmd->add_flag("--incoming",
                opts->incoming,
                "also ingest every drop in staging/incoming/ that holds a READY marker");
  cmd->add_option("--baseline",
                  opts->baseline,
                  "diff against this drop (short id) instead of the last accepted release");
  cmd->add_flag("--skip-finished",
                opts->skip_finished,
                "do nothing (journal nothing) for a drop already finished from the same "
                "directory: rejected, held for review or promoted (what the watcher runs)");
  cmd->add_flag("--no-wait",
                opts->no_wait,
                "a drop another process is working on is reported busy (state.lease_held) "
                "instead of waited for");
  cmd->add_option("--promote-to",
                  opts->promote_to,
                  "promote each drop that ends signed into this channel (as ecluse promote)");
  cmd->add_flag("--json", opts->json, "print the outcome as JSON");
  cmd->callback([opts, &g, &action] {
    action = [opts, &g] {
      return run_ingest(g, *opts);
    };
  });
}

}  // namespace ecluse::cli
