// Recursive unpacking of one drop's artifacts into the content store, within its limits.
// Private to src/unpack/.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/store/content_store.hpp>
#include <ecluse/unpack/tree.hpp>
#include <ecluse/workspace/workspace.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "checks.hpp"
#include "sink.hpp"

namespace ecluse::unpack::detail {

class ArchiveReader;
struct Header;

struct Totals {
  std::uint64_t bytes = 0;     // unpacked bytes of every entry, all levels
  std::uint64_t entries = 0;   // entries of every archive, all levels
  std::uint64_t archives = 0;  // archives unpacked (artifacts and nested)
};

class Engine {
 public:
  Engine(const store::ContentStore& objects, const workspace::UnpackLimits& limits)
      : m_objects(objects), m_limits(limits) {}

  // Unpacks one artifact, stored in `file`; an artifact that is not an archive comes back as a
  // plain file entry.
  Result<Entry> artifact(const std::string& path,
                         const crypto::Digest& digest,
                         std::uint64_t size,
                         const std::filesystem::path& file);

  [[nodiscard]] const std::vector<NameFinding>& findings() const { return m_findings; }

  [[nodiscard]] const Totals& totals() const { return m_totals; }

  [[nodiscard]] StagedObjects& staged() { return m_staged; }

 private:
  struct Level;
  Status unpack_file(Entry& e,
                     const std::filesystem::path& file,
                     const std::string& chain,
                     std::uint64_t depth);
  Status unpack_archive(Entry& e,
                        ArchiveReader& reader,
                        std::uint64_t size,
                        const std::string& chain,
                        std::uint64_t depth);
  Status read_level(ArchiveReader& reader,
                    std::uint64_t size,
                    const std::string& chain,
                    Level& level);
  Status admit(ArchiveReader& reader, Level& level, const std::string& chain, const Header& h);
  Status stream_data(ArchiveReader& reader,
                     Level& level,
                     const std::string& chain,
                     const std::string& raw);
  static void sniff(Level& level, std::uint64_t offset, std::string_view chunk);
  static void fill_contents(Level& level);
  [[nodiscard]] std::uint64_t drain_budget(std::uint64_t archive_size) const;
  Status check_growth(const Level& level,
                      std::uint64_t entry_bytes,
                      std::uint64_t entry_start,
                      const ArchiveReader& reader,
                      const std::string& item) const;
  Status recurse_one(
      Entry& e, const Level& level, std::size_t i, const std::string& chain, std::uint64_t depth);
  Status recurse(std::vector<Entry>& entries,
                 const Level& level,
                 const std::string& chain,
                 std::uint64_t depth);

  const store::ContentStore& m_objects;
  const workspace::UnpackLimits& m_limits;
  StagedObjects m_staged;
  std::vector<NameFinding> m_findings;
  Totals m_totals;
};

// Could these first bytes (and, for ISO 9660, bytes 32769..32773) start an archive or a
// compressed stream of a supported kind? Cheap filter before opening a nested entry.
bool might_be_archive(std::string_view head, std::string_view iso_magic);

}  // namespace ecluse::unpack::detail
