// The system process runner: Boost.Process for fork and exec, poll(2) for the capped pipes,
// wait4(2) for the exit status and the tree's peak memory.
#include "process_runner.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>

namespace ecluse::sandbox {

namespace {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

constexpr std::size_t k_max_fds = 16;
constexpr auto k_drain_grace = std::chrono::seconds(2);

// What the child does between fork and exec, prepared before the fork: only async-signal-safe
// calls happen in the child.
struct ChildPlan {
  std::array<int, k_max_fds> from{};
  std::array<int, k_max_fds> to{};
  std::size_t count = 0;
  int highest = 2;
  const std::vector<Rlimit>* rlimits = nullptr;
  int cgroup_procs_fd = -1;
  int run_as = -1;
};

[[noreturn]] void child_fail(const char* what) {
  const auto len = __builtin_strlen(what);
  if (::write(2, what, len) < 0) {
    ::_exit(125);  // not even stderr: the exit status alone says it
  }
  ::_exit(126);
}

// Two steps, so that no target number overwrites a descriptor still to be moved; everything
// above the highest target is closed at exec.
void place_descriptors(const ChildPlan& plan) {
  // Indexes stay below plan.count <= k_max_fds (plan_for checks); no .at() between fork and exec.
  // NOLINTBEGIN(cppcoreguidelines-pro-bounds-constant-array-index)
  std::array<int, k_max_fds> moved{};
  for (std::size_t i = 0; i < plan.count; ++i) {
    moved[i] = ::fcntl(plan.from[i], F_DUPFD_CLOEXEC, 20);
    if (moved[i] < 0) {
      child_fail("ecluse: cannot move a descriptor\n");
    }
  }
  for (std::size_t i = 0; i < plan.count; ++i) {
    if (::dup2(moved[i], plan.to[i]) < 0) {
      child_fail("ecluse: cannot place a descriptor\n");
    }
  }
  // NOLINTEND(cppcoreguidelines-pro-bounds-constant-array-index)
  if (::close_range(static_cast<unsigned>(plan.highest) + 1U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    child_fail("ecluse: cannot close the other descriptors\n");
  }
}

void child_setup(const ChildPlan& plan) {
  if (plan.cgroup_procs_fd >= 0 && ::write(plan.cgroup_procs_fd, "0", 1) != 1) {
    child_fail("ecluse: cannot join the sandbox cgroup\n");
  }
  place_descriptors(plan);
  if (plan.run_as >= 0) {
    const auto id = static_cast<uid_t>(plan.run_as);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(id, id, id) != 0
        || ::setresuid(id, id, id) != 0) {
      child_fail("ecluse: cannot drop to the sandbox user\n");
    }
  }
  for (const auto& l : *plan.rlimits) {
    const rlimit r{l.value, l.value};
    if (::setrlimit(static_cast<__rlimit_resource>(l.resource), &r) != 0) {
      child_fail("ecluse: cannot set a resource limit\n");
    }
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    child_fail("ecluse: cannot set no_new_privs\n");
  }
  ::setpgid(0, 0);
}

struct Pipes {
  std::vector<fs::UniqueFd> read;   // ours
  std::vector<fs::UniqueFd> write;  // the child's, closed here once it started
};

Result<Pipes> make_pipes(const ProcessSpec& spec) {
  Pipes p;
  for (std::size_t i = 0; i < spec.captures.size(); ++i) {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
      return fail(reason::k_sandbox_failed, fs::errno_message("cannot create", "a pipe", errno));
    }
    p.read.emplace_back(fds[0]);
    p.write.emplace_back(fds[1]);
  }
  return p;
}

Result<ChildPlan> plan_for(const ProcessSpec& spec, const Pipes& pipes) {
  ChildPlan plan;
  plan.rlimits = &spec.rlimits;
  plan.cgroup_procs_fd = spec.cgroup_procs_fd;
  plan.run_as = spec.run_as;
  auto put = [&](int from, int to) {
    plan.from.at(plan.count) = from;
    plan.to.at(plan.count) = to;
    plan.highest = std::max(plan.highest, to);
    ++plan.count;
  };
  if (spec.pass_fds.size() + spec.captures.size() > k_max_fds) {
    return fail(reason::k_internal, "too many descriptors for a sandboxed process");
  }
  for (const auto& [from, to] : spec.pass_fds) {
    put(from, to);
  }
  for (std::size_t i = 0; i < spec.captures.size(); ++i) {
    put(pipes.write[i].get(), spec.captures[i].child_fd);
  }
  return plan;
}

void kill_tree(pid_t pid, const ProcessHooks& hooks) {
  ::kill(pid, SIGKILL);
  ::kill(-pid, SIGKILL);
  if (hooks.kill_tree) {
    hooks.kill_tree();
  }
}

// Reads what one ready pipe holds into its capture (keeping at most cap bytes, counting all);
// closes it at end of file.
void read_one(fs::UniqueFd& fd, std::size_t cap, CapturedOutput& o, std::array<char, 65536>& buf) {
  const ssize_t got = ::read(fd.get(), buf.data(), buf.size());
  if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
    return;
  }
  if (got <= 0) {
    fd = fs::UniqueFd();
    return;
  }
  const auto room = cap - std::min(cap, o.head.size());
  o.head.append(buf.data(), std::min(static_cast<std::size_t>(got), room));
  o.total += static_cast<std::uint64_t>(got);
}

