// ecluse sandbox check | init | explain PRODUCT: can this machine run the sandbox, the shipped
// profiles and suites, and the exact bwrap command a product's tests would run under.
#include <ecluse/core/printable.hpp>
#include <ecluse/sandbox/profile.hpp>
#include <ecluse/sandbox/run.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct SandboxOptions {
  std::string product;
  bool json = false;
};

std::filesystem::path sandbox_dir(const GlobalOptions& g) {
  return workspace::resolve_dir(g.workspace) / sandbox::k_sandbox_dir;
}

int run_check(const GlobalOptions& g, const SandboxOptions& o) {
  auto env = sandbox::probe_environment();
  if (!env) {
    return report(env.error(), o.json);
  }
  auto profile = sandbox::load_profile(sandbox_dir(g), "default");
  if (!profile) {
    return report(profile.error(), o.json);
  }
  if (o.json) {
    out(json::dump_pretty(json::Json{{"usable", true},
                                     {"bwrap", env->bwrap},
                                     {"bwrap_version", env->bwrap_version},
                                     {"faketime", env->faketime_lib},
                                     {"process_cap", env->process_cap},
                                     {"default_profile", profile->sha256}})
        + "\n");
    return k_exit_ok;
  }
  out("sandbox usable here\n  bwrap      " + env->bwrap + " (" + env->bwrap_version
      + ")\n  faketime   " + env->faketime_lib + "\n  processes  capped by "
      + (env->process_cap == "cgroup" ? "a pids cgroup" : "RLIMIT_NPROC")
      + "\n  egress     recorded in the sandbox's network namespace\n  profile    default ("
      + profile->sha256.substr(0, 12) + ")\n");
  return k_exit_ok;
}

int run_init(const GlobalOptions& g, const SandboxOptions& o) {
  auto session = open_session(g);  // only in a workspace
  if (!session) {
    return report(session.error(), o.json);
  }
  const auto dir = session->ws().root() / sandbox::k_sandbox_dir;
  auto written = sandbox::write_defaults(dir);
  if (!written) {
    return report(written.error(), o.json);
  }
  if (*written > 0) {
    (void)session->record("", "sandbox.initialised", {{"files", *written}});
  }
  out(o.json ? json::dump_pretty(json::Json{{"dir", dir.string()}, {"written", *written}}) + "\n"
             : "wrote " + std::to_string(*written) + " shipped profile and suite files to "
                   + printable(dir.string()) + " (existing files kept)\n");
  return k_exit_ok;
}

// The bwrap argument vector of a product's first suite command, as the test stage builds it.
int run_explain(const GlobalOptions& g, const SandboxOptions& o) {
  const auto dir = sandbox_dir(g);
  auto profile = sandbox::profile_for(dir, o.product);
  if (!profile) {
    return report(profile.error(), o.json);
  }
  const auto& p = profile->profile;
  auto suite = sandbox::load_suite(dir, p.suite == "@product" ? o.product : p.suite);
  if (!suite) {
    return report(suite.error(), o.json);
  }
  const std::vector<std::string> argv =
      *suite ? (*suite)->commands.front().argv : std::vector<std::string>{"COMMAND"};
  const auto args = sandbox::explain_argv(p, argv, 0);
  if (o.json) {
    out(json::dump_pretty(
            json::Json{{"profile", p.name}, {"sha256", profile->sha256}, {"argv", args}})
        + "\n");
    return k_exit_ok;
  }
  std::string text = "# profile " + p.name + " (" + profile->sha256.substr(0, 12) + ")\nbwrap";
  for (const auto& a : args) {
    text += a.rfind("--", 0) == 0 ? " \\\n  " + printable(a) : " " + printable(a);
  }
  out(text + "\n");
  return k_exit_ok;
}

}  // namespace

void add_sandbox(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<SandboxOptions>();
  auto* cmd = app.add_subcommand("sandbox", "check, initialise or explain the test sandbox");
  cmd->require_subcommand(1);
  auto* check = cmd->add_subcommand(
      "check", "can this machine run the sandbox (bwrap, user namespaces, seccomp, cgroups, …)?");
  check->add_flag("--json", o->json, "print as JSON");
  check->callback([o, &g, &action] {
    action = [o, &g] {
      return run_check(g, *o);
    };
  });
  auto* init = cmd->add_subcommand(
      "init", "write the shipped profiles and suites into the workspace (existing files kept)");
  init->add_flag("--json", o->json, "print as JSON");
  init->callback([o, &g, &action] {
    action = [o, &g] {
      return run_init(g, *o);
    };
  });
  auto* explain = cmd->add_subcommand(
      "explain", "print the bwrap command a product's first suite command runs under");
  explain->add_option("PRODUCT", o->product, "product name (its profile and suite)")->required();
  explain->add_flag("--json", o->json, "print as JSON");
  explain->callback([o, &g, &action] {
    action = [o, &g] {
      return run_explain(g, *o);
    };
  });
}

}  // namespace ecluse::cli
