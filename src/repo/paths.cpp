// The path guard of promoted trees. Invariant: a path check_path accepts is relative UTF-8
// whose components are non-empty, not "." or "..", hold no control character or backslash,
// and — on every client's file system (case-insensitive, NTFS with its 8.3 short names,
// trailing dots and spaces and alternate streams, HFS+ with its ignorable code points) — name
// neither the .git directory nor a .gitmodules or .gitattributes file (CVE-2014-9390,
// CVE-2019-1352, CVE-2018-11235).
#include <ecluse/core/printable.hpp>
#include <ecluse/text/unicode.hpp>

#include <git2/sys/path.h>

#include <array>
#include <string>

#include "internal.hpp"

namespace ecluse::repo {

namespace {

// The code points HFS+ ignores in names (git's is_hfs_dotgit list), all three bytes in UTF-8:
// U+200C–U+200F, U+202A–U+202E, U+206A–U+206F and U+FEFF.
// NOLINTBEGIN(misc-misleading-bidirectional): the bidi controls themselves, as bytes
constexpr std::array<std::string_view, 16> k_hfs_ignorable{"\xe2\x80\x8c",
                                                           "\xe2\x80\x8d",
                                                           "\xe2\x80\x8e",
                                                           "\xe2\x80\x8f",
                                                           "\xe2\x80\xaa",
                                                           "\xe2\x80\xab",
                                                           "\xe2\x80\xac",
                                                           "\xe2\x80\xad",
                                                           "\xe2\x80\xae",
                                                           "\xe2\x81\xaa",
                                                           "\xe2\x81\xab",
                                                           "\xe2\x81\xac",
                                                           "\xe2\x81\xad",
                                                           "\xe2\x81\xae",
                                                           "\xe2\x81\xaf",
                                                           "\xef\xbb\xbf"};

// NOLINTEND(misc-misleading-bidirectional)

tl::unexpected<Error> refuse(std::string_view path, const std::string& why) {
  const auto shown = printable(path);
  return fail(reason::k_repo_bad_path, "path '" + shown + "' " + why, shown);
}

std::string without_hfs_ignorables(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  std::size_t i = 0;
  while (i < name.size()) {
    bool skipped = false;
    for (const auto cp : k_hfs_ignorable) {
      if (name.substr(i, cp.size()) == cp) {
        i += cp.size();
        skipped = true;
        break;
      }
    }
    if (!skipped) {
      out.push_back(name[i]);
      ++i;
    }
  }
  return out;
}

// The name NTFS opens: without an alternate stream (":…") and trailing dots and spaces.
std::string_view ntfs_base(std::string_view name) {
  name = name.substr(0, name.find(':'));
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) {
    name.remove_suffix(1);
  }
  return name;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

// PREFIX~N: an NTFS 8.3 short name.
bool is_short_name(std::string_view s, std::string_view prefix) {
  if (!s.starts_with(prefix) || s.size() < prefix.size() + 2 || s[prefix.size()] != '~') {
    return false;
  }
  return s.substr(prefix.size() + 1).find_first_not_of("0123456789") == std::string_view::npos;
}

// The names a client file system may resolve component to, in the forms compared below.
struct Aliases {
  std::string plain;   // HFS ignorables removed, NTFS base, ASCII lower case
  std::string folded;  // Unicode NFKC_Casefold of the NTFS base (empty when not UTF-8)
};

Aliases aliases_of(std::string_view component) {
  const auto hfs = without_hfs_ignorables(component);
  const auto base = ntfs_base(hfs);
  return {ascii_lower(base), text::fold_key(base).value_or(std::string())};
}

bool names_dot_git(const Aliases& a) {
  return a.plain == ".git" || a.folded == ".git" || is_short_name(a.plain, "git");
}

bool libgit2_gitfile(std::string_view c, git_path_gitfile which) {
  return git_path_is_gitfile(c.data(), c.size(), which, GIT_PATH_FS_GENERIC) != 0;
}

bool names_git_file(std::string_view component, const Aliases& a) {
  constexpr std::array<std::string_view, 2> k_files{".gitmodules", ".gitattributes"};
  constexpr std::array<std::string_view, 4> k_short{"gitmod", "gi7eba", "gitatt", "gi7d29"};
  for (const auto f : k_files) {
    if (a.plain == f || a.folded == f) {
      return true;
    }
  }
  for (const auto prefix : k_short) {
    if (is_short_name(a.plain, prefix)) {
      return true;
    }
  }
  return libgit2_gitfile(component, GIT_PATH_GITFILE_GITMODULES)
         || libgit2_gitfile(component, GIT_PATH_GITFILE_GITATTRIBUTES);
}

Status check_component(std::string_view path, std::string_view c) {
  if (c.empty()) {
    return refuse(path, "has an empty component");
  }
  if (c == "." || c == "..") {
    return refuse(path, "has a '" + std::string(c) + "' component");
  }
  const auto a = aliases_of(c);
  if (names_dot_git(a)) {
    return refuse(path, "has a component that names .git");
  }
  if (names_git_file(c, a)) {
    return refuse(path, "names a .gitmodules or .gitattributes file");
  }
  return {};
}

Status check_characters(std::string_view path) {
  for (const char ch : path) {
    const auto u = static_cast<unsigned char>(ch);
    if (u < 0x20U || u == 0x7fU) {
      return refuse(path, "holds a control character");
    }
    if (ch == '\\') {
      return refuse(path, "holds a backslash");
    }
  }
  if (!is_valid_utf8(path)) {
    return refuse(path, "is not valid UTF-8");
  }
  if (has_unsafe_char(path)) {
    return refuse(path, "holds a control or bidirectional formatting character");
  }
  return {};
}

}  // namespace

Status check_path(std::string_view path) {
  ECLUSE_CHECK(ensure_runtime());  // git_path_is_gitfile reports through libgit2's state
  if (path.empty()) {
    return refuse(path, "is empty");
  }
  if (path.front() == '/') {
    return refuse(path, "is absolute");
  }
  ECLUSE_CHECK(check_characters(path));
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    ECLUSE_CHECK(check_component(path, path.substr(start, end - start)));
    if (slash == std::string_view::npos) {
      return {};
    }
    start = slash + 1;
  }
}

}  // namespace ecluse::repo
