// TUF key objects and key ids (tuf-spec 1.0.31 §4.2 "KEYID", §4.3 "keys"): writing them for
// ecluse's three key types and reading them back from a root, key id checked.
#include <ecluse/crypto/sha256.hpp>

#include <algorithm>

#include "document.hpp"

namespace ecluse::tuf {

namespace {

// The DER SubjectPublicKeyInfo of an Ed25519 key is this prefix and the 32 raw key bytes.
constexpr std::string_view k_ed25519_spki_prefix{"\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00",
                                                 12};
constexpr std::size_t k_ed25519_raw_size = 32;
constexpr std::string_view k_pem_header = "-----BEGIN PUBLIC KEY-----";

// The TUF keytype of each key type (the scheme is crypto::scheme_of's).
std::string_view keytype_of(crypto::KeyType t) {
  switch (t) {
    case crypto::KeyType::ed25519:
      return "ed25519";
    case crypto::KeyType::ecdsa_p256:
      return "ecdsa";
    case crypto::KeyType::rsa_3072:
      return "rsa";
  }
  return "?";
}

// The key type a (keytype, scheme) pair names, or nullopt for pairs ecluse does not verify.
std::optional<crypto::KeyType> type_named(std::string_view keytype, std::string_view scheme) {
  for (const auto t :
       {crypto::KeyType::ed25519, crypto::KeyType::ecdsa_p256, crypto::KeyType::rsa_3072}) {
    if (keytype == keytype_of(t) && scheme == crypto::scheme_of(t)) {
      return t;
    }
  }
  return std::nullopt;
}

const std::string* string_member(const json::Json& object, const char* name) {
  const auto it = object.find(name);
  return it == object.end() ? nullptr : it->get_ptr<const std::string*>();
}

Result<crypto::PublicKey> public_key_of(crypto::KeyType type,
                                        const std::string& value,
                                        const std::string& what,
                                        const std::string& file) {
  if (type != crypto::KeyType::ed25519) {
    if (!value.starts_with(k_pem_header)) {
      return fail(
          reason::k_tuf_bad_metadata, what + ": keyval.public is not a PEM public key", file);
    }
    return crypto::parse_public_key(value, reason::k_tuf_bad_metadata, file);
  }
  const auto raw = detail::hex_decode(value);
  if (!raw || raw->size() != k_ed25519_raw_size) {
    return fail(reason::k_tuf_bad_metadata,
                what + ": keyval.public is not 64 hex digits (a raw ed25519 key)",
                file);
  }
  return crypto::parse_public_key(
      std::string(k_ed25519_spki_prefix) + *raw, reason::k_tuf_bad_metadata, file);
}

}  // namespace

Result<json::Json> key_object(const crypto::PublicKey& key) {
  const auto type = crypto::key_type_of(key);
  if (!type) {
    return fail(reason::k_keys_unsupported_type,
                "key " + key.key_id() + ": a " + key.info().type
                    + " key has no TUF scheme in ecluse (ed25519, ecdsa p-256, rsa-3072)",
                key.key_id());
  }
  std::string value;
  if (*type == crypto::KeyType::ed25519) {
    const auto& der = key.der();
    if (der.size() != k_ed25519_spki_prefix.size() + k_ed25519_raw_size
        || !der.starts_with(k_ed25519_spki_prefix)) {
      return fail(reason::k_internal_crypto,
                  "key " + key.key_id() + ": unexpected ed25519 SubjectPublicKeyInfo",
                  key.key_id());
    }
    value = detail::hex_encode(std::string_view(der).substr(k_ed25519_spki_prefix.size()));
  } else {
    value = key.pem();
  }
  json::Json keyval = json::Json::object();
  keyval["public"] = std::move(value);
  json::Json out = json::Json::object();
  out["keytype"] = std::string(keytype_of(*type));
  out["scheme"] = std::string(crypto::scheme_of(*type));
  out["keyval"] = std::move(keyval);
  return out;
}

Result<std::string> key_id(const crypto::PublicKey& key) {
  ECLUSE_TRY(object, key_object(key));
  const auto text = json::canonical(object);
  if (!text) {
    return fail(reason::k_internal, "key " + key.key_id() + ": no canonical form", key.key_id());
  }
  ECLUSE_TRY(digest, crypto::sha256(*text));
  return digest.hex();
}

namespace detail {

std::string_view to_string(Role r) {
  switch (r) {
    case Role::root:
      return "root";
    case Role::targets:
      return "targets";
    case Role::snapshot:
      return "snapshot";
    case Role::timestamp:
      return "timestamp";
  }
  return "?";
}

std::string hex_encode(std::string_view bytes) {
  static constexpr std::string_view k_digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(k_digits[b >> 4U]);
    out.push_back(k_digits[b & 0x0fU]);
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  };
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

// The key id is checked against the object as written (§4.2: the hash of its canonical
// form), so one key cannot appear under two ids to be counted twice towards a threshold.
Result<crypto::PublicKey> parse_key_object(const json::Json& object,
                                           const std::string& keyid,
                                           const std::string& file) {
  const std::string what = file + ": key " + keyid;
  // find() on a value that is not an object finds nothing: no type checks needed first.
  const auto* keytype = string_member(object, "keytype");
  const auto* scheme = string_member(object, "scheme");
  const auto keyval = object.find("keyval");
  const auto* value = keyval == object.end() ? nullptr : string_member(*keyval, "public");
  if (keytype == nullptr || scheme == nullptr || value == nullptr) {
    return fail(reason::k_tuf_bad_metadata,
                what + ": not a key object (keytype, scheme, keyval.public strings)",
                file);
  }
  const auto type = type_named(*keytype, *scheme);
  if (!type) {
    return fail(reason::k_tuf_bad_metadata,
                what + ": unsupported keytype " + *keytype + " with scheme " + *scheme,
                file);
  }
  const auto text = json::canonical(object);
  if (!text) {
    return fail(reason::k_tuf_bad_metadata, what + ": holds a floating-point number", file);
  }
  ECLUSE_TRY(digest, crypto::sha256(*text));
  if (digest.hex() != keyid) {
    return fail(reason::k_tuf_bad_metadata,
                what + ": the key id is not the SHA-256 of the key object's canonical JSON",
                file);
  }
  ECLUSE_TRY(key, public_key_of(*type, *value, what, file));
  if (crypto::key_type_of(key) != type) {
    return fail(reason::k_tuf_bad_metadata,
                what + ": keyval.public is a " + key.info().type + " key, not " + *keytype,
                file);
  }
  return key;
}

RoleKeys RootContent::role_keys(Role r) const {
  RoleKeys out;
  const auto& spec = role(r);
  out.threshold = spec.threshold;
  for (const auto& id : spec.keyids) {
    if (const auto it = keys.find(id); it != keys.end()) {
      out.keys.push_back(it->second);
    }
  }
  return out;
}

}  // namespace detail

}  // namespace ecluse::tuf
