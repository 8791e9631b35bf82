// The bwrap argument vector: the sandbox's whole security policy, built by one pure function
// from a profile (sandbox/README.md maps each field to the options it produces).
#pragma once

#include <ecluse/sandbox/profile.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ecluse::sandbox {

// File descriptor numbers as the bwrap process sees them (the runner puts them there).
inline constexpr int k_fd_seccomp = 3;  // the compiled seccomp filter (--seccomp)
inline constexpr int k_fd_info = 4;     // bwrap writes {"child-pid": …} here (--info-fd)
inline constexpr int k_fd_block = 5;    // bwrap waits for a byte here before the command runs
inline constexpr int k_fd_listing = 6;  // the wrapper writes the files left in /work and /out
inline constexpr int k_fd_drop = 7;     // the materialised drop, an O_PATH directory descriptor
inline constexpr int k_fd_etc = 8;      // the generated /etc files, one descriptor each from here

// The user and group the code under test runs as, inside the sandbox and on the host (nobody):
// bwrap itself is started as this user when ecluse runs as root, so that no sandboxed process
// is ever host uid 0 (which could write /proc/sys and read root's files through the binds).
inline constexpr int k_sandbox_uid = 65534;

struct ArgvInputs {
  const Profile& profile;
  std::string faketime_lib;          // libfaketime's path (the same inside: under /usr)
  std::int32_t shift_days = 0;       // 0: the real clock; else the clock is this far ahead
  std::vector<std::string> command;  // the test command, argv[0] absolute
};

// Arguments after "bwrap" itself. Defaults deny: every namespace unshared (network included)
// with user namespaces disabled inside, capabilities dropped, a new session, an empty
// environment but the profile's, a read-only root, the drop read-only at /drop, size-capped
// tmpfs /work and /out, the seccomp filter; the command comes after "--", run by a fixed
// /bin/sh wrapper that reports the files left in /work and /out on fd k_fd_listing.
std::vector<std::string> bwrap_argv(const ArgvInputs& in);

// The wrapper script (fixed text: no profile or drop string is ever part of it).
std::string_view wrapper_script();

// The generated /etc files: name → content (hosts, resolv.conf, nsswitch.conf, passwd, group).
std::vector<std::pair<std::string, std::string>> generated_etc();

}  // namespace ecluse::sandbox
