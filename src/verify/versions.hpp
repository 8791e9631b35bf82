// Private to the verify stage: rollback and version-reuse checks against earlier drops.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/intake/intake.hpp>
#include <ecluse/verify/verify.hpp>

namespace ecluse::verify::detail {

// Compares the drop's version with every earlier drop of its (vendor, product, channel) that
// passed verify: an equal version with other content is verify.version_reuse; a version lower
// than the highest one still accepted is verify.rollback unless an engineer allowed exactly
// this downgrade (the allowance is then used by this drop). Returns the evidence.
Result<json::Json> check_version(const Context& ctx, const intake::StagedDrop& staged);

}  // namespace ecluse::verify::detail
