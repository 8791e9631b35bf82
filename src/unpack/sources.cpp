// The byte sources under the format reader.
#include "sources.hpp"

#include <ecluse/core/c_handle.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ecluse::unpack::detail {

namespace {

constexpr std::size_t k_block = std::size_t{128} << 10U;

using ArchivePtr = CHandle<struct archive, archive_read_free>;

tl::unexpected<Error> stream_error(const Reason& r, const std::string& item, std::string_view why) {
  return fail(r, "'" + printable(item) + "': " + std::string(why), printable(item));
}

// pread until the buffer is full or the file ends; -1 on error.
ssize_t pread_full(int fd, char* buf, std::size_t cap, std::uint64_t offset) {
  std::size_t got = 0;
  while (got < cap) {
    const ssize_t n = ::pread(fd, buf + got, cap - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return -1;
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

class FileSource final : public Source {
 public:
  FileSource(int fd, std::uint64_t size, std::string item)
      : m_fd(fd), m_size(size), m_item(std::move(item)), m_buf(k_block) {}

  [[nodiscard]] std::uint64_t raw_consumed() const override { return m_pos; }

  [[nodiscard]] bool seekable() const override { return true; }

  std::int64_t seek(std::int64_t offset, int whence) override {
    std::int64_t base = 0;
    if (whence == SEEK_CUR) {
      base = static_cast<std::int64_t>(m_pos);
    } else if (whence == SEEK_END) {
      base = static_cast<std::int64_t>(m_size);
    }
    const std::int64_t to = base + offset;
    if (to < 0) {
      return -1;
    }
    m_pos = std::min(static_cast<std::uint64_t>(to), m_size);
    moved_to(m_pos);
    return static_cast<std::int64_t>(m_pos);
  }

 protected:
  Result<std::string_view> next_block() override {
    const ssize_t n = pread_full(m_fd, m_buf.data(), m_buf.size(), m_pos);
    if (n < 0) {
      return fail(reason::k_store_io, fs::errno_message("cannot read", printable(m_item), errno));
    }
    m_pos += static_cast<std::uint64_t>(n);
    return std::string_view(m_buf.data(), static_cast<std::size_t>(n));
  }

 private:
  int m_fd;
  std::uint64_t m_size;
  std::uint64_t m_pos = 0;
  std::string m_item;
  std::vector<char> m_buf;
};

class GzipSource final : public Source {
 public:
  GzipSource(int fd, std::uint64_t size, std::string item)
      : m_fd(fd),
        m_size(size),
        m_item(std::move(item)),
        m_in(k_block),
        m_out(2 * k_block),
        m_ok(inflateInit2(&m_z, 15 + 16) == Z_OK) {}

  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;
  GzipSource(GzipSource&&) = delete;
  GzipSource& operator=(GzipSource&&) = delete;

  ~GzipSource() override { inflateEnd(&m_z); }

  [[nodiscard]] std::uint64_t raw_consumed() const override { return m_read - m_z.avail_in; }

  [[nodiscard]] std::vector<std::string> filters() const override { return {"gzip"}; }

 protected:
  Result<std::string_view> next_block() override {
    if (!m_ok) {
      return fail(reason::k_internal, "zlib could not start an inflate stream");
    }
    for (;;) {
      if (m_member_done) {
        ECLUSE_TRY(more, start_next_member());
        if (!more) {
          return std::string_view();
        }
      }
      ECLUSE_CHECK(fill());
      m_z.next_out = reinterpret_cast<Bytef*>(m_out.data());  // NOLINT: zlib's byte type
      m_z.avail_out = static_cast<uInt>(m_out.size());
      const int r = inflate(&m_z, Z_NO_FLUSH);
      const auto produced = m_out.size() - m_z.avail_out;
      ECLUSE_CHECK(check(r, produced));
      if (produced > 0) {
        return std::string_view(m_out.data(), produced);
      }
    }
  }

 private:
  // Tops up the input buffer when it is empty.
  Status fill() {
    if (m_z.avail_in > 0 || m_read >= m_size) {
      return {};
    }
    const ssize_t n = pread_full(m_fd, m_in.data(), m_in.size(), m_read);
    if (n < 0) {
      return fail(reason::k_store_io, fs::errno_message("cannot read", printable(m_item), errno));
    }
    m_read += static_cast<std::uint64_t>(n);
    m_z.next_in = reinterpret_cast<Bytef*>(m_in.data());  // NOLINT: zlib's byte type
    m_z.avail_in = static_cast<uInt>(n);
    return {};
  }

  Status check(int r, std::size_t produced) {
    if (r == Z_STREAM_END) {
      m_member_done = true;
      return {};
    }
    if (r == Z_OK) {
      return {};
    }
    if (r == Z_BUF_ERROR && produced == 0 && m_z.avail_in == 0 && m_read >= m_size) {
      return stream_error(reason::k_unpack_truncated, m_item, "the gzip stream ends early");
    }
    if (r == Z_BUF_ERROR) {
      return {};
    }
    const std::string msg = m_z.msg != nullptr ? m_z.msg : "inflate failed";
    return stream_error(classify_failure(msg), m_item, "gzip: " + msg);
  }

  // After a member: another member, the end of the file, or trailing bytes.
  Result<bool> start_next_member() {
    ECLUSE_CHECK(fill());
    if (m_z.avail_in == 0) {
      return false;
    }
    if (m_z.avail_in < 2) {
      ECLUSE_CHECK(top_up());
    }
    const auto* p = m_z.next_in;
    if (m_z.avail_in < 2 || p[0] != 0x1f || p[1] != 0x8b) {
      return stream_error(
          reason::k_unpack_trailing_data,
          m_item,
          std::to_string(m_size - raw_consumed()) + " bytes follow the end of the gzip stream");
    }
    inflateReset(&m_z);
    m_member_done = false;
    return true;
  }

  // Moves the few bytes left to the front of the buffer and reads more after them.
  Status top_up() {
    std::memmove(m_in.data(), m_z.next_in, m_z.avail_in);
    const auto kept = m_z.avail_in;
    const ssize_t n = pread_full(m_fd, m_in.data() + kept, m_in.size() - kept, m_read);
    if (n < 0) {
      return fail(reason::k_store_io, fs::errno_message("cannot read", printable(m_item), errno));
    }
    m_read += static_cast<std::uint64_t>(n);
    m_z.next_in = reinterpret_cast<Bytef*>(m_in.data());  // NOLINT: zlib's byte type
    m_z.avail_in = kept + static_cast<uInt>(n);
    return {};
  }

  int m_fd;
  std::uint64_t m_size;
  std::string m_item;
  std::vector<char> m_in;
  std::vector<char> m_out;
  z_stream m_z{};
  std::uint64_t m_read = 0;
  bool m_ok = false;
  bool m_member_done = false;
};

// libarchive's read callbacks over a file descriptor.
struct FdReader {
  int fd;
  std::uint64_t size;
  std::uint64_t pos = 0;
  std::vector<char> buf = std::vector<char>(k_block);
};

la_ssize_t fd_read(struct archive* a, void* data, const void** out) {
  auto* r = static_cast<FdReader*>(data);
  const ssize_t n = pread_full(r->fd, r->buf.data(), r->buf.size(), r->pos);
  if (n < 0) {
    archive_set_error(a, errno, "read error");
    return -1;
  }
  r->pos += static_cast<std::uint64_t>(n);
  *out = r->buf.data();
  return n;
}

class FilterSource final : public Source {
 public:
  FilterSource(int fd, std::uint64_t size, std::string item)
      : m_reader{fd, size}, m_item(std::move(item)), m_archive(archive_read_new()) {}

  Status open() {
    auto* a = m_archive.get();
    if (a == nullptr) {
      return fail(reason::k_internal, "libarchive could not allocate a reader");
    }
    for (auto* support : {archive_read_support_filter_bzip2,
                          archive_read_support_filter_xz,
                          archive_read_support_filter_zstd,
                          archive_read_support_filter_lz4,
                          archive_read_support_filter_rpm,
                          archive_read_support_filter_gzip}) {
      (void)support(a);  // ARCHIVE_WARN: an external program would be used; none is called
    }
    archive_read_support_format_raw(a);
    archive_read_set_callback_data(a, &m_reader);
    archive_read_set_read_callback(a, fd_read);
    struct archive_entry* entry = nullptr;
    if (archive_read_open1(a) != ARCHIVE_OK || archive_read_next_header(a, &entry) != ARCHIVE_OK) {
      return failure();
    }
    return {};
  }

  [[nodiscard]] std::uint64_t raw_consumed() const override {
    return static_cast<std::uint64_t>(
        std::max<la_int64_t>(0, archive_filter_bytes(m_archive.get(), -1)));
  }

  [[nodiscard]] std::vector<std::string> filters() const override {
    std::vector<std::string> out;
    const int n = archive_filter_count(m_archive.get());
    for (int i = n - 1; i >= 0; --i) {
      if (archive_filter_code(m_archive.get(), i) != ARCHIVE_FILTER_NONE) {
        out.emplace_back(archive_filter_name(m_archive.get(), i));
      }
    }
    return out;
  }

 protected:
  Result<std::string_view> next_block() override {
    const void* buf = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    const int r = archive_read_data_block(m_archive.get(), &buf, &size, &offset);
    if (r == ARCHIVE_EOF) {
      return std::string_view();
    }
    if (r != ARCHIVE_OK) {
      return failure();
    }
    return std::string_view(static_cast<const char*>(buf), size);
  }

 private:
  tl::unexpected<Error> failure() const {
    const char* msg = archive_error_string(m_archive.get());
    const std::string text = msg != nullptr ? msg : "unreadable compressed stream";
    return stream_error(classify_failure(text), m_item, text);
  }

  FdReader m_reader;
  std::string m_item;
  ArchivePtr m_archive;
};

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

}  // namespace

Result<std::string_view> Source::next() {
  auto block = next_block();
  if (!block) {
    m_error = block.error();
    return block;
  }
  const auto& b = *block;
  for (std::size_t i = b.size(); i > 0; --i) {
    if (b[i - 1] != '\0') {
      m_last_nonzero_end = std::max(m_last_nonzero_end, m_handed + i);
      break;
    }
  }
  m_handed += b.size();
  return block;
}

std::unique_ptr<Source> file_source(int fd, std::uint64_t size, std::string item) {
  return std::make_unique<FileSource>(fd, size, std::move(item));
}

std::unique_ptr<Source> gzip_source(int fd, std::uint64_t size, std::string item) {
  return std::make_unique<GzipSource>(fd, size, std::move(item));
}

Result<std::unique_ptr<Source>> filter_source(int fd, std::uint64_t size, std::string item) {
  auto src = std::make_unique<FilterSource>(fd, size, std::move(item));
  ECLUSE_CHECK(src->open());
  return std::unique_ptr<Source>(std::move(src));
}

const Reason& classify_failure(std::string_view message) {
  const auto m = lower(message);
  const auto has = [&](std::string_view w) {
    return m.find(w) != std::string::npos;
  };
  if (has("encrypt") || has("passphrase") || has("password")) {
    return reason::k_unpack_encrypted;
  }
  if (has("crc") || has("checksum") || has("data check") || has("length check")) {
    return reason::k_unpack_checksum;
  }
  if (has("truncat") || has("premature") || has("unexpected end") || has("eof")
      || has("ends early")) {
    return reason::k_unpack_truncated;
  }
  return reason::k_unpack_corrupt;
}

}  // namespace ecluse::unpack::detail
