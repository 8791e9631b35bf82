// sandbox::seccomp_program: the compiled filter, loaded for real in a forked child.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/seccomp_filter.hpp"

namespace {

using ecluse::sandbox::refused_syscalls;
using ecluse::sandbox::seccomp_program;

// The filter's bytes, read without moving the memfd's offset (bwrap reads from 0).
std::vector<sock_filter> program_bytes(int fd) {
  std::vector<sock_filter> prog(4096);
  const ssize_t n = ::pread(fd, prog.data(), prog.size() * sizeof(sock_filter), 0);
  REQUIRE(n > 0);
  REQUIRE(static_cast<std::size_t>(n) % sizeof(sock_filter) == 0);
  prog.resize(static_cast<std::size_t>(n) / sizeof(sock_filter));
  return prog;
}

// In the child: what bwrap does before exec.
bool load(std::vector<sock_filter>& prog) {
  const sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
         && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) == 0;
}

bool refused(long rc, int err = EPERM) {
  return rc == -1 && errno == err;
}

// ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC, PER_LINUX32, single bits, near-queries, above 32 bits.
constexpr std::array<unsigned long, 9> k_bad_personas{
    0x0040000, 0x0400000, 0x8, 0x1, 0x80000000, 0x7fffffff, 0xfffffffe, 0x1'0000'0000, ~0UL};
constexpr unsigned long k_persona_query = 0xffffffff;

void* nothing(void* /*unused*/) {
  return nullptr;
}

struct Check {
  const char* name;
  bool (*holds)();
};

// Every argument is harmless should the filter let the call through (a missing mount target,
// a /dev/null descriptor that is no terminal), so a broken filter fails a check, nothing more.
const std::array k_checks{
    Check{"ptrace(PTRACE_TRACEME) is EPERM",
          [] {
            return refused(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr));
          }},
    Check{"keyctl is EPERM",
          [] {
            return refused(::syscall(SYS_keyctl, 0, 0, 0, 0, 0));
          }},
    Check{"bpf is EPERM",
          [] {
            return refused(::syscall(SYS_bpf, 0, nullptr, 0));
          }},
    Check{"perf_event_open is EPERM",
          [] {
            return refused(::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0));
          }},
    Check{"mount is EPERM",
          [] {
            return refused(
                ::syscall(SYS_mount, "none", "/nonexistent-ecluse", "tmpfs", 0, nullptr));
          }},
    Check{"init_module is EPERM",
          [] {
            return refused(::syscall(SYS_init_module, nullptr, 0, ""));
          }},
    Check{"unshare(CLONE_NEWUSER) is EPERM",
          [] {
            return refused(::unshare(CLONE_NEWUSER));
          }},
    Check{"clone(CLONE_NEWUSER) is EPERM",
          [] {
            const long rc = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
            if (rc == 0) {
              ::_exit(0);  // the filter let it through: the new child leaves at once
            }
            return refused(rc);
          }},
    Check{"clone3 is ENOSYS",
          [] {
            return refused(::syscall(SYS_clone3, nullptr, 0), ENOSYS);
          }},
    Check{"ioctl TIOCSTI is EPERM",
          [] {
            const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
            char c = 'x';
            const bool low = refused(::ioctl(fd, TIOCSTI, &c));
            // the request is an int: the kernel ignores the upper half, so must the filter
            const unsigned long high = 0xffffffff00000000UL | TIOCSTI;
            const bool masked = refused(::syscall(SYS_ioctl, fd, high, &c));
            return fd >= 0 && low && masked && ::close(fd) == 0;
          }},
    Check{"personality other than 0 and the query is EPERM",
          [] {
            return std::all_of(k_bad_personas.begin(), k_bad_personas.end(), [](auto persona) {
              return refused(::syscall(SYS_personality, persona));
            });
          }},
    Check{"personality(0xffffffff) queries and personality(0) works",
          [] {
            return ::personality(k_persona_query) >= 0 && ::personality(0) >= 0;
          }},
    Check{"getpid works",
          [] {
            return ::getpid() > 0 && ::syscall(SYS_getpid) == ::getpid();
          }},
    Check{"open and write work",
          [] {
            const int fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
            return fd >= 0 && ::write(fd, "x", 1) == 1 && ::close(fd) == 0;
          }},
    Check{"fork works (clone without CLONE_NEWUSER)",
          [] {
            const pid_t pid = ::fork();
            if (pid == 0) {
              ::_exit(7);
            }
            int status = 0;
            return pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)
                   && WEXITSTATUS(status) == 7;
          }},
    Check{"pthread_create works (clone3 falls back to clone)",
          [] {
            pthread_t thread{};
            return ::pthread_create(&thread, nullptr, nothing, nullptr) == 0
                   && ::pthread_join(thread, nullptr) == 0;
          }},
};

