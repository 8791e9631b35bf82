// TUF 1.0 metadata (theupdateframework/specification, tuf-spec.md 1.0.31): the four top-level
// roles ecluse maintains for each channel repository, signed over OLPC canonical JSON, with
// consistent snapshots; and the client workflow (§5) that checks them from a trusted root.
//
// File layout inside the repository's metadata/ directory (names are the keys of Files):
//   N.root.json (every version kept), root.json (a copy of the latest),
//   N.targets.json and targets.json, N.snapshot.json and snapshot.json, timestamp.json.
// Targets are served with consistent snapshots: targets/DIR/SHA256.NAME beside DIR/NAME.
//
// Reason codes: tuf.* (see core/reasons.hpp), keys.unsupported_type, internal.crypto.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/crypto/x509.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace ecluse::tuf {

inline constexpr std::string_view k_spec_version = "1.0.31";

// Metadata files by name (no directory): "1.root.json", "timestamp.json", …
using Files = std::map<std::string, std::string>;

struct Expiries {
  std::chrono::seconds root{std::chrono::hours(24 * 365)};
  std::chrono::seconds targets{std::chrono::hours(24 * 90)};
  std::chrono::seconds snapshot{std::chrono::hours(24 * 7)};
  std::chrono::seconds timestamp{std::chrono::hours(24)};
};

struct RoleKeys {
  std::vector<crypto::PublicKey> keys;
  std::uint32_t threshold = 1;
};

// The keys and thresholds the root delegates to each top-level role.
struct Roles {
  RoleKeys root;
  RoleKeys targets;
  RoleKeys snapshot;
  RoleKeys timestamp;
};

struct Target {
  std::string path;  // relative to targets/, e.g. "acme/cloud-agent/1.0.0/agent.tar.gz"
  std::uint64_t length = 0;
  std::string sha256;                        // hex
  json::Json custom = json::Json::object();  // ecluse's pointers: attestations, signature, release
};

// The TUF key object {"keytype","scheme","keyval"} of a key (ecdsa-sha2-nistp256 and
// rsassa-pss-sha256 with a PEM public key, ed25519 with the hex raw key), and its TUF key id:
// the hex SHA-256 of the key object's canonical JSON.
Result<json::Json> key_object(const crypto::PublicKey& key);
Result<std::string> key_id(const crypto::PublicKey& key);

struct UpdateRequest {
  Roles roles;                  // wanted now (a change writes root N+1)
  std::vector<Target> targets;  // the complete new list of targets
  // Every private key at hand: each metadata file is signed by those of its role (a new root
  // by those of the old root's root role and of the new one's).
  std::span<const crypto::SigningKey* const> signers;
  TimePoint now;
  Expiries expiries;
};

// The next metadata directory: root N+1 only when req.roles differ from the current root's
// or the current root expires before the new targets, snapshot or timestamp would (signed by
// old and new root keys, tuf.threshold when either threshold is not met with the keys at
// hand), targets/snapshot/timestamp each at version + 1. An empty `current` starts at
// version 1 everywhere. Earlier N.root.json, N.targets.json and N.snapshot.json are kept;
// tuf.rollback when a file to be written exists already, tuf.bad_metadata for a target path
// that is not a clean relative path (or listed twice), a custom that is not an object or
// holds a float, tuf.metadata_missing when `current` lacks one of its latest files.
Result<Files> update(const Files& current, const UpdateRequest& req);

// Only a new timestamp (version + 1, same snapshot), for refreshing before it expires.
Result<Files> refresh_timestamp(const Files& current,
                                std::span<const crypto::SigningKey* const> signers,
                                TimePoint now,
                                const Expiries& expiries);

// The targets that the latest targets.json lists, unverified (the repository's own state);
// none for an empty `current`.
Result<std::vector<Target>> current_targets(const Files& current);

struct Verified {
  std::uint64_t root_version = 0;
  std::uint64_t timestamp_version = 0;
  std::uint64_t snapshot_version = 0;
  std::uint64_t targets_version = 0;
  Roles roles;                  // the final root's
  std::vector<Target> targets;  // from the verified targets.json
  // Keys the targets role held in any root of the chain (trusted root to final): what may
  // have signed older commits and attestations of this repository.
  std::vector<crypto::PublicKey> targets_keys_ever;
};

// The client workflow of §5 from trusted_root (bytes of a root.json the caller trusts):
// each N+1.root.json signed by a threshold of N's root keys and of its own, versions
// consecutive, final root not expired; timestamp.json signed and not expired; the snapshot it
// names (N.snapshot.json, length and hash) signed, of that version, not expired; the targets
// it names likewise. Also: no N.root.json beyond the end of the chain (a gap:
// tuf.metadata_missing), none only older than the trusted root (tuf.rollback), the chain's
// last N.root.json present and, when no rotation happened, equal to the trusted root; root.json,
// snapshot.json and targets.json copies of the verified files (tuf.version_mismatch). Key ids
// must be the hash of their key objects, and a public key counts once towards a threshold
// whatever ids it is listed under. Fails on the first problem with its reason code, naming
// the file (Error::item).
Result<Verified> verify(std::string_view trusted_root, const Files& files, TimePoint now);

}  // namespace ecluse::tuf
