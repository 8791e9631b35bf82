// A pids cgroup for one sandbox run: caps the number of tasks (a fork bomb stops at the cap)
// and lets the runner kill every process of the run, wherever it went in the tree. Uses the
// cgroup v2 unified hierarchy when it has the pids controller, else the cgroup v1 pids
// hierarchy; found through /proc/self/mountinfo.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/fs.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>

namespace ecluse::sandbox {

class PidsCgroup {
 public:
  // Creates a fresh cgroup (ecluse-<pid>-<counter>) under this process's own cgroup of the
  // pids hierarchy with pids.max = max_tasks. nullopt when no pids hierarchy is writable here
  // (the caller decides whether that is acceptable); sandbox.failed for other errors.
  static Result<std::optional<PidsCgroup>> create(std::uint32_t max_tasks);

  PidsCgroup(PidsCgroup&&) noexcept;
  PidsCgroup& operator=(PidsCgroup&&) noexcept;
  PidsCgroup(const PidsCgroup&) = delete;
  PidsCgroup& operator=(const PidsCgroup&) = delete;
  ~PidsCgroup();  // kill_all(), then removes the directory

  // cgroup.procs opened for writing: a child writes "0" to it between fork and exec (async-
  // signal-safe) to join the cgroup before anything else runs.
  [[nodiscard]] int procs_fd() const { return m_procs.get(); }

  // SIGKILLs every task (cgroup.kill on v2 when present, else reading cgroup.procs until it is
  // empty, at most a few seconds).
  void kill_all() const;

  // Tasks the cgroup held at most (pids.peak), when the kernel reports it.
  [[nodiscard]] std::optional<std::uint64_t> peak() const;

  // The cgroup's directory (for messages and tests).
  [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

 private:
  PidsCgroup(std::filesystem::path dir, fs::UniqueFd procs, bool v2)
      : m_dir(std::move(dir)), m_procs(std::move(procs)), m_v2(v2) {}

  std::filesystem::path m_dir;
  fs::UniqueFd m_procs;
  bool m_v2 = false;
};

}  // namespace ecluse::sandbox
