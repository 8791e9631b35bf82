// The signed key list: its JSON form, validation, signing and the rotation rule. Invariant: a
// list is returned only after its envelope verified against root keys it (and the version
// before it) names, and every entry's keyid is the digest of the public key it carries.
#include <ecluse/keys/keylist.hpp>

#include <algorithm>
#include <set>

namespace ecluse::keys {

namespace {

constexpr std::array<Role, 4> k_roles{Role::root, Role::release, Role::engineer, Role::journal};

tl::unexpected<Error> bad(const std::string& item, const std::string& what) {
  return fail(reason::k_keys_bad_keylist, item + ": " + what, item);
}

std::string str(const json::Json& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<Standing> parse_standing(std::string_view s) {
  for (const auto st : {Standing::active, Standing::retired, Standing::revoked}) {
    if (s == to_string(st)) {
      return st;
    }
  }
  return std::nullopt;
}

Result<KeyEntry> entry_from_json(const json::Json& k, const std::string& item) {
  if (!k.is_object()) {
    return bad(item, "a key entry is not an object");
  }
  const auto id = str(k, "keyid");
  const auto where = item + ": key " + id.substr(0, 16);
  auto pub = crypto::parse_public_key(str(k, "public_key"), reason::k_keys_bad_keylist, where);
  if (!pub) {
    return fail(pub.error());
  }
  const auto role = parse_role(str(k, "role"));
  const auto type = crypto::parse_key_type(str(k, "type"));
  const auto standing = parse_standing(str(k, "status"));
  if (pub->key_id() != id) {
    return bad(item, "key " + id.substr(0, 16) + ": keyid is not the SHA-256 of its public key");
  }
  if (!role || !type || !standing || crypto::key_type_of(*pub) != type) {
    return bad(item, "key " + id.substr(0, 16) + ": unknown role, type or status");
  }
  KeyEntry e{id,
             *role,
             str(k, "name"),
             *type,
             std::move(*pub),
             str(k, "backend"),
             str(k, "created"),
             *standing,
             {},
             {},
             {}};
  e.retired = str(k, "retired");
  if (k.contains("revoked") && k.at("revoked").is_object()) {
    e.revoked = str(k.at("revoked"), "time");
    e.revoked_reason = str(k.at("revoked"), "reason");
  }
  return e;
}

Status read_thresholds(const json::Json& doc, KeyList& list, const std::string& item) {
  const auto t = doc.value("thresholds", json::Json::object());
  if (!t.is_object()) {
    return bad(item, "thresholds is not an object");
  }
  for (const auto& [name, value] : t.items()) {
    const auto role = parse_role(name);
    if (!role || !value.is_number_unsigned() || value.get<std::uint64_t>() < 1
        || value.get<std::uint64_t>() > 16) {
      return bad(item, "thresholds." + name + " must be a role with a count of 1 to 16");
    }
    list.thresholds[*role] = value.get<std::uint32_t>();
  }
  return {};
}

// Do a threshold of `roots` (active root keys) sign the envelope?
Status signed_by(const crypto::dsse::Envelope& env,
                 const KeyList& roots_of,
                 const std::string& item,
                 const std::string& which) {
  std::vector<crypto::dsse::KnownKey> active;
  for (const auto* e : roots_of.active(Role::root)) {
    active.push_back({e->public_key, false});
  }
  auto v = crypto::dsse::verify(env, active, roots_of.threshold(Role::root), k_keylist_type);
  if (!v) {
    return bad(item, "not signed by a threshold of " + which + " root keys: " + v.error().message);
  }
  return {};
}

}  // namespace

std::string_view to_string(Role r) {
  switch (r) {
    case Role::root:
      return "root";
    case Role::release:
      return "release";
    case Role::engineer:
      return "engineer";
    case Role::journal:
      return "journal";
  }
  return "?";
}

std::optional<Role> parse_role(std::string_view text) {
  for (const auto r : k_roles) {
    if (text == to_string(r)) {
      return r;
    }
  }
  return std::nullopt;
}

std::string_view to_string(Standing s) {
  switch (s) {
    case Standing::active:
      return "active";
    case Standing::retired:
      return "retired";
    case Standing::revoked:
      return "revoked";
  }
  return "?";
}

json::Json KeyEntry::to_json() const {
  json::Json j{{"keyid", keyid},
               {"role", to_string(role)},
               {"name", name},
               {"type", crypto::to_string(type)},
               {"scheme", crypto::scheme_of(type)},
               {"public_key", public_key.pem()},
               {"backend", backend},
               {"created", created},
               {"status", to_string(standing)}};
  if (!retired.empty()) {
    j["retired"] = retired;
  }
  if (!revoked.empty()) {
    j["revoked"] = {{"time", revoked}, {"reason", revoked_reason}};
  }
  return j;
}

const KeyEntry* KeyList::find(std::string_view keyid) const {
  const auto it =
      std::find_if(keys.begin(), keys.end(), [&](const KeyEntry& e) { return e.keyid == keyid; });
  return it == keys.end() ? nullptr : &*it;
}

Result<const KeyEntry*> KeyList::find_prefix(std::string_view prefix) const {
  if (prefix.size() < 8) {
    return fail(reason::k_usage, "a key id needs at least 8 hex digits", std::string(prefix));
  }
  const KeyEntry* found = nullptr;
  for (const auto& e : keys) {
    if (e.keyid.rfind(prefix, 0) == 0) {
      if (found != nullptr) {
        return fail(reason::k_usage,
                    "key id " + std::string(prefix) + " matches several keys",
                    std::string(prefix));
      }
      found = &e;
    }
  }
  if (found == nullptr) {
    return fail(reason::k_keys_unknown_key,
                "no key " + std::string(prefix) + " in the key list",
                std::string(prefix));
  }
  return found;
}

std::vector<const KeyEntry*> KeyList::active(Role role, std::string_view name) const {
  std::vector<const KeyEntry*> out;
  for (const auto& e : keys) {
    if (e.role == role && e.standing == Standing::active && (name.empty() || e.name == name)) {
      out.push_back(&e);
    }
  }
  return out;
}

std::vector<crypto::dsse::KnownKey> KeyList::known(Role role) const {
  std::vector<crypto::dsse::KnownKey> out;
  for (const auto& e : keys) {
    if (e.role == role) {
      out.push_back({e.public_key, e.standing == Standing::revoked});
    }
  }
  return out;
}

std::uint32_t KeyList::threshold(Role role) const {
  const auto it = thresholds.find(role);
  return it == thresholds.end() ? 1U : std::max(it->second, 1U);
}

json::Json KeyList::to_json() const {
  auto t = json::Json::object();
  for (const auto& [role, n] : thresholds) {
    t[std::string(to_string(role))] = n;
  }
  auto list = json::Json::array();
  for (const auto& e : keys) {
    list.push_back(e.to_json());
  }
  return {{"schema", k_keylist_schema},
          {"version", version},
          {"updated", updated},
          {"thresholds", t},
          {"keys", list}};
}

Result<KeyList> KeyList::from_json(const json::Json& doc, const std::string& item) {
  if (!doc.is_object() || str(doc, "schema") != k_keylist_schema) {
    return bad(item, "not an ecluse.keylist/v1 document");
  }
  KeyList list;
  if (!doc.contains("version") || !doc.at("version").is_number_unsigned()
      || doc.at("version").get<std::uint64_t>() == 0) {
    return bad(item, "version must be a positive integer");
  }
  list.version = doc.at("version").get<std::uint64_t>();
  list.updated = str(doc, "updated");
  ECLUSE_CHECK(read_thresholds(doc, list, item));
  const auto keys = doc.value("keys", json::Json::array());
  if (!keys.is_array()) {
    return bad(item, "keys is not an array");
  }
  std::set<std::string> seen;
  for (const auto& k : keys) {
    ECLUSE_TRY(e, entry_from_json(k, item));
    if (!seen.insert(e.keyid).second) {
      return bad(item, "key " + e.keyid.substr(0, 16) + " is listed twice");
    }
    list.keys.push_back(std::move(e));
  }
  if (list.active(Role::root).empty()) {
    return bad(item, "no active root key");
  }
  return list;
}

Result<std::string> sign_keylist(const KeyList& list,
                                 std::span<const crypto::SigningKey* const> root_signers) {
  ECLUSE_TRY(
      env,
      crypto::dsse::sign(
          std::string(k_keylist_type), json::dump_pretty(list.to_json()) + "\n", root_signers));
  return crypto::dsse::serialise(env);
}

Result<KeyList> verify_keylist(std::string_view envelope,
                               const KeyList* previous,
                               const std::string& item) {
  auto env = crypto::dsse::parse(envelope, item);
  if (!env) {
    return bad(item, env.error().message);
  }
  // A later version is authenticated by the version before it before a byte is parsed; the
  // first version can only be checked against the root keys it names itself.
  if (previous != nullptr) {
    ECLUSE_CHECK(signed_by(*env, *previous, item, "the previous version's"));
  }
  const auto parsed = json::parse_strict(env->payload);
  if (parsed.failure != json::ParseFailure::none) {
    return bad(item, "the signed payload is not JSON");
  }
  ECLUSE_TRY(list, KeyList::from_json(parsed.value, item));
  if (previous != nullptr && list.version != previous->version + 1) {
    return bad(item,
               "version " + std::to_string(list.version) + " does not follow version "
                   + std::to_string(previous->version));
  }
  ECLUSE_CHECK(signed_by(*env, list, item, "its own"));
  return list;
}

}  // namespace ecluse::keys
