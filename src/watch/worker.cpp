// Starting and reaping worker processes.
#include "worker.hpp"

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace ecluse::watch::detail {

namespace bp = boost::process;

namespace {

constexpr std::uint64_t k_max_output = 16U << 20U;

// The watcher blocks the signals its signalfd reads; a worker starts with none blocked, so
// that its own SIGTERM handling works.
struct UnblockSignals : bp::extend::handler {
  template <class Executor>
  void on_exec_setup(Executor& /*exec*/) const {
    sigset_t none;
    sigemptyset(&none);
    (void)::sigprocmask(SIG_SETMASK, &none, nullptr);
  }
};

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\n");
  if (end == std::string::npos) {
    return {};
  }
  const auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1,
                     end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

Result<Worker> spawn(const std::filesystem::path& exe,
                     const std::vector<std::string>& args,
                     const std::filesystem::path& output) {
  Worker w;
  w.output = output;
  const auto err = std::filesystem::path(output.string() + ".err");
  try {
    auto c = output.empty() ? bp::child(
                 bp::exe = exe.string(), bp::args = args, bp::std_in < bp::null, UnblockSignals{})
                            : bp::child(bp::exe = exe.string(),
                                        bp::args = args,
                                        bp::std_in<bp::null, bp::std_out> output.string(),
                                        bp::std_err > err.string(),
                                        UnblockSignals{});
    w.pid = c.id();
    c.detach();  // reaped by reap(), not by Boost
  } catch (const std::exception& e) {
    return fail(reason::k_watch_failed,
                "cannot start worker " + exe.string() + ": " + e.what(),
                exe.string());
  }
  w.pidfd = fs::UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, w.pid, 0)));
  if (!w.pidfd.valid()) {
    const int e = errno;
    (void)::kill(w.pid, SIGKILL);
    (void)::waitpid(w.pid, nullptr, 0);
    return fail(reason::k_watch_failed,
                fs::errno_message("cannot observe worker (pidfd_open)", exe, e),
                exe.string());
  }
  return w;
}

Finished reap(Worker& w) {
  Finished f;
  int status = 0;
  pid_t got = -1;
  do {
    got = ::waitpid(w.pid, &status, 0);
  } while (got < 0 && errno == EINTR);
  if (got == w.pid) {
    if (WIFEXITED(status)) {
      f.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      f.term_signal = WTERMSIG(status);
    }
  }
  w.pidfd = fs::UniqueFd();
  if (w.output.empty()) {
    return f;
  }
  const auto err = std::filesystem::path(w.output.string() + ".err");
  if (auto text = fs::read_file_bounded(
          w.output, k_max_output, reason::k_watch_failed, reason::k_watch_failed)) {
    const auto doc = json::parse_strict(*text);
    if (doc.failure == json::ParseFailure::none) {
      f.output = doc.value;
    }
  }
  if (auto text = fs::read_file_bounded(
          err, k_max_output, reason::k_watch_failed, reason::k_watch_failed)) {
    f.error_line = last_line(*text);
  }
  std::error_code ec;
  std::filesystem::remove(w.output, ec);
  std::filesystem::remove(err, ec);
  w.pidfd = fs::UniqueFd();
  return f;
}

}  // namespace ecluse::watch::detail
