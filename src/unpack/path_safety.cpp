// Entry names and link targets: lexical checks first, then the tree's own symlinks.
#include <ecluse/core/printable.hpp>
#include <ecluse/unpack/path_safety.hpp>

#include <utility>
#include <vector>

namespace ecluse::unpack {

namespace {

// Deeper paths cost every check a walk of their components: real trees stay far below.
constexpr std::size_t k_max_components = 256;

tl::unexpected<Error> refuse(const Reason& r, std::string_view raw, const std::string& why) {
  const auto shown = printable(raw);
  return fail(r, "entry '" + shown + "' " + why, shown);
}

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) {
      return parts;
    }
    start = slash + 1;
  }
}

bool has_drive_letter(std::string_view p) {
  return p.size() >= 2 && p[1] == ':'
         && ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z'));
}

// The lexical defects every name and target is checked for, in order of severity.
Status check_lexical(std::string_view raw, std::string_view name) {
  if (name.find('\0') != std::string_view::npos) {
    return refuse(reason::k_unpack_bad_name, raw, "holds a NUL byte");
  }
  if (name.find('\\') != std::string_view::npos) {
    return refuse(reason::k_unpack_path_backslash, raw, "holds a backslash");
  }
  if (name.starts_with('/') || has_drive_letter(name)) {
    return refuse(reason::k_unpack_path_absolute, raw, "is absolute");
  }
  for (const auto part : split(name)) {
    if (part == "..") {
      return refuse(reason::k_unpack_path_traversal, raw, "has a '..' component");
    }
  }
  return {};
}

std::string parent_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

}  // namespace

Result<std::string> check_entry_path(std::string_view raw, const NameLimits& limits) {
  ECLUSE_CHECK(check_lexical(raw, raw));
  std::string_view name = raw;
  while (name.starts_with("./")) {
    name.remove_prefix(2);
  }
  if (name.ends_with('/')) {
    name.remove_suffix(1);
  }
  if (name.empty() || name == ".") {
    return refuse(reason::k_unpack_bad_name, raw, "names nothing");
  }
  if (name.size() > limits.max_path_bytes) {
    return refuse(reason::k_unpack_path_too_long,
                  raw,
                  "is longer than " + std::to_string(limits.max_path_bytes) + " bytes");
  }
  const auto parts = split(name);
  if (parts.size() > k_max_components) {
    return refuse(reason::k_unpack_path_too_long,
                  raw,
                  "has more than " + std::to_string(k_max_components) + " components");
  }
  for (const auto part : parts) {
    if (part.empty() || part == ".") {
      return refuse(reason::k_unpack_bad_name, raw, "has an empty or '.' component");
    }
    if (part.size() > limits.max_name_bytes) {
      return refuse(
          reason::k_unpack_name_too_long,
          raw,
          "has a component longer than " + std::to_string(limits.max_name_bytes) + " bytes");
    }
  }
  return std::string(name);
}

Status TreeGuard::check_parents(const std::string& path) const {
  for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const auto it = m_types.find(std::string_view(path).substr(0, slash));
    if (it == m_types.end() || it->second == EntryType::dir) {
      continue;
    }
    if (it->second == EntryType::symlink) {
      return refuse(reason::k_unpack_write_through_symlink,
                    path,
                    "lies under '" + printable(it->first) + "', a symlink");
    }
    return refuse(
        reason::k_unpack_type_conflict, path, "lies under '" + printable(it->first) + "', a file");
  }
  return {};
}

Status TreeGuard::check_symlink(const std::string& path, std::string_view target) const {
  if (target.empty()) {
    return refuse(reason::k_unpack_symlink_escape, path, "is a symlink with an empty target");
  }
  if (target.size() > m_limits.max_path_bytes) {
    return refuse(reason::k_unpack_path_too_long,
                  path,
                  "is a symlink whose target is longer than "
                      + std::to_string(m_limits.max_path_bytes) + " bytes");
  }
  if (target.find('\0') != std::string_view::npos) {
    return refuse(reason::k_unpack_bad_name, path, "is a symlink whose target holds a NUL byte");
  }
  if (target.find('\\') != std::string_view::npos) {
    return refuse(
        reason::k_unpack_path_backslash, path, "is a symlink whose target holds a backslash");
  }
  if (target.starts_with('/') || has_drive_letter(target)) {
    return refuse(reason::k_unpack_symlink_escape, path, "is a symlink to an absolute path");
  }
  // Walk the target from the link's directory; '..' may not climb above the root, nor climb
  // back out of a component that is a symlink (its real parent is elsewhere). `joined` is the
  // walk's current path; `via_link` says, per component, whether the walk passed a symlink.
  std::string joined = parent_of(path);
  std::vector<bool> via_link;
  if (!joined.empty()) {
    via_link.assign(split(joined).size(), false);
  }
  for (const auto part : split(target)) {
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (via_link.empty() || via_link.back()) {
        return refuse(reason::k_unpack_symlink_escape,
                      path,
                      "is a symlink whose target '" + printable(target) + "' leaves the tree");
      }
      const auto slash = joined.rfind('/');
      joined.resize(slash == std::string::npos ? 0 : slash);
      via_link.pop_back();
      continue;
    }
    const bool before = !via_link.empty() && via_link.back();
    joined += (joined.empty() ? "" : "/") + std::string(part);
    via_link.push_back(before || m_symlinks.contains(joined));
  }
  return {};
}

Status TreeGuard::check_hardlink(const std::string& path, std::string_view target) const {
  auto normal = check_entry_path(target, m_limits);
  if (!normal) {
    return refuse(reason::k_unpack_hardlink_escape,
                  path,
                  "is a hardlink to '" + printable(target) + "', outside the tree");
  }
  const auto it = m_types.find(*normal);
  if (it == m_types.end()) {
    return refuse(reason::k_unpack_hardlink_escape,
                  path,
                  "is a hardlink to '" + printable(target) + "', not seen before it");
  }
  if (it->second != EntryType::file && it->second != EntryType::hardlink) {
    return refuse(reason::k_unpack_hardlink_escape,
                  path,
                  "is a hardlink to '" + printable(target) + "', which is not a regular file");
  }
  return {};
}

Status TreeGuard::admit(const std::string& path, EntryType type, std::string_view target) {
  ECLUSE_CHECK(check_parents(path));
  if (const auto it = m_types.find(path); it != m_types.end()) {
    const bool both_files = (it->second == EntryType::file || it->second == EntryType::hardlink)
                            && (type == EntryType::file || type == EntryType::hardlink);
    if (it->second != type && !both_files) {
      return refuse(reason::k_unpack_type_conflict,
                    path,
                    "is a " + std::string(to_string(type)) + " but was a "
                        + std::string(to_string(it->second)) + " before");
    }
  }
  if (type == EntryType::symlink) {
    if (const auto it = m_symlinks.find(path); it != m_symlinks.end() && it->second != target) {
      return refuse(
          reason::k_unpack_duplicate_entry, path, "is a symlink repeated with another target");
    }
    ECLUSE_CHECK(check_symlink(path, target));
    m_symlinks[path] = std::string(target);
  } else if (type == EntryType::hardlink) {
    ECLUSE_CHECK(check_hardlink(path, target));
  }
  // Parents become directories (implied when the archive does not list them).
  for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    m_types.try_emplace(path.substr(0, slash), EntryType::dir);
  }
  m_types[path] = type;
  return {};
}

Status TreeGuard::finish() const {
  for (const auto& [path, target] : m_symlinks) {
    ECLUSE_CHECK(check_symlink(path, target));
  }
  return {};
}

}  // namespace ecluse::unpack
