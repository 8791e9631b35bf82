// The repository side of TUF (tuf-spec 1.0.31 §4, "Document formats"; §6.1 consistent
// snapshots): the next metadata directory after a change of targets or keys, and a timestamp
// refresh. Each file is signed by the keys of its role at hand, a new root by the old root's
// keys too (§5.3.4 requires both thresholds of clients).
#include <ecluse/core/printable.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <algorithm>
#include <set>

#include "document.hpp"

namespace ecluse::tuf {

namespace {

using detail::Role;

const RoleKeys& role_of(const Roles& roles, Role r) {
  switch (r) {
    case Role::root:
      return roles.root;
    case Role::targets:
      return roles.targets;
    case Role::snapshot:
      return roles.snapshot;
    case Role::timestamp:
      break;
  }
  return roles.timestamp;
}

std::string versioned(std::uint64_t version, std::string_view name) {
  return std::to_string(version) + "." + std::string(name);
}

Result<detail::Document> read(const Files& files, const std::string& name, Role role) {
  const auto it = files.find(name);
  if (it == files.end()) {
    return fail(reason::k_tuf_metadata_missing, name + ": not in the repository", name);
  }
  return detail::parse_document(it->second, role, name);
}

// The repository's own latest files, parsed but not verified.
struct Current {
  std::uint64_t root_version = 0;  // 0: an empty repository
  TimePoint root_expires{};
  Roles roles;
  std::uint64_t targets_version = 0;
  std::uint64_t snapshot_version = 0;
  std::uint64_t timestamp_version = 0;
};

Result<Current> read_current(const Files& files) {
  Current c;
  if (files.empty()) {
    return c;
  }
  const auto n = detail::latest_root_version(files);
  const std::string root_name = versioned(n.value_or(1), "root.json");
  ECLUSE_TRY(root_doc, read(files, root_name, Role::root));
  ECLUSE_TRY(root, detail::parse_root(root_doc, root_name));
  c.root_version = root_doc.version;
  c.root_expires = root_doc.expires;
  c.roles = Roles{root.role_keys(Role::root),
                  root.role_keys(Role::targets),
                  root.role_keys(Role::snapshot),
                  root.role_keys(Role::timestamp)};
  ECLUSE_TRY(targets, read(files, "targets.json", Role::targets));
  ECLUSE_TRY(snapshot, read(files, "snapshot.json", Role::snapshot));
  ECLUSE_TRY(timestamp, read(files, "timestamp.json", Role::timestamp));
  c.targets_version = targets.version;
  c.snapshot_version = snapshot.version;
  c.timestamp_version = timestamp.version;
  return c;
}

std::set<std::string> key_ids(const RoleKeys& role) {
  std::set<std::string> out;
  for (const auto& k : role.keys) {
    out.insert(k.key_id());
  }
  return out;
}

bool same_roles(const Roles& a, const Roles& b) {
  return std::all_of(detail::k_roles.begin(), detail::k_roles.end(), [&](Role r) {
    return role_of(a, r).threshold == role_of(b, r).threshold
           && key_ids(role_of(a, r)) == key_ids(role_of(b, r));
  });
}

// {"keyids", "threshold"} of one role, its key objects added to `keys`.
Result<json::Json> role_entry(const RoleKeys& role, std::string_view name, json::Json& keys) {
  json::Json ids = json::Json::array();
  std::set<std::string> seen;
  for (const auto& key : role.keys) {
    ECLUSE_TRY(object, key_object(key));
    ECLUSE_TRY(id, key_id(key));
    if (seen.insert(id).second) {
      ids.push_back(id);
    }
    keys[id] = std::move(object);
  }
  if (role.threshold == 0 || ids.size() < role.threshold) {
    return fail(reason::k_tuf_threshold,
                "the " + std::string(name) + " role's threshold " + std::to_string(role.threshold)
                    + " cannot be met by its " + std::to_string(ids.size()) + " distinct keys",
                std::string(name));
  }
  json::Json entry = json::Json::object();
  entry["keyids"] = std::move(ids);
  entry["threshold"] = role.threshold;
  return entry;
}

Result<json::Json> root_signed(const Roles& roles, std::uint64_t version, TimePoint expires) {
  json::Json s = detail::signed_header(Role::root, version, expires);
  json::Json keys = json::Json::object();
  json::Json entries = json::Json::object();
  for (const auto r : detail::k_roles) {
    ECLUSE_TRY(entry, role_entry(role_of(roles, r), detail::to_string(r), keys));
    entries[std::string(detail::to_string(r))] = std::move(entry);
  }
  s["consistent_snapshot"] = true;
  s["keys"] = std::move(keys);
  s["roles"] = std::move(entries);
  return s;
}

Result<json::Json> targets_signed(const std::vector<Target>& targets,
                                  std::uint64_t version,
                                  TimePoint expires) {
  json::Json s = detail::signed_header(Role::targets, version, expires);
  json::Json list = json::Json::object();
  for (const auto& t : targets) {
    const std::string what = "targets.json: target " + printable(t.path);
    if (!detail::is_clean_target_path(t.path) || list.contains(t.path)) {
      return fail(
          reason::k_tuf_bad_metadata, what + ": not a clean relative path, or twice", t.path);
    }
    if (!crypto::Digest::from_hex(t.sha256) || !t.custom.is_object()) {
      return fail(
          reason::k_tuf_bad_metadata, what + ": sha256 not hex or custom not an object", t.path);
    }
    json::Json hashes = json::Json::object();
    hashes["sha256"] = t.sha256;
    json::Json entry = json::Json::object();
    entry["length"] = t.length;
    entry["hashes"] = std::move(hashes);
    entry["custom"] = t.custom;
    list[t.path] = std::move(entry);
  }
  s["targets"] = std::move(list);
  return s;
}

// Timestamp's description of the snapshot file it names (§4.5).
Result<json::Json> timestamp_signed(std::string_view snapshot_file,
                                    std::uint64_t snapshot_version,
                                    std::uint64_t version,
                                    TimePoint expires) {
  ECLUSE_TRY(digest, crypto::sha256(snapshot_file));
  json::Json hashes = json::Json::object();
  hashes["sha256"] = digest.hex();
  json::Json entry = json::Json::object();
  entry["version"] = snapshot_version;
  entry["length"] = snapshot_file.size();
  entry["hashes"] = std::move(hashes);
  json::Json s = detail::signed_header(Role::timestamp, version, expires);
  s["meta"] = json::Json::object();
  s["meta"]["snapshot.json"] = std::move(entry);
  return s;
}

// The signers of a new root: a threshold of the new root's keys and of the old one's.
Result<std::vector<const crypto::SigningKey*>> root_signers(const Current& cur,
                                                            const UpdateRequest& req,
                                                            const std::string& name) {
  ECLUSE_TRY(out, detail::signers_for(req.roles.root, req.signers, name + " (its root role)"));
  if (cur.root_version == 0) {
    return out;
  }
  const std::string old = versioned(cur.root_version, "root.json");
  ECLUSE_TRY(olds,
             detail::signers_for(cur.roles.root, req.signers, name + " (" + old + "'s root role)"));
  for (const auto* s : olds) {
    if (std::find(out.begin(), out.end(), s) == out.end()) {
      out.push_back(s);
    }
  }
  return out;
}

// Signs `signed_part` with the role's keys at hand into files[n] for each of `names`.
Status put(Files& files,
           const json::Json& signed_part,
           const RoleKeys& role,
           std::span<const crypto::SigningKey* const> signers,
           const std::vector<std::string>& names) {
  ECLUSE_TRY(keys, detail::signers_for(role, signers, names.front()));
  ECLUSE_TRY(text, detail::sign_document(signed_part, keys, names.front()));
  for (const auto& n : names) {
    files[n] = text;
  }
  return {};
}

// A file about to be written must not exist yet: a published version is never rewritten.
Status check_unpublished(const Files& files, const std::string& name) {
  if (files.contains(name)) {
    return fail(reason::k_tuf_rollback,
                name + ": exists already, newer than the repository's latest copy",
                name);
  }
  return {};
}

// Root N+1 when the roles change or the current root would expire before the files written
// now (a repository whose root expires first is frozen for every client).
Status put_root(Files& out, const Current& cur, const UpdateRequest& req) {
  const auto longest =
      std::max({req.expiries.targets, req.expiries.snapshot, req.expiries.timestamp});
  if (cur.root_version != 0 && same_roles(cur.roles, req.roles)
      && cur.root_expires > req.now + longest) {
    return {};
  }
  const std::string name = versioned(cur.root_version + 1, "root.json");
  ECLUSE_CHECK(check_unpublished(out, name));
  ECLUSE_TRY(signed_part,
             root_signed(req.roles, cur.root_version + 1, req.now + req.expiries.root));
  ECLUSE_TRY(signers, root_signers(cur, req, name));
  ECLUSE_TRY(text, detail::sign_document(signed_part, signers, name));
  out[name] = text;
  out["root.json"] = std::move(text);
  return {};
}

}  // namespace

Result<Files> update(const Files& current, const UpdateRequest& req) {
  ECLUSE_TRY(cur, read_current(current));
  Files out = current;
  ECLUSE_CHECK(put_root(out, cur, req));
  const auto targets_v = cur.targets_version + 1;
  const auto snapshot_v = cur.snapshot_version + 1;
  const auto targets_name = versioned(targets_v, "targets.json");
  const auto snapshot_name = versioned(snapshot_v, "snapshot.json");
  ECLUSE_CHECK(check_unpublished(out, targets_name));
  ECLUSE_CHECK(check_unpublished(out, snapshot_name));
  ECLUSE_TRY(targets, targets_signed(req.targets, targets_v, req.now + req.expiries.targets));
  ECLUSE_CHECK(put(out, targets, req.roles.targets, req.signers, {targets_name, "targets.json"}));
  json::Json snapshot =
      detail::signed_header(Role::snapshot, snapshot_v, req.now + req.expiries.snapshot);
  snapshot["meta"] = json::Json::object();
  snapshot["meta"]["targets.json"] = json::Json::object({{"version", targets_v}});
  ECLUSE_CHECK(
      put(out, snapshot, req.roles.snapshot, req.signers, {snapshot_name, "snapshot.json"}));
  ECLUSE_TRY(timestamp,
             timestamp_signed(out[snapshot_name],
                              snapshot_v,
                              cur.timestamp_version + 1,
                              req.now + req.expiries.timestamp));
  ECLUSE_CHECK(put(out, timestamp, req.roles.timestamp, req.signers, {"timestamp.json"}));
  return out;
}

Result<Files> refresh_timestamp(const Files& current,
                                std::span<const crypto::SigningKey* const> signers,
                                TimePoint now,
                                const Expiries& expiries) {
  ECLUSE_TRY(cur, read_current(current));
  if (cur.root_version == 0) {
    return fail(
        reason::k_tuf_metadata_missing, "1.root.json: not in the repository", "1.root.json");
  }
  ECLUSE_TRY(old, read(current, "timestamp.json", Role::timestamp));
  ECLUSE_TRY(meta, detail::parse_meta(old, "snapshot.json", "timestamp.json"));
  const auto snapshot_name = versioned(meta.version, "snapshot.json");
  const auto snapshot = current.find(snapshot_name);
  if (snapshot == current.end()) {
    return fail(
        reason::k_tuf_metadata_missing, snapshot_name + ": not in the repository", snapshot_name);
  }
  ECLUSE_TRY(
      timestamp,
      timestamp_signed(snapshot->second, meta.version, old.version + 1, now + expiries.timestamp));
  Files out = current;
  ECLUSE_CHECK(put(out, timestamp, cur.roles.timestamp, signers, {"timestamp.json"}));
  return out;
}

Result<std::vector<Target>> current_targets(const Files& current) {
  if (current.empty()) {
    return std::vector<Target>{};
  }
  ECLUSE_TRY(doc, read(current, "targets.json", Role::targets));
  return detail::parse_targets(doc, "targets.json");
}

}  // namespace ecluse::tuf
