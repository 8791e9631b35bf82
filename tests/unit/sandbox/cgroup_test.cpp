// sandbox::PidsCgroup: a real pids cgroup caps a fork bomb and kills everything it holds.
#include "sandbox/cgroup.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace {

using ecluse::sandbox::PidsCgroup;

constexpr int k_join_failed = 100;
constexpr int k_fork_failed = 101;

// Creates a cgroup of max_tasks, or nullopt with a visible reason to skip.
std::optional<PidsCgroup> make_or_skip(std::uint32_t max_tasks) {
  auto made = PidsCgroup::create(max_tasks);
  REQUIRE_MESSAGE(made.has_value(), (made ? std::string() : made.error().to_string()));
  if (!made->has_value()) {
    MESSAGE(
        "skipped: no writable pids cgroup here (needs root and a cgroup v1 pids or v2 "
        "hierarchy with the pids controller)");
  }
  return std::move(*made);
}

int task_count(const std::filesystem::path& dir) {
  std::ifstream in(dir / "cgroup.procs");
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    count += line.empty() ? 0 : 1;
  }
  return count;
}

// In the child: joins the cgroup the way the sandbox runner does between fork and exec.
bool join(const PidsCgroup& cgroup) {
  return ::write(cgroup.procs_fd(), "0", 1) == 1;
}

// A sleeper outlives no broken kill_all by long: SIGALRM ends it after a minute.
[[noreturn]] void sleep_forever(bool ignore_term) {
  (void)::signal(SIGTERM, ignore_term ? SIG_IGN : SIG_DFL);  // not doctest's handler
  (void)::alarm(60);
  for (;;) {
    ::pause();
  }
}

// Waits for the child for a few seconds; SIGKILLs it (so the test cannot hang) when it lives on.
int reap(pid_t child) {
  int status = 0;
  for (int i = 0; i < 500; ++i) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) {
      return status;
    }
    REQUIRE(done == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL_CHECK("the child outlived kill_all");
  REQUIRE(::kill(child, SIGKILL) == 0);
  REQUIRE(::waitpid(child, &status, 0) == child);
  return status;
}

// In the child: joins, forks 20 sleepers, exits with how many forks succeeded.
[[noreturn]] void fork_bomb(const PidsCgroup& cgroup) {
  if (!join(cgroup)) {
    ::_exit(k_join_failed);
  }
  int forked = 0;
  for (int i = 0; i < 20; ++i) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      sleep_forever(false);
    }
    if (pid > 0) {
      ++forked;
    } else if (errno != EAGAIN) {
      ::_exit(k_fork_failed);
    }
  }
  ::_exit(forked);  // the sleepers stay in the cgroup
}

}  // namespace

TEST_CASE("sandbox::PidsCgroup stops a fork bomb at pids.max and removes its directory") {
  auto cgroup = make_or_skip(8);
  if (!cgroup.has_value()) {
    return;
  }
  const std::filesystem::path dir = cgroup->dir();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    fork_bomb(*cgroup);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  const int forked = WEXITSTATUS(status);
  REQUIRE_MESSAGE(forked != k_join_failed, "the child could not join ", dir.string());
  REQUIRE_MESSAGE(forked != k_fork_failed, "fork failed with another error than EAGAIN");
  CHECK(forked >= 1);
  CHECK(forked < 8);  // the child itself is one of the 8 tasks
  CHECK(task_count(dir) == forked);
  if (const auto peak = cgroup->peak(); peak.has_value()) {
    CHECK(*peak <= 8);
  }
  cgroup->kill_all();
  CHECK(task_count(dir) == 0);
  cgroup.reset();
  std::error_code ec;
  CHECK_FALSE(std::filesystem::exists(dir, ec));
}

TEST_CASE("sandbox::PidsCgroup::kill_all kills tasks that ignore SIGTERM within its bound") {
  auto cgroup = make_or_skip(16);
  if (!cgroup.has_value()) {
    return;
  }
  std::array<int, 2> ready{};
  REQUIRE(::pipe(ready.data()) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (!join(*cgroup)) {
      ::_exit(k_join_failed);
    }
    for (int i = 0; i < 5; ++i) {
      if (::fork() == 0) {
        sleep_forever(true);
      }
    }
    (void)::write(ready[1], "r", 1);
    sleep_forever(true);
  }
  (void)::close(ready[1]);
  char byte = 0;
  CHECK(::read(ready[0], &byte, 1) == 1);
  (void)::close(ready[0]);
  const std::filesystem::path dir = cgroup->dir();
  CHECK(task_count(dir) == 6);
  // a moved cgroup keeps the directory: only the last owner removes it
  PidsCgroup owner = std::move(*cgroup);
  cgroup.reset();
  REQUIRE(std::filesystem::is_directory(dir));
  const auto start = std::chrono::steady_clock::now();
  owner.kill_all();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(6));
  CHECK(task_count(dir) == 0);
  const int status = reap(child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}
