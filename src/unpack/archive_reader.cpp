// Format detection and entry reading through libarchive, over the sources of sources.hpp.
#include "archive_reader.hpp"

#include <ecluse/core/c_handle.hpp>
#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>

#include <archive.h>
#include <archive_entry.h>

#include <unistd.h>

#include <array>
#include <cerrno>
#include <clocale>
#include <cstring>

#include "sources.hpp"

namespace ecluse::unpack::detail {

namespace {

using ArchivePtr = CHandle<struct archive, archive_read_free>;

constexpr std::size_t k_sniff = 8;

la_ssize_t source_read(struct archive* a, void* data, const void** out) {
  auto* src = static_cast<Source*>(data);
  auto block = src->next();
  if (!block) {
    archive_set_error(a, EIO, "%s", block.error().message.c_str());
    return -1;
  }
  *out = block->data();
  return static_cast<la_ssize_t>(block->size());
}

la_int64_t source_seek(struct archive* /*a*/, void* data, la_int64_t offset, int whence) {
  return static_cast<Source*>(data)->seek(offset, whence);
}

la_int64_t source_skip(struct archive* /*a*/, void* data, la_int64_t request) {
  auto* src = static_cast<Source*>(data);
  const auto before = src->seek(0, SEEK_CUR);
  const auto after = src->seek(request, SEEK_CUR);
  return before < 0 || after < 0 ? 0 : after - before;
}

// Which byte source the content needs, from its first bytes.
enum class Layer { none, gzip, filter };

Layer layer_of(const std::array<unsigned char, k_sniff>& m, std::size_t n) {
  const auto starts = [&](std::initializer_list<unsigned char> magic) {
    if (n < magic.size()) {
      return false;
    }
    return std::equal(magic.begin(), magic.end(), m.begin());
  };
  if (starts({0x1f, 0x8b})) {
    return Layer::gzip;
  }
  if (starts({'B', 'Z', 'h'}) || starts({0xfd, '7', 'z', 'X', 'Z', 0x00})
      || starts({0x28, 0xb5, 0x2f, 0xfd}) || starts({0x04, 0x22, 0x4d, 0x18})
      || starts({0xed, 0xab, 0xee, 0xdb})) {
    return Layer::filter;
  }
  return Layer::none;
}

std::string format_name(int code) {
  switch (code & ARCHIVE_FORMAT_BASE_MASK) {
    case ARCHIVE_FORMAT_TAR:
      return "tar";
    case ARCHIVE_FORMAT_CPIO:
      return "cpio";
    case ARCHIVE_FORMAT_ZIP:
      return "zip";
    case ARCHIVE_FORMAT_7ZIP:
      return "7zip";
    case ARCHIVE_FORMAT_AR:
      return "ar";
    case ARCHIVE_FORMAT_CAB:
      return "cab";
    case ARCHIVE_FORMAT_ISO9660:
      return "iso9660";
    case ARCHIVE_FORMAT_XAR:
      return "xar";
    default:
      return "";
  }
}

Kind kind_of(struct archive_entry* e) {
  if (archive_entry_hardlink(e) != nullptr || archive_entry_hardlink_utf8(e) != nullptr) {
    return Kind::hardlink;
  }
  switch (archive_entry_filetype(e)) {
    case AE_IFREG:
      return Kind::file;
    case AE_IFDIR:
      return Kind::dir;
    case AE_IFLNK:
      return Kind::symlink;
    default:
      return Kind::special;
  }
}

const char* either(const char* a, const char* b) {
  return a != nullptr ? a : b;
}

Header header_of(struct archive_entry* entry) {
  Header h;
  const char* path = either(archive_entry_pathname(entry), archive_entry_pathname_utf8(entry));
  h.raw_path = path != nullptr ? path : "";
  h.kind = kind_of(entry);
  h.mode = static_cast<std::uint32_t>(archive_entry_perm(entry)) & 07777U;
  if (h.kind == Kind::hardlink) {
    const char* t = either(archive_entry_hardlink(entry), archive_entry_hardlink_utf8(entry));
    h.target = t != nullptr ? t : "";
  } else if (h.kind == Kind::symlink) {
    const char* t = either(archive_entry_symlink(entry), archive_entry_symlink_utf8(entry));
    h.target = t != nullptr ? t : "";
  }
  h.encrypted = archive_entry_is_encrypted(entry) != 0;
  return h;
}

}  // namespace

struct ArchiveReader::Handle {
  ArchivePtr a;
};

ArchiveReader::~ArchiveReader() = default;

Result<std::unique_ptr<ArchiveReader>> ArchiveReader::open(int fd,
                                                           std::uint64_t size,
                                                           const std::string& item) {
  std::unique_ptr<ArchiveReader> r(new ArchiveReader());
  r->m_item = item;
  std::array<unsigned char, k_sniff> magic{};
  const ssize_t n = ::pread(fd, magic.data(), magic.size(), 0);
  if (n < 0) {
    return fail(reason::k_store_io, fs::errno_message("cannot read", printable(item), errno));
  }
  const bool binary_cpio =
      n >= 2 && ((magic[0] == 0xc7 && magic[1] == 0x71) || (magic[0] == 0x71 && magic[1] == 0xc7));
  if (binary_cpio) {
    // Old binary cpio has a two-byte magic that one binary in 32768 starts with by chance: it
    // is stored as a file, never parsed.
    r->m_source = file_source(fd, size, item);
    return r;
  }
  switch (layer_of(magic, static_cast<std::size_t>(n))) {
    case Layer::gzip:
      r->m_source = gzip_source(fd, size, item);
      break;
    case Layer::filter: {
      ECLUSE_TRY(src, filter_source(fd, size, item));
      r->m_source = std::move(src);
      break;
    }
    case Layer::none:
      r->m_source = file_source(fd, size, item);
      break;
  }
  r->m_filters = r->m_source->filters();
  ECLUSE_CHECK(r->detect());
  return r;
}

tl::unexpected<Error> ArchiveReader::library_error(const std::string& where) const {
  if (m_source->error()) {
    return fail(*m_source->error());
  }
  const char* msg = archive_error_string(m_archive->a.get());
  const std::string text = msg != nullptr ? msg : "unreadable archive";
  const auto shown = printable(where);
  return fail(classify_failure(text), "'" + shown + "': " + printable(text), shown);
}

Status ArchiveReader::detect() {
  m_archive = std::make_unique<Handle>();
  m_archive->a.reset(archive_read_new());
  auto* a = m_archive->a.get();
  if (a == nullptr) {
    return fail(reason::k_internal, "libarchive could not allocate a reader");
  }
  for (auto* support : {archive_read_support_format_tar,
                        archive_read_support_format_zip,
                        archive_read_support_format_7zip,
                        archive_read_support_format_cpio,
                        archive_read_support_format_ar,
                        archive_read_support_format_cab,
                        archive_read_support_format_iso9660,
                        archive_read_support_format_xar}) {
    (void)support(a);
  }
  archive_read_set_callback_data(a, m_source.get());
  archive_read_set_read_callback(a, source_read);
  if (m_source->seekable()) {
    archive_read_set_seek_callback(a, source_seek);
    archive_read_set_skip_callback(a, source_skip);
  }
  // Formats bid when the archive is opened: no bidder leaves the format unset.
  struct archive_entry* entry = nullptr;
  const int opened = archive_read_open1(a);
  const int r = opened == ARCHIVE_OK ? archive_read_next_header(a, &entry) : opened;
  m_format = format_name(archive_format(a));
  if (m_format.empty()) {
    if (m_source->error()) {
      return fail(*m_source->error());
    }
    return {};  // no supported format recognised this content: not an archive
  }
  m_first_pending = true;
  if (r == ARCHIVE_EOF) {
    return {};
  }
  if (r != ARCHIVE_OK) {
    return library_error(m_item);
  }
  m_first = header_of(entry);
  return {};
}

Result<std::optional<Header>> ArchiveReader::next() {
  auto* a = m_archive->a.get();
  struct archive_entry* entry = nullptr;
  if (m_first_pending) {
    m_first_pending = false;  // detect() read the first header
    return std::move(m_first);
  }
  const int r = archive_read_next_header(a, &entry);
  if (r == ARCHIVE_EOF) {
    return std::optional<Header>{};
  }
  if (r != ARCHIVE_OK) {
    const char* p = entry != nullptr ? archive_entry_pathname(entry) : nullptr;
    return library_error(m_item + (p != nullptr ? "//" + std::string(p) : ""));
  }
  return std::optional<Header>{header_of(entry)};
}

Result<std::size_t> ArchiveReader::read(char* buf, std::size_t cap) {
  const la_ssize_t n = archive_read_data(m_archive->a.get(), buf, cap);
  if (n < 0) {
    return library_error(m_item);
  }
  return static_cast<std::size_t>(n);
}

std::uint64_t ArchiveReader::consumed() const {
  return m_source->raw_consumed();
}

Status ArchiveReader::finish(std::uint64_t budget) {
  constexpr std::uint64_t k_max_padding = 1ULL << 20U;
  const bool stream_format = m_format == "tar" || m_format == "cpio" || m_format == "ar";
  if (!stream_format && m_source->seekable()) {
    return {};  // random-access formats on the file itself: nothing left to decode
  }
  const auto end = static_cast<std::uint64_t>(
      std::max<la_int64_t>(0, archive_filter_bytes(m_archive->a.get(), 0)));
  const auto shown = printable(m_item);
  std::uint64_t drained = 0;
  for (;;) {
    if (stream_format && m_source->last_nonzero_end() > end) {
      return fail(reason::k_unpack_trailing_data,
                  "'" + shown + "': data follows the end of the " + m_format + " archive (offset "
                      + std::to_string(end) + ")",
                  shown);
    }
    if (stream_format && drained > k_max_padding) {
      return fail(reason::k_unpack_trailing_data,
                  "'" + shown + "': more than 1 MiB of padding follows the end of the " + m_format
                      + " archive",
                  shown);
    }
    if (drained > budget) {
      return fail(reason::k_unpack_archive_ratio,
                  "'" + shown + "': more than " + std::to_string(budget)
                      + " bytes follow the end of the " + m_format + " archive",
                  shown);
    }
    ECLUSE_TRY(block, m_source->next());
    if (block.empty()) {
      return {};
    }
    drained += block.size();
  }
}

Utf8Locale::Utf8Locale() {
  locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  if (loc != nullptr) {
    m_new = loc;
    m_old = uselocale(loc);
  }
}

Utf8Locale::~Utf8Locale() {
  if (m_new != nullptr) {
    uselocale(static_cast<locale_t>(m_old));
    freelocale(static_cast<locale_t>(m_new));
  }
}

}  // namespace ecluse::unpack::detail
