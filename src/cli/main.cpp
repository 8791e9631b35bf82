// The command-line entry point: CLI11 parsing, dispatch, and the one last-resort catch.
#include <ecluse/cli/main.hpp>
#include <ecluse/core/version.hpp>

#include <cstdio>
#include <exception>

#include "common.hpp"

namespace ecluse::cli {

namespace {

int run(int argc, char** argv) {
  CLI::App app{
      "ecluse: quarantine, verify and attest vendor software drops before they enter an isolated "
      "zone",
      "ecluse"};
  app.set_version_flag("--version", "ecluse " + std::string(k_ecluse_version));
  app.require_subcommand(1);
  GlobalOptions g;
  app.add_option(
      "-w,--workspace", g.workspace, "workspace directory (default: $ECLUSE_WORKSPACE, else .)");
  app.footer(
      "Exit codes: 0 ok, 1 drop rejected or check failed, 2 usage error, 3 internal or environment "
      "error.");
  Action action;
  add_init(app, g, action);
  add_ingest(app, g, action);
  add_status(app, g, action);
  add_show(app, g, action);
  add_diff(app, g, action);
  add_approve(app, g, action);
  add_reject(app, g, action);
  add_policy(app, g, action);
  add_sandbox(app, g, action);
  add_keys(app, g, action);
  add_sign(app, g, action);
  add_promote(app, g, action);
  add_verify(app, g, action);
  add_transfer(app, g, action);
  add_watch(app, g, action);
  add_worker(app, g, action);
  add_reverify(app, g, action);
  add_log(app, g, action);
  add_trust(app, g, action);
  add_allow_downgrade(app, g, action);
  add_gc(app, g, action);
  add_reasons(app, g, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? k_exit_ok : k_exit_usage;
  }
  return action ? action() : k_exit_usage;
}

}  // namespace

int main(int argc, char** argv) noexcept {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "ecluse: internal.error: uncaught exception: %s\n", e.what());
  } catch (...) {
    (void)std::fprintf(stderr, "ecluse: internal.error: uncaught non-standard exception\n");
  }
  return k_exit_internal;
}

}  // namespace ecluse::cli
