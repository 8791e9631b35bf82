// Sandbox profiles and test suites: data in the workspace's sandbox/ folder (copied there by
// `ecluse init` from the project's sandbox/), validated strictly before anything runs. A
// profile says what the sandbox may see and how much it may use; a suite says which commands
// to run against the drop, mounted read-only at /drop. sandbox/README.md maps every profile
// field to the bubblewrap option it produces.
//
// Reason codes: sandbox.bad_profile, sandbox.bad_suite (the message names the field),
// workspace.io_error.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::sandbox {

struct Limits {
  std::uint32_t cpu_seconds = 60;    // RLIMIT_CPU of every process
  std::uint64_t memory_mib = 2048;   // RLIMIT_AS of every process
  std::uint32_t processes = 128;     // tasks in the run (pids cgroup; RLIMIT_NPROC as well)
  std::uint64_t file_size_mib = 64;  // RLIMIT_FSIZE: largest file a process may write
  std::uint32_t wall_seconds = 60;   // per command: then the whole tree is killed
  std::uint64_t work_mib = 64;       // size of the /work and /out tmpfs each
  std::uint64_t output_kib = 256;    // stdout and stderr kept, each; the rest is discarded
  std::uint32_t open_files = 256;    // RLIMIT_NOFILE
};

struct Profile {
  std::string name;
  std::vector<std::string> runtime;        // host directories bound read-only at the same place
  std::vector<std::string> etc;            // host files under /etc bound read-only
  std::map<std::string, std::string> env;  // the whole environment inside (after --clearenv)
  Limits limits;
  std::string suite;                   // "@product" (the drop's product) or a suite folder name
  std::int32_t time_shift_days = 400;  // the second run's clock offset (0: no second run)
};

// Validates a profile document (schema ecluse.sandbox-profile/v1). Paths must be absolute,
// normalised, free of control characters and must not start with '-'; runtime paths may not
// be /, /proc, /dev, /sys, /etc itself, /drop, /work, /out, /tmp or below them; environment
// names are [A-Za-z_][A-Za-z0-9_]*; limits are within documented ranges.
Result<Profile> parse_profile(const json::Json& doc);

struct TestCommand {
  std::string name;               // [A-Za-z0-9._-]{1,64}, unique in the suite
  std::vector<std::string> argv;  // argv[0] absolute (inside the sandbox)
  int expect_exit = 0;
  std::optional<std::uint32_t> wall_seconds;  // overrides the profile's, never above it
};

struct Suite {
  std::string name;  // the folder name
  std::vector<TestCommand> commands;
  std::string sha256;  // of suite.json's bytes (load_suite)
};

// Validates a suite manifest (schema ecluse.suite/v1, file suite.json).
Result<Suite> parse_suite(const json::Json& doc, const std::string& name);

// Reads SANDBOX_DIR/profiles/NAME.json (its SHA-256 alongside, for the evidence).
struct LoadedProfile {
  Profile profile;
  std::string sha256;
};

Result<LoadedProfile> load_profile(const std::filesystem::path& sandbox_dir,
                                   const std::string& name);

// The profile for a product: profiles/PRODUCT.json when present, else profiles/default.json.
Result<LoadedProfile> profile_for(const std::filesystem::path& sandbox_dir,
                                  const std::string& product);

// SANDBOX_DIR/suites/NAME/suite.json; nullopt when the folder has no suite.json.
Result<std::optional<Suite>> load_suite(const std::filesystem::path& sandbox_dir,
                                        const std::string& name);

// Writes the project's shipped profiles and suites (embedded in the binary at build time)
// under dir (the workspace's sandbox/), leaving files that exist already alone. Returns how
// many files it wrote.
Result<std::size_t> write_defaults(const std::filesystem::path& dir);

inline constexpr std::string_view k_sandbox_dir = "sandbox";

}  // namespace ecluse::sandbox
