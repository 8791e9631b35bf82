// Building the bwrap argument vector.
// Invariant: every option comes from this file's fixed text or a validated profile field; a
// vendor-controlled string never reaches the vector, and the test command always follows "--",
// so nothing it holds is read as an option (CVE-2024-32462).
#include "bwrap_argv.hpp"

namespace ecluse::sandbox {

namespace {

using Args = std::vector<std::string>;

void add(Args& a, std::initializer_list<std::string> items) {
  a.insert(a.end(), items.begin(), items.end());
}

std::string mib_bytes(std::uint64_t mib) {
  return std::to_string(mib * 1024U * 1024U);
}

// Namespaces, privileges and the session: nothing of the host is shared.
void isolation(Args& a) {
  add(a, {"--unshare-all", "--unshare-user", "--disable-userns", "--assert-userns-disabled"});
  add(a, {"--die-with-parent", "--new-session", "--cap-drop", "ALL"});
  add(a, {"--uid", std::to_string(k_sandbox_uid), "--gid", std::to_string(k_sandbox_uid)});
  add(a, {"--hostname", "ecluse-sandbox"});
}

// The file system: a read-only runtime and drop (by descriptor: bwrap runs unprivileged and
// need not reach the workspace by path), generated /etc files (copied from descriptors),
// private /proc and /dev, size-capped scratch space, then the root made read-only.
void file_system(Args& a, const ArgvInputs& in) {
  for (const auto& dir : in.profile.runtime) {
    add(a, {"--ro-bind-try", dir, dir});
  }
  for (const auto& file : in.profile.etc) {
    add(a, {"--ro-bind-try", file, file});
  }
  int fd = k_fd_etc;
  for (const auto& [name, content] : generated_etc()) {
    add(a, {"--ro-bind-data", std::to_string(fd++), "/etc/" + name});
  }
  add(a, {"--ro-bind-fd", std::to_string(k_fd_drop), "/drop"});
  add(a, {"--proc", "/proc", "--dev", "/dev"});
  const auto scratch = mib_bytes(in.profile.limits.work_mib);
  add(a, {"--size", scratch, "--tmpfs", "/dev/shm"});  // --dev's own would be half of RAM
  add(a, {"--perms", "0700", "--size", scratch, "--tmpfs", "/work"});
  add(a, {"--perms", "0700", "--size", scratch, "--tmpfs", "/out"});
  add(a, {"--symlink", "/work", "/tmp"});
  add(a, {"--remount-ro", "/"});
}

// The environment: the profile's variables only; the shifted clock through libfaketime.
void environment(Args& a, const ArgvInputs& in) {
  add(a, {"--clearenv"});
  for (const auto& [name, value] : in.profile.env) {
    add(a, {"--setenv", name, value});
  }
  if (in.shift_days != 0) {
    add(a, {"--setenv", "LD_PRELOAD", in.faketime_lib});
    add(a, {"--setenv", "FAKETIME", "+" + std::to_string(in.shift_days) + "d"});
    add(a, {"--setenv", "FAKETIME_DONT_FAKE_MONOTONIC", "1"});
    add(a, {"--setenv", "FAKETIME_DONT_RESET", "1"});
  }
  add(a, {"--chdir", "/work"});
}

}  // namespace

std::string_view wrapper_script() {
  // Runs the command with the listing fd closed, then lists what is left in /work and /out
  // (NUL-separated "digest  path" records) and exits with the command's status.
  return R"("$@" 6>&-
status=$?
find /work /out -xdev -type f -exec sha256sum -z -- {} + >&6 2>/dev/null
exit $status)";
}

std::vector<std::pair<std::string, std::string>> generated_etc() {
  return {
      {"hosts", "127.0.0.1 localhost ecluse-sandbox\n::1 localhost ip6-localhost\n"},
      {"resolv.conf", "nameserver 127.0.0.53\noptions attempts:1 timeout:1\n"},
      {"nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"},
      {"passwd", "root:x:0:0:root:/work:/bin/sh\nnobody:x:65534:65534:nobody:/work:/bin/sh\n"},
      {"group", "root:x:0:\nnogroup:x:65534:\n"},
  };
}

std::vector<std::string> bwrap_argv(const ArgvInputs& in) {
  Args a;
  isolation(a);
  file_system(a, in);
  environment(a, in);
  add(a, {"--seccomp", std::to_string(k_fd_seccomp)});
  add(a, {"--info-fd", std::to_string(k_fd_info), "--block-fd", std::to_string(k_fd_block)});
  add(a, {"--", "/bin/sh", "-c", std::string(wrapper_script()), "ecluse-test"});
  a.insert(a.end(), in.command.begin(), in.command.end());
  return a;
}

}  // namespace ecluse::sandbox
