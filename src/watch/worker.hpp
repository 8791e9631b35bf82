// Private to src/watch: worker processes (`ecluse ingest …`, `ecluse reverify …`) started
// through Boost.Process, observed through a pidfd the poll loop waits on, reaped with waitpid.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/core/json.hpp>

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace ecluse::watch::detail {

struct Worker {
  pid_t pid = -1;
  fs::UniqueFd pidfd;            // readable once the process has exited
  std::filesystem::path output;  // its stdout (JSON), then stderr in output + ".err"
};

// Starts exe with args, stdin from /dev/null, stdout and stderr into files beside `output`
// (an empty output: the watcher's own stdout and stderr, for `ecluse worker`'s log lines).
// watch.failed when it cannot be started.
Result<Worker> spawn(const std::filesystem::path& exe,
                     const std::vector<std::string>& args,
                     const std::filesystem::path& output);

struct Finished {
  int exit_code = -1;      // when it exited
  int term_signal = 0;     // when a signal ended it
  json::Json output;       // its stdout parsed (null when not JSON)
  std::string error_line;  // the last line of its stderr
};

// Reaps an exited worker (waitpid) and reads what it wrote; removes its files.
Finished reap(Worker& w);

}  // namespace ecluse::watch::detail
