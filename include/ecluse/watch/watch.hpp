// Trigger one: `ecluse watch`. A single-threaded poll(2) loop over inotify (staging/incoming/
// and each drop directory in it), a one-second timerfd and a signalfd. A drop directory is
// ready when its READY marker appears, or (rule "quiet") when nothing in it changed for N
// seconds. The watcher only enqueues: each ready drop becomes a chain of jobs in the state
// store's queue (include/ecluse/queue/queue.hpp), and `ecluse worker` processes run them: the
// watcher starts `jobs` local ones (0 with --enqueue-only, when the workers run on other
// machines), which write their lines into its log. SIGTERM or SIGINT: nothing more is queued,
// the workers get SIGTERM and stop at their next commit point (their job queued again), and
// the watcher exits 0 once they have; on restart the queue resumes. A second signal kills the
// workers at once. Optionally it also runs `ecluse reverify --all` on a schedule.
//
// Reason codes: watch.failed (cannot watch the directory or start a worker).
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace ecluse::watch {

enum class ReadyRule { marker, quiet };

struct WatchOptions {
  std::filesystem::path exe;        // the ecluse binary the workers run
  std::filesystem::path workspace;  // passed to the workers as --workspace
  std::filesystem::path incoming;   // the directory watched
  unsigned jobs = 1;                // local `ecluse worker` processes (0: enqueue only)
  ReadyRule ready = ReadyRule::marker;
  std::chrono::seconds quiet{30};   // for ReadyRule::quiet
  std::string promote_to;           // channel signed drops go into; empty: none
  std::chrono::seconds retry{15};   // a drop whose lease another process holds: retried after
  std::chrono::seconds rescan{30};  // a full rescan, whatever inotify said
  std::optional<std::chrono::seconds> reverify_every;  // `ecluse reverify --all` on a schedule
  bool json_log = false;                               // one JSON object per line
  bool once = false;  // enqueue what is ready now, let the workers drain the queue, exit
};

// Watches until stopped (or, with once, until the queue is drained). Returns the exit code: 0
// after a clean stop (or once: every job finished), 3 when a job failed or a worker died with
// once (the drop resumes on the next run), or watch.failed when it cannot watch at all.
Result<int> run(const pipeline::Session& s, const WatchOptions& opts);

// "24h", "90m", "30s", "2d" or a number of seconds; nullopt when malformed or zero.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace ecluse::watch
