// Names and modes that are legal in an archive but dangerous once on disk or in git.
#include <ecluse/core/printable.hpp>
#include <ecluse/text/unicode.hpp>

#include <algorithm>
#include <map>

#include "checks.hpp"

namespace ecluse::unpack::detail {

namespace {

std::string shown(const std::string& chain, const std::string& path) {
  return printable(chain + "//" + path);
}

// ".git", ".GIT", ".git." and ".git " all reach git's directory on some file system.
bool is_git_component(std::string_view part) {
  std::string p(part);
  while (!p.empty() && (p.back() == '.' || p.back() == ' ')) {
    p.pop_back();
  }
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return p == ".git" || p == ".gitmodules" || p == "git~1";
}

bool has_git_component(const std::string& path) {
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    if (is_git_component(std::string_view(path).substr(start, slash - start))) {
      return true;
    }
    if (slash == std::string::npos) {
      return false;
    }
    start = slash + 1;
  }
}

void add(std::vector<NameFinding>& out, const Reason& r, std::string item, std::string detail) {
  out.push_back(NameFinding{&r, std::move(item), std::move(detail)});
}

void entry_findings(const Entry& e, const std::string& chain, std::vector<NameFinding>& out) {
  const auto item = shown(chain, e.path);
  if (!is_valid_utf8(e.path)) {
    add(out, reason::k_unpack_name_invalid_utf8, item, "the name is not valid UTF-8");
  } else if (has_unsafe_char(e.path)) {
    add(out, reason::k_unpack_name_control_char, item, "the name holds a control character");
  }
  if (has_git_component(e.path)) {
    add(out, reason::k_unpack_git_path, item, "a '.git' or '.gitmodules' component");
  }
  if (e.type != EntryType::symlink && (e.mode & 06000U) != 0) {
    add(out,
        reason::k_unpack_setuid,
        item,
        "mode " + mode_string(e.mode) + " sets setuid or setgid");
  }
  if ((e.type == EntryType::file || e.type == EntryType::dir) && (e.mode & 0002U) != 0) {
    add(out,
        reason::k_unpack_world_writable,
        item,
        "mode " + mode_string(e.mode) + " is world-writable");
  }
}

}  // namespace

void name_findings(const std::vector<Entry>& level,
                   const std::string& chain,
                   std::vector<NameFinding>& out) {
  std::map<std::string, std::string> folded;  // fold key → first path
  for (const auto& e : level) {
    entry_findings(e, chain, out);
    const auto key = text::fold_key(e.path);
    if (!key) {
      continue;
    }
    const auto [it, fresh] = folded.emplace(*key, e.path);
    if (!fresh && it->second != e.path) {
      add(out,
          reason::k_unpack_name_collision,
          shown(chain, e.path),
          "collides with '" + printable(it->second) + "' under case folding or normalisation");
    }
  }
}

void merge_duplicates(std::vector<Entry>& level,
                      const std::string& chain,
                      std::vector<NameFinding>& out) {
  std::vector<Entry> kept;
  kept.reserve(level.size());
  for (auto& e : level) {
    if (kept.empty() || kept.back().path != e.path) {
      kept.push_back(std::move(e));
      continue;
    }
    const auto& first = kept.back();
    const bool same = first.type == e.type && first.mode == e.mode && first.sha256 == e.sha256
                      && first.size == e.size && first.target == e.target;
    if (!same) {
      add(out,
          reason::k_unpack_duplicate_entry,
          shown(chain, e.path),
          "the archive holds this path more than once with different content, type or mode");
    }
  }
  level = std::move(kept);
}

}  // namespace ecluse::unpack::detail
