// The sign stage's files: written atomically, checked against their recorded digests.
#include "files.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>

namespace ecluse::attest::detail {

namespace {

constexpr std::uint64_t k_max_file = 64ULL << 20U;

}  // namespace

Result<std::string> write_evidence_file(const std::filesystem::path& drop_dir,
                                        const std::string& rel,
                                        std::string_view bytes) {
  const auto path = drop_dir / rel;
  ECLUSE_CHECK(fs::make_dirs(path.parent_path(), reason::k_store_io));
  ECLUSE_CHECK(fs::write_file_atomic(path, bytes, reason::k_store_io));
  ECLUSE_TRY(d, crypto::sha256(bytes));
  return d.hex();
}

Status check_evidence_file(const std::filesystem::path& drop_dir,
                           const std::string& rel,
                           const std::string& sha256) {
  if (rel.empty() || rel.find("..") != std::string::npos || rel.front() == '/') {
    return fail(reason::k_store_object_corrupt, "the sign stage's evidence names no file", rel);
  }
  auto bytes = fs::read_file_bounded(
      drop_dir / rel, k_max_file, reason::k_store_object_missing, reason::k_store_object_corrupt);
  if (!bytes) {
    return fail(bytes.error());
  }
  ECLUSE_TRY(d, crypto::sha256(*bytes));
  if (d.hex() != sha256) {
    return fail(reason::k_store_object_corrupt,
                (drop_dir / rel).string() + " no longer matches the digest the sign stage recorded",
                rel);
  }
  return {};
}

}  // namespace ecluse::attest::detail
