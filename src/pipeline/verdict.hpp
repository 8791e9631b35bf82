// The diff and policy steps of the driver (private to src/pipeline).
#pragma once

#include <ecluse/diff/diff.hpp>
#include <ecluse/pipeline/driver.hpp>
#include <ecluse/policy/policy.hpp>

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

// The policy verdict of a diffed drop: rejected, held or approved (ran = true when decided
// now), then the drop's report is written.
Status policy_stage(const Session& s,
                    const diff::DiffedDrop& diffed,
                    const policy::LoadedPolicy& policy,
                    bool& ran);

// The committed evidence of one stage of a drop (state.illegal_transition when none).
Result<json::Json> stage_evidence(const Session& s,
                                  const std::string& id,
                                  const std::string& stage);

}  // namespace ecluse::pipeline::detail
