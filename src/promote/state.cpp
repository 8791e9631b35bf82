// What a channel repository's branch holds: its tree, TUF metadata and release records.
#include <ecluse/promote/promote.hpp>

namespace ecluse::promote {

namespace {

constexpr std::string_view k_metadata = "metadata/";
constexpr std::string_view k_releases = "releases/";
constexpr std::string_view k_release_json = "/release.json";

// releases/P/V/release.json → {P, V}; nullopt for any other path.
std::optional<std::pair<std::string, std::string>> release_of(const std::string& path) {
  if (!path.starts_with(k_releases) || !path.ends_with(k_release_json)) {
    return std::nullopt;
  }
  const auto middle =
      path.substr(k_releases.size(), path.size() - k_releases.size() - k_release_json.size());
  const auto slash = middle.find('/');
  if (slash == std::string::npos || middle.find('/', slash + 1) != std::string::npos) {
    return std::nullopt;
  }
  return std::pair{middle.substr(0, slash), middle.substr(slash + 1)};
}

Status read_entry(const repo::Repository& r,
                  const std::string& path,
                  const repo::TreeEntry& entry,
                  ChannelState& st) {
  const auto release = release_of(path);
  if (!release) {
    return {};
  }
  ECLUSE_TRY(bytes, r.read_blob(entry.blob));
  auto parsed = json::parse_strict(bytes);
  if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()) {
    return fail(reason::k_repo_io, "release record " + path + " is not a JSON object", path);
  }
  const bool withdrawn = parsed.value.contains("withdrawn");
  st.releases.push_back({release->first, release->second, std::move(parsed.value), withdrawn});
  return {};
}

}  // namespace

const ReleaseRecord* ChannelState::find(const std::string& product,
                                        const std::string& version) const {
  for (const auto& r : releases) {
    if (r.product == product && r.version == version) {
      return &r;
    }
  }
  return nullptr;
}

Result<tuf::Files> metadata_of(const repo::Repository& r, const repo::Tree& tree) {
  tuf::Files meta;
  for (const auto& [path, entry] : tree) {
    if (path.starts_with(k_metadata) && path.find('/', k_metadata.size()) == std::string::npos) {
      ECLUSE_TRY(bytes, r.read_blob(entry.blob));
      meta.emplace(path.substr(k_metadata.size()), std::move(bytes));
    }
  }
  return meta;
}

Result<ChannelState> read_state(const repo::Repository& r, const std::string& branch) {
  ChannelState st;
  ECLUSE_TRY(head, r.branch(branch));
  st.head = head;
  if (!head) {
    return st;
  }
  ECLUSE_TRY(tree, r.read_tree(*head));
  ECLUSE_TRY(meta, metadata_of(r, tree));
  st.metadata = std::move(meta);
  for (const auto& [path, entry] : tree) {
    ECLUSE_CHECK(read_entry(r, path, entry, st));
  }
  st.tree = std::move(tree);
  return st;
}

}  // namespace ecluse::promote
