// The libarchive adapter (the only code that includes archive.h, with zlib for gzip): opens an
// artifact or a stored entry, detects its format by content, and hands out entries and their
// bytes. Private to src/unpack/.
#pragma once

#include <ecluse/core/error.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::unpack::detail {

enum class Kind { file, dir, symlink, hardlink, special };

struct Header {
  std::string raw_path;  // the name as the archive stores it (bytes, not checked yet)
  Kind kind = Kind::file;
  std::uint32_t mode = 0;  // permission bits, setuid/setgid/sticky included
  std::string target;      // symlink target or hardlink name, raw
  bool encrypted = false;
};

class Source;

// One archive being read. Reason codes: unpack.truncated, unpack.checksum, unpack.corrupt,
// unpack.encrypted, unpack.trailing_data (errors name `item`, the artifact or entry chain).
class ArchiveReader {
 public:
  ArchiveReader(const ArchiveReader&) = delete;
  ArchiveReader& operator=(const ArchiveReader&) = delete;
  ArchiveReader(ArchiveReader&&) = delete;
  ArchiveReader& operator=(ArchiveReader&&) = delete;
  ~ArchiveReader();

  // Opens fd (a regular file of `size` bytes, read from offset 0). The reader's format() is
  // empty when the content is not an archive of a supported format; it then holds nothing.
  static Result<std::unique_ptr<ArchiveReader>> open(int fd,
                                                     std::uint64_t size,
                                                     const std::string& item);

  // "tar", "zip", "7zip", "cpio", "ar", "cab", "iso9660", "xar"; empty: not an archive.
  [[nodiscard]] const std::string& format() const { return m_format; }

  // Compression layers found by content, outermost first ("gzip", "zstd", "rpm", …).
  [[nodiscard]] const std::vector<std::string>& filters() const { return m_filters; }

  // The next entry's header; nullopt at the end of the archive.
  Result<std::optional<Header>> next();

  // Up to cap bytes of the current entry's data; 0 at its end.
  Result<std::size_t> read(char* buf, std::size_t cap);

  // Bytes of the file consumed so far (for compression ratios).
  [[nodiscard]] std::uint64_t consumed() const;

  // After next() gave nullopt: reads what follows the archive's end to the end of its stream,
  // so compressed layers verify their checksums, and refuses non-zero bytes, or more than
  // 1 MiB of zero padding, after a tar, cpio or ar end (unpack.trailing_data); more than
  // budget decoded bytes after any other format's end is unpack.archive_ratio.
  Status finish(std::uint64_t budget);

 private:
  ArchiveReader() = default;
  Status detect();
  [[nodiscard]] tl::unexpected<Error> library_error(const std::string& where) const;

  struct Handle;
  std::unique_ptr<Source> m_source;
  std::unique_ptr<Handle> m_archive;
  std::string m_item;
  std::string m_format;
  std::vector<std::string> m_filters;
  std::optional<Header> m_first;  // read by detect(), handed out by the first next()
  bool m_first_pending = false;
};

// Sets the calling thread's locale to C.UTF-8 for its lifetime, so libarchive hands names out
// as the bytes (UTF-8) the archive holds instead of failing to convert them to ASCII.
class Utf8Locale {
 public:
  Utf8Locale();
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;
  Utf8Locale(Utf8Locale&&) = delete;
  Utf8Locale& operator=(Utf8Locale&&) = delete;
  ~Utf8Locale();

 private:
  void* m_new = nullptr;
  void* m_old = nullptr;
};

}  // namespace ecluse::unpack::detail
