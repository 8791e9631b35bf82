// The diff and policy steps of the driver (private to src/pipeline).
#pragma once

#include <ecluse/diff/diff.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/policy/policy.hpp>
#include <ecluse/sandbox/sandbox.hpp>

#include <optional>
#include <string>

namespace ecluse::pipeline::detail {

// The diff stage of an unpacked drop: run (ran = true) or reloaded; nullopt when rejected.
// Its findings are stored with the drop before its result is committed.
Result<std::optional<diff::DiffedDrop>> diff_stage(const Session& s,
                                                   const unpack::UnpackedDrop& unpacked,
                                                   const policy::LoadedPolicy& policy,
                                                   const std::string& baseline,
                                                   bool& ran);

// The test stage of a diffed drop: run (ran = true) or reloaded; nullopt when rejected. An
// environment that cannot run the sandbox leaves the drop diffed (sandbox.*), unless the
// policy says test.not_run: allow.
Result<std::optional<sandbox::TestedDrop>> test_stage(const Session& s,
                                                      const diff::DiffedDrop& diffed,
                                                      const policy::LoadedPolicy& policy,
                                                      bool& ran);

// The policy verdict of a tested drop: rejected, held or approved (ran = true when decided
// now), then the drop's report is written.
Status policy_stage(const Session& s,
                    const sandbox::TestedDrop& tested,
                    const policy::LoadedPolicy& policy,
                    bool& ran);

// The committed evidence of one stage of a drop (state.illegal_transition when none).
Result<json::Json> stage_evidence(const Session& s,
                                  const std::string& id,
                                  const std::string& stage);

}  // namespace ecluse::pipeline::detail
