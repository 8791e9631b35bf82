// Tree manifest ↔ JSON (schema ecluse.tree/v1).
#include <ecluse/unpack/tree.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

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

// "0755": one to six octal digits (a manifest is our own output, but never trusted blindly).
std::optional<std::uint32_t> parse_mode(const std::string& text) {
  if (text.empty() || text.size() > 6) {
    return std::nullopt;
  }
  std::uint32_t mode = 0;
  for (const char c : text) {
    if (c < '0' || c > '7') {
      return std::nullopt;
    }
    mode = mode * 8U + static_cast<std::uint32_t>(c - '0');
  }
  return mode;
}

// The fields of one entry, each looked up once (a manifest holds up to millions of entries).
struct EntryFields {
  const json::Json* path = nullptr;
  const json::Json* type = nullptr;
  const json::Json* mode = nullptr;
  const json::Json* sha256 = nullptr;
  const json::Json* size = nullptr;
  const json::Json* target = nullptr;
  const json::Json* format = nullptr;
  const json::Json* filters = nullptr;
  const json::Json* contents = nullptr;
};

EntryFields fields_of(const json::Json& j) {
  EntryFields f;
  for (const auto& [k, value] : j.get_ref<const json::Json::object_t&>()) {
    const json::Json* v = &value;
    if (k == "path") {
      f.path = v;
    } else if (k == "type") {
      f.type = v;
    } else if (k == "mode") {
      f.mode = v;
    } else if (k == "sha256") {
      f.sha256 = v;
    } else if (k == "size") {
      f.size = v;
    } else if (k == "target") {
      f.target = v;
    } else if (k == "format") {
      f.format = v;
    } else if (k == "filters") {
      f.filters = v;
    } else if (k == "contents") {
      f.contents = v;
    }
  }
  return f;
}

const std::string* string_of(const json::Json* j) {
  return j != nullptr && j->is_string() ? &j->get_ref<const std::string&>() : nullptr;
}

Result<Entry> entry_from_json(const json::Json& j, int depth) {
  if (!j.is_object()) {
    return bad_tree("an entry is not an object");
  }
  const auto f = fields_of(j);
  const auto* path = string_of(f.path);
  const auto* type_text = string_of(f.type);
  const auto* mode_text = string_of(f.mode);
  if (path == nullptr || type_text == nullptr || mode_text == nullptr) {
    return bad_tree("an entry lacks path, type or mode");
  }
  Entry e;
  e.path = *path;
  const auto type = parse_entry_type(*type_text);
  const auto mode = parse_mode(*mode_text);
  if (!type || !mode) {
    return bad_tree("unknown entry type or mode for '" + e.path + "'");
  }
  e.type = *type;
  e.mode = *mode;
  if (f.sha256 != nullptr) {
    const auto* hex = string_of(f.sha256);
    const auto d = hex != nullptr ? crypto::Digest::from_hex(*hex) : std::nullopt;
    if (!d || f.size == nullptr || !f.size->is_number_unsigned()) {
      return bad_tree("bad digest or size for '" + e.path + "'");
    }
    e.sha256 = *d;
    e.size = f.size->get<std::uint64_t>();
  }
  if (const auto* target = string_of(f.target)) {
    e.target = *target;
  }
  if (const auto* format = string_of(f.format); format != nullptr && !format->empty()) {
    e.format = *format;
    if (f.filters != nullptr) {
      e.filters = f.filters->get<std::vector<std::string>>();
    }
    static const json::Json k_none = json::Json::array();
    ECLUSE_TRY(contents, entries_from_json(f.contents != nullptr ? *f.contents : k_none, depth));
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
