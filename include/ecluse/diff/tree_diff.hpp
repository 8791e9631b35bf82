// The tree diff: what changed between two tree manifests, entry by entry, as a pure function.
// Paths join an artifact's path and its entries' paths with '/' (docs/diff-report.md), so an
// entry of app.tar.gz is app.tar.gz/bin/tool and nested archives continue the same way.
#pragma once

#include <ecluse/core/json.hpp>
#include <ecluse/unpack/tree.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ecluse::diff {

enum class ChangeKind { added, removed, modified, renamed, mode, type, target };

std::string_view to_string(ChangeKind k);

// One entry of a tree, flattened: its joined path and the manifest entry it stands for.
struct FlatEntry {
  std::string path;
  const unpack::Entry* entry = nullptr;
  bool leaf = true;  // false for an archive whose contents are listed below it
};

// Every entry of a tree, depth first, sorted by joined path. Pointers borrow from tree.
std::vector<FlatEntry> flatten(const unpack::Tree& tree);

struct Change {
  ChangeKind kind = ChangeKind::added;
  std::string path;
  std::string from;                       // renamed: the old path
  const unpack::Entry* before = nullptr;  // null for added
  const unpack::Entry* after = nullptr;   // null for removed
  bool leaf = true;                       // see FlatEntry
};

struct Summary {
  std::uint64_t entries_before = 0;
  std::uint64_t entries_after = 0;
  std::uint64_t added = 0;
  std::uint64_t removed = 0;
  std::uint64_t modified = 0;
  std::uint64_t renamed = 0;
  std::uint64_t mode_changed = 0;
  std::uint64_t type_changed = 0;
  std::uint64_t target_changed = 0;
  std::uint64_t unchanged = 0;
  std::uint64_t bytes_before =
      0;  // file bytes of leaves (an unpacked archive counts by its contents)
  std::uint64_t bytes_after = 0;

  // Changed entries over the larger tree's entry count (0 for two empty trees).
  [[nodiscard]] double changed_share() const;
  // bytes_after / bytes_before - 1 (0 when both are 0; bytes_after when bytes_before is 0).
  [[nodiscard]] double size_growth() const;
};

struct FolderDelta {
  std::string folder;  // the first two components of the path
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
};

struct TreeDiff {
  std::vector<Change> changes;  // sorted by path
  Summary summary;
  std::vector<FolderDelta> by_folder;  // sorted by folder
};

// Compares two trees. A file (or hardlink) whose content digest leaves one path and appears at
// a new one is a rename, not a removal and an addition. Content changes are `modified` (mode
// and size recorded with it); otherwise a changed type, link target or mode is its own kind.
// Pointers in the result borrow from both trees.
TreeDiff compare_trees(const unpack::Tree& before, const unpack::Tree& after);
// The result would point into temporaries: keep the trees alive (a compile error, not ASan's).
TreeDiff compare_trees(unpack::Tree&& before, const unpack::Tree& after) = delete;
TreeDiff compare_trees(const unpack::Tree& before, unpack::Tree&& after) = delete;
TreeDiff compare_trees(unpack::Tree&& before, unpack::Tree&& after) = delete;

// A change as it appears in diff.json (without classification).
json::Json to_json(const Change& c);
json::Json to_json(const Summary& s);
json::Json to_json(const std::vector<FolderDelta>& folders);

}  // namespace ecluse::diff
