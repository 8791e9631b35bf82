// The workspace's key list and private key references. Invariant: the key list in use is the
// last version of a history whose every version verified against the one before it, and a
// new version is published only once it verifies the same way.
#include <ecluse/core/fs.hpp>
#include <ecluse/keys/keyring.hpp>

#include <cstdlib>
#include <system_error>

#include "keyring_files.hpp"

namespace ecluse::keys {

namespace {

namespace stdfs = std::filesystem;

Result<std::uint64_t> history_length(const stdfs::path& hist) {
  std::error_code ec;
  if (!stdfs::exists(hist, ec)) {
    return std::uint64_t{0};
  }
  std::uint64_t n = 0;
  for (const auto& e : stdfs::directory_iterator(hist, ec)) {
    const auto name = e.path().filename().string();
    const auto dot = name.find('.');
    if (dot == std::string::npos || name.substr(dot) != ".keylist.json") {
      continue;
    }
    n = std::max<std::uint64_t>(n, std::strtoull(name.c_str(), nullptr, 10));
  }
  if (ec) {
    return fail(reason::k_keys_unreadable, "cannot list " + hist.string() + ": " + ec.message());
  }
  return n;
}

Result<std::pair<KeyList, std::string>> walk_history(const stdfs::path& dir) {
  ECLUSE_TRY(n, history_length(dir / "history"));
  KeyList list;
  std::string last;
  for (std::uint64_t v = 1; v <= n; ++v) {
    const auto item = "keys/history/" + std::to_string(v) + ".keylist.json";
    const auto file = dir / "history" / (std::to_string(v) + ".keylist.json");
    // A gap in the history (a version deleted or skipped) breaks the chain: not an I/O error.
    if (!detail::file_exists(file)) {
      return fail(reason::k_keys_bad_keylist,
                  item + " is missing: the history stops before version " + std::to_string(n),
                  item);
    }
    ECLUSE_TRY(text, detail::read_small(file));
    ECLUSE_TRY(next, verify_keylist(text, v == 1 ? nullptr : &list, item));
    if (next.version != v) {
      return fail(reason::k_keys_bad_keylist,
                  item + ": holds version " + std::to_string(next.version),
                  item);
    }
    list = std::move(next);
    last = std::move(text);
  }
  return std::pair{std::move(list), std::move(last)};
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || std::isalnum(static_cast<unsigned char>(name[0])) == 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '@'
           || c == '-';
  });
}

Status check_new_key(const KeyList& list, Role role, const std::string& name) {
  if (role == Role::engineer && !valid_name(name)) {
    return fail(reason::k_usage,
                "an engineer key needs --name: 1 to 64 of [A-Za-z0-9._@-] starting with a letter "
                "or digit",
                name);
  }
  if (!name.empty() && !valid_name(name)) {
    return fail(reason::k_usage, "--name must be 1 to 64 of [A-Za-z0-9._@-]", name);
  }
  if (list.version == 0 && role != Role::root) {
    return fail(reason::k_keys_no_key,
                "the key list has no root key yet: ecluse keys generate --role root first (or "
                "ecluse keys init)");
  }
  const bool single = role == Role::release || role == Role::journal || role == Role::engineer;
  if (single && !list.active(role, role == Role::engineer ? name : "").empty()) {
    return fail(reason::k_usage,
                "an active " + std::string(to_string(role)) + " key"
                    + (role == Role::engineer ? " for " + name : std::string())
                    + " exists already: use ecluse keys rotate",
                std::string(to_string(role)));
  }
  return {};
}

KeyEntry new_entry(const crypto::PublicKey& pub,
                   Role role,
                   const std::string& name,
                   std::string_view backend,
                   TimePoint now) {
  const auto type = crypto::key_type_of(pub).value_or(crypto::KeyType::ed25519);
  return KeyEntry{pub.key_id(),
                  role,
                  name.empty() ? std::string(to_string(role)) : name,
                  type,
                  pub,
                  std::string(backend),
                  format_utc(now),
                  Standing::active,
                  {},
                  {},
                  {}};
}

// Release keys also make CMS signatures, which OpenSSL 3.0 cannot make with Ed25519.
Status check_release_type(Role role, crypto::KeyType type) {
  if (role == Role::release && type == crypto::KeyType::ed25519) {
    return fail(reason::k_keys_unsupported_type,
                "a release key signs CMS signatures per artifact, which OpenSSL 3.0 cannot make "
                "with Ed25519 (RFC 8419): use --type ecdsa-p256 or rsa-3072",
                "release");
  }
  return {};
}

// The list with `old_id` retired and `added` active.
KeyList rotated(const KeyList& list, const std::string& old_id, KeyEntry added, TimePoint now) {
  auto next = list;
  next.updated = format_utc(now);
  for (auto& e : next.keys) {
    if (e.keyid == old_id) {
      e.standing = Standing::retired;
      e.retired = format_utc(now);
    }
  }
  next.keys.push_back(std::move(added));
  return next;
}

}  // namespace

