// ecluse worker, ecluse enqueue, ecluse queue: the job queue's consumer, producer and view
// (include/ecluse/queue/queue.hpp).
#include <ecluse/core/interrupt.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/queue/queue.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct WorkerCli {
  bool drain = false;
  std::uint64_t max_jobs = 0;
  std::uint64_t poll_ms = 500;
  std::string log_format = "human";
};

int run_worker(const GlobalOptions& g, const WorkerCli& o) {
  interrupt::install();  // SIGTERM/SIGINT: the running stage commits, the job is queued again
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), false);
  }
  queue::WorkerOptions w;
  w.drain = o.drain;
  w.max_jobs = o.max_jobs;
  w.poll = std::chrono::milliseconds(o.poll_ms);
  w.json_log = o.log_format == "json";
  w.retry = std::chrono::seconds(session->ws().config().watch.retry_seconds);
  auto rc = queue::run_worker(*session, w);
  return rc ? *rc : report(rc.error(), false);
}

struct EnqueueCli {
  std::vector<std::string> dirs;
  std::optional<std::string> promote_to;
  bool json = false;
};

int run_enqueue(const GlobalOptions& g, const EnqueueCli& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  const auto channel = o.promote_to.value_or(session->ws().config().watch.promote_to);
  const auto& channels = session->ws().config().channels;
  if (!channel.empty() && std::find(channels.begin(), channels.end(), channel) == channels.end()) {
    return report(Error::from(reason::k_promote_unknown_channel,
                              "'" + channel + "' is not in ecluse.json's channels",
                              channel),
                  o.json);
  }
  auto list = json::Json::array();
  for (const auto& dir : o.dirs) {
    if (!std::filesystem::is_directory(dir)) {
      return report(
          Error::from(reason::k_usage, "'" + printable(dir) + "' is not a directory", dir), o.json);
    }
    auto e = queue::enqueue_drop(*session, std::filesystem::absolute(dir), channel);
    if (!e) {
      return report(e.error(), o.json);
    }
    auto j = queue::to_json(e->job);
    j["added"] = e->added;
    list.push_back(j);
    if (!o.json) {
      out(std::string(e->added ? "queued  " : "known   ") + printable(e->job.source) + "  job "
          + std::to_string(e->job.id) + " (" + e->job.stage + ", " + e->job.status + ")\n");
    }
  }
  if (o.json) {
    out(json::Json{{"jobs", list}}.dump(2) + "\n");
  }
  return 0;
}

struct QueueCli {
  bool json = false;
  bool all = false;
};

int run_queue(const GlobalOptions& g, const QueueCli& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto jobs = o.all ? session->state().jobs() : session->state().open_jobs();
  if (!jobs) {
    return report(jobs.error(), o.json);
  }
  if (o.json) {
    auto list = json::Json::array();
    for (const auto& j : *jobs) {
      list.push_back(queue::to_json(j));
    }
    out(json::Json{{"jobs", list}}.dump(2) + "\n");
    return 0;
  }
  for (const auto& j : *jobs) {
    out(std::to_string(j.id) + "  " + j.status + "  " + j.stage + "  " + printable(j.source)
        + (j.owner.empty() ? "" : "  " + printable(j.owner)) + "\n");
  }
  if (jobs->empty()) {
    out(o.all ? "no jobs\n" : "no queued or running jobs\n");
  }
  return 0;
}

}  // namespace

void add_worker(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<WorkerCli>();
  auto* cmd = app.add_subcommand(
      "worker",
      "run stages from the job queue (on any machine sharing the state store; SIGTERM/SIGINT: "
      "the running stage commits and its job is queued again)");
  cmd->add_flag("--drain", o->drain, "exit once no job is queued or running");
  cmd->add_option("--max-jobs", o->max_jobs, "exit after this many jobs");
  cmd->add_option("--poll-ms", o->poll_ms, "how often an idle worker looks at the queue")
      ->check(CLI::Range(10, 60000));
  cmd->add_option("--log-format", o->log_format, "human (default) or json: one line per event")
      ->check(CLI::IsMember({"human", "json"}));
  cmd->callback([o, &g, &action] {
    action = [o, &g] {
      return run_worker(g, *o);
    };
  });

  auto e = std::make_shared<EnqueueCli>();
  auto* enq = app.add_subcommand(
      "enqueue", "queue drop directories for the workers (a directory queued before is left)");
  enq->add_option("dirs", e->dirs, "drop directories")->required();
  enq->add_option("--promote-to",
                  e->promote_to,
                  "channel signed drops go into (\"\" for none; default: watch.promote_to)");
  enq->add_flag("--json", e->json, "machine-readable output");
  enq->callback([e, &g, &action] {
    action = [e, &g] {
      return run_enqueue(g, *e);
    };
  });

  auto q = std::make_shared<QueueCli>();
  auto* qc = app.add_subcommand("queue", "list the queued and running jobs");
  qc->add_flag("--all", q->all, "every job, finished ones too");
  qc->add_flag("--json", q->json, "machine-readable output");
  qc->callback([q, &g, &action] {
    action = [q, &g] {
      return run_queue(g, *q);
    };
  });
}

}  // namespace ecluse::cli
