// Tree manifest ↔ JSON (schema ecluse.tree/v1).
#include <ecluse/unpack/tree.hpp>

#include <algorithm>
#include <array>
#include <cstdio>

namespace ecluse::unpack {

namespace {

constexpr std::string_view k_tree_schema = "ecluse.tree/v1";

json::Json entry_json(const Entry& e);

json::Json entries_json(const std::vector<Entry>& entries) {
  auto out = json::Json::array();
  for (const auto& e : entries) {
    out.push_back(entry_json(e));
  }
  return out;
}

json::Json entry_json(const Entry& e) {
  json::Json j{{"path", e.path}, {"type", to_string(e.type)}, {"mode", mode_string(e.mode)}};
  if (e.type == EntryType::file || e.type == EntryType::hardlink) {
    j["size"] = e.size;
    j["sha256"] = e.sha256.hex();
  }
  if (!e.target.empty()) {
    j["target"] = e.target;
  }
  if (!e.format.empty()) {
    j["format"] = e.format;
    j["filters"] = e.filters;
    j["contents"] = entries_json(e.contents);
  }
  return j;
}

tl::unexpected<Error> bad_tree(const std::string& why) {
  return fail(reason::k_store_object_corrupt, "tree manifest: " + why, "tree.json");
}

Result<Entry> entry_from_json(const json::Json& j, int depth);

Result<std::vector<Entry>> entries_from_json(const json::Json& j, int depth) {
  if (!j.is_array() || depth > 64) {
    return bad_tree("contents must be an array (at most 64 levels)");
  }
  std::vector<Entry> out;
  out.reserve(j.size());
  for (const auto& e : j) {
    ECLUSE_TRY(entry, entry_from_json(e, depth + 1));
    out.push_back(std::move(entry));
  }
  return out;
}

Result<Entry> entry_from_json(const json::Json& j, int depth) {
  if (!j.is_object() || !j.contains("path") || !j["path"].is_string() || !j.contains("type")
      || !j["type"].is_string() || !j.contains("mode") || !j["mode"].is_string()) {
    return bad_tree("an entry lacks path, type or mode");
  }
  Entry e;
  e.path = j["path"].get<std::string>();
  const auto type = parse_entry_type(j["type"].get<std::string>());
  if (!type) {
    return bad_tree("unknown entry type for '" + e.path + "'");
  }
  e.type = *type;
  e.mode = static_cast<std::uint32_t>(std::stoul(j["mode"].get<std::string>(), nullptr, 8));
  if (j.contains("sha256")) {
    const auto d = crypto::Digest::from_hex(j.value("sha256", ""));
    if (!d || !j.contains("size") || !j["size"].is_number_unsigned()) {
      return bad_tree("bad digest or size for '" + e.path + "'");
    }
    e.sha256 = *d;
    e.size = j["size"].get<std::uint64_t>();
  }
  e.target = j.value("target", "");
  e.format = j.value("format", "");
  if (!e.format.empty()) {
    e.filters = j.value("filters", std::vector<std::string>{});
    ECLUSE_TRY(contents, entries_from_json(j.value("contents", json::Json::array()), depth));
    e.contents = std::move(contents);
  }
  return e;
}

}  // namespace

std::string_view to_string(EntryType t) {
  switch (t) {
    case EntryType::file:
      return "file";
    case EntryType::dir:
      return "dir";
    case EntryType::symlink:
      return "symlink";
    case EntryType::hardlink:
      return "hardlink";
  }
  return "file";
}

std::optional<EntryType> parse_entry_type(std::string_view text) {
  for (const auto t : {EntryType::file, EntryType::dir, EntryType::symlink, EntryType::hardlink}) {
    if (to_string(t) == text) {
      return t;
    }
  }
  return std::nullopt;
}

std::string mode_string(std::uint32_t mode) {
  std::array<char, 16> buf{};
  (void)std::snprintf(buf.data(), buf.size(), "%04o", mode & 07777U);
  return buf.data();
}

json::Json to_json(const Tree& tree) {
  return json::Json{{"schema", k_tree_schema}, {"artifacts", entries_json(tree.artifacts)}};
}

Result<Tree> tree_from_json(const json::Json& j) {
  if (!j.is_object() || j.value("schema", "") != k_tree_schema || !j.contains("artifacts")) {
    return bad_tree("not an " + std::string(k_tree_schema) + " document");
  }
  try {
    ECLUSE_TRY(artifacts, entries_from_json(j["artifacts"], 0));
    return Tree{std::move(artifacts)};
  } catch (const std::exception& e) {
    return bad_tree(e.what());
  }
}

void sort_entries(std::vector<Entry>& entries) {
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.path < b.path;
  });
  for (auto& e : entries) {
    sort_entries(e.contents);
  }
}

std::size_t count_entries(const std::vector<Entry>& entries) {
  std::size_t n = entries.size();
  for (const auto& e : entries) {
    n += count_entries(e.contents);
  }
  return n;
}

}  // namespace ecluse::unpack
