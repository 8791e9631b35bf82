// Byte sources under the format reader: the file itself (seekable), a gzip stream decoded with
// zlib (which, unlike libarchive's gzip filter, checks each member's CRC-32 and length), or the
// other compression layers decoded by libarchive's filters. Private to src/unpack/.
#pragma once

#include <ecluse/core/error.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::unpack::detail {

class Source {
 public:
  Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;
  Source(Source&&) = delete;
  Source& operator=(Source&&) = delete;
  virtual ~Source() = default;

  // The next block of bytes, valid until the next call; empty at the end of the stream.
  Result<std::string_view> next();

  // Bytes of the underlying file consumed so far.
  [[nodiscard]] virtual std::uint64_t raw_consumed() const = 0;

  // Compression layers, outermost first.
  [[nodiscard]] virtual std::vector<std::string> filters() const { return {}; }

  [[nodiscard]] virtual bool seekable() const { return false; }

  // lseek-like; -1 when not seekable.
  virtual std::int64_t seek(std::int64_t /*offset*/, int /*whence*/) { return -1; }

  // Stream offset just past the last non-zero byte handed out (for trailing-data checks).
  [[nodiscard]] std::uint64_t last_nonzero_end() const { return m_last_nonzero_end; }

  // The error behind the last failed next(), kept so the reader can report it as it is.
  [[nodiscard]] const std::optional<Error>& error() const { return m_error; }

 protected:
  virtual Result<std::string_view> next_block() = 0;

  // Repositions the stream offset after a seek.
  void moved_to(std::uint64_t offset) { m_handed = offset; }

 private:
  std::uint64_t m_handed = 0;
  std::uint64_t m_last_nonzero_end = 0;
  std::optional<Error> m_error;
};

// The file itself, read with pread from offset 0.
std::unique_ptr<Source> file_source(int fd, std::uint64_t size, std::string item);

// A gzip stream (one or more members) decoded by zlib. Reason codes: unpack.checksum,
// unpack.truncated, unpack.corrupt, unpack.trailing_data (non-gzip bytes after a member).
std::unique_ptr<Source> gzip_source(int fd, std::uint64_t size, std::string item);

// bzip2, xz, zstd, lz4 and rpm layers decoded by libarchive (its raw format hands out the
// decoded stream).
Result<std::unique_ptr<Source>> filter_source(int fd, std::uint64_t size, std::string item);

// Maps a libarchive or zlib message to unpack.encrypted, .checksum, .truncated or .corrupt.
const Reason& classify_failure(std::string_view message);

}  // namespace ecluse::unpack::detail
