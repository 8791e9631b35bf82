// Private to src/promote: the parts of consumer verification (verify_channel.cpp checks the
// tree against the TUF metadata, verify_history.cpp the commits and tags).
#pragma once

#include <ecluse/crypto/x509.hpp>
#include <ecluse/promote/verify_channel.hpp>
#include <ecluse/tuf/metadata.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ecluse::promote::detail {

// A blob's SHA-256 and length as streamed from the repository (ok false: unreadable).
struct BlobDigest {
  std::string sha256;
  std::uint64_t size = 0;
  bool ok = false;
};

// The digests of blobs, streamed on `threads` threads (0: one per core), largest work first.
std::map<repo::Oid, BlobDigest> digest_blobs(const repo::Repository& r,
                                             std::vector<repo::Oid> ids,
                                             unsigned threads);

struct Checker {
  const repo::Repository& repo;
  const VerifyOptions& opts;
  ChannelReport& report;
  std::vector<crypto::PublicKey> keys;        // may sign commits, tags and attestations
  std::map<repo::Oid, BlobDigest> digests{};  // of the targets' blobs, computed up front

  void add(const Reason& r, std::string message, std::string item) const {
    report.problems.push_back({std::string(r.code), std::move(message), std::move(item)});
  }

  // Is key one of `keys`?
  [[nodiscard]] bool trusted(const crypto::PublicKey& key) const;
};

// The SHA-256 (hex) and length of a file, streamed; a symlink is refused (repo.bad_bundle
// names the file: the callers' inputs are bundles and work trees).
Result<std::pair<std::string, std::uint64_t>> file_digest(const std::filesystem::path& file);

// The targets role's keys of a root.json (before anything verified: the fallback when the
// metadata chain does not verify, so commits are still checked). tuf.bad_metadata.
Result<std::vector<crypto::PublicKey>> root_targets_keys(std::string_view root_json);

// Every commit from tip: signed by a trusted key, metadata versions never decreasing along
// the first-parent chain; every tag signed, naming itself, on the branch, at the commit that
// added its release; every release of the tip with its tag.
Status check_history(const Checker& c, const repo::Oid& tip, const repo::Tree& tip_tree);

}  // namespace ecluse::promote::detail
