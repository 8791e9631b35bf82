// Stage 7, promote: a signed release becomes one signed commit (and a signed tag
// PRODUCT/VERSION) in its channel's bare git repository, with the TUF metadata that lets any
// standard client verify what the tree serves (DESIGN.md, "Isolated repository layout").
//
// Layout of a channel repository's tree:
//   metadata/        TUF metadata (tuf/metadata.hpp)
//   targets/P/V/…    the artifacts, byte-identical to the vendor's, their consistent-snapshot
//                    copies (same blob) SHA256.NAME, and NAME.p7s (the operator's CMS)
//   attestations/P/V/*.dsse.json   the DSSE envelopes of the sign stage and the approvals
//   releases/P/V/release.json      what was promoted, from where, and its verdict
// The branch `main` only moves forward, by compare-and-swap: that ref update is the commit
// point of a promotion (a crash leaves it at the old or the new commit, never between).
//
// Reason codes: promote.*, repo.*, tuf.*, sshsig.*, keys.*, store.*.
#pragma once

#include <ecluse/attest/attest.hpp>
#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/intake/drop_manifest.hpp>
#include <ecluse/repo/repository.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/tuf/metadata.hpp>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ecluse::promote {

inline constexpr std::string_view k_branch = "main";
inline constexpr std::string_view k_release_schema = "ecluse.release/v1";

// One blob of a release and every tree path it appears at.
struct ReleaseFile {
  std::vector<std::string> paths;  // e.g. the target and its consistent-snapshot copy
  std::filesystem::path source;    // streamed from this file when set (artifacts)
  std::string bytes;               // else these bytes
  repo::Oid blob;                  // or a blob the repository holds already (copied in)
};

// What a promotion adds to a channel: built from a SignedRelease (release_content) or from
// another channel's commit (promote_between in src/pipeline).
struct ReleaseContent {
  std::string product;
  std::string version;
  std::string drop_id;
  std::vector<tuf::Target> targets;  // the artifacts, with ecluse's custom pointers
  std::vector<ReleaseFile> files;    // every file, release.json included
};

// The tree paths of a release.
std::string targets_dir(const std::string& product, const std::string& version);
std::string attestations_dir(const std::string& product, const std::string& version);
std::string release_file(const std::string& product, const std::string& version);

// The consistent-snapshot name of a target: DIR/SHA256.NAME (TUF §5.7.3).
std::string consistent_path(const std::string& target_path, const std::string& sha256);

// Collects what the sign stage wrote (drop_dir/attestations, signatures, approvals) and the
// artifacts (from the content store), each hashed as recorded (store.object_corrupt when a
// file changed since), into the content of a promotion. `summary` is release.json's body.
Result<ReleaseContent> release_content(const attest::SignedRelease& signed_release,
                                       const intake::DropManifest& manifest,
                                       const std::filesystem::path& drop_dir,
                                       const store::ContentStore& objects,
                                       json::Json summary);

// What one channel's repository holds at its branch head.
struct ReleaseRecord {
  std::string product;
  std::string version;
  json::Json release;  // release.json
  bool withdrawn = false;
};

struct ChannelState {
  std::optional<repo::Oid> head;
  repo::Tree tree;
  tuf::Files metadata;
  std::vector<ReleaseRecord> releases;

  [[nodiscard]] const ReleaseRecord* find(const std::string& product,
                                          const std::string& version) const;
};

// The TUF metadata files of a tree (metadata/NAME → NAME), read from its blobs.
Result<tuf::Files> metadata_of(const repo::Repository& r, const repo::Tree& tree);

// Reads the state of a repository's branch (an empty state when it has no commit yet).
Result<ChannelState> read_state(const repo::Repository& r, const std::string& branch);

// The keys of a promotion: the release key signs commits, tags and the online TUF roles;
// `tuf_signers` are every private key at hand (root keys sign a new root version).
struct Signers {
  const crypto::SigningKey& release;
  std::span<const crypto::SigningKey* const> tuf_signers;
  tuf::Roles roles;
};

struct CommitOptions {
  repo::Identity identity;  // time = now
  TimePoint now;
  tuf::Expiries expiries;
  std::string channel;
};

struct PromotedRelease {
  std::string channel;
  std::string product;
  std::string version;
  repo::Oid commit;
  repo::Oid tag;
  std::uint64_t targets_version = 0;
  bool already = false;  // the branch held this release already (a resumed promotion)
};

// Adds a release to the repository's branch in one signed commit with new TUF metadata and a
// signed tag; the caller holds the channel's promotion lock. A release the branch holds
// already from the same drop is completed (tag) and returned with `already`.
// promote.rollback when the product has a greater or equal version in the channel,
// promote.already_promoted when that version came from another drop.
Result<PromotedRelease> promote(const repo::Repository& r,
                                const ReleaseContent& content,
                                const Signers& signers,
                                const CommitOptions& opts);

// Removes a release from targets (and its files from the tree) in a new signed commit with new
// TUF metadata; releases/P/V/release.json records the withdrawal. History is never rewritten.
// promote.not_in_channel when the branch does not hold it (or it is withdrawn already).
struct WithdrawRequest {
  std::string product;
  std::string version;
  json::Json why;  // {reason, by, at}: recorded in release.json
};

Result<PromotedRelease> withdraw(const repo::Repository& r,
                                 const WithdrawRequest& req,
                                 const Signers& signers,
                                 const CommitOptions& opts);

// Re-signs the channel's metadata in a new signed commit, the tree otherwise unchanged:
// targets, snapshot and timestamp at version + 1 with fresh expiries, and root N+1 when the
// key list's roles changed (a rotation or revocation) or the root nears its expiry. Used by
// reverify before the timestamp or snapshot expires. nullopt for a channel with no commit.
Result<std::optional<repo::Oid>> refresh(const repo::Repository& r,
                                         const Signers& signers,
                                         const CommitOptions& opts);

}  // namespace ecluse::promote
