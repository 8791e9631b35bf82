// Air-gap transfer of a channel: a git bundle (v2, readable by `git bundle verify`) and a
// signed index naming its digest, refs, TUF metadata versions and releases; on the other side
// everything is verified before the refs move, fast-forward only.
//
// Files: OUT/CHANNEL.bundle and OUT/CHANNEL.index.json (a DSSE envelope, payloadType
// application/vnd.ecluse.export+json, signed by the release key; schema ecluse.export/v1).
//
// Reason codes: transfer.bad_index, transfer.mismatch, repo.bad_bundle, repo.ref_moved,
// repo.*, tuf.* (the first verification problem), sshsig.*.
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/crypto/signing.hpp>
#include <ecluse/promote/verify_channel.hpp>
#include <ecluse/repo/repository.hpp>

#include <filesystem>
#include <optional>
#include <string>

namespace ecluse::promote {

inline constexpr std::string_view k_export_type = "application/vnd.ecluse.export+json";
inline constexpr std::string_view k_export_schema = "ecluse.export/v1";

struct ExportRequest {
  std::string channel;
  std::filesystem::path out_dir;
  std::optional<std::string> since;  // a tag PRODUCT/VERSION the receiver has
  TimePoint now;
};

struct ExportResult {
  std::filesystem::path bundle;
  std::filesystem::path index;
  repo::Oid tip;
  std::size_t tags = 0;
  std::string sha256;  // of the bundle
};

// Writes the channel's branch and tags (objects after `since` only) and the signed index.
Result<ExportResult> export_channel(const repo::Repository& r,
                                    const ExportRequest& req,
                                    const crypto::SigningKey& release);

struct ImportResult {
  std::string channel;
  std::optional<repo::Oid> old_tip;
  repo::Oid tip;
  std::size_t tags = 0;
  ChannelReport report;
};

// Verifies a bundle and its index (bundle.index.json beside it) against trusted_root before
// anything changes: index signed by the targets keys, bundle digest and refs as the index
// says, the whole channel at the new tip as verify_channel checks it, and a fast-forward of
// the receiving branch (repo.ref_moved otherwise). Then the objects, the branch and the tags.
// `channel` is the receiving repository's: the verified index must name it.
Result<ImportResult> import_bundle(const repo::Repository& r,
                                   const std::filesystem::path& bundle,
                                   const std::string& channel,
                                   const std::string& trusted_root,
                                   TimePoint now);

// The index next to a bundle: CHANNEL.bundle → CHANNEL.index.json.
std::filesystem::path index_of(const std::filesystem::path& bundle);

// The channel an index names (transfer.bad_index), read without verifying it: to choose the
// receiving repository before import_bundle verifies everything.
Result<std::string> index_channel(const std::filesystem::path& bundle);

}  // namespace ecluse::promote
