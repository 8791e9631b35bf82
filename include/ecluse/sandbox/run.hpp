// Running one command in the sandbox: bubblewrap with the profile's argument vector, the
// seccomp filter, a pids cgroup and rlimits, the wall-clock limit over the whole process tree,
// and the egress recorder watching the sandbox's own network namespace. The test stage runs
// every suite command through this; the isolation tests and the benchmark use it directly.
//
// Reason codes: sandbox.bwrap_missing, sandbox.userns_unavailable, sandbox.seccomp_unsupported,
// sandbox.faketime_missing, sandbox.egress_unavailable (the machine
// cannot run the sandbox: what to install or enable is in the message), sandbox.failed.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/sandbox/profile.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::sandbox {

// What this machine offers the sandbox.
struct Environment {
  std::string bwrap;          // the bwrap binary ($ECLUSE_BWRAP, else /usr/bin/bwrap)
  std::string bwrap_version;  // what `bwrap --version` printed
  std::string faketime_lib;   // libfaketime ($ECLUSE_FAKETIME_LIB, else Debian's)
  std::string process_cap;    // "cgroup" (pids controller) or "rlimit" (RLIMIT_NPROC)
};

// Checks everything the sandbox needs, cheapest first, and stops at the first thing missing:
// bwrap, seccomp, egress observation, a process cap, libfaketime, then a trial sandbox run
// (user namespaces).
Result<Environment> probe_environment();

struct WorkFile {
  std::string path;    // inside the sandbox: /work/… or /out/…
  std::string sha256;  // hex
};

struct CommandResult {
  int exit_code = -1;   // -1 when a signal ended it
  int term_signal = 0;  // the signal that ended it, else 0
  bool timed_out = false;
  double seconds = 0;                       // wall clock, sandbox start to teardown
  std::uint64_t peak_rss_kib = 0;           // largest resident set of any process of the tree
  std::optional<std::uint64_t> peak_tasks;  // most tasks at once (pids cgroup), when known
  std::string stdout_head, stderr_head;     // capped (profile limits.output_kib each)
  std::uint64_t stdout_bytes = 0, stderr_bytes = 0;
  std::vector<WorkFile> files;              // files left in /work and /out, sorted by path
  bool files_complete = true;               // false: the listing was cut or never written
  json::Json egress = json::Json::array();  // attempts: {kind, protocol, address, port, count…}
  std::uint64_t egress_dropped = 0;         // attempts lost (kernel drops, over the cap)
};

class Sandbox {
 public:
  // A sandbox for one drop: drop_dir (the materialised drop; its files readable by all) is
  // bound read-only at /drop, by descriptor. Every runtime and /etc source is resolved on this
  // host first: one that reaches sockets (/run), kernel interfaces, secrets (/etc/shadow,
  // /etc/ssh, /root, /home) or the protected directory (the workspace; drop_dir when empty)
  // is sandbox.bad_profile. When ecluse runs as root, bwrap runs as nobody (65534).
  static Result<Sandbox> prepare(Environment env,
                                 Profile profile,
                                 const std::filesystem::path& drop_dir,
                                 const std::filesystem::path& protect = {});

  // Runs argv (argv[0] absolute, inside the sandbox) with the clock shift_days ahead (0: the
  // real clock) and at most wall_seconds (0: the profile's limit; never above it).
  [[nodiscard]] Result<CommandResult> run(const std::vector<std::string>& argv,
                                          std::int32_t shift_days,
                                          std::uint32_t wall_seconds = 0) const;

  [[nodiscard]] const Environment& environment() const { return m_env; }

  [[nodiscard]] const Profile& profile() const { return m_profile; }

  // The argument vector run() would give bwrap (for --explain and the evidence).
  [[nodiscard]] std::vector<std::string> argv_for(const std::vector<std::string>& argv,
                                                  std::int32_t shift_days) const;

 private:
  Sandbox(Environment env, Profile profile, std::string drop_dir)
      : m_env(std::move(env)), m_profile(std::move(profile)), m_drop_dir(std::move(drop_dir)) {}

  Environment m_env;
  Profile m_profile;
  std::string m_drop_dir;
};

// A fresh directory to materialise a drop in, reachable by the sandbox user: under
// $ECLUSE_SANDBOX_TMPDIR (default /var/tmp), mode 0700, owned by the sandbox user (nobody) when
// ecluse runs as root. The caller removes it. sandbox.failed.
Result<std::filesystem::path> make_run_dir();

// The bwrap arguments a command of this profile runs under, with RUN standing for the run
// directory and LIBFAKETIME for libfaketime (ecluse sandbox explain). Pure.
std::vector<std::string> explain_argv(const Profile& profile,
                                      const std::vector<std::string>& argv,
                                      std::int32_t shift_days);

// The evidence form of a command result (digests of the outputs, not the outputs).
json::Json to_json(const CommandResult& r);

}  // namespace ecluse::sandbox