Result<Keyring> Keyring::open(std::filesystem::path dir) {
  ECLUSE_TRY(walked, walk_history(dir));
  auto& [list, last] = walked;
  const auto current = dir / "keylist.json";
  std::error_code ec;
  const bool has_current = stdfs::exists(current, ec);
  if (list.version == 0) {
    if (has_current) {
      return fail(reason::k_keys_bad_keylist,
                  "keys/keylist.json exists but keys/history/ holds no version",
                  "keys/keylist.json");
    }
    return Keyring(std::move(dir), KeyList{});
  }
  auto text = has_current ? detail::read_small(current) : Result<std::string>(std::string());
  if (!text || *text != last) {
    // A crash between writing history/N and keylist.json leaves the older copy: history rules.
    if (has_current && text) {
      auto older = verify_keylist(*text, nullptr, "keys/keylist.json");
      if (!older || older->version >= list.version) {
        return fail(reason::k_keys_bad_keylist,
                    "keys/keylist.json differs from the last version in keys/history/",
                    "keys/keylist.json");
      }
    }
    ECLUSE_CHECK(fs::write_file_atomic(current, last, reason::k_workspace_io));
  }
  return Keyring(std::move(dir), std::move(list));
}

Result<crypto::SigningKey> Keyring::signer(const std::string& keyid) const {
  const auto* entry = m_list.find(keyid);
  if (entry == nullptr) {
    return fail(
        reason::k_keys_unknown_key, "no key " + keyid.substr(0, 16) + " in the key list", keyid);
  }
  ECLUSE_TRY(key, detail::load_private(m_dir, keyid));
  if (key.key_id() != keyid) {
    return fail(reason::k_keys_bad_key_file,
                "keys/private/" + keyid + ": the private key does not match the key list's key",
                keyid);
  }
  return key;
}

Result<crypto::SigningKey> Keyring::active_signer(Role role, const std::string& name) const {
  const auto active = m_list.active(role, name);
  if (active.empty()) {
    return fail(reason::k_keys_no_key,
                "no active " + std::string(to_string(role)) + " key"
                    + (name.empty() ? std::string() : " for " + name)
                    + " in the key list: ecluse keys generate --role "
                    + std::string(to_string(role))
                    + (name.empty() ? std::string() : " --name " + name),
                std::string(to_string(role)));
  }
  std::optional<Error> first;
  for (const auto* e : active) {
    auto key = signer(e->keyid);
    if (key) {
      return key;
    }
    if (!first) {
      first = key.error();
    }
  }
  return fail(*first);
}

Status Keyring::publish(KeyList next, const std::vector<const crypto::SigningKey*>& extra) {
  next.version = m_list.version + 1;
  std::vector<crypto::SigningKey> loaded;
  std::vector<std::string> ids;
  for (const auto* list : {&m_list, &next}) {
    for (const auto* e : list->active(Role::root)) {
      if (std::find(ids.begin(), ids.end(), e->keyid) == ids.end()) {
        ids.push_back(e->keyid);
      }
    }
  }
  std::vector<const crypto::SigningKey*> signers(extra.begin(), extra.end());
  for (const auto& id : ids) {
    const bool given = std::any_of(
        extra.begin(), extra.end(), [&](const crypto::SigningKey* k) { return k->key_id() == id; });
    if (!given) {
      if (auto k = detail::load_private(m_dir, id); k) {
        loaded.push_back(std::move(*k));
      }
    }
  }
  for (const auto& k : loaded) {
    signers.push_back(&k);
  }
  ECLUSE_TRY(text, sign_keylist(next, signers));
  const auto item = "keys/history/" + std::to_string(next.version) + ".keylist.json";
  auto checked = verify_keylist(text, m_list.version == 0 ? nullptr : &m_list, item);
  if (!checked) {
    return fail(reason::k_keys_private_missing,
                "cannot sign key list version " + std::to_string(next.version)
                    + ": not enough root keys are held here (" + checked.error().message + ")");
  }
  ECLUSE_CHECK(fs::make_dirs(m_dir / "history", reason::k_workspace_io));
  ECLUSE_CHECK(
      fs::write_file_atomic(m_dir / "history" / (std::to_string(next.version) + ".keylist.json"),
                            text,
                            reason::k_workspace_io));
  ECLUSE_CHECK(fs::write_file_atomic(m_dir / "keylist.json", text, reason::k_workspace_io));
  m_list = std::move(*checked);
  return {};
}

