// The role-specific contents of TUF metadata (tuf-spec 1.0.31 §4.3 root, §4.4 snapshot, §4.5
// timestamp, §4.6 targets), read strictly: a missing field or a wrong type is tuf.bad_metadata.
#include <ecluse/core/printable.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <algorithm>
#include <limits>

#include "document.hpp"

namespace ecluse::tuf::detail {

namespace {

tl::unexpected<Error> bad(const std::string& file, const std::string& what) {
  return fail(reason::k_tuf_bad_metadata, file + ": " + what, file);
}

std::optional<std::uint64_t> unsigned_member(const json::Json& object, const char* name) {
  const auto it = object.find(name);
  const auto* v =
      it == object.end() ? nullptr : it->get_ptr<const json::Json::number_unsigned_t*>();
  return v == nullptr ? std::nullopt : std::optional<std::uint64_t>(*v);
}

Result<RoleSpec> parse_role(const json::Json& entry,
                            const RootContent& root,
                            const std::string& what,
                            const std::string& file) {
  const auto keyids = entry.find("keyids");
  const auto threshold = unsigned_member(entry, "threshold");
  if (keyids == entry.end() || !keyids->is_array() || !threshold) {
    return bad(file, what + " is not {\"keyids\": […], \"threshold\": integer}");
  }
  if (*threshold < 1 || *threshold > std::numeric_limits<std::uint32_t>::max()) {
    return bad(file, what + " has threshold " + std::to_string(*threshold) + " (at least 1)");
  }
  RoleSpec spec;
  spec.threshold = static_cast<std::uint32_t>(*threshold);
  for (const auto& id : *keyids) {
    const auto* text = id.get_ptr<const std::string*>();
    if (text == nullptr || !root.keys.contains(*text)) {
      return bad(file, what + " names a key id that is not in keys");
    }
    if (std::find(spec.keyids.begin(), spec.keyids.end(), *text) != spec.keyids.end()) {
      return bad(file, what + " names the key " + *text + " twice");
    }
    spec.keyids.push_back(*text);
  }
  return spec;
}

Status parse_keys(const json::Json& keys, RootContent& out, const std::string& file) {
  if (!keys.is_object()) {
    return bad(file, "keys is not an object");
  }
  for (auto it = keys.cbegin(); it != keys.cend(); ++it) {
    ECLUSE_TRY(key, parse_key_object(it.value(), it.key(), file));
    out.keys.emplace(it.key(), std::move(key));
  }
  return {};
}

Status parse_roles(const json::Json& roles, RootContent& out, const std::string& file) {
  if (!roles.is_object() || roles.size() != k_roles.size()) {
    return bad(file, "roles is not an object of exactly root, targets, snapshot, timestamp");
  }
  for (const auto r : k_roles) {
    const auto it = roles.find(std::string(to_string(r)));
    if (it == roles.end()) {
      return bad(file, "roles lacks " + std::string(to_string(r)));
    }
    ECLUSE_TRY(spec, parse_role(*it, out, "role " + std::string(to_string(r)), file));
    out.role(r) = std::move(spec);
  }
  return {};
}

// A digest set (§4.2 HASHES) holding at least a SHA-256, the one ecluse checks.
Result<std::string> parse_sha256(const json::Json& hashes,
                                 const std::string& what,
                                 const std::string& file) {
  const auto it = hashes.find("sha256");
  const auto* hex = it == hashes.end() ? nullptr : it->get_ptr<const std::string*>();
  if (!hashes.is_object() || hex == nullptr || !crypto::Digest::from_hex(*hex)) {
    return bad(file, what + ": hashes has no sha256 of 64 lowercase hex digits");
  }
  return *hex;
}

Result<Target> parse_target(const std::string& path,
                            const json::Json& entry,
                            const std::string& file) {
  const std::string what = "target " + printable(path);
  if (!is_clean_target_path(path)) {
    return bad(file, what + ": not a clean relative path");
  }
  const auto length = unsigned_member(entry, "length");
  const auto hashes = entry.find("hashes");
  if (!length || hashes == entry.end()) {
    return bad(file, what + ": not {\"length\": integer, \"hashes\": {…}}");
  }
  ECLUSE_TRY(sha256, parse_sha256(*hashes, what, file));
  Target t{path, *length, std::move(sha256), json::Json::object()};
  if (const auto custom = entry.find("custom"); custom != entry.end()) {
    if (!custom->is_object()) {
      return bad(file, what + ": custom is not an object");
    }
    t.custom = *custom;
  }
  return t;
}

}  // namespace

bool is_clean_target_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/' || !is_valid_utf8(path)
      || has_unsafe_char(path) || path.find('\\') != std::string_view::npos) {
    return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = std::min(path.find('/', start), path.size());
    const auto segment = path.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return false;
    }
    start = slash + 1;
  }
  return true;
}

Result<RootContent> parse_root(const Document& doc, const std::string& file) {
  const auto& s = doc.signed_part;
  const auto consistent = s.find("consistent_snapshot");
  const auto keys = s.find("keys");
  const auto roles = s.find("roles");
  if (consistent == s.end() || keys == s.end() || roles == s.end()) {
    return bad(file, "signed lacks one of consistent_snapshot, keys, roles");
  }
  const auto* flag = consistent->get_ptr<const json::Json::boolean_t*>();
  if (flag == nullptr || !*flag) {
    return bad(file, "consistent_snapshot is not true (ecluse serves consistent snapshots only)");
  }
  RootContent out;
  ECLUSE_CHECK(parse_keys(*keys, out, file));
  ECLUSE_CHECK(parse_roles(*roles, out, file));
  return out;
}

Result<MetaInfo> parse_meta(const Document& doc, std::string_view name, const std::string& file) {
  const auto meta = doc.signed_part.find("meta");
  const auto entry = meta == doc.signed_part.end() ? meta : meta->find(std::string(name));
  if (meta == doc.signed_part.end() || entry == meta->end() || !entry->is_object()) {
    return bad(file, "meta has no object for " + std::string(name));
  }
  const std::string what = "meta " + std::string(name);
  MetaInfo out;
  const auto version = unsigned_member(*entry, "version");
  if (!version || *version < 1) {
    return bad(file, what + ": version is not an integer of at least 1");
  }
  out.version = *version;
  if (entry->contains("length")) {
    out.length = unsigned_member(*entry, "length");
    if (!out.length) {
      return bad(file, what + ": length is not a non-negative integer");
    }
  }
  if (const auto hashes = entry->find("hashes"); hashes != entry->end()) {
    ECLUSE_TRY(sha256, parse_sha256(*hashes, what, file));
    out.sha256 = std::move(sha256);
  }
  return out;
}

Result<std::vector<Target>> parse_targets(const Document& doc, const std::string& file) {
  const auto& s = doc.signed_part;
  const auto targets = s.find("targets");
  if (targets == s.end() || !targets->is_object()) {
    return bad(file, "targets is not an object");
  }
  if (s.contains("delegations")) {
    return bad(file, "delegations are not supported (top-level roles only)");
  }
  std::vector<Target> out;
  for (auto it = targets->cbegin(); it != targets->cend(); ++it) {
    ECLUSE_TRY(t, parse_target(it.key(), it.value(), file));
    out.push_back(std::move(t));
  }
  std::sort(
      out.begin(), out.end(), [](const Target& a, const Target& b) { return a.path < b.path; });
  return out;
}

}  // namespace ecluse::tuf::detail
