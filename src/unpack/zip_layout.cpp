// Zip layout: end record, central directory, local headers (APPNOTE.TXT 6.3, sections 4.3-4.5).
#include "zip_layout.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace ecluse::unpack::detail {

namespace {

constexpr std::uint32_t k_eocd_sig = 0x06054b50;
constexpr std::uint32_t k_eocd64_sig = 0x06064b50;
constexpr std::uint32_t k_locator_sig = 0x07064b50;
constexpr std::uint32_t k_central_sig = 0x02014b50;
constexpr std::uint32_t k_local_sig = 0x04034b50;
constexpr std::size_t k_eocd_size = 22;
constexpr std::size_t k_central_size = 46;
constexpr std::size_t k_local_size = 30;
constexpr std::uint64_t k_max_central_bytes = 256ULL << 20U;

std::uint64_t le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8U) | p[i];
  }
  return v;
}

struct Central {
  std::string name;
  std::uint16_t flags = 0;
  std::uint16_t method = 0;
  std::uint64_t csize = 0;
  std::uint64_t usize = 0;
  std::uint64_t offset = 0;
  std::uint64_t end = 0;     // just past its local header and data
  std::string disagreement;  // how the local header contradicts this entry; empty if it does not
};

struct Layout {
  std::uint64_t cd_offset = 0;
  std::uint64_t cd_size = 0;
  std::uint64_t entries = 0;
  std::uint64_t cd_end_limit = 0;  // where the end records start
};

class ZipFile {
 public:
  ZipFile(int fd, std::uint64_t size, std::string item)
      : m_fd(fd), m_size(size), m_item(std::move(item)) {}

  Result<std::vector<unsigned char>> read_at(std::uint64_t offset, std::uint64_t len) const {
    if (offset > m_size || len > m_size - offset) {
      return bad(reason::k_unpack_truncated, "a zip structure lies past the end of the file");
    }
    std::vector<unsigned char> buf(len);
    std::size_t got = 0;
    while (got < len) {
      const ssize_t n =
          ::pread(m_fd, buf.data() + got, len - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return fail(reason::k_store_io, fs::errno_message("cannot read", printable(m_item), errno));
      }
      got += static_cast<std::size_t>(n);
    }
    return buf;
  }

  tl::unexpected<Error> bad(const Reason& r, const std::string& why) const {
    const auto shown = printable(m_item);
    return fail(r, "'" + shown + "': " + why, shown);
  }

  tl::unexpected<Error> bad_entry(const Reason& r,
                                  const std::string& name,
                                  const std::string& why) const {
    const auto shown = printable(m_item + "//" + name);
    return fail(r, "'" + shown + "': " + why, shown);
  }

  [[nodiscard]] std::uint64_t size() const { return m_size; }

 private:
  int m_fd;
  std::uint64_t m_size;
  std::string m_item;
};

// The end of central directory record that ends exactly at the end of the file.
Result<Layout> find_end(const ZipFile& z) {
  const std::uint64_t tail = std::min<std::uint64_t>(z.size(), 65535 + k_eocd_size);
  ECLUSE_TRY(buf, z.read_at(z.size() - tail, tail));
  std::optional<std::size_t> any;
  for (std::size_t i = buf.size() >= k_eocd_size ? buf.size() - k_eocd_size + 1 : 0; i-- > 0;) {
    if (le(&buf[i], 4) != k_eocd_sig) {
      continue;
    }
    any = any.value_or(i);
    if (i + k_eocd_size + le(&buf[i + 20], 2) != buf.size()) {
      continue;
    }
    const std::uint64_t at = z.size() - tail + i;
    Layout l{le(&buf[i + 16], 4), le(&buf[i + 12], 4), le(&buf[i + 10], 2), at};
    if (l.cd_offset == 0xffffffffU || l.cd_size == 0xffffffffU || l.entries == 0xffffU) {
      if (at < 20) {
        return z.bad(reason::k_unpack_corrupt, "zip64 end record locator missing");
      }
      ECLUSE_TRY(loc, z.read_at(at - 20, 20));
      if (le(loc.data(), 4) != k_locator_sig) {
        return z.bad(reason::k_unpack_corrupt, "zip64 end record locator missing");
      }
      const std::uint64_t e64 = le(&loc[8], 8);
      ECLUSE_TRY(rec, z.read_at(e64, 56));
      if (le(rec.data(), 4) != k_eocd64_sig) {
        return z.bad(reason::k_unpack_corrupt, "zip64 end record missing");
      }
      l = Layout{le(&rec[48], 8), le(&rec[40], 8), le(&rec[32], 8), e64};
    }
    return l;
  }
  if (any) {
    return z.bad(reason::k_unpack_trailing_data, "bytes follow the zip end record and its comment");
  }
  return z.bad(reason::k_unpack_corrupt, "no zip end of central directory record");
}

// The zip64 extended information block (id 1): 64-bit values, in this order, for the fields
// stored as all-ones.
void apply_zip64_block(Central& c, const unsigned char* block, std::size_t len) {
  std::size_t at = 0;
  for (std::uint64_t* field : {&c.usize, &c.csize, &c.offset}) {
    if (*field == 0xffffffffU && at + 8 <= len) {
      *field = le(&block[at], 8);
      at += 8;
    }
  }
}