Result<KeyEntry> Keyring::generate(const GenerateRequest& req, TimePoint now) {
  ECLUSE_TRY(lock, detail::lock_keys(m_dir));
  ECLUSE_TRY(fresh, open(m_dir));
  m_list = fresh.m_list;
  ECLUSE_CHECK(check_new_key(m_list, req.role, req.name));
  ECLUSE_CHECK(check_release_type(req.role, req.type));
  ECLUSE_TRY(pass, detail::passphrase(req.passphrase_env));
  ECLUSE_TRY(made, crypto::generate_key(req.type, pass.view()));
  const auto id = made.public_key.key_id();
  ECLUSE_CHECK(detail::write_pem(m_dir, id, made.private_pem.view(), req.passphrase_env));
  ECLUSE_TRY(key, detail::load_private(m_dir, id));
  auto next = m_list;
  next.updated = format_utc(now);
  next.keys.push_back(new_entry(made.public_key, req.role, req.name, "file", now));
  ECLUSE_CHECK(publish(std::move(next), {&key}));
  return *m_list.find(id);
}

Result<KeyEntry> Keyring::add_pkcs11(const Pkcs11Request& req, TimePoint now) {
  ECLUSE_TRY(lock, detail::lock_keys(m_dir));
  ECLUSE_TRY(fresh, open(m_dir));
  m_list = fresh.m_list;
  ECLUSE_CHECK(check_new_key(m_list, req.role, req.name));
  const json::Json ref{{"pkcs11", req.uri}, {"module", req.module}, {"pin_env", req.pin_env}};
  ECLUSE_TRY(key, detail::load_reference(ref, m_dir / "private"));
  ECLUSE_CHECK(check_release_type(req.role, key.type()));
  const auto id = key.key_id();
  ECLUSE_CHECK(detail::write_reference(m_dir, id, ref));
  auto next = m_list;
  next.updated = format_utc(now);
  next.keys.push_back(new_entry(key.public_key(), req.role, req.name, "pkcs11", now));
  ECLUSE_CHECK(publish(std::move(next), {&key}));
  return *m_list.find(id);
}

Result<KeyEntry> Keyring::rotate(Role role, const std::string& name, TimePoint now) {
  ECLUSE_TRY(lock, detail::lock_keys(m_dir));
  ECLUSE_TRY(fresh, open(m_dir));
  m_list = fresh.m_list;
  const auto active = m_list.active(role, role == Role::engineer ? name : "");
  if (active.size() != 1) {
    return fail(reason::k_keys_no_key,
                "rotate needs exactly one active " + std::string(to_string(role)) + " key"
                    + (role == Role::engineer ? " for " + name : std::string()) + ", found "
                    + std::to_string(active.size()),
                std::string(to_string(role)));
  }
  const KeyEntry old = *active.front();
  ECLUSE_TRY(ref, detail::read_reference(m_dir, old.keyid));
  const auto pass_env = ref.value("passphrase_env", std::string());
  ECLUSE_TRY(pass, detail::passphrase(pass_env));
  ECLUSE_TRY(made, crypto::generate_key(old.type, pass.view()));
  const auto id = made.public_key.key_id();
  ECLUSE_CHECK(detail::write_pem(m_dir, id, made.private_pem.view(), pass_env));
  ECLUSE_TRY(key, detail::load_private(m_dir, id));
  ECLUSE_CHECK(publish(
      rotated(m_list, old.keyid, new_entry(made.public_key, role, old.name, "file", now), now),
      {&key}));
  if (role == Role::release) {
    ECLUSE_CHECK(reissue_release(now));
  }
  return *m_list.find(id);
}

Result<KeyEntry> Keyring::revoke(const std::string& prefix, const std::string& why, TimePoint now) {
  if (why.empty() || why.size() > 1000) {
    return fail(reason::k_usage, "--reason must be 1 to 1000 bytes", "--reason");
  }
  ECLUSE_TRY(lock, detail::lock_keys(m_dir));
  ECLUSE_TRY(fresh, open(m_dir));
  m_list = fresh.m_list;
  ECLUSE_TRY(found, m_list.find_prefix(prefix));
  if (found->standing == Standing::revoked) {
    return fail(reason::k_keys_already_revoked,
                "key " + found->keyid.substr(0, 16) + " was revoked on " + found->revoked,
                found->keyid);
  }
  if (found->role == Role::root && m_list.active(Role::root).size() <= 1
      && found->standing == Standing::active) {
    return fail(reason::k_usage,
                "the only active root key cannot be revoked: rotate it (ecluse keys rotate root) "
                "first",
                found->keyid);
  }
  const auto id = found->keyid;
  auto next = m_list;
  next.updated = format_utc(now);
  for (auto& e : next.keys) {
    if (e.keyid == id) {
      e.standing = Standing::revoked;
      e.revoked = format_utc(now);
      e.revoked_reason = why;
    }
  }
  ECLUSE_CHECK(publish(std::move(next), {}));
  return *m_list.find(id);
}

Result<std::string> Keyring::envelope() const {
  return detail::read_small(m_dir / "keylist.json");
}

}  // namespace ecluse::keys
