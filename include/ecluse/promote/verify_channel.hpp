// Consumer verification of a channel repository with nothing but the repository and a
// trusted TUF root: the metadata chain (signatures, thresholds, expiries, versions), every
// target's length and hash, the attestations, every commit's and tag's SSH signature, and
// that the metadata never went back in version along the branch.
//
// Problems carry reason codes: tuf.*, repo.commit_unsigned, repo.commit_signature,
// repo.tag_invalid, attest.* (an attestation that does not verify).
#pragma once

#include <ecluse/core/clock.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/repo/repository.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::promote {

struct Problem {
  std::string reason;
  std::string message;
  std::string item;
};

struct ChannelReport {
  repo::Oid tip;
  std::uint64_t root_version = 0;
  std::uint64_t timestamp_version = 0;
  std::uint64_t snapshot_version = 0;
  std::uint64_t targets_version = 0;
  std::size_t targets = 0;
  std::size_t attestations = 0;
  std::size_t commits = 0;
  std::size_t tags = 0;
  std::uint64_t bytes_hashed = 0;     // the targets' distinct blobs
  std::vector<std::string> releases;  // "PRODUCT/VERSION" whose targets were checked
  std::vector<Problem> problems;

  [[nodiscard]] bool ok() const { return problems.empty(); }

  [[nodiscard]] json::Json to_json() const;
};

struct VerifyOptions {
  std::string trusted_root;  // the bytes of a root.json the consumer trusts
  TimePoint now;
  std::optional<std::string> release;  // "PRODUCT/VERSION": only its targets, which must exist
  std::string branch = "main";
  std::optional<repo::Oid> tip;  // check this commit instead of the branch's head
  // Check these tags (name → tag object) instead of the repository's refs/tags (an import).
  std::optional<std::map<std::string, repo::Oid>> tags;
  unsigned threads = 0;  // hashing the targets: 0 for one thread per core
};

// Checks everything listed above and reports each problem; an error only when the repository
// cannot be read (repo.io_error, repo.not_found) or the trusted root is not a root
// (tuf.bad_metadata).
Result<ChannelReport> verify_channel(const repo::Repository& r, const VerifyOptions& opts);

}  // namespace ecluse::promote
