// Path safety for archive entries: the one place that decides whether an entry's name, type and
// link target may exist inside a tree. Used for every entry while unpacking and again by
// materialise() before anything touches the disk.
//
// Reason codes: unpack.path_absolute, unpack.path_traversal, unpack.path_backslash,
// unpack.bad_name, unpack.path_too_long, unpack.name_too_long, unpack.symlink_escape,
// unpack.write_through_symlink, unpack.hardlink_escape, unpack.type_conflict.
#pragma once

#include <ecluse/core/error.hpp>
#include <ecluse/unpack/tree.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace ecluse::unpack {

struct NameLimits {
  std::uint64_t max_path_bytes = 4096;
  std::uint64_t max_name_bytes = 255;
};

// Normalises an entry name as an archive stores it: leading "./" components and one trailing
// '/' go; anything absolute (leading '/', a drive letter "C:"), a '..' component, a backslash,
// a NUL byte, an empty or '.' component, or a name past the limits is refused. The error's item
// is the raw name.
Result<std::string> check_entry_path(std::string_view raw, const NameLimits& limits);

// The entries of one tree seen so far, checked as they come: nothing may lie under a symlink or
// a file, a directory may not become something else, a hardlink may only name a regular file
// already seen, and a symlink's target must resolve inside the tree (no absolute target, no
// '..' above the root, no '..' after a component that is itself a symlink).
class TreeGuard {
 public:
  explicit TreeGuard(NameLimits limits) : m_limits(limits) {}

  // path must come from check_entry_path; target is the raw link target (symlink, hardlink).
  // A path seen before with the same type is admitted (duplicates are judged by content later).
  Status admit(const std::string& path, EntryType type, std::string_view target);

  // Checks every symlink again against the complete tree (a later entry may have turned a
  // component of an earlier target into a symlink).
  [[nodiscard]] Status finish() const;

 private:
  [[nodiscard]] Status check_parents(const std::string& path) const;
  [[nodiscard]] Status check_symlink(const std::string& path, std::string_view target) const;
  Status check_hardlink(const std::string& path, std::string_view target) const;

  NameLimits m_limits;
  std::map<std::string, EntryType, std::less<>> m_types;       // explicit and implied directories
  std::map<std::string, std::string, std::less<>> m_symlinks;  // path → target
};

}  // namespace ecluse::unpack
