// The policy verdict of a diffed drop, human review of held drops, and the per-drop report.
// A held drop waits; approvals by distinct names count once each, and when the verdict's count
// is reached the drop moves on (held → approved) in the transaction that records the last one.
//
// Reason codes: review.not_held, state.unknown_drop, state.ambiguous_drop, usage.invalid_argument
// (a bad name or reason), store.*, journal.io_error.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ecluse::pipeline {

struct ReviewOutcome {
  store::DropRecord drop;              // as committed after the decision
  std::uint32_t required = 0;          // approvals the verdict asked for
  std::vector<std::string> approvers;  // distinct names that approved, in order
  bool continued = false;              // this approval reached the count: the drop moved on
};

// Records NAME's approval of a held drop (journaled review.approved, then review.completed
// when the count is reached); an approval by a name that approved already changes nothing but
// the journal.
Result<ReviewOutcome> approve(const Session& s,
                              const std::string& id,
                              const std::string& name,
                              const std::string& why);

// Records NAME's rejection of a held drop: rejected with review.rejected (journaled).
Result<ReviewOutcome> reject(const Session& s,
                             const std::string& id,
                             const std::string& name,
                             const std::string& why);

// The verdict as reports show it: {decision, state, reasons, approvals: {required, granted:
// [{name, reason, time}], rejected_by}}; null when no verdict was reached yet.
Result<json::Json> verdict_view(const Session& s, const store::DropRecord& drop);

// (Re)writes quarantine/drops/ID/report.html from diff.json, the findings and the verdict.
Status write_report(const Session& s, const store::DropRecord& drop);

// An engineer name for --as: 1 to 64 of [A-Za-z0-9._@-], starting with a letter or digit.
bool valid_reviewer(const std::string& name);

}  // namespace ecluse::pipeline
