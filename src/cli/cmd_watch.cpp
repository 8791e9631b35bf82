// ecluse watch: the drop watcher (trigger one), see include/ecluse/watch/watch.hpp.
#include <ecluse/watch/watch.hpp>

#include <thread>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct WatchCli {
  std::string ready;
  std::uint64_t quiet_seconds = 0;
  std::uint64_t jobs = 0;
  std::optional<std::string> promote_to;
  std::string reverify_every;
  std::string log_format = "human";
  bool once = false;
  bool enqueue_only = false;
};

Result<watch::WatchOptions> options_of(const workspace::Workspace& ws, const WatchCli& o) {
  const auto& cfg = ws.config().watch;
  watch::WatchOptions w;
  std::error_code ec;
  w.exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return fail(reason::k_watch_failed,
                "cannot find this program (/proc/self/exe): " + ec.message());
  }
  w.workspace = std::filesystem::absolute(ws.root());
  w.incoming = std::filesystem::absolute(ws.incoming_dir());
  const auto jobs = o.jobs != 0 ? o.jobs : cfg.jobs;
  w.jobs =
      jobs != 0 ? static_cast<unsigned>(jobs) : std::max(1U, std::thread::hardware_concurrency());
  if (o.enqueue_only) {
    w.jobs = 0;
  }
  const auto ready = o.ready.empty() ? cfg.ready : o.ready;
  w.ready = ready == "quiet" ? watch::ReadyRule::quiet : watch::ReadyRule::marker;
  w.quiet = std::chrono::seconds(o.quiet_seconds != 0 ? o.quiet_seconds : cfg.quiet_seconds);
  w.promote_to = o.promote_to.value_or(cfg.promote_to);
  const auto& channels = ws.config().channels;
  if (!w.promote_to.empty()
      && std::find(channels.begin(), channels.end(), w.promote_to) == channels.end()) {
    return fail(
        reason::k_promote_unknown_channel,
        "watch promotes into '" + w.promote_to + "', which is not in ecluse.json's channels",
        w.promote_to);
  }
  w.retry = std::chrono::seconds(cfg.retry_seconds);
  if (!o.reverify_every.empty()) {
    w.reverify_every = watch::parse_duration(o.reverify_every);
    if (!w.reverify_every) {
      return fail(reason::k_usage,
                  "--reverify-every takes a duration such as 24h, 90m, 2d or 3600",
                  o.reverify_every);
    }
  } else if (cfg.reverify_every_seconds != 0) {
    w.reverify_every = std::chrono::seconds(cfg.reverify_every_seconds);
  }
  w.json_log = o.log_format == "json";
  w.once = o.once;
  return w;
}

int run_watch(const GlobalOptions& g, const WatchCli& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), false);
  }
  auto opts = options_of(session->ws(), o);
  if (!opts) {
    return report(opts.error(), false);
  }
  auto rc = watch::run(*session, *opts);
  if (!rc) {
    return report(rc.error(), false);
  }
  return *rc;
}

}  // namespace

void add_watch(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto opts = std::make_shared<WatchCli>();
  auto* cmd = app.add_subcommand(
      "watch",
      "watch staging/incoming/ and queue each drop when it is ready, for local (--jobs) or "
      "remote `ecluse worker` processes (SIGTERM/SIGINT: running stages commit, then it exits; "
      "a second signal stops at once)");
  cmd->add_option("--ready", opts->ready, "when a drop is ready: marker (a READY file) or quiet")
      ->check(CLI::IsMember({"marker", "quiet"}));
  cmd->add_option(
      "--quiet-seconds", opts->quiet_seconds, "for --ready quiet: seconds without change");
  cmd->add_option("--jobs",
                  opts->jobs,
                  "local worker processes (default: ecluse.json watch.jobs, else the number of "
                  "cores)");
  cmd->add_flag("--enqueue-only",
                opts->enqueue_only,
                "start no local worker: workers on other machines run the queue");
  cmd->add_option("--promote-to",
                  opts->promote_to,
                  "channel signed drops are promoted into (\"\" for none; default: ecluse.json "
                  "watch.promote_to, preprod)");
  cmd->add_option("--reverify-every",
                  opts->reverify_every,
                  "also run `ecluse reverify --all` this often (24h, 90m, 2d, seconds)");
  cmd->add_option("--log-format", opts->log_format, "human (default) or json: one line per event")
      ->check(CLI::IsMember({"human", "json"}));
  cmd->add_flag("--once",
                opts->once,
                "queue the drops ready now, let the workers drain the queue, exit (0, or 3 when "
                "a job failed)");
  cmd->callback([opts, &g, &action] {
    action = [opts, &g] {
      return run_watch(g, *opts);
    };
  });
}

}  // namespace ecluse::cli
