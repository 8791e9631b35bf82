// The TUF module's internals: one signed metadata file parsed and checked (fields, signatures,
// thresholds, expiry, length and hash), the role contents, and signing new files.
#pragma once

#include <ecluse/tuf/metadata.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::tuf::detail {

enum class Role : std::uint8_t { root, targets, snapshot, timestamp };

inline constexpr std::array k_roles{Role::root, Role::targets, Role::snapshot, Role::timestamp};

// "root", "targets", "snapshot", "timestamp": the _type and the key of root's "roles".
std::string_view to_string(Role r);

std::string hex_encode(std::string_view bytes);
// Lowercase or uppercase pairs of hex digits; nullopt otherwise.
std::optional<std::string> hex_decode(std::string_view hex);

struct Signature {
  std::string keyid;
  std::string sig;  // raw bytes
};

// A metadata file after the envelope and the common fields (§4.2) checked out.
struct Document {
  json::Json signed_part;
  std::string canonical;  // the bytes the signatures are over
  std::vector<Signature> signatures;
  std::uint64_t version = 0;
  TimePoint expires{};
};

// Parses a metadata file strictly: {"signed", "signatures"}, `_type` == expected, spec_version
// of major 1, version ≥ 1, expires as YYYY-MM-DDTHH:MM:SSZ, no floats. tuf.bad_metadata.
Result<Document> parse_document(std::string_view bytes, Role expected, const std::string& file);

struct RoleSpec {
  std::vector<std::string> keyids;
  std::uint32_t threshold = 1;
};

// What a root delegates (§4.3): keys by TUF key id, each role's key ids and threshold.
struct RootContent {
  std::map<std::string, crypto::PublicKey> keys;
  std::array<RoleSpec, k_roles.size()> roles{};  // indexed by Role

  [[nodiscard]] const RoleSpec& role(Role r) const { return roles.at(static_cast<std::size_t>(r)); }

  RoleSpec& role(Role r) { return roles.at(static_cast<std::size_t>(r)); }

  // The role's keys in key id order of the role.
  [[nodiscard]] RoleKeys role_keys(Role r) const;
};

// The public key of a TUF key object; tuf.bad_metadata when the object is malformed, of
// another key type or scheme than ecluse supports, or `keyid` is not its key id.
Result<crypto::PublicKey> parse_key_object(const json::Json& object,
                                           const std::string& keyid,
                                           const std::string& file);

// Root's keys and roles: exactly the four top-level roles, thresholds ≥ 1, key ids distinct
// and present in keys, consistent_snapshot true. tuf.bad_metadata.
Result<RootContent> parse_root(const Document& doc, const std::string& file);

// What timestamp or snapshot says of another metadata file (§4.4, §4.5).
struct MetaInfo {
  std::uint64_t version = 0;
  std::optional<std::uint64_t> length;
  std::optional<std::string> sha256;  // hex
};

// The entry `name` ("snapshot.json", "targets.json") of doc's "meta". tuf.bad_metadata.
Result<MetaInfo> parse_meta(const Document& doc, std::string_view name, const std::string& file);

// The targets of a targets document (§4.6), sorted by path. tuf.bad_metadata.
Result<std::vector<Target>> parse_targets(const Document& doc, const std::string& file);

// A relative path of non-empty segments, none "." or "..", no backslash or NUL.
bool is_clean_target_path(std::string_view path);

// Are at least the role's threshold of distinct keys of the role among the verifying
// signatures? tuf.threshold otherwise; internal.crypto when a check cannot be made.
Status check_signatures(const Document& doc,
                        const RootContent& root,
                        Role role,
                        const std::string& file);

// tuf.expired when now is at or past the document's expiry.
Status check_expiry(const Document& doc, TimePoint now, const std::string& file);

// tuf.hash_mismatch when bytes differ in length or SHA-256 from what `meta` lists.
Status check_length_and_hash(std::string_view bytes, const MetaInfo& meta, const std::string& file);

// The signed part's common fields (§4.2).
json::Json signed_header(Role role, std::uint64_t version, TimePoint expires);

// The file text {"signed": …, "signatures": […]} (two-space indent) signed by each of `keys`.
Result<std::string> sign_document(const json::Json& signed_part,
                                  const std::vector<const crypto::SigningKey*>& keys,
                                  const std::string& file);

// The signers whose key is one of the role's; tuf.threshold when fewer than its threshold.
Result<std::vector<const crypto::SigningKey*>> signers_for(
    const RoleKeys& role,
    std::span<const crypto::SigningKey* const> signers,
    const std::string& what);

// The latest "N.root.json" of files (N the greatest), or nullopt when there is none.
std::optional<std::uint64_t> latest_root_version(const Files& files);

// Parses "N.NAME" with N a decimal version without leading zeros; nullopt otherwise.
std::optional<std::uint64_t> versioned_name(std::string_view file, std::string_view name);

}  // namespace ecluse::tuf::detail
