// The job queue's producers and consumers. A drop directory is enqueued as a chain of jobs in
// the state store, one job per stage (intake, verify, unpack, diff, test, policy, sign,
// promote); `ecluse worker` processes claim jobs (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite:
// its write transaction), renew their lease while they run the stage, and finish each job by
// queueing the chain's next one in the same transaction. A worker that dies leaves its job's
// lease to expire (at once when the holder was a process of the same host): another worker
// takes it over and resumes the drop from its last committed stage, which the state store
// guarantees is never run twice. Drops of one line run in the order they were enqueued.
//
// Reason codes: queue.bad_option, state.*, store.*, and those of the stages.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/store/state_store.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ecluse::queue {

// Enqueues the drop in dir (its id and line read from its drop.json as intake will read it).
Result<store::Enqueued> enqueue_drop(const pipeline::Session& s,
                                     const std::filesystem::path& dir,
                                     const std::string& promote_to);

// The stage that follows a drop in `state`: nullopt when its chain is finished (rejected, held
// for review, promoted, or signed with nowhere to promote to).
std::optional<std::string> next_stage(DropState state, const std::string& promote_to);

// After a review: queues the next stage of the drop's job chain (sign once approved, promote
// once signed, when the chain has a channel), so that the workers carry a drop that waited
// for engineers on to its channel. nullopt when the drop never went through the queue, its
// chain has nowhere to go or already continues.
Result<std::optional<store::Job>> continue_reviewed(const pipeline::Session& s,
                                                    const std::string& drop);

struct WorkerOptions {
  bool drain = false;                   // exit once no job is queued or running
  std::uint64_t max_jobs = 0;           // exit after this many jobs (0: no limit)
  bool json_log = false;                // one JSON object per log line
  std::chrono::milliseconds poll{500};  // how often an idle worker looks at the queue
  std::uint64_t max_attempts = 5;       // a job that failed this often is failed for good
  std::chrono::seconds retry{15};       // first retry delay (doubling, at most 10 minutes)
};

// Runs jobs until stopped (SIGTERM/SIGINT: the running stage commits, the job is queued again,
// exit 0) or, with drain, until the queue is empty. Returns the exit code: 0, or 3 when a job
// of this worker failed for good.
Result<int> run_worker(const pipeline::Session& s, const WorkerOptions& opts);

// A job's line for `ecluse queue` and --json.
json::Json to_json(const store::Job& j);

}  // namespace ecluse::queue
