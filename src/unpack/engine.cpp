// One pass per archive: the reading thread decompresses and checks each entry's header and
// growth against the limits; the sink's worker hashes and stores; nested archives are unpacked
// from their stored copy once their parent is complete.
#include "engine.hpp"

#include <ecluse/core/fs.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/unpack/path_safety.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>

#include "archive_reader.hpp"
#include "zip_layout.hpp"

namespace ecluse::unpack::detail {

namespace {

constexpr std::size_t k_head = 512;
constexpr std::uint64_t k_iso_offset = 32769;
constexpr std::size_t k_iso_len = 5;
// Read-ahead a reader may hold before an entry's own compressed bytes are counted.
constexpr std::uint64_t k_ratio_slack = 256ULL << 10U;
constexpr std::size_t k_none = std::numeric_limits<std::size_t>::max();

std::string join(const std::string& chain, const std::string& path) {
  return chain + "//" + path;
}

tl::unexpected<Error> at(const Reason& r, const std::string& item, const std::string& why) {
  const auto shown = printable(item);
  return fail(r, "'" + shown + "' " + why, shown);
}

// An error about a whole archive, moved onto the entry being read.
tl::unexpected<Error> on_entry(Error e, const std::string& chain, const std::string& raw) {
  e.item = printable(join(chain, raw));
  e.message += " (entry '" + e.item + "')";
  return tl::unexpected<Error>(std::move(e));
}

// The format a name's extension promises: {format, outermost filter}; both empty: none.
struct Declared {
  std::string format;
  std::string filter;
};

Declared declared_by_name(const std::string& path) {
  std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  static const std::array<std::pair<std::string_view, Declared>, 26> k_table{{
      {".tar.gz", {"tar", "gzip"}},  {".tgz", {"tar", "gzip"}},  {".tar.bz2", {"tar", "bzip2"}},
      {".tbz2", {"tar", "bzip2"}},   {".tar.xz", {"tar", "xz"}}, {".txz", {"tar", "xz"}},
      {".tar.zst", {"tar", "zstd"}}, {".tzst", {"tar", "zstd"}}, {".tar.lz4", {"tar", "lz4"}},
      {".tar", {"tar", ""}},         {".zip", {"zip", ""}},      {".jar", {"zip", ""}},
      {".7z", {"7zip", ""}},         {".cpio", {"cpio", ""}},    {".deb", {"ar", ""}},
      {".udeb", {"ar", ""}},         {".a", {"ar", ""}},         {".rpm", {"cpio", "rpm"}},
      {".cab", {"cab", ""}},         {".iso", {"iso9660", ""}},  {".xar", {"xar", ""}},
      {".gz", {"", "gzip"}},         {".bz2", {"", "bzip2"}},    {".xz", {"", "xz"}},
      {".zst", {"", "zstd"}},        {".lz4", {"", "lz4"}},
  }};
  for (const auto& [suffix, declared] : k_table) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      return declared;
    }
  }
  return {};
}

// Does the content match what the name promises?
Status check_declared(const Declared& d,
                      const ArchiveReader& r,
                      std::uint64_t size,
                      const std::string& chain) {
  if (d.format.empty() && d.filter.empty()) {
    return {};
  }
  if (!d.format.empty() && r.format().empty() && size == 0) {
    return at(reason::k_unpack_empty_archive, chain, "is empty");
  }
  const auto& f = r.filters();
  const bool filter_ok =
      d.filter.empty() ? (d.format.empty() || f.empty()) : (!f.empty() && f.front() == d.filter);
  if ((!d.format.empty() && r.format() != d.format) || !filter_ok) {
    std::string found = r.format().empty() ? "no archive" : r.format();
    for (const auto& name : f) {
      found += "+" + name;
    }
    std::string promised = d.format.empty() ? "data" : d.format;
    promised += d.filter.empty() ? "" : "+" + d.filter;
    return at(reason::k_unpack_format_mismatch,
              chain,
              "is named as " + promised + " but its content is " + found);
  }
  return {};
}

// A stored entry that does not look like an archive, against what its name promises.
Status check_declared_plain(const Entry& e, const std::string& item) {
  const auto d = declared_by_name(e.path);
  if (d.format.empty() && d.filter.empty()) {
    return {};
  }
  if (!d.format.empty() && e.size == 0) {
    return at(reason::k_unpack_empty_archive, item, "is empty");
  }
  return at(reason::k_unpack_format_mismatch,
            item,
            "is named as " + (d.format.empty() ? d.filter : d.format)
                + " but its content is no archive or stream of that kind");
}

