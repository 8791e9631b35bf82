// Private to src/watch: what is in staging/incoming/ and whether a drop directory is ready.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ecluse::watch::detail {

// The drop directories in incoming (not hidden; symlinks are not followed), by name.
std::vector<std::filesystem::path> drop_dirs(const std::filesystem::path& incoming);

bool has_marker(const std::filesystem::path& dir);

// "VENDOR/PRODUCT/CHANNEL" of the drop.json in dir (empty when unreadable or malformed):
// drops of one line run one at a time, in name order, so that versions are judged in order.
std::string line_of(const std::filesystem::path& dir);

// What "nothing changed" compares: entries, bytes and the newest change time of a tree (walked
// without following symlinks; at most max_entries entries, then it stops counting).
struct Fingerprint {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::int64_t newest_ns = 0;
  bool readable = true;

  bool operator==(const Fingerprint&) const = default;
};

Fingerprint fingerprint(const std::filesystem::path& dir, std::uint64_t max_entries = 1000000);

}  // namespace ecluse::watch::detail
