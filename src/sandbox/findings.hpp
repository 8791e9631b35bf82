// What a suite's results mean for the policy: one pure function from results to findings.
#pragma once

#include <ecluse/sandbox/profile.hpp>
#include <ecluse/sandbox/run.hpp>
#include <ecluse/store/state_store.hpp>

#include <optional>
#include <vector>

namespace ecluse::sandbox::detail {

struct CommandOutcome {
  TestCommand command;
  CommandResult now;
  std::optional<CommandResult> shifted;  // the run with the clock shifted forward
};

// test.timeout / test.failed for the real-clock run; test.fails_in_future when that run
// passes and the shifted one does not; one test.egress_attempt per distinct attempt of a
// command (both runs); test.output_truncated when output was cut.
std::vector<store::Finding> findings_of(const std::vector<CommandOutcome>& outcomes,
                                        std::int32_t shift_days);

// Did this run do what the suite expects?
bool passed(const TestCommand& c, const CommandResult& r);

}  // namespace ecluse::sandbox::detail
