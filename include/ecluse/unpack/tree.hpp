// The tree manifest: what an unpacked artifact holds, entry by entry, as canonical JSON
// (docs/drop-format.md#tree-manifest). Objects are in the content store under their SHA-256.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ecluse::unpack {

enum class EntryType { file, dir, symlink, hardlink };

std::string_view to_string(EntryType t);
std::optional<EntryType> parse_entry_type(std::string_view text);

struct Entry {
  std::string path;  // relative, '/'-separated, normalised (path_safety.hpp)
  EntryType type = EntryType::file;
  std::uint32_t mode = 0;            // permission bits as recorded (setuid… kept, never applied)
  std::uint64_t size = 0;            // file and hardlink: content bytes
  crypto::Digest sha256;             // file and hardlink: content digest
  std::string target;                // symlink: its target; hardlink: the entry it links to
  std::string format;                // a file that is itself an archive: its format, else empty
  std::vector<std::string> filters;  // and its compression layers, outermost first
  std::vector<Entry> contents;       // that archive's entries, sorted by path
};

// One drop's tree: every artifact (path relative to payload/) with what it unpacked to.
struct Tree {
  std::vector<Entry> artifacts;  // sorted by path
};

// "0755": four octal digits.
std::string mode_string(std::uint32_t mode);

// Canonical JSON (schema ecluse.tree/v1): sorted keys, entries sorted by path, no optional
// field that is empty. Its bytes (json::dump_line) are what the evidence digests.
json::Json to_json(const Tree& tree);
Result<Tree> tree_from_json(const json::Json& j);

// Sorts a level (and every level below it) by path.
void sort_entries(std::vector<Entry>& entries);

// Number of entries at every level below these.
std::size_t count_entries(const std::vector<Entry>& entries);

}  // namespace ecluse::unpack
