// The operator's key list: every public key ecluse knows, its role (root, release, engineer,
// journal), its standing (active, retired by a rotation, revoked) and the thresholds, as one
// signed document. Version N is a DSSE envelope signed by a threshold of its own active root
// keys and, for N > 1, of version N-1's active root keys (TUF's root rotation rule), so a
// stolen non-root key cannot rewrite the list and an old list cannot pass for a new one.
//
// Reason codes: keys.bad_keylist, keys.unknown_key, internal.crypto.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/dsse.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/crypto/x509.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::keys {

enum class Role { root, release, engineer, journal };

std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view text);

enum class Standing { active, retired, revoked };

std::string_view to_string(Standing s);

struct KeyEntry {
  std::string keyid;  // hex SHA-256 of the DER SubjectPublicKeyInfo
  Role role = Role::release;
  std::string name;  // the engineer's name; for other roles a label (default: the role)
  crypto::KeyType type = crypto::KeyType::ed25519;
  crypto::PublicKey public_key;
  std::string backend;  // "file" or "pkcs11": where the private part lives (informative)
  std::string created;  // RFC 3339 UTC
  Standing standing = Standing::active;
  std::string retired;         // when a rotation replaced it (still verifies what it signed)
  std::string revoked;         // when it was revoked (its signatures no longer count)
  std::string revoked_reason;  // why

  [[nodiscard]] json::Json to_json() const;
};

inline constexpr std::string_view k_keylist_schema = "ecluse.keylist/v1";
inline constexpr std::string_view k_keylist_type = "application/vnd.ecluse.keylist+json";

struct KeyList {
  std::uint64_t version = 0;  // 0: no key list yet
  std::string updated;        // RFC 3339 UTC
  std::map<Role, std::uint32_t> thresholds{
      {Role::root, 1}, {Role::release, 1}, {Role::engineer, 1}, {Role::journal, 1}};
  std::vector<KeyEntry> keys;

  [[nodiscard]] const KeyEntry* find(std::string_view keyid) const;
  // The key whose id starts with prefix (at least 8 hex digits): keys.unknown_key when none,
  // usage.invalid_argument when several match or the prefix is short.
  [[nodiscard]] Result<const KeyEntry*> find_prefix(std::string_view prefix) const;
  // Active keys of a role; for engineers only those of `name` when it is not empty.
  [[nodiscard]] std::vector<const KeyEntry*> active(Role role, std::string_view name = {}) const;
  // Every key of the role as a verifier sees it: active and retired keys count, revoked keys
  // are known but flagged (their signatures never count).
  [[nodiscard]] std::vector<crypto::dsse::KnownKey> known(Role role) const;
  [[nodiscard]] std::uint32_t threshold(Role role) const;

  // The payload signed in the envelope (schema ecluse.keylist/v1, docs/keys.md).
  [[nodiscard]] json::Json to_json() const;
  // Validates a payload: keyid = SHA-256 of the key, types and standings known, no key twice.
  static Result<KeyList> from_json(const json::Json& doc, const std::string& item);
};

// The envelope of a key list version, signed by each of root_signers.
Result<std::string> sign_keylist(const KeyList& list,
                                 std::span<const crypto::SigningKey* const> root_signers);

// Verifies a key list envelope (item names the file) and returns the list it carries: signed
// by a threshold of its own active root keys and, when previous is given, by a threshold of
// previous's active root keys, with version = previous's + 1. keys.bad_keylist otherwise.
Result<KeyList> verify_keylist(std::string_view envelope,
                               const KeyList* previous,
                               const std::string& item);

}  // namespace ecluse::keys
