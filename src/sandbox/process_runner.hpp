// The process-runner seam: the one way ecluse starts a process (only src/sandbox/ does). The
// system runner forks through Boost.Process; the child joins its cgroup, gets exactly the
// descriptors asked for at the numbers asked for (everything else is closed at exec), drops to
// its user, takes its rlimits and no_new_privs, then executes; the runner reads the child's pipes
// with caps, kills the whole tree at the wall-clock limit and reaps it with its resource usage.
#pragma once

#include <ecluse/core/error.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ecluse::sandbox {

struct Capture {
  int child_fd = 1;     // the number the child writes to (1, 2, or another)
  std::size_t cap = 0;  // bytes kept; the rest is read and counted, not kept
};

struct CapturedOutput {
  std::string head;         // the first cap bytes
  std::uint64_t total = 0;  // every byte the child wrote

  [[nodiscard]] bool truncated() const { return total > head.size(); }
};

struct Rlimit {
  int resource = 0;  // RLIMIT_*
  std::uint64_t value = 0;
};

struct ProcessSpec {
  std::string exe;                            // absolute path
  std::vector<std::string> args;              // after argv[0]
  std::vector<std::pair<int, int>> pass_fds;  // (descriptor here, number in the child)
  std::vector<Capture> captures;              // pipes created by the runner
  std::vector<Rlimit> rlimits;
  int cgroup_procs_fd = -1;  // the child joins this cgroup first (-1: none)
  int run_as = -1;  // when >= 0: the child drops to this uid and gid (no groups) before exec
  std::chrono::milliseconds wall{60000};
};

struct ProcessResult {
  int exit_code = -1;   // when it exited
  int term_signal = 0;  // when a signal ended it
  bool timed_out = false;
  std::chrono::nanoseconds elapsed{};
  std::uint64_t max_rss_kib = 0;         // largest resident set of the tree (wait4)
  std::vector<CapturedOutput> captured;  // in the order of spec.captures
};

struct ProcessHooks {
  // After the child started, before its output is read; a failure kills the tree and is
  // returned (the child is still reaped).
  std::function<Status(pid_t)> started;
  // At the wall-clock limit, after the child and its process group got SIGKILL.
  std::function<void()> kill_tree;
};

class ProcessRunner {
 public:
  ProcessRunner() = default;
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;
  ProcessRunner(ProcessRunner&&) = delete;
  ProcessRunner& operator=(ProcessRunner&&) = delete;
  virtual ~ProcessRunner() = default;

  // sandbox.failed when the process cannot be started or observed.
  virtual Result<ProcessResult> run(const ProcessSpec& spec, const ProcessHooks& hooks) const = 0;
};

// The real runner (Boost.Process).
const ProcessRunner& system_runner();

}  // namespace ecluse::sandbox
