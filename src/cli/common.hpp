// Private to the CLI: options shared by commands, output helpers, opening a session.
#pragma once

#include <ecluse/cli/main.hpp>
#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>

namespace ecluse::cli {

struct GlobalOptions {
  std::string workspace;  // --workspace (else $ECLUSE_WORKSPACE, else .)
};

// A subcommand's action: runs after parsing, returns the exit code.
using Action = std::function<int()>;

// Each cmd_*.cpp registers its subcommand and sets the action to run when it is chosen.
void add_init(CLI::App& app, const GlobalOptions& g, Action& action);
void add_ingest(CLI::App& app, const GlobalOptions& g, Action& action);
void add_status(CLI::App& app, const GlobalOptions& g, Action& action);
void add_show(CLI::App& app, const GlobalOptions& g, Action& action);
void add_log(CLI::App& app, const GlobalOptions& g, Action& action);
void add_reasons(CLI::App& app, const GlobalOptions& g, Action& action);
void add_trust(CLI::App& app, const GlobalOptions& g, Action& action);
void add_allow_downgrade(CLI::App& app, const GlobalOptions& g, Action& action);
void add_gc(CLI::App& app, const GlobalOptions& g, Action& action);
void add_diff(CLI::App& app, const GlobalOptions& g, Action& action);
void add_approve(CLI::App& app, const GlobalOptions& g, Action& action);
void add_reject(CLI::App& app, const GlobalOptions& g, Action& action);
void add_policy(CLI::App& app, const GlobalOptions& g, Action& action);
void add_sandbox(CLI::App& app, const GlobalOptions& g, Action& action);
void add_keys(CLI::App& app, const GlobalOptions& g, Action& action);
void add_sign(CLI::App& app, const GlobalOptions& g, Action& action);
void add_promote(CLI::App& app, const GlobalOptions& g, Action& action);
void add_verify(CLI::App& app, const GlobalOptions& g, Action& action);
void add_transfer(CLI::App& app, const GlobalOptions& g, Action& action);
void add_watch(CLI::App& app, const GlobalOptions& g, Action& action);
void add_reverify(CLI::App& app, const GlobalOptions& g, Action& action);
void add_worker(CLI::App& app, const GlobalOptions& g, Action& action);

// The exit code an error maps to.
int exit_code_of(const Error& e);

// Prints an error (one line on stderr; as JSON on stdout too when json is set); returns its exit
// code.
int report(const Error& e, bool json);

// Opens the workspace chosen by the global options with the system clock.
Result<pipeline::Session> open_session(const GlobalOptions& g);

// "cli:USER".
std::string actor();

// Finds one drop by short id (hex prefix, at least 4 digits) or VENDOR/PRODUCT/VERSION.
Result<store::DropRecord> find_drop(const pipeline::Session& s, const std::string& ref);

// "vendor/product/version" made terminal-safe, or "?" when unknown.
std::string drop_name(const store::DropRecord& d);

// The JSON form of a drop record (stable field names).
json::Json drop_json(const store::DropRecord& d);

// "queued    job N: promote to C (ecluse worker runs it)\n", or "" for no job.
std::string queued_line(const std::optional<store::Job>& job);
// The job as `ecluse queue --json` shows it, or null for no job.
json::Json queued_json(const std::optional<store::Job>& job);

// Writes text to stdout.
void out(const std::string& text);

}  // namespace ecluse::cli