// The pipes still open, as poll entries; index says which capture each one is.
std::vector<pollfd> open_pipes(const Pipes& pipes, std::vector<std::size_t>& index) {
  std::vector<pollfd> polls;
  for (std::size_t i = 0; i < pipes.read.size(); ++i) {
    if (pipes.read[i].valid()) {
      polls.push_back({pipes.read[i].get(), POLLIN, 0});
      index.push_back(i);
    }
  }
  return polls;
}

// Reads every pipe until end of file or the deadline (then kills the tree, and reads on for a
// short grace). Returns whether the deadline passed. The deadline is checked every round, not
// only when poll() times out: output that never stops must not postpone the kill.
bool read_pipes(pid_t pid,
                const ProcessSpec& spec,
                Pipes& pipes,
                const ProcessHooks& hooks,
                std::vector<CapturedOutput>& out) {
  auto stop_at = Clock::now() + spec.wall;
  bool timed_out = false;
  std::array<char, 65536> buf{};
  for (;;) {
    std::vector<std::size_t> index;
    auto polls = open_pipes(pipes, index);
    if (polls.empty()) {
      return timed_out;
    }
    if (Clock::now() >= stop_at) {
      if (timed_out) {
        return true;  // the grace passed: stop reading, whatever still holds the pipes
      }
      timed_out = true;
      kill_tree(pid, hooks);
      stop_at = Clock::now() + k_drain_grace;
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stop_at - Clock::now());
    if (::poll(polls.data(), polls.size(), static_cast<int>(std::max<long>(left.count(), 0)))
        <= 0) {
      continue;  // EINTR, or the deadline check above acts
    }
    for (std::size_t k = 0; k < polls.size(); ++k) {
      if ((polls[k].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const auto i = index[k];
        read_one(pipes.read[i], spec.captures[i].cap, out[i], buf);
      }
    }
  }
}

Status reap(pid_t pid, ProcessResult& r) {
  int status = 0;
  rusage ru{};
  pid_t w = -1;
  do {
    w = ::wait4(pid, &status, 0, &ru);
  } while (w < 0 && errno == EINTR);
  if (w == pid) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-union-access): the wait macros
    if (WIFEXITED(status)) {
      r.exit_code = WEXITSTATUS(status);
      // NOLINTNEXTLINE(cppcoreguidelines-pro-type-union-access)
    } else if (WIFSIGNALED(status)) {
      r.term_signal = WTERMSIG(status);
    }
    r.max_rss_kib = static_cast<std::uint64_t>(ru.ru_maxrss);
    return {};
  }
  return fail(reason::k_sandbox_failed,
              fs::errno_message("cannot reap", "process " + std::to_string(pid), errno));
}

class SystemRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> run(const ProcessSpec& spec, const ProcessHooks& hooks) const override;
};

Result<ProcessResult> SystemRunner::run(const ProcessSpec& spec, const ProcessHooks& hooks) const {
  ECLUSE_TRY(pipes, make_pipes(spec));
  ECLUSE_TRY(plan, plan_for(spec, pipes));
  ProcessResult r;
  r.captured.resize(spec.captures.size());
  const auto start = Clock::now();
  std::error_code ec;
  bp::child child(
      bp::exe = spec.exe,
      bp::args = spec.args,
      bp::std_in < bp::null,
      bp::extend::on_exec_setup = [&plan](auto& /*exec*/) { child_setup(plan); },
      ec);
  if (ec) {
    return fail(
        reason::k_sandbox_failed, "cannot start " + spec.exe + ": " + ec.message(), spec.exe);
  }
  const auto pid = static_cast<pid_t>(child.id());
  child.detach();  // reaped below with wait4, for the resource usage
  pipes.write.clear();
  Status started = hooks.started ? hooks.started(pid) : Status{};
  if (!started) {
    kill_tree(pid, hooks);
  }
  r.timed_out = read_pipes(pid, spec, pipes, hooks, r.captured);
  ECLUSE_CHECK(reap(pid, r));
  r.elapsed = Clock::now() - start;
  if (!started) {
    auto e = started.error();
    for (std::size_t i = 0; i < spec.captures.size(); ++i) {
      if (spec.captures[i].child_fd == 2 && !r.captured[i].head.empty()) {
        e.message += " (it said: " + printable(r.captured[i].head.substr(0, 512)) + ")";
      }
    }
    return fail(std::move(e));
  }
  return r;
}

}  // namespace

const ProcessRunner& system_runner() {
  static const SystemRunner k_runner;
  return k_runner;
}

}  // namespace ecluse::sandbox