std::optional<EntryType> entry_type(Kind k) {
  switch (k) {
    case Kind::file:
      return EntryType::file;
    case Kind::dir:
      return EntryType::dir;
    case Kind::symlink:
      return EntryType::symlink;
    case Kind::hardlink:
      return EntryType::hardlink;
    case Kind::special:
      return std::nullopt;
  }
  return std::nullopt;
}

bool valid_tar_checksum(std::string_view h) {
  if (h.size() < k_head) {
    return false;
  }
  unsigned long stored = 0;
  bool digits = false;
  for (std::size_t i = 148; i < 156; ++i) {
    const char c = h[i];
    if (c >= '0' && c <= '7') {
      stored = stored * 8 + static_cast<unsigned long>(c - '0');
      digits = true;
    } else if (c != ' ' && c != '\0') {
      return false;
    }
  }
  unsigned long sum = 0;
  for (std::size_t i = 0; i < k_head; ++i) {
    sum +=
        (i >= 148 && i < 156) ? 32UL : static_cast<unsigned long>(static_cast<unsigned char>(h[i]));
  }
  return digits && sum == stored;
}

}  // namespace

bool might_be_archive(std::string_view head, std::string_view iso_magic) {
  static constexpr std::array<std::string_view, 15> k_magic{std::string_view("\x1f\x8b", 2),
                                                            "BZh",
                                                            std::string_view("\xfd"
                                                                             "7zXZ\0",
                                                                             6),
                                                            "\x28\xb5\x2f\xfd",
                                                            "\x04\x22\x4d\x18",
                                                            "\xed\xab\xee\xdb",
                                                            "PK\x03\x04",
                                                            "PK\x05\x06",
                                                            "7z\xbc\xaf\x27\x1c",
                                                            "070707",
                                                            "070701",
                                                            "070702",
                                                            "!<arch>\n",
                                                            "MSCF",
                                                            "xar!"};
  for (const auto m : k_magic) {
    if (head.starts_with(m)) {
      return true;
    }
  }
  return (head.size() >= 262 && head.substr(257, 5) == "ustar") || valid_tar_checksum(head)
         || iso_magic == "CD001";
}

struct Engine::Level {
  explicit Level(NameLimits limits) : guard(limits) {}

  std::unique_ptr<Sink> sink;
  TreeGuard guard;
  std::vector<Entry> entries;
  std::vector<std::size_t> stored_index;  // per entry: its index in the sink's results
  std::vector<std::string> heads;         // per entry: its first bytes
  std::vector<std::string> iso;           // per entry: bytes 32769..32773 when it has them
  std::vector<StoredEntry> stored;
  std::uint64_t bytes = 0;  // unpacked bytes of this archive
  std::uint64_t archive_size = 0;
};

Result<Entry> Engine::artifact(const std::string& path,
                               const crypto::Digest& digest,
                               std::uint64_t size,
                               const std::filesystem::path& file) {
  Entry e;
  e.path = path;
  e.type = EntryType::file;
  e.mode = 0644;
  e.size = size;
  e.sha256 = digest;
  ECLUSE_CHECK(unpack_file(e, file, path, 1));
  return e;
}

