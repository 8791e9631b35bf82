// One TUF metadata file (tuf-spec 1.0.31 §4.2): the envelope and common fields parsed
// strictly, signatures counted against a role's threshold, expiry, length and hash; and the
// writing side, signing a new file with the keys of its role.
//
// Invariant: a signature counts only when its key id is one of the role's, the key verifies
// it over the canonical bytes of "signed", and neither that key id nor that public key has
// been counted already.
#include "document.hpp"

#include <ecluse/core/printable.hpp>
#include <ecluse/crypto/sha256.hpp>

#include <algorithm>
#include <charconv>
#include <set>

namespace ecluse::tuf::detail {

namespace {

tl::unexpected<Error> bad(const std::string& file, const std::string& what) {
  return fail(reason::k_tuf_bad_metadata, file + ": " + what, file);
}

Result<std::vector<Signature>> parse_signatures(const json::Json& list, const std::string& file) {
  if (!list.is_array()) {
    return bad(file, "signatures is not an array");
  }
  std::vector<Signature> out;
  for (const auto& entry : list) {
    const auto keyid = entry.find("keyid");
    const auto sig = entry.find("sig");
    const auto* keyid_text = keyid == entry.end() ? nullptr : keyid->get_ptr<const std::string*>();
    const auto* sig_text = sig == entry.end() ? nullptr : sig->get_ptr<const std::string*>();
    const auto raw = sig_text == nullptr ? std::nullopt : hex_decode(*sig_text);
    if (keyid_text == nullptr || !raw) {
      return bad(file, R"(a signature is not {"keyid": string, "sig": hex})");
    }
    out.push_back(Signature{*keyid_text, *raw});
  }
  return out;
}

// "1.0.31", "1.0": the client supports every version of major 1 (§4.2 spec_version).
bool supported_spec_version(std::string_view v) {
  std::size_t parts = 0;
  std::size_t start = 0;
  while (start <= v.size()) {
    const auto dot = std::min(v.find('.', start), v.size());
    const auto part = v.substr(start, dot - start);
    if (part.empty()
        || !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    if (parts == 0 && part != "1") {
      return false;
    }
    ++parts;
    start = dot + 1;
  }
  return parts == 2 || parts == 3;
}

Status parse_common(Document& doc, Role expected, const std::string& file) {
  const auto& s = doc.signed_part;
  const auto type = s.find("_type");
  const auto spec = s.find("spec_version");
  const auto version = s.find("version");
  const auto expires = s.find("expires");
  if (type == s.end() || spec == s.end() || version == s.end() || expires == s.end()) {
    return bad(file, "signed lacks one of _type, spec_version, version, expires");
  }
  const auto* type_text = type->get_ptr<const std::string*>();
  if (type_text == nullptr || *type_text != to_string(expected)) {
    return bad(file, "_type is not \"" + std::string(to_string(expected)) + "\"");
  }
  const auto* spec_text = spec->get_ptr<const std::string*>();
  if (spec_text == nullptr || !supported_spec_version(*spec_text)) {
    return bad(file, "spec_version is not a 1.x version string");
  }
  const auto* v = version->get_ptr<const json::Json::number_unsigned_t*>();
  if (v == nullptr || *v < 1) {
    return bad(file, "version is not an integer of at least 1");
  }
  doc.version = *v;
  const auto* e = expires->get_ptr<const std::string*>();
  const auto when = e == nullptr ? std::nullopt : parse_utc(*e);
  if (!when) {
    return bad(file, "expires is not YYYY-MM-DDTHH:MM:SSZ");
  }
  doc.expires = *when;
  return {};
}

}  // namespace

Result<Document> parse_document(std::string_view bytes, Role expected, const std::string& file) {
  auto parsed = json::parse_strict(bytes);
  if (parsed.failure == json::ParseFailure::duplicate_key) {
    return bad(file, "repeats the key \"" + printable(parsed.detail) + "\"");
  }
  if (parsed.failure != json::ParseFailure::none) {
    return bad(file, parsed.detail);
  }
  const auto& top = parsed.value;
  const auto signed_it = top.find("signed");
  const auto signatures = top.find("signatures");
  if (!top.is_object() || signed_it == top.end() || !signed_it->is_object()
      || signatures == top.end()) {
    return bad(file, "not {\"signed\": {…}, \"signatures\": […]}");
  }
  Document doc;
  ECLUSE_TRY(sigs, parse_signatures(*signatures, file));
  doc.signatures = std::move(sigs);
  doc.signed_part = *signed_it;
  auto text = json::canonical(doc.signed_part);
  if (!text) {
    return bad(file, "signed holds a floating-point number");
  }
  doc.canonical = std::move(*text);
  ECLUSE_CHECK(parse_common(doc, expected, file));
  return doc;
}

Status check_signatures(const Document& doc,
                        const RootContent& root,
                        Role role,
                        const std::string& file) {
  const auto& spec = root.role(role);
  std::set<std::string> counted_ids;
  std::set<std::string> counted_keys;  // the same public key under another id counts once
  for (const auto& s : doc.signatures) {
    const auto key = root.keys.find(s.keyid);
    if (counted_ids.contains(s.keyid) || key == root.keys.end()
        || std::find(spec.keyids.begin(), spec.keyids.end(), s.keyid) == spec.keyids.end()
        || counted_keys.contains(key->second.key_id())) {
      continue;
    }
    ECLUSE_TRY(ok, crypto::verify_signature(key->second, doc.canonical, s.sig));
    if (ok) {
      counted_ids.insert(s.keyid);
      counted_keys.insert(key->second.key_id());
    }
  }
  if (spec.threshold == 0 || counted_ids.size() < spec.threshold) {
    return fail(reason::k_tuf_threshold,
                file + ": signed by " + std::to_string(counted_ids.size()) + " of the "
                    + std::string(to_string(role)) + " role's keys, its threshold is "
                    + std::to_string(spec.threshold),
                file);
  }
  return {};
}

Status check_expiry(const Document& doc, TimePoint now, const std::string& file) {
  if (now >= doc.expires) {
    return fail(reason::k_tuf_expired,
                file + ": expired at " + format_utc(doc.expires) + " (now " + format_utc(now) + ")",
                file);
  }
  return {};
}

Status check_length_and_hash(std::string_view bytes,
                             const MetaInfo& meta,
                             const std::string& file) {
  if (meta.length && bytes.size() != *meta.length) {
    return fail(reason::k_tuf_hash_mismatch,
                file + ": " + std::to_string(bytes.size()) + " bytes, the referring metadata says "
                    + std::to_string(*meta.length),
                file);
  }
  if (meta.sha256) {
    ECLUSE_TRY(digest, crypto::sha256(bytes));
    if (digest.hex() != *meta.sha256) {
      return fail(
          reason::k_tuf_hash_mismatch,
          file + ": SHA-256 " + digest.hex() + ", the referring metadata says " + *meta.sha256,
          file);
    }
  }
  return {};
}

json::Json signed_header(Role role, std::uint64_t version, TimePoint expires) {
  json::Json out = json::Json::object();
  out["_type"] = std::string(to_string(role));
  out["spec_version"] = std::string(k_spec_version);
  out["version"] = version;
  out["expires"] = format_utc(expires);
  return out;
}

Result<std::string> sign_document(const json::Json& signed_part,
                                  const std::vector<const crypto::SigningKey*>& keys,
                                  const std::string& file) {
  const auto text = json::canonical(signed_part);
  if (!text) {
    return bad(file, "signed would hold a floating-point number");
  }
  json::Json signatures = json::Json::array();
  for (const auto* key : keys) {
    ECLUSE_TRY(id, key_id(key->public_key()));
    ECLUSE_TRY(sig, key->sign(*text));
    json::Json entry = json::Json::object();
    entry["keyid"] = std::move(id);
    entry["sig"] = hex_encode(sig);
    signatures.push_back(std::move(entry));
  }
  json::Json envelope = json::Json::object();
  envelope["signed"] = signed_part;
  envelope["signatures"] = std::move(signatures);
  try {  // strict: replacing invalid UTF-8 would change what was signed
    return envelope.dump(2, ' ', /*ensure_ascii=*/true, json::Json::error_handler_t::strict) + "\n";
  } catch (const std::exception&) {
    return bad(file, "a string is not valid UTF-8");
  }
}

Result<std::vector<const crypto::SigningKey*>> signers_for(
    const RoleKeys& role,
    std::span<const crypto::SigningKey* const> signers,
    const std::string& what) {
  std::set<std::string> wanted;
  for (const auto& k : role.keys) {
    wanted.insert(k.key_id());
  }
  std::vector<const crypto::SigningKey*> out;
  std::set<std::string> picked;
  for (const auto* s : signers) {
    if (s != nullptr && wanted.contains(s->key_id()) && picked.insert(s->key_id()).second) {
      out.push_back(s);
    }
  }
  if (role.threshold == 0 || out.size() < role.threshold) {
    return fail(reason::k_tuf_threshold,
                what + ": " + std::to_string(out.size()) + " of its keys at hand, threshold "
                    + std::to_string(role.threshold),
                what);
  }
  return out;
}

std::optional<std::uint64_t> versioned_name(std::string_view file, std::string_view name) {
  if (file.size() <= name.size() + 1 || !file.ends_with(name)
      || file[file.size() - name.size() - 1] != '.') {
    return std::nullopt;
  }
  const auto digits = file.substr(0, file.size() - name.size() - 1);
  if (digits.front() == '0'
      || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return n;
}

std::optional<std::uint64_t> latest_root_version(const Files& files) {
  std::optional<std::uint64_t> out;
  for (const auto& [name, bytes] : files) {
    const auto n = versioned_name(name, "root.json");
    if (n && (!out || *n > *out)) {
      out = n;
    }
  }
  return out;
}

}  // namespace ecluse::tuf::detail
