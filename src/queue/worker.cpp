// `ecluse worker`: claim a job, hold its lease while its stage runs, end it by queueing the
// chain's next job; the same loop on every machine sharing the state store.
#include <ecluse/core/event_log.hpp>
#include <ecluse/core/interrupt.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/pipeline/lease.hpp>
#include <ecluse/pipeline/promote.hpp>
#include <ecluse/pipeline/stage_runner.hpp>
#include <ecluse/queue/queue.hpp>

#include <algorithm>
#include <thread>

namespace ecluse::queue {

namespace {

constexpr int k_exit_failed = 3;
constexpr std::int64_t k_max_backoff_s = 600;

std::int64_t seconds_now(const pipeline::Session& s) {
  return s.clock().now().time_since_epoch().count();
}

// What running a job's stage left: the drop's id (intake computes it) and how it ended.
struct Ran {
  Status status;
  std::string drop;
  bool skipped = false;  // intake found the drop finished from this directory already
};

bool is(const Status& st, const Reason& r) {
  return !st && st.error().reason == r.code;
}

// The promote job: under the drop's lease, a signed drop goes into the chain's channel.
Status promote_job(const pipeline::Session& s, const store::Job& j) {
  ECLUSE_TRY(lease, pipeline::LeaseHolder::claim(s, "drop:" + j.drop, false));
  ECLUSE_CHECK(pipeline::recover_journal(s, j.drop));
  ECLUSE_TRY(d, s.state().get_drop(j.drop));
  if (!d || d->state != DropState::signed_off) {
    return {};  // promoted before a crash, by a takeover, or by an engineer
  }
  ECLUSE_TRY(done, pipeline::promote_drop(s, j.drop, j.promote_to));
  (void)done;
  return {};
}

Ran run_stage_of(const pipeline::Session& s, const store::Job& j) {
  pipeline::IngestOptions o;
  o.skip_finished = true;
  o.wait_for_lease = false;
  o.max_stages = 1;
  if (j.stage == "intake") {
    auto out = pipeline::ingest(s, j.source, {}, o);
    if (out) {
      return {{}, out->drop.id, out->skipped || out->replay.has_value()};
    }
    const bool yielded = out.error().reason == reason::k_pipeline_yielded.code;
    return {fail(out.error()), yielded ? out.error().item : j.drop};
  }
  if (j.stage == "promote") {
    return {promote_job(s, j), j.drop};
  }
  auto out = pipeline::resume(s, j.drop, o);
  return {out ? Status{} : Status{fail(out.error())}, j.drop};
}

class Worker {
 public:
  Worker(const pipeline::Session& s, const WorkerOptions& o) : m_s(s), m_opts(o) {}

  Result<int> run();

 private:
  void take_over_dead();
  Status handle(const store::Job& j);
  store::JobEnd end_after(const store::Job& j,
                          const Ran& ran,
                          const std::optional<DropState>& before);
  void finished(const store::Job& j, const Ran& ran);

  void log(std::string_view event, json::Json fields) const {
    log_event(m_opts.json_log, event, fields);
  }

  std::optional<DropState> state_of(const std::string& id) const {
    auto d = m_s.state().get_drop(id);
    return d && *d ? std::optional<DropState>((*d)->state) : std::nullopt;
  }

