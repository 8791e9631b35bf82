// ecluse init DIR: create a workspace with the default policy, sandbox profiles and suites.
#include <ecluse/policy/policy.hpp>
#include <ecluse/sandbox/profile.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct InitOptions {
  std::string dir;
  bool json = false;
};

int run_init(const InitOptions& o) {
  auto ws = workspace::init(o.dir);
  if (!ws) {
    return report(ws.error(), o.json);
  }
  const auto root = ws->root().string();
  if (auto ok = policy::write_default(ws->root()); !ok) {
    return report(ok.error(), o.json);
  }
  if (auto ok = sandbox::write_defaults(ws->root() / sandbox::k_sandbox_dir); !ok) {
    return report(ok.error(), o.json);
  }
  static const SystemClock k_clock;
  auto session = pipeline::Session::open(std::move(*ws), k_clock, actor());
  if (!session) {
    return report(session.error(), o.json);
  }
  if (auto ok = session->record("", "workspace.init", {{"workspace", root}}); !ok) {
    return report(ok.error(), o.json);
  }
  if (o.json) {
    out(json::dump_pretty(json::Json{{"workspace", root}, {"config", root + "/ecluse.json"}})
        + "\n");
  } else {
    out("initialised workspace " + root + "\n  settings: " + root
        + "/ecluse.json\n  policy: " + root + "/policy.json\n  sandbox profiles and suites: " + root
        + "/sandbox/\n  drops land in: " + root + "/staging/incoming/\n");
  }
  return k_exit_ok;
}

}  // namespace

void add_init(CLI::App& app, const GlobalOptions& /*g*/, Action& action) {
  auto opts = std::make_shared<InitOptions>();
  auto* cmd = app.add_subcommand(
      "init", "create a workspace (layout, ecluse.json with defaults, state store, journal)");
  cmd->add_option("DIR", opts->dir, "directory to create the workspace in")->required();
  cmd->add_flag("--json", opts->json, "print the result as JSON");
  cmd->callback([opts, &action] {
    action = [opts] {
      return run_init(*opts);
    };
  });
}

}  // namespace ecluse::cli
