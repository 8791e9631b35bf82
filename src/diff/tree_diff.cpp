// The tree diff: a merge of two flattened, path-sorted manifests, then rename pairing by digest.
#include <ecluse/diff/tree_diff.hpp>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace ecluse::diff {

namespace {

using unpack::Entry;
using unpack::EntryType;

void flatten_into(const std::vector<Entry>& level,
                  const std::string& prefix,
                  std::vector<FlatEntry>& out) {
  for (const auto& e : level) {
    std::string path = prefix.empty() ? e.path : prefix + "/" + e.path;
    const bool leaf = e.contents.empty();
    out.push_back(FlatEntry{path, &e, leaf});
    if (!leaf) {
      flatten_into(e.contents, path, out);
    }
  }
}

bool has_content(const Entry& e) {
  return e.type == EntryType::file || e.type == EntryType::hardlink;
}

bool same_content(const Entry& a, const Entry& b) {
  return a.size == b.size && a.sha256 == b.sha256;
}

// The kind of change between two entries at one path, or nullopt when they are equal.
std::optional<ChangeKind> change_between(const Entry& a, const Entry& b) {
  if (a.type != b.type) {
    return ChangeKind::type;
  }
  if (has_content(a) && !same_content(a, b)) {
    return ChangeKind::modified;
  }
  if (a.target != b.target) {
    return ChangeKind::target;
  }
  if (a.mode != b.mode) {
    return ChangeKind::mode;
  }
  return std::nullopt;
}

std::uint64_t leaf_bytes(const FlatEntry& f) {
  return f.leaf && f.entry->type == EntryType::file ? f.entry->size : 0;
}

std::string folder_of(const std::string& path) {
  const auto first = path.find('/');
  if (first == std::string::npos) {
    return ".";
  }
  const auto second = path.find('/', first + 1);
  if (second == std::string::npos) {
    return path.substr(0, first);
  }
  return path.substr(0, second);
}

struct Builder {
  TreeDiff out;
  std::map<std::string, FolderDelta> folders;

  void count_before(const FlatEntry& f) {
    out.summary.bytes_before += leaf_bytes(f);
    if (leaf_bytes(f) > 0) {
      folders[folder_of(f.path)].bytes_before += leaf_bytes(f);
    }
  }

  void count_after(const FlatEntry& f) {
    out.summary.bytes_after += leaf_bytes(f);
    if (leaf_bytes(f) > 0) {
      folders[folder_of(f.path)].bytes_after += leaf_bytes(f);
    }
  }

  void add(ChangeKind kind, const FlatEntry* before, const FlatEntry* after) {
    const auto& at = after != nullptr ? *after : *before;
    out.changes.push_back(Change{kind,
                                 at.path,
                                 {},
                                 before != nullptr ? before->entry : nullptr,
                                 after != nullptr ? after->entry : nullptr,
                                 at.leaf});
  }
};

// Pairs removed and added files of equal content into renames (each removed path used once).
void pair_renames(std::vector<Change>& changes) {
  std::unordered_map<std::string, std::vector<std::size_t>> removed;  // digest → indices
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const auto& c = changes[i];
    if (c.kind == ChangeKind::removed && c.leaf && c.before->type == EntryType::file) {
      removed[c.before->sha256.hex()].push_back(i);
    }
  }
  if (removed.empty()) {
    return;
  }
  std::vector<bool> drop(changes.size(), false);
  for (auto& c : changes) {
    if (c.kind != ChangeKind::added || !c.leaf || c.after->type != EntryType::file) {
      continue;
    }
    auto it = removed.find(c.after->sha256.hex());
    if (it == removed.end() || it->second.empty()) {
      continue;
    }
    const auto from = it->second.front();
    it->second.erase(it->second.begin());
    c.kind = ChangeKind::renamed;
    c.from = changes[from].path;
    c.before = changes[from].before;
    drop[from] = true;
  }
  std::size_t keep = 0;
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (!drop[i]) {
      if (keep != i) {
        changes[keep] = std::move(changes[i]);
      }
      ++keep;
    }
  }
  changes.resize(keep);
}

void tally(TreeDiff& d) {
  auto& s = d.summary;
  for (const auto& c : d.changes) {
    switch (c.kind) {
      case ChangeKind::added:
        ++s.added;
        break;
      case ChangeKind::removed:
        ++s.removed;
        break;
      case ChangeKind::modified:
        ++s.modified;
        break;
      case ChangeKind::renamed:
        ++s.renamed;
        break;
      case ChangeKind::mode:
        ++s.mode_changed;
        break;
      case ChangeKind::type:
        ++s.type_changed;
        break;
      case ChangeKind::target:
        ++s.target_changed;
        break;
    }
  }
}

}  // namespace

