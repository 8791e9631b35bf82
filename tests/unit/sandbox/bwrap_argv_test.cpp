// The bwrap argument vector, asserted exactly: it is the sandbox's whole security policy.
#include "sandbox/bwrap_argv.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using ecluse::sandbox::ArgvInputs;
using ecluse::sandbox::bwrap_argv;
using ecluse::sandbox::Profile;

namespace {

Profile small_profile() {
  Profile p;
  p.name = "t";
  p.runtime = {"/usr", "/lib"};
  p.etc = {"/etc/ld.so.cache"};
  p.env = {{"HOME", "/work"}, {"PATH", "/usr/bin:/bin"}};
  p.limits.work_mib = 8;
  return p;
}

std::vector<std::string> expected_prefix() {
  // clang-format off
  return {"--unshare-all", "--unshare-user", "--disable-userns", "--assert-userns-disabled",
          "--die-with-parent", "--new-session", "--cap-drop", "ALL",
          "--uid", "65534", "--gid", "65534",
          "--hostname", "ecluse-sandbox",
          "--ro-bind-try", "/usr", "/usr",
          "--ro-bind-try", "/lib", "/lib",
          "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
          "--ro-bind-data", "8", "/etc/hosts",
          "--ro-bind-data", "9", "/etc/resolv.conf",
          "--ro-bind-data", "10", "/etc/nsswitch.conf",
          "--ro-bind-data", "11", "/etc/passwd",
          "--ro-bind-data", "12", "/etc/group",
          "--ro-bind-fd", "7", "/drop",
          "--proc", "/proc", "--dev", "/dev",
          "--size", "8388608", "--tmpfs", "/dev/shm",
          "--perms", "0700", "--size", "8388608", "--tmpfs", "/work",
          "--perms", "0700", "--size", "8388608", "--tmpfs", "/out",
          "--symlink", "/work", "/tmp",
          "--remount-ro", "/",
          "--clearenv",
          "--setenv", "HOME", "/work",
          "--setenv", "PATH", "/usr/bin:/bin"};
  // clang-format on
}

std::vector<std::string> expected_suffix(const std::vector<std::string>& command) {
  std::vector<std::string> v{"--chdir",
                             "/work",
                             "--seccomp",
                             "3",
                             "--info-fd",
                             "4",
                             "--block-fd",
                             "5",
                             "--",
                             "/bin/sh",
                             "-c",
                             std::string(ecluse::sandbox::wrapper_script()),
                             "ecluse-test"};
  v.insert(v.end(), command.begin(), command.end());
  return v;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("sandbox::bwrap_argv is exactly the deny-by-default policy, command after --") {
  const auto p = small_profile();
  const std::vector<std::string> cmd{"/drop/payload/bin/x", "--bind", "/", "/"};
  const ArgvInputs in{p, "/usr/lib/faketime.so", 0, cmd};
  CHECK(bwrap_argv(in) == concat(expected_prefix(), expected_suffix(cmd)));
}

TEST_CASE("sandbox::bwrap_argv shifts the clock through libfaketime only in the shifted run") {
  const auto p = small_profile();
  const std::vector<std::string> cmd{"/usr/bin/date"};
  const ArgvInputs in{p, "/usr/lib/faketime.so", 400, cmd};
  auto want = expected_prefix();
  for (const std::string s : {"--setenv",
                              "LD_PRELOAD",
                              "/usr/lib/faketime.so",
                              "--setenv",
                              "FAKETIME",
                              "+400d",
                              "--setenv",
                              "FAKETIME_DONT_FAKE_MONOTONIC",
                              "1",
                              "--setenv",
                              "FAKETIME_DONT_RESET",
                              "1"}) {
    want.push_back(s);
  }
  CHECK(bwrap_argv(in) == concat(want, expected_suffix(cmd)));
}

TEST_CASE("sandbox::bwrap_argv: an option-looking command word stays after the separator") {
  const auto p = small_profile();
  const std::vector<std::string> cmd{"/bin/true", "--unshare-none", "--share-net"};
  const auto argv = bwrap_argv({p, "/usr/lib/f.so", 0, cmd});
  const auto sep = std::find(argv.begin(), argv.end(), "--");
  REQUIRE(sep != argv.end());
  CHECK(std::find(argv.begin(), sep, "--share-net") == sep);
  CHECK(std::find(argv.begin(), sep, "--unshare-none") == sep);
  CHECK(std::count(argv.begin(), argv.end(), "--") == 1);
}

TEST_CASE("sandbox::wrapper_script closes the listing fd for the command and keeps its status") {
  const std::string w(ecluse::sandbox::wrapper_script());
  CHECK(w.find("\"$@\" 6>&-") == 0);
  CHECK(w.find("exit $status") != std::string::npos);
  CHECK(w.find("-xdev") != std::string::npos);
}
