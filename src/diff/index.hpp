// The endpoint index (endpoints.json, schema ecluse.endpoints/v1): endpoints per content digest
// of every file of a drop, so the next release is compared without re-reading this one.
#pragma once

#include <ecluse/diff/diff.hpp>

#include <filesystem>
#include <string>

namespace ecluse::diff::detail {

json::Json index_json(const EndpointIndex& index);

// Reads an index whose bytes must have digest want_sha256 (store.object_corrupt otherwise).
Result<EndpointIndex> load_index(const std::filesystem::path& file, const std::string& want_sha256);

}  // namespace ecluse::diff::detail
