// The content-addressed store: immutable objects named by their SHA-256, deduplicated.
//
// Layout: <root>/sha256/ab/cdef… (the first two hex digits name a fan-out directory).
// Writing is two-phase so a caller can check an object before it enters the store:
// stage() copies and hashes into a temporary file; commit() links it into place.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ecluse::store {

namespace stdfs = std::filesystem;

// Bytes copied and hashed but not yet in the store; the temporary file is removed on
// destruction unless committed.
class StagedObject {
 public:
  StagedObject() = default;

  StagedObject(stdfs::path tmp, crypto::Digest digest, std::uint64_t size)
      : m_tmp(std::move(tmp)), m_digest(digest), m_size(size) {}

  StagedObject(StagedObject&& other) noexcept;
  StagedObject& operator=(StagedObject&& other) noexcept;
  StagedObject(const StagedObject&) = delete;
  StagedObject& operator=(const StagedObject&) = delete;
  ~StagedObject();

  [[nodiscard]] const crypto::Digest& digest() const { return m_digest; }

  [[nodiscard]] std::uint64_t size() const { return m_size; }

  [[nodiscard]] const stdfs::path& tmp_path() const { return m_tmp; }

  // Forgets the temporary file (after commit moved it).
  void release() { m_tmp.clear(); }

 private:
  stdfs::path m_tmp;
  crypto::Digest m_digest;
  std::uint64_t m_size = 0;
};

enum class Verify { no, yes };

// Called with the number of bytes copied so far (for progress lines).
using ProgressFn = std::function<void(std::uint64_t)>;

class ContentStore {
 public:
  // objects_root is quarantine/objects; tmp_dir must be on the same filesystem.
  ContentStore(stdfs::path objects_root, stdfs::path tmp_dir)
      : m_root(std::move(objects_root)), m_tmp(std::move(tmp_dir)) {}

  [[nodiscard]] stdfs::path object_path(const crypto::Digest& d) const;
  [[nodiscard]] bool contains(const crypto::Digest& d) const;

  // Copies at most max_bytes from fd into a temporary file, hashing in the same pass (durable
  // only once committed).
  // Reading more than max_bytes gives on_too_large naming item; I/O errors are store.io_error.
  Result<StagedObject> stage(int fd,
                             std::uint64_t max_bytes,
                             const Reason& on_too_large,
                             const std::string& item,
                             const ProgressFn& progress = {}) const;

  // Stages a buffer.
  Result<StagedObject> stage_bytes(std::string_view bytes) const;

  // Stages a buffer whose digest the caller computed already.
  Result<StagedObject> stage_hashed(std::string_view bytes, const crypto::Digest& digest) const;

  // An empty temporary object file for a caller that writes and hashes by itself; once done it
  // builds StagedObject(tmp, digest, size). The returned guard removes the file if dropped.
  Result<std::pair<fs::UniqueFd, StagedObject>> create_temp() const;

  // Moves a staged object into place, durably. An existing object is never rewritten: when
  // another writer got there first, the staged copy is discarded and the existing one kept.
  Result<crypto::Digest> commit(StagedObject&& staged) const;

  // Commits many staged objects with one syncfs and one fsync per touched directory;
  // empties `staged` on success.
  Status commit_all(std::vector<StagedObject>& staged) const;

  // Stores a buffer (stage + commit).
  Result<crypto::Digest> put(std::string_view bytes) const;

  // Reads a whole object; with Verify::yes, re-hashes it (store.object_corrupt on mismatch).
  Result<std::string> read(const crypto::Digest& d, Verify verify = Verify::no) const;

  // Re-hashes an object by streaming it (store.object_missing, store.object_corrupt).
  Status verify(const crypto::Digest& d) const;

  // Removes temporary files left by writers that died (their process no longer exists).
  // Returns how many were removed.
  [[nodiscard]] std::size_t sweep_stale_temporaries() const;

 private:
  stdfs::path m_root;
  stdfs::path m_tmp;
};

}  // namespace ecluse::store
