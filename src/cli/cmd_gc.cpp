// ecluse gc [--dry-run] [--json]: remove store objects no live drop refers to.
#include <ecluse/pipeline/gc.hpp>

#include "common.hpp"

namespace ecluse::cli {

namespace {

struct GcOptions {
  bool dry_run = false;
  bool json = false;
};

int run_gc(const GlobalOptions& g, const GcOptions& o) {
  auto session = open_session(g);
  if (!session) {
    return report(session.error(), o.json);
  }
  auto r = pipeline::gc(*session, o.dry_run);
  if (!r) {
    return report(r.error(), o.json);
  }
  if (o.json) {
    out(json::dump_pretty(json::Json{{"dry_run", o.dry_run},
                                     {"objects_kept", r->objects_kept},
                                     {"objects_removed", r->objects_removed},
                                     {"bytes_removed", r->bytes_removed},
                                     {"temporaries_removed", r->temporaries_removed}})
        + "\n");
    return k_exit_ok;
  }
  out(std::string(o.dry_run ? "would remove " : "removed ") + std::to_string(r->objects_removed)
      + " objects (" + std::to_string(r->bytes_removed) + " bytes) and "
      + std::to_string(r->temporaries_removed) + " temporaries; kept "
      + std::to_string(r->objects_kept) + " objects\n");
  return k_exit_ok;
}

}  // namespace

void add_gc(CLI::App& app, const GlobalOptions& g, Action& action) {
  auto opts = std::make_shared<GcOptions>();
  auto* cmd = app.add_subcommand(
      "gc",
      "remove content-store objects no live drop refers to (rejected drops' payload and entries, "
      "leftovers of interrupted runs); waits for running ingests");
  cmd->add_flag("--dry-run", opts->dry_run, "count what would be removed, remove nothing");
  cmd->add_flag("--json", opts->json, "print as JSON");
  cmd->callback([opts, &g, &action] {
    action = [opts, &g] {
      return run_gc(g, *opts);
    };
  });
}

}  // namespace ecluse::cli
