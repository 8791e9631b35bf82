// The release policy (workspace policy.json, schema ecluse.policy/v1) and the verdict: one pure
// function of a drop's findings, its diff metrics and the policy. No I/O happens in decide();
// loading and validation are separate so a malformed policy evaluates nothing.
//
// Reason codes: policy.invalid (a field is malformed: the message names it), policy.missing.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/store/state_store.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::policy {

enum class Action { allow, hold, reject };

std::string_view to_string(Action a);

struct Threshold {
  double limit = 0;
  Action action = Action::hold;
};

// What a release must show to enter a channel from another (policy.json "promotion").
struct Gate {
  std::string from;                // the channel it must come from (empty: any)
  std::uint32_t approvals = 0;     // distinct signed engineer approvals the release carries
  std::uint64_t soak_seconds = 0;  // time in the source channel since its promotion there
};

struct Policy {
  // Finding code → action; a key may end in ".*" (every code of that prefix); "*" is the
  // action for codes nothing else names. The most specific key wins.
  std::map<std::string, Action> actions;
  std::optional<Threshold> max_changed_share;      // share of entries changed, 0..1
  std::optional<Threshold> max_size_growth;        // bytes_after / bytes_before - 1
  std::map<std::string, std::uint32_t> approvals;  // channel (or "*") → approvals a hold needs
  std::vector<std::string> always_review;          // channels whose every drop is held
  std::vector<std::string> endpoint_allow;         // domains (and below) and IP literals
  std::map<std::string, Gate> gates;               // target channel → its promotion gate
  bool reverify_demote = false;                    // withdraw a release that fails re-verification

  // The action for a finding code.
  [[nodiscard]] Action action_for(const std::string& code) const;
  // How many distinct engineers must approve a held drop of this channel (at least 1).
  [[nodiscard]] std::uint32_t approvals_for(const std::string& channel) const;
};

// The embedded default: new executables and endpoints hold, every unpack finding rejects,
// a downgrade holds, anything unknown holds; one approval.
json::Json default_policy_json();

// Validates and reads a policy document: policy.invalid naming the first bad field
// (e.g. "actions.diff.new_endpoint: unknown action 'maybe'").
Result<Policy> parse_policy(const json::Json& doc);

// Reads and parses a policy file (policy.missing, policy.invalid, workspace.io_error). Also
// returns its bytes' SHA-256, recorded with every verdict.
struct LoadedPolicy {
  Policy policy;
  std::string sha256;
};

Result<LoadedPolicy> load_policy(const std::filesystem::path& file);

// Writes the default policy to dir/policy.json unless a file is there already (returns false
// then). workspace.io_error.
Result<bool> write_default(const std::filesystem::path& dir);

// What the diff measured, for the thresholds.
struct Metrics {
  bool has_baseline = false;  // thresholds apply only against a baseline
  double changed_share = 0;
  double size_growth = 0;
};

enum class Decision { pass, hold, reject };

std::string_view to_string(Decision d);

struct VerdictReason {
  std::string code;  // the finding's code, or policy.max_changed_share / policy.max_size_growth
  Action action = Action::allow;
  std::string item;
  std::string detail;
};

struct Verdict {
  Decision decision = Decision::pass;
  std::vector<VerdictReason> reasons;    // every finding and threshold that did not allow
  std::uint32_t approvals_required = 0;  // for hold: distinct approvals needed

  // The first reason whose action is the decision's (the one a rejection is recorded with).
  [[nodiscard]] const VerdictReason* deciding() const;
};

// The verdict: reject when any finding or threshold rejects; else hold when any holds or the
// channel is always reviewed; else pass.
Verdict decide(const std::vector<store::Finding>& findings,
               const Metrics& metrics,
               const Policy& policy,
               const std::string& channel);

json::Json to_json(const Verdict& v);

// The workspace file name.
inline constexpr std::string_view k_policy_file = "policy.json";

}  // namespace ecluse::policy