  const pipeline::Session& m_s;
  const WorkerOptions& m_opts;
  std::uint64_t m_done = 0;
  bool m_failed = false;
};

// Jobs whose lease is live but whose worker was a process of this host that died: their lease
// is expired now (compare-and-swap on the owner), so they are taken over at once.
void Worker::take_over_dead() {
  auto open = m_s.state().open_jobs();
  if (!open) {
    return;
  }
  for (const auto& j : *open) {
    if (j.status == "running" && j.owner != pipeline::lease_owner()
        && pipeline::holder_is_dead(j.owner)) {
      if (auto expired = m_s.state().expire_job(j.id, j.owner); expired && *expired) {
        log("job.orphaned", {{"job", j.id}, {"owner", j.owner}, {"dir", j.source}});
      }
    }
  }
}

json::Json fields_of(const store::Job& j) {
  return {{"job", j.id}, {"stage", j.stage}, {"dir", j.source}, {"drop", j.drop.substr(0, 12)}};
}

// How the job ends, from what its stage did to the drop. Progress (the stage ran, or the drop
// is finished) ends it and queues the next stage. Without progress: a stop asked for queues it
// again at once, a busy drop after the retry delay, a promotion the channel refuses ends the
// chain (the drop stays signed), and any other failure is retried with a doubling delay until
// max_attempts make it failed.
store::JobEnd Worker::end_after(const store::Job& j,
                                const Ran& ran,
                                const std::optional<DropState>& before) {
  store::JobEnd end{
      j.id, j.owner, "done", "", 0, std::nullopt, ran.drop, format_utc(m_s.clock().now())};
  const auto after = state_of(ran.drop);
  const bool moved = after && (!before || *after != *before);
  json::Json out{{"state", after ? std::string(to_string(*after)) : std::string()}};
  if (!ran.status) {
    out["reason"] = ran.status.error().reason;
    out["message"] = ran.status.error().message;
  }
  auto fields = fields_of(j);
  const bool interrupted = is(ran.status, reason::k_pipeline_interrupted);
  if (interrupted) {
    log("drop.interrupted", fields);
  }
  const bool transient = !ran.status && ran.status.error().code == Errc::unavailable;
  if (ran.status || ran.skipped || moved || is(ran.status, reason::k_pipeline_yielded)
      || (j.stage == "promote" && !transient)) {
    end.next_stage = after ? next_stage(*after, j.promote_to) : std::nullopt;
    end.outcome = json::dump_line(out);
    if (!end.next_stage) {
      finished(j, ran);
    }
    return end;
  }
  end.status = "queued";
  end.outcome = json::dump_line(out);
  if (interrupted) {
    return end;
  }
  fields["reason"] = ran.status.error().reason;
  fields["message"] = ran.status.error().message;
  if (is(ran.status, reason::k_state_lease_held)) {
    end.not_before = seconds_now(m_s) + m_opts.retry.count();
    log("drop.busy", fields);
    return end;
  }
  if (j.attempts >= static_cast<std::int64_t>(m_opts.max_attempts)) {
    end.status = "failed";
    fields["attempts"] = j.attempts;
    log("drop.failed", fields);
    m_failed = true;
    return end;
  }
  const auto shift = std::min<std::int64_t>(j.attempts - 1, 16);
  const auto delay = std::min<std::int64_t>(k_max_backoff_s, m_opts.retry.count() << shift);
  end.not_before = seconds_now(m_s) + delay;
  fields["retry_in_seconds"] = delay;
  log("job.retry", fields);
  return end;
}

// The chain's end: the drop's final state (and why, and where it went) in the log.
void Worker::finished(const store::Job& j, const Ran& ran) {
  auto d = m_s.state().get_drop(ran.drop);
  json::Json fields{{"dir", j.source}, {"job", j.id}};
  if (d && *d) {
    const auto& r = **d;
    fields["drop"] = r.id.substr(0, 12);
    fields["state"] = to_string(r.state);
    if (r.rejection) {
      fields["reason"] = r.rejection->reason;
    }
    if (r.state == DropState::promoted) {
      fields["promoted_to"] = j.promote_to;
    }
  }
  if (j.stage == "promote" && !ran.status) {
    fields["promotion_refused"] = ran.status.error().reason;
    fields["message"] = ran.status.error().message;
  }
  log(ran.skipped ? "drop.already_finished" : "drop.finished", fields);
}

Status Worker::handle(const store::Job& j) {
  log("job.started", fields_of(j));
  const auto before = state_of(j.drop);
  Ran ran;
  {
    const auto ttl = std::chrono::seconds(m_s.ws().config().lease_seconds);
    auto hold = pipeline::LeaseHolder::hold_job(m_s, j, ttl);
    ran = hold ? run_stage_of(m_s, j) : Ran{fail(hold.error()), j.drop};
  }
  const auto end = end_after(j, ran, before);
  ECLUSE_TRY(kept, m_s.state().finish_job(end));
  if (!kept) {
    log("job.lost", fields_of(j));  // its lease expired and another worker took it over
  }
  ++m_done;
  return {};
}

Result<int> Worker::run() {
  log("worker.started",
      {{"owner", pipeline::lease_owner()},
       {"store", m_s.ws().config().state_connection.empty() ? "sqlite" : "postgresql"},
       {"drain", m_opts.drain}});
  for (;;) {
    if (interrupt::requested() || (m_opts.max_jobs != 0 && m_done >= m_opts.max_jobs)) {
      break;
    }
    take_over_dead();
    const auto now = seconds_now(m_s);
    const auto ttl = static_cast<std::int64_t>(m_s.ws().config().lease_seconds);
    ECLUSE_TRY(job,
               m_s.state().claim_job(
                   pipeline::lease_owner(), now, now + ttl, format_utc(m_s.clock().now())));
    if (job) {
      ECLUSE_CHECK(handle(*job));
      continue;
    }
    if (m_opts.drain) {
      ECLUSE_TRY(open, m_s.state().open_jobs());
      if (open.empty()) {
        break;
      }
    }
    std::this_thread::sleep_for(m_opts.poll);
  }
  log("worker.stopped", {{"jobs", m_done}, {"failed", m_failed}});
  return m_failed ? k_exit_failed : 0;
}

}  // namespace

std::optional<std::string> next_stage(DropState state, const std::string& promote_to) {
  switch (state) {
    case DropState::received:
      return "verify";
    case DropState::verified:
      return "unpack";
    case DropState::unpacked:
      return "diff";
    case DropState::diffed:
      return "test";
    case DropState::tested:
      return "policy";
    case DropState::approved:
      return "sign";
    case DropState::signed_off:
      return promote_to.empty() ? std::nullopt : std::optional<std::string>("promote");
    default:
      return std::nullopt;  // rejected, held for review, promoted
  }
}

Result<int> run_worker(const pipeline::Session& s, const WorkerOptions& opts) {
  Worker w(s, opts);
  return w.run();
}

json::Json to_json(const store::Job& j) {
  auto outcome = json::parse_strict(j.outcome);
  return {{"id", j.id},
          {"chain", j.chain},
          {"dir", j.source},
          {"drop", j.drop},
          {"line", j.line},
          {"stage", j.stage},
          {"promote_to", j.promote_to},
          {"status", j.status},
          {"owner", j.owner},
          {"expires_at", j.expires_at},
          {"not_before", j.not_before},
          {"attempts", j.attempts},
          {"outcome", outcome.failure == json::ParseFailure::none ? outcome.value : json::Json()},
          {"created_at", j.created_at},
          {"updated_at", j.updated_at}};
}

Result<std::optional<store::Job>> continue_reviewed(const pipeline::Session& s,
                                                    const std::string& drop) {
  ECLUSE_TRY(last, s.state().latest_job_of(drop));
  ECLUSE_TRY(d, s.state().get_drop(drop));
  if (!last || !d) {
    return std::optional<store::Job>{};
  }
  const auto stage = next_stage(d->state, last->promote_to);
  if (!stage) {
    return std::optional<store::Job>{};
  }
  return s.state().continue_chain(last->chain, *stage, format_utc(s.clock().now()));
}

Result<store::Enqueued> enqueue_drop(const pipeline::Session& s,
                                     const std::filesystem::path& dir,
                                     const std::string& promote_to) {
  const auto c = intake::open_drop(dir, s.ws().config().limits);
  store::Job first;
  first.source = c.who.source;
  first.drop = c.who.id;
  if (c.drop_json && !c.who.vendor.empty()) {
    first.line = c.who.vendor + "/" + c.who.product + "/" + c.who.channel;
  }
  first.stage = "intake";
  first.promote_to = promote_to;
  first.created_at = format_utc(s.clock().now());
  return s.state().enqueue(first);
}

}  // namespace ecluse::queue
