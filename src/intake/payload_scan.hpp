// Private to intake: the drop directory's shape and the payload's files against drop.json.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/intake/drop_manifest.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace ecluse::intake::detail {

// What payload/ holds, by path relative to it (with '/' separators).
struct PayloadFiles {
  std::map<std::string, std::uint64_t> files;  // regular files and their sizes
  std::vector<std::string> dirs;               // every directory below payload/
};

// Only drop.json, drop.json.sig, payload/ and READY may sit in the drop directory.
Status check_drop_layout(const std::filesystem::path& dir);

// Walks payload/ without following links; anything but files and directories is refused.
// Stops after max_files files (limits.max_artifacts: a drop cannot list more).
Result<PayloadFiles> scan_payload(const std::filesystem::path& payload, std::uint64_t max_files);

// Every listed artifact present with its size, nothing unlisted (no extra file, and no
// directory that is not on the path of a listed artifact).
Status match_listing(const DropManifest& manifest, const PayloadFiles& payload);

}  // namespace ecluse::intake::detail