constexpr int k_load_failed = 100;

// Forks a child that loads the filter and runs body; returns its wait status.
template <class Body>
int in_filtered_child(Body body) {
  auto fd = seccomp_program();
  REQUIRE_MESSAGE(fd.has_value(), (fd ? std::string() : fd.error().to_string()));
  auto prog = program_bytes(fd->get());
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::_exit(load(prog) ? body() : k_load_failed);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("sandbox::seccomp_program refuses ptrace, mount, modules, keyctl, bpf and perf") {
  const int status = in_filtered_child([] {
    for (std::size_t i = 0; i < k_checks.size(); ++i) {
      if (!k_checks.at(i).holds()) {
        return static_cast<int>(i) + 1;
      }
    }
    return 0;
  });
  REQUIRE_MESSAGE(WIFEXITED(status), "the filtered child died of signal ", WTERMSIG(status));
  const int code = WEXITSTATUS(status);
  REQUIRE_MESSAGE(code != k_load_failed, "the child could not load the filter");
  const bool known = code >= 0 && code <= static_cast<int>(k_checks.size());
  const char* failed =
      code > 0 && known ? k_checks.at(static_cast<std::size_t>(code) - 1).name : "an unknown check";
  CHECK_MESSAGE(code == 0, "failed in the filtered child: ", std::string(failed));
}

#if defined(__x86_64__)
TEST_CASE("sandbox::seccomp_program kills the process on an i386 or x32 system call") {
  SUBCASE("i386 getpid through int 0x80") {
    const int status = in_filtered_child([] {
      long ret = 20;  // __NR_getpid on i386
      asm volatile("int $0x80" : "+a"(ret) : : "memory");
      return 0;
    });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGSYS);
  }
  SUBCASE("x32 getpid") {
    constexpr long k_x32_bit = 0x40000000;
    const int status = in_filtered_child([] {
      (void)::syscall(k_x32_bit | SYS_getpid);
      return 0;
    });
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGSYS);
  }
}
#endif

TEST_CASE("sandbox::seccomp_program hands bwrap a sealed memfd at offset 0") {
  auto fd = seccomp_program();
  REQUIRE_MESSAGE(fd.has_value(), (fd ? std::string() : fd.error().to_string()));
  CHECK(::lseek(fd->get(), 0, SEEK_CUR) == 0);
  const int seals = ::fcntl(fd->get(), F_GET_SEALS);
  constexpr int k_all = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL;
  CHECK(seals == k_all);
  CHECK(::write(fd->get(), "x", 1) == -1);
  CHECK(::fcntl(fd->get(), F_GETFD) == FD_CLOEXEC);
  CHECK_FALSE(program_bytes(fd->get()).empty());
}

TEST_CASE("sandbox::refused_syscalls names the refused calls") {
  const auto names = refused_syscalls();
  for (const std::string_view name :
       {"ptrace", "mount", "keyctl", "bpf", "perf_event_open", "init_module", "clone3"}) {
    CHECK_MESSAGE(std::find(names.begin(), names.end(), name) != names.end(), name);
  }
  CHECK(std::find(names.begin(), names.end(), "getpid") == names.end());
}

TEST_CASE("sandbox::seccomp_available accepts this kernel") {
  const auto status = ecluse::sandbox::seccomp_available();
  CHECK_MESSAGE(status.has_value(), (status ? std::string() : status.error().to_string()));
}