std::string_view to_string(ChangeKind k) {
  switch (k) {
    case ChangeKind::added:
      return "added";
    case ChangeKind::removed:
      return "removed";
    case ChangeKind::modified:
      return "modified";
    case ChangeKind::renamed:
      return "renamed";
    case ChangeKind::mode:
      return "mode";
    case ChangeKind::type:
      return "type";
    case ChangeKind::target:
      return "target";
  }
  return "unknown";
}

std::vector<FlatEntry> flatten(const unpack::Tree& tree) {
  std::vector<FlatEntry> out;
  flatten_into(tree.artifacts, {}, out);
  std::sort(out.begin(), out.end(), [](const FlatEntry& a, const FlatEntry& b) {
    return a.path < b.path;
  });
  return out;
}

double Summary::changed_share() const {
  const auto changed =
      added + removed + modified + renamed + mode_changed + type_changed + target_changed;
  const auto total = std::max(entries_before, entries_after);
  return total == 0 ? 0.0 : static_cast<double>(changed) / static_cast<double>(total);
}

double Summary::size_growth() const {
  if (bytes_before == 0) {
    return static_cast<double>(bytes_after);
  }
  return static_cast<double>(bytes_after) / static_cast<double>(bytes_before) - 1.0;
}

TreeDiff compare_trees(const unpack::Tree& before, const unpack::Tree& after) {
  const auto a = flatten(before);
  const auto b = flatten(after);
  Builder bld;
  bld.out.summary.entries_before = a.size();
  bld.out.summary.entries_after = b.size();
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].path < b[j].path)) {
      bld.count_before(a[i]);
      bld.add(ChangeKind::removed, &a[i++], nullptr);
    } else if (i == a.size() || b[j].path < a[i].path) {
      bld.count_after(b[j]);
      bld.add(ChangeKind::added, nullptr, &b[j++]);
    } else {
      bld.count_before(a[i]);
      bld.count_after(b[j]);
      if (auto kind = change_between(*a[i].entry, *b[j].entry)) {
        bld.add(*kind, &a[i], &b[j]);
      } else {
        ++bld.out.summary.unchanged;
      }
      ++i;
      ++j;
    }
  }
  pair_renames(bld.out.changes);
  tally(bld.out);
  for (auto& [name, delta] : bld.folders) {
    delta.folder = name;
    bld.out.by_folder.push_back(std::move(delta));
  }
  return std::move(bld.out);
}

json::Json to_json(const Change& c) {
  json::Json j{{"path", c.path}, {"change", to_string(c.kind)}};
  const auto* now = c.after != nullptr ? c.after : c.before;
  j["type"] = unpack::to_string(now->type);
  if (c.before != nullptr && c.after != nullptr && c.before->type != c.after->type) {
    j["type_before"] = unpack::to_string(c.before->type);
  }
  if (!c.from.empty()) {
    j["from"] = c.from;
  }
  if (c.before != nullptr && has_content(*c.before)) {
    j["size_before"] = c.before->size;
    j["sha256_before"] = c.before->sha256.hex();
  }
  if (c.after != nullptr && has_content(*c.after)) {
    j["size_after"] = c.after->size;
    j["sha256"] = c.after->sha256.hex();
  }
  const auto size_of = [](const Entry* e) -> std::int64_t {
    return e != nullptr && has_content(*e) ? static_cast<std::int64_t>(e->size) : 0;
  };
  j["size_delta"] = size_of(c.after) - size_of(c.before);
  if (c.before != nullptr && c.after != nullptr && c.before->mode != c.after->mode) {
    j["mode_before"] = unpack::mode_string(c.before->mode);
    j["mode_after"] = unpack::mode_string(c.after->mode);
  } else {
    j["mode"] = unpack::mode_string(now->mode);
  }
  if (c.before != nullptr && !c.before->target.empty()) {
    j["target_before"] = c.before->target;
  }
  if (c.after != nullptr && !c.after->target.empty()) {
    j["target_after"] = c.after->target;
  }
  return j;
}

json::Json to_json(const Summary& s) {
  return {{"entries_before", s.entries_before},
          {"entries_after", s.entries_after},
          {"added", s.added},
          {"removed", s.removed},
          {"modified", s.modified},
          {"renamed", s.renamed},
          {"mode_changed", s.mode_changed},
          {"type_changed", s.type_changed},
          {"target_changed", s.target_changed},
          {"unchanged", s.unchanged},
          {"bytes_before", s.bytes_before},
          {"bytes_after", s.bytes_after},
          {"changed_share", s.changed_share()},
          {"size_growth", s.size_growth()}};
}

json::Json to_json(const std::vector<FolderDelta>& folders) {
  auto out = json::Json::array();
  for (const auto& f : folders) {
    out.push_back(
        {{"folder", f.folder},
         {"bytes_before", f.bytes_before},
         {"bytes_after", f.bytes_after},
         {"delta",
          static_cast<std::int64_t>(f.bytes_after) - static_cast<std::int64_t>(f.bytes_before)}});
  }
  return out;
}

}  // namespace ecluse::diff
