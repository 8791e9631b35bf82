// Trigger one: `ecluse watch`. A single-threaded poll(2) loop over inotify (staging/incoming/
// and each drop directory in it), a one-second timerfd and a signalfd. A drop directory is
// ready when its READY marker appears, or (rule "quiet") when nothing in it changed for N
// seconds. Each ready drop runs in a worker process (`ecluse ingest DIR --skip-finished
// [--promote-to C]`), at most `jobs` at once; the worker's lease in the state store keeps two
// watchers (or a watcher and a CLI ingest) from working on one drop. SIGTERM or SIGINT: no new
// worker starts, the running ones get SIGTERM and stop at their next commit point, and the
// watcher exits 0 once they have; on restart the interrupted drops resume. A second signal
// kills the workers at once. Optionally it also runs `ecluse reverify --all` on a schedule.
//
// Reason codes: watch.failed (cannot watch the directory or start a worker).
#pragma once

#include <ecluse/core/error.hpp>
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
  unsigned jobs = 1;                // drops processed at once
  ReadyRule ready = ReadyRule::marker;
  std::chrono::seconds quiet{30};   // for ReadyRule::quiet
  std::string promote_to;           // channel signed drops go into; empty: none
  std::chrono::seconds retry{15};   // a drop whose lease another process holds: retried after
  std::chrono::seconds rescan{30};  // a full rescan, whatever inotify said
  std::optional<std::chrono::seconds> reverify_every;  // `ecluse reverify --all` on a schedule
  bool json_log = false;                               // one JSON object per line
  bool once = false;  // process what is ready now, wait for the workers, exit
};

// Watches until stopped (or, with once, until what was ready is done). Returns the exit code:
// 0 after a clean stop (or once: every drop finished), 3 when a worker failed or died with once
// (the drop resumes on the next run), or watch.failed when it cannot watch at all.
Result<int> run(const WatchOptions& opts);

// "24h", "90m", "30s", "2d" or a number of seconds; nullopt when malformed or zero.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

}  // namespace ecluse::watch