// Walks the extra field's blocks.
void apply_zip64(Central& c, const unsigned char* extra, std::size_t len) {
  for (std::size_t i = 0; i + 4 <= len;) {
    const auto id = le(&extra[i], 2);
    const auto n = static_cast<std::size_t>(le(&extra[i + 2], 2));
    if (i + 4 + n > len) {
      return;
    }
    if (id == 1) {
      apply_zip64_block(c, &extra[i + 4], n);
    }
    i += 4 + n;
  }
}

Result<std::vector<Central>> read_central(const ZipFile& z,
                                          const Layout& l,
                                          std::uint64_t max_entries) {
  // The central directory must end exactly where the end record starts: a reader that looks
  // for it elsewhere must not see another one than this check.
  if (l.cd_size > k_max_central_bytes || l.cd_offset > l.cd_end_limit
      || l.cd_end_limit - l.cd_offset != l.cd_size) {
    return z.bad(reason::k_unpack_corrupt,
                 "the central directory does not end where the end record starts");
  }
  ECLUSE_TRY(cd, z.read_at(l.cd_offset, l.cd_size));
  std::vector<Central> out;
  for (std::size_t i = 0; i < cd.size();) {
    if (out.size() >= max_entries) {
      return z.bad(reason::k_unpack_too_many_entries,
                   "more than " + std::to_string(max_entries) + " central directory entries");
    }
    if (i + k_central_size > cd.size() || le(&cd[i], 4) != k_central_sig) {
      return z.bad(reason::k_unpack_corrupt, "a central directory header is damaged");
    }
    const unsigned char* h = &cd[i];
    const auto name_len = static_cast<std::size_t>(le(h + 28, 2));
    const auto extra_len = static_cast<std::size_t>(le(h + 30, 2));
    const auto comment_len = static_cast<std::size_t>(le(h + 32, 2));
    if (i + k_central_size + name_len + extra_len + comment_len > cd.size()) {
      return z.bad(reason::k_unpack_corrupt, "a central directory header is damaged");
    }
    Central c;
    c.flags = static_cast<std::uint16_t>(le(h + 8, 2));
    c.method = static_cast<std::uint16_t>(le(h + 10, 2));
    c.csize = le(h + 20, 4);
    c.usize = le(h + 24, 4);
    c.offset = le(h + 42, 4);
    c.name.assign(reinterpret_cast<const char*>(h + k_central_size), name_len);  // NOLINT
    apply_zip64(c, h + k_central_size + name_len, extra_len);
    out.push_back(std::move(c));
    i += k_central_size + name_len + extra_len + comment_len;
  }
  return out;
}

// Reads an entry's local header: where its data ends, and how it disagrees with the central
// directory (checked after the overlaps, which matter more).
Status read_local(const ZipFile& z, Central& c) {
  ECLUSE_TRY(h, z.read_at(c.offset, k_local_size));
  if (le(h.data(), 4) != k_local_sig) {
    c.disagreement = "no local header where the central directory points";
    c.end = c.offset + k_local_size;
    return {};
  }
  const auto name_len = le(&h[26], 2);
  const auto extra_len = le(&h[28], 2);
  ECLUSE_TRY(name, z.read_at(c.offset + k_local_size, name_len));
  const std::string local(name.begin(), name.end());
  const auto local_csize = le(&h[18], 4);
  if (local != c.name) {
    c.disagreement = "the local header names '" + printable(local) + "'";
  } else if (le(&h[8], 2) != c.method) {
    c.disagreement = "local and central compression methods differ";
  } else if ((c.flags & 8U) == 0 && local_csize != 0xffffffffU && local_csize != c.csize) {
    c.disagreement = "local and central compressed sizes differ";
  }
  const std::uint64_t header = k_local_size + name_len + extra_len;
  if (c.offset > z.size() || c.csize > z.size() || header > z.size() - c.offset
      || c.csize > z.size() - c.offset - header) {
    return z.bad_entry(
        reason::k_unpack_truncated, c.name, "its data lies past the end of the file");
  }
  c.end = c.offset + header + c.csize;
  return {};
}

}  // namespace

Status check_zip_layout(int fd,
                        std::uint64_t size,
                        const std::string& item,
                        std::uint64_t max_entries) {
  const ZipFile z(fd, size, item);
  ECLUSE_TRY(layout, find_end(z));
  if (layout.entries > max_entries) {
    return z.bad(
        reason::k_unpack_too_many_entries,
        std::to_string(layout.entries) + " entries (limit " + std::to_string(max_entries) + ")");
  }
  ECLUSE_TRY(entries, read_central(z, layout, max_entries));
  for (auto& c : entries) {
    if (c.name.find('\\') != std::string::npos) {
      return z.bad_entry(reason::k_unpack_path_backslash, c.name, "the zip name holds a backslash");
    }
    ECLUSE_CHECK(read_local(z, c));
  }
  const auto by_directory = entries;
  std::stable_sort(entries.begin(), entries.end(), [](const Central& a, const Central& b) {
    return a.offset < b.offset;
  });
  std::uint64_t prev_end = 0;
  for (const auto& c : entries) {
    if (c.offset < prev_end || c.end > layout.cd_offset) {
      return z.bad_entry(reason::k_unpack_zip_overlap,
                         c.name,
                         "overlaps another entry or the central directory (offset "
                             + std::to_string(c.offset) + ")");
    }
    // A data descriptor (12 to 24 bytes) may follow the data when flag bit 3 is set.
    prev_end = c.end;
  }
  for (const auto& c : by_directory) {
    if (!c.disagreement.empty()) {
      return z.bad_entry(reason::k_unpack_zip_name_mismatch, c.name, c.disagreement);
    }
  }
  return {};
}

}  // namespace ecluse::unpack::detail
