// drop.json, schema ecluse.drop/v1: parsed strictly from the exact bytes the vendor signed.
//
// Reason codes: drop.malformed_json, drop.duplicate_key, drop.not_an_object,
// drop.missing_field, drop.wrong_type, drop.unknown_field, drop.unknown_schema,
// drop.bad_version, drop.bad_name, drop.bad_timestamp, drop.bad_digest, drop.path_outside,
// drop.bad_path, drop.duplicate_artifact, drop.no_artifacts.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/core/version.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::intake {

inline constexpr std::string_view k_drop_schema_v1 = "ecluse.drop/v1";

struct Artifact {    // NOLINT(bugprone-exception-escape): members may allocate
  std::string path;  // relative to payload/, checked by check_artifact_path
  crypto::Digest sha256;
  std::uint64_t size = 0;
  json::Json contents;  // the vendor's entry list for archives (checked by unpack); null if absent
};

struct DropManifest {
  std::string vendor;
  std::string product;
  Version version;
  std::string channel;
  TimePoint released;
  std::optional<TimePoint> expires;
  std::vector<Artifact> artifacts;
};

// Parses and validates drop.json's bytes against the v1 schema. Never throws, whatever the bytes.
Result<DropManifest> parse_drop_manifest(std::string_view bytes);

// Checks an artifact path: relative, '/'-separated, no '..' (drop.path_outside for absolute
// paths, drive letters, backslashes and '..'; drop.bad_path for empty, '.', empty or
// control-character components and over-long paths).
Status check_artifact_path(std::string_view path);

// vendor, product and channel names: [A-Za-z0-9][A-Za-z0-9._-]{0,63}.
bool is_plain_name(std::string_view name);

}  // namespace ecluse::intake
