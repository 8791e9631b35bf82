// Probing the machine for what the sandbox needs, with a message that says what to install or
// enable: never a silent skip.
#include <ecluse/sandbox/run.hpp>

#include <glob.h>
#include <unistd.h>

#include <cstdlib>

#include "bwrap_argv.hpp"
#include "cgroup.hpp"
#include "egress.hpp"
#include "process_runner.hpp"
#include "seccomp_filter.hpp"

namespace ecluse::sandbox {

namespace {

std::string from_env(const char* name, std::string fallback) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before any thread
  return v != nullptr && *v != '\0' ? std::string(v) : std::move(fallback);
}

// Debian's libfaketime, for whichever multiarch triplet this machine has.
std::string debian_faketime() {
  glob_t g{};
  std::string found;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): probed before any sandbox thread runs
  if (::glob("/usr/lib/*/faketime/libfaketime.so.1", 0, nullptr, &g) == 0 && g.gl_pathc > 0) {
    found = g.gl_pathv[0];  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
  }
  ::globfree(&g);
  return found.empty() ? "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1" : found;
}

Result<std::string> bwrap_version(const std::string& bwrap) {
  ProcessSpec spec{
      bwrap, {"--version"}, {}, {{1, 4096}, {2, 4096}}, {}, -1, -1, std::chrono::seconds(10)};
  ECLUSE_TRY(r, system_runner().run(spec, {}));
  if (r.exit_code != 0) {
    return fail(reason::k_sandbox_bwrap_missing,
                bwrap + " --version failed: install bubblewrap (apt-get install bubblewrap)",
                bwrap);
  }
  auto v = r.captured[0].head;
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) {
    v.pop_back();
  }
  return v;
}

// A pids cgroup when one is writable here; else RLIMIT_NPROC, which binds the sandbox because
// bwrap never runs as root (as root, ecluse starts it as nobody).
Result<std::string> process_cap() {
  ECLUSE_TRY(cg, PidsCgroup::create(8));
  return std::string(cg ? "cgroup" : "rlimit");
}

// A trial sandbox with the namespaces the real runs use: fails when user namespaces are off.
Status trial_run(const std::string& bwrap) {
  ProcessSpec spec{bwrap,
                   {"--unshare-all",
                    "--unshare-user",
                    "--disable-userns",
                    "--assert-userns-disabled",
                    "--die-with-parent",
                    "--ro-bind",
                    "/usr",
                    "/usr",
                    "--ro-bind-try",
                    "/lib",
                    "/lib",
                    "--ro-bind-try",
                    "/lib64",
                    "/lib64",
                    "--",
                    "/usr/bin/true"},
                   {},
                   {{1, 4096}, {2, 4096}},
                   {},
                   -1,
                   ::geteuid() == 0 ? k_sandbox_uid : -1,
                   std::chrono::seconds(10)};
  ECLUSE_TRY(r, system_runner().run(spec, {}));
  if (r.exit_code == 0) {
    return {};
  }
  auto said = r.captured[1].head;
  while (!said.empty() && said.back() == '\n') {
    said.pop_back();
  }
  return fail(reason::k_sandbox_userns_unavailable,
              "bwrap cannot create the sandbox's namespaces (" + said
                  + "): enable user namespaces (sysctl user.max_user_namespaces > 0; on Debian "
                    "kernel.unprivileged_userns_clone=1 when not root)");
}

}  // namespace

Result<Environment> probe_environment() {
  Environment env;
  env.bwrap = from_env("ECLUSE_BWRAP", "/usr/bin/bwrap");
  if (::access(env.bwrap.c_str(), X_OK) != 0) {
    return fail(
        reason::k_sandbox_bwrap_missing,
        "bubblewrap is not installed (no executable " + env.bwrap + "): apt-get install bubblewrap",
        env.bwrap);
  }
  ECLUSE_TRY(version, bwrap_version(env.bwrap));
  env.bwrap_version = std::move(version);
  ECLUSE_CHECK(seccomp_available());
  ECLUSE_CHECK(egress_observable());
  ECLUSE_TRY(cap, process_cap());
  env.process_cap = std::move(cap);
  env.faketime_lib = from_env("ECLUSE_FAKETIME_LIB", debian_faketime());
  if (env.faketime_lib.rfind("/usr/", 0) != 0 || ::access(env.faketime_lib.c_str(), R_OK) != 0) {
    return fail(reason::k_sandbox_faketime_missing,
                "libfaketime is not installed (no " + env.faketime_lib
                    + " under /usr): apt-get install faketime",
                env.faketime_lib);
  }
  ECLUSE_CHECK(trial_run(env.bwrap));
  return env;
}

}  // namespace ecluse::sandbox
