// ecluse policy check [FILE] | init | show: validate, write or print the release policy.
#include <ecluse/core/printable.hpp>
#include <ecluse/policy/policy.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct PolicyOptions {
  std::string file;
  bool json = false;
};

std::filesystem::path workspace_policy(const GlobalOptions& g) {
  return workspace::resolve_dir(g.workspace) / policy::k_policy_file;
}

int run_check(const GlobalOptions& g, const PolicyOptions& o) {
  const auto file = o.file.empty() ? workspace_policy(g) : std::filesystem::path(o.file);
  auto loaded = policy::load_policy(file);
  if (!loaded) {
    return report(loaded.error(), o.json);
  }
  out(o.json
          ? json::dump_pretty(
                json::Json{{"file", file.string()}, {"valid", true}, {"sha256", loaded->sha256}})
                + "\n"
          : "policy " + printable(file.string()) + " is valid (sha256 " + loaded->sha256 + ")\n");
  return k_exit_ok;
}

int run_init_policy(const GlobalOptions& g, const PolicyOptions& o) {
  auto session = open_session(g);  // only in a workspace
  if (!session) {
    return report(session.error(), o.json);
  }
  auto written = policy::write_default(session->ws().root());
  if (!written) {
    return report(written.error(), o.json);
  }
  if (*written) {
    (void)session->record("", "policy.initialised", {{"file", policy::k_policy_file}});
  }
  const auto file = (session->ws().root() / policy::k_policy_file).string();
  out(o.json ? json::dump_pretty(json::Json{{"file", file}, {"written", *written}}) + "\n"
             : (*written ? "wrote the default policy to " : "kept the existing policy ")
                   + printable(file) + "\n");
  return k_exit_ok;
}

}  // namespace

void add_policy(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto o = std::make_shared<PolicyOptions>();
  auto* cmd =
      app.add_subcommand("policy", "validate or initialise the release policy (policy.json)");
  cmd->require_subcommand(1);
  auto* check = cmd->add_subcommand("check", "validate a policy file (default: the workspace's)");
  check->add_option("FILE", o->file, "policy file to check");
  check->add_flag("--json", o->json, "print as JSON");
  check->callback([o, &g, &action] {
    action = [o, &g] {
      return run_check(g, *o);
    };
  });
  auto* init = cmd->add_subcommand("init", "write the default policy.json if there is none");
  init->add_flag("--json", o->json, "print as JSON");
  init->callback([o, &g, &action] {
    action = [o, &g] {
      return run_init_policy(g, *o);
    };
  });
  auto* show = cmd->add_subcommand("default", "print the embedded default policy");
  show->callback([&action] {
    action = [] {
      out(json::dump_pretty(policy::default_policy_json()) + "\n");
      return k_exit_ok;
    };
  });
}

}  // namespace ecluse::cli