Status Engine::unpack_file(Entry& e,
                           const std::filesystem::path& file,
                           const std::string& chain,
                           std::uint64_t depth) {
  ECLUSE_TRY(fd, fs::open_read_nofollow(file, reason::k_store_object_missing));

  struct stat st {};

  if (::fstat(fd.get(), &st) != 0) {
    return fail(reason::k_store_io, fs::errno_message("cannot stat", file, errno), file.string());
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const auto declared = declared_by_name(e.path);
  auto opened = ArchiveReader::open(fd.get(), size, chain);
  if (!opened) {
    // Content that merely starts like an archive but does not parse as one is data, unless
    // its name says it is an archive.
    const bool data = opened.error().code == Errc::rejected && declared.format.empty()
                      && declared.filter.empty()
                      && opened.error().reason != reason::k_unpack_encrypted.code;
    return data ? Status{} : fail(opened.error());
  }
  auto& reader = *opened;
  ECLUSE_CHECK(check_declared(declared, *reader, size, chain));
  if (reader->format().empty()) {
    return {};  // not an archive: the entry is a plain file
  }
  if (depth > m_limits.max_depth) {
    return at(reason::k_unpack_nesting_too_deep,
              chain,
              "is an archive nested " + std::to_string(depth) + " levels deep (limit "
                  + std::to_string(m_limits.max_depth) + ")");
  }
  if (reader->format() == "zip" && reader->filters().empty()) {
    ECLUSE_CHECK(check_zip_layout(fd.get(), size, chain, m_limits.max_entries));
  }
  return unpack_archive(e, *reader, size, chain, depth);
}

Status Engine::unpack_archive(Entry& e,
                              ArchiveReader& reader,
                              std::uint64_t size,
                              const std::string& chain,
                              std::uint64_t depth) {
  Level level(NameLimits{m_limits.max_path_bytes, m_limits.max_name_bytes});
  ECLUSE_CHECK(read_level(reader, size, chain, level));
  if (level.entries.empty()) {
    const auto d = declared_by_name(e.path);
    if (!d.format.empty()) {
      return at(reason::k_unpack_empty_archive, chain, "is an archive without any entry");
    }
    return {};  // content some reader accepts but that holds nothing: keep it as a plain file
  }
  ++m_totals.archives;
  e.format = reader.format();
  e.filters = reader.filters();
  ECLUSE_CHECK(recurse(level.entries, level, chain, depth));
  name_findings(level.entries, chain, m_findings);  // in archive order: the later name is named
  sort_entries(level.entries);
  merge_duplicates(level.entries, chain, m_findings);
  e.contents = std::move(level.entries);
  return {};
}

Status Engine::read_level(ArchiveReader& reader,
                          std::uint64_t size,
                          const std::string& chain,
                          Level& level) {
  level.archive_size = size;
  level.sink = std::make_unique<Sink>(m_objects, m_staged);
  for (;;) {
    ECLUSE_TRY(header, reader.next());
    if (!header) {
      break;
    }
    ECLUSE_CHECK(admit(reader, level, chain, *header));
  }
  ECLUSE_TRY(stored, level.sink->finish());
  level.stored = std::move(stored);
  level.sink.reset();  // its buffers are not needed while nested archives are unpacked
  ECLUSE_CHECK(reader.finish(drain_budget(size)));
  ECLUSE_CHECK(level.guard.finish().map_error([&](Error e) {
    e.item = printable(chain) + "//" + e.item;
    return e;
  }));
  fill_contents(level);
  return {};
}

// One entry's header: counted, checked, admitted into the tree; a file's bytes are streamed.
Status Engine::admit(ArchiveReader& reader,
                     Level& level,
                     const std::string& chain,
                     const Header& h) {
  if (++m_totals.entries > m_limits.max_entries) {
    return at(reason::k_unpack_too_many_entries,
              join(chain, h.raw_path),
              "is past the limit of " + std::to_string(m_limits.max_entries) + " entries");
  }
  if (h.encrypted) {
    return at(reason::k_unpack_encrypted, join(chain, h.raw_path), "is encrypted");
  }
  const auto type = entry_type(h.kind);
  if (type == EntryType::dir && (h.raw_path == "." || h.raw_path == "./")) {
    return {};  // the archive's root (ISO 9660 lists it): nothing to record
  }
  if (!type) {
    return at(
        reason::k_unpack_special_file, join(chain, h.raw_path), "is a device node, fifo or socket");
  }
  auto path =
      check_entry_path(h.raw_path, NameLimits{m_limits.max_path_bytes, m_limits.max_name_bytes});
  if (!path) {
    return on_entry(path.error(), chain, h.raw_path);
  }
  if (auto ok = level.guard.admit(*path, *type, h.target); !ok) {
    return on_entry(ok.error(), chain, h.raw_path);
  }
  Entry e;
  e.path = *path;
  e.type = *type;
  e.mode = h.mode;
  e.target = h.target;
  if (*type == EntryType::hardlink) {
    e.target =
        *check_entry_path(h.target, NameLimits{m_limits.max_path_bytes, m_limits.max_name_bytes});
  }
  level.entries.push_back(std::move(e));
  level.stored_index.push_back(k_none);
  level.heads.emplace_back();
  level.iso.emplace_back();
  // A hardlink may carry bytes too (cpio puts the data on the last link; pax allows a body):
  // every byte is read, counted and hashed, whatever the entry says it is.
  if (*type == EntryType::file || *type == EntryType::hardlink) {
    return stream_data(reader, level, chain, h.raw_path);
  }
  return {};
}

// Moves a file entry's bytes to the sink, counting them against every limit as they come.
Status Engine::stream_data(ArchiveReader& reader,
                           Level& level,
                           const std::string& chain,
                           const std::string& raw) {
  const auto item = join(chain, raw);
  level.stored_index.back() = level.sink->begin_entry();
  const auto start = reader.consumed();
  std::uint64_t entry_bytes = 0;
  for (;;) {
    auto* buf = level.sink->buffer();
    auto n = reader.read(buf->bytes.data(), buf->bytes.size());
    if (!n || *n == 0) {
      (void)level.sink->submit(buf, 0);
      if (!n) {
        return on_entry(n.error(), chain, raw);
      }
      break;
    }
    sniff(level, entry_bytes, std::string_view(buf->bytes.data(), *n));
    entry_bytes += *n;
    level.bytes += *n;
    m_totals.bytes += *n;
    if (auto ok = check_growth(level, entry_bytes, start, reader, item); !ok) {
      (void)level.sink->submit(buf, 0);
      return ok;
    }
    if (!level.sink->submit(buf, *n)) {
      break;  // the worker failed: finish() reports why
    }
  }
  level.sink->end_entry();
  return {};
}

// Keeps the bytes a nested archive would be recognised by.
void Engine::sniff(Level& level, std::uint64_t offset, std::string_view chunk) {
  auto& head = level.heads.back();
  if (head.size() < k_head) {
    head.append(chunk.substr(0, k_head - head.size()));
  }
  auto& iso = level.iso.back();
  const auto end = offset + chunk.size();
  if (iso.size() < k_iso_len && end > k_iso_offset + iso.size()
      && offset <= k_iso_offset + iso.size()) {
    const auto from = static_cast<std::size_t>(k_iso_offset + iso.size() - offset);
    iso.append(chunk.substr(from, k_iso_len - iso.size()));
  }
}

Status Engine::check_growth(const Level& level,
                            std::uint64_t entry_bytes,
                            std::uint64_t start,
                            const ArchiveReader& reader,
                            const std::string& item) const {
  const auto& l = m_limits;
  if (entry_bytes > l.max_entry_bytes) {
    return at(reason::k_unpack_entry_too_large,
              item,
              "unpacks to more than " + std::to_string(l.max_entry_bytes) + " bytes");
  }
  if (m_totals.bytes > l.max_total_bytes) {
    return at(reason::k_unpack_total_too_large,
              item,
              "takes the drop past " + std::to_string(l.max_total_bytes) + " unpacked bytes");
  }
  const auto now = reader.consumed();
  const auto compressed = now > start ? now - start : 0;
  if (entry_bytes > l.ratio_floor_bytes
      && entry_bytes / l.max_entry_ratio > compressed + k_ratio_slack) {
    return at(reason::k_unpack_entry_ratio,
              item,
              "expands more than " + std::to_string(l.max_entry_ratio) + " times ("
                  + std::to_string(entry_bytes) + " bytes from about " + std::to_string(compressed)
                  + ")");
  }
  if (level.bytes > l.ratio_floor_bytes && level.bytes / l.max_archive_ratio > level.archive_size) {
    return at(reason::k_unpack_archive_ratio,
              item,
              "takes its archive past " + std::to_string(l.max_archive_ratio)
                  + " times its size of " + std::to_string(level.archive_size) + " bytes");
  }
  return {};
}

// What may be decoded after an archive's end (its checksums are verified to the end of the
// stream): what is left of the drop's budget, and at most the archive's ratio allowance.
std::uint64_t Engine::drain_budget(std::uint64_t archive_size) const {
  const auto left = m_limits.max_total_bytes - std::min(m_limits.max_total_bytes, m_totals.bytes);
  const auto ratio = archive_size > UINT64_MAX / m_limits.max_archive_ratio
                         ? UINT64_MAX
                         : archive_size * m_limits.max_archive_ratio;
  return std::min(left, std::max(ratio, m_limits.ratio_floor_bytes));
}

// Digests from the sink; a hardlink without bytes of its own takes its target's content.
void Engine::fill_contents(Level& level) {
  std::map<std::string, std::size_t> files;
  for (std::size_t i = 0; i < level.entries.size(); ++i) {
    auto& e = level.entries[i];
    if (level.stored_index[i] != k_none) {
      const auto& s = level.stored[level.stored_index[i]];
      e.sha256 = s.digest;
      e.size = s.size;
    }
    const auto it = e.type == EntryType::hardlink ? files.find(e.target) : files.end();
    if (it != files.end()) {
      auto& target = level.entries[it->second];
      if (e.size == 0) {
        e.sha256 = target.sha256;
        e.size = target.size;
      } else if (target.size == 0) {
        target.sha256 = e.sha256;  // cpio newc: the data came with the last link
        target.size = e.size;
      }
    }
    files[e.path] = i;
  }
}

// Unpacks every file of a level that looks like an archive, from its stored copy.
Status Engine::recurse(std::vector<Entry>& entries,
                       const Level& level,
                       const std::string& chain,
                       std::uint64_t depth) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (level.stored_index[i] == k_none) {
      continue;  // directories, links: no bytes of their own
    }
    ECLUSE_CHECK(recurse_one(entries[i], level, i, chain, depth));
  }
  return {};
}

Status Engine::recurse_one(
    Entry& e, const Level& level, std::size_t i, const std::string& chain, std::uint64_t depth) {
  const auto item = join(chain, e.path);
  if (!might_be_archive(level.heads[i], level.iso[i])) {
    return check_declared_plain(e, item);
  }
  return unpack_file(e, level.stored[level.stored_index[i]].file, item, depth + 1);
}

}  // namespace ecluse::unpack::detail
