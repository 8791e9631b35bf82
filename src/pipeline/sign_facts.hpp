// Private to src/pipeline: what the sign stage and signed approvals read of a drop.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/intake/drop_manifest.hpp>
#include <ecluse/pipeline/driver.hpp>

#include <string>

namespace ecluse::pipeline::detail {

// quarantine/drops/ID/drop.json, checked against the drop's id (its SHA-256), parsed.
Result<intake::DropManifest> load_manifest(const Session& s, const std::string& id);

// The committed policy verdict's evidence.
Result<json::Json> policy_evidence(const Session& s, const std::string& id);

// What a signed approval binds to: the SHA-256 of the verdict's evidence as one JSON line.
Result<std::string> verdict_digest(const json::Json& verdict);

}  // namespace ecluse::pipeline::detail
