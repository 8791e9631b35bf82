// DSSE v1 envelopes: PAE, strict parsing, signing and threshold verification. Invariant: a
// payload counts as verified only when distinct, unrevoked known keys, at least threshold of
// them, each verify a signature over PAE(payloadType, payload) of the exact bytes handed back,
// and keyid never decides which key is trusted (it only orders the keys tried).
#include <ecluse/core/base64.hpp>
#include <ecluse/core/json.hpp>
#include <ecluse/core/printable.hpp>
#include <ecluse/crypto/dsse.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace ecluse::crypto::dsse {

namespace {

constexpr std::size_t k_id_prefix = 16;

// envelope.md "Standard JSON envelope": standard or URL-safe base64 ("-_" for "+/"), padded
// or not. Whitespace and every other character are refused (the core decoder skips spaces).
std::optional<std::string> decode_base64(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      return std::nullopt;
    }
    c = c == '-' ? '+' : (c == '_' ? '/' : c);
  }
  if (s.find('=') == std::string::npos && s.size() % 4 != 0) {
    s.append(4 - s.size() % 4, '=');
  }
  return base64_decode(s);
}

tl::unexpected<Error> bad(const std::string& item, const std::string& what) {
  return fail(reason::k_attest_bad_envelope, item + ": " + what, item);
}

// The string member `name` of o, decoded from base64 when `base64`; nullopt when absent, not a
// string or not base64.
std::optional<std::string> string_field(const json::Json& o, const char* name, bool base64) {
  const auto it = o.find(name);
  if (it == o.end() || !it->is_string()) {
    return std::nullopt;
  }
  const auto& text = it->get_ref<const std::string&>();
  return base64 ? decode_base64(text) : std::optional<std::string>(text);
}

Result<Signature> parse_signature(const json::Json& o,
                                  const std::string& where,
                                  const std::string& item) {
  if (!o.is_object()) {
    return bad(item, where + " is not an object");
  }
  Signature s;
  if (const auto it = o.find("keyid"); it != o.end()) {
    if (!it->is_string()) {
      return bad(item, where + ".keyid is not a string");
    }
    s.keyid = it->get_ref<const std::string&>();
  }
  auto sig = string_field(o, "sig", true);
  if (!sig || sig->empty()) {
    return bad(item, where + ".sig is missing, empty, not a string or not base64");
  }
  s.sig = std::move(*sig);
  return s;
}

Result<std::vector<Signature>> parse_signatures(const json::Json& doc, const std::string& item) {
  const auto it = doc.find("signatures");
  if (it == doc.end() || !it->is_array() || it->empty()) {
    return bad(item, "signatures is missing, not an array or empty");
  }
  if (it->size() > k_max_signatures) {
    return bad(item, "more than " + std::to_string(k_max_signatures) + " signatures");
  }
  std::vector<Signature> out;
  for (std::size_t i = 0; i < it->size(); ++i) {
    ECLUSE_TRY(s, parse_signature((*it)[i], "signatures[" + std::to_string(i) + "]", item));
    out.push_back(std::move(s));
  }
  return out;
}

std::string prefix(const std::string& key_id) {
  return printable(key_id.substr(0, k_id_prefix));
}

std::string list(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    out += (out.empty() ? "" : ", ") + prefix(id);
  }
  return out.empty() ? "none" : out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// What the signatures of one envelope proved.
struct Tally {
  std::vector<std::string> signers;  // distinct unrevoked key ids that verified
  std::vector<std::string> revoked;  // distinct revoked key ids that verified
  std::vector<std::string> named;    // distinct known key ids some keyid names
};

bool is_revoked(std::span<const KnownKey> keys, const std::string& id) {
  return std::any_of(keys.begin(), keys.end(), [&](const KnownKey& k) {
    return k.revoked && k.key.key_id() == id;
  });
}

// The keys to try for a signature: those its keyid names first (a hint that saves work), then
// every other one, skipping keys that already verified (they count once).
std::vector<const KnownKey*> try_order(std::span<const KnownKey> keys,
                                       const std::string& keyid,
                                       const Tally& t) {
  std::vector<const KnownKey*> out;
  for (const bool named : {true, false}) {
    for (const auto& k : keys) {
      const auto& id = k.key.key_id();
      if ((id == keyid) == named && !contains(t.signers, id) && !contains(t.revoked, id)) {
        out.push_back(&k);
      }
    }
  }
  return out;
}

// protocol.md "Multi-signature Verification": verify one signature with the first key that
// accepts it and add that key to the tally.
Status tally_signature(const std::string& pae_bytes,
                       const Signature& s,
                       std::span<const KnownKey> keys,
                       Tally& t) {
  for (const auto& k : keys) {
    if (k.key.key_id() == s.keyid && !contains(t.named, s.keyid)) {
      t.named.push_back(s.keyid);
    }
  }
  for (const KnownKey* k : try_order(keys, s.keyid, t)) {
    ECLUSE_TRY(ok, verify_signature(k->key, pae_bytes, s.sig));
    if (ok) {
      const auto& id = k->key.key_id();
      (is_revoked(keys, id) ? t.revoked : t.signers).push_back(id);
      return {};
    }
  }
  return {};
}

Status check_keys(std::span<const KnownKey> keys) {
  for (const auto& k : keys) {
    if (!key_type_of(k.key)) {
      return fail(reason::k_keys_unsupported_type,
                  "known key " + prefix(k.key.key_id()) + " (" + k.key.info().type
                      + ") has no signature scheme in ecluse",
                  k.key.key_id());
    }
  }
  return {};
}

// The keyids the envelope claims (unauthenticated, so made printable), for the message.
std::string claimed(const Envelope& e) {
  std::vector<std::string> ids;
  for (const auto& s : e.signatures) {
    if (!s.keyid.empty() && !contains(ids, s.keyid)) {
      ids.push_back(s.keyid);
    }
  }
  return list(ids);
}

// The most telling reason for too few signers (verify()'s contract in dsse.hpp).
tl::unexpected<Error> shortfall(const Tally& t, std::size_t needed, const Envelope& e) {
  const std::size_t signatures = e.signatures.size();
  const std::string count = std::to_string(t.signers.size()) + " distinct valid signer"
                            + (t.signers.size() == 1 ? "" : "s") + " of " + std::to_string(needed)
                            + " needed (" + std::to_string(signatures) + " signature"
                            + (signatures == 1 ? "" : "s") + ")";
  if (!t.signers.empty()) {
    return fail(reason::k_attest_threshold, "envelope: " + count + ": " + list(t.signers));
  }
  if (!t.revoked.empty()) {
    return fail(reason::k_attest_revoked_key,
                "envelope: " + count + ": only revoked keys signed: " + list(t.revoked));
  }
  if (!t.named.empty()) {
    return fail(reason::k_attest_signature_invalid,
                "envelope: " + count + ": no signature verifies, though keyids name known keys "
                    + list(t.named));
  }
  return fail(reason::k_attest_unknown_key,
              "envelope: " + count + ": no signature is by a key the key list holds (keyids "
                  + claimed(e) + ")");
}

}  // namespace

// protocol.md "Signature Definition": LEN(s) is the byte length, ASCII decimal.
std::string pae(std::string_view type, std::string_view body) {
  std::string out = "DSSEv1 " + std::to_string(type.size()) + " ";
  out += type;
  out += " " + std::to_string(body.size()) + " ";
  out += body;
  return out;
}

std::string serialise(const Envelope& e) {
  json::Json sigs = json::Json::array();
  for (const auto& s : e.signatures) {
    sigs.push_back({{"keyid", s.keyid}, {"sig", base64_encode(s.sig)}});
  }
  const json::Json doc{{"payload", base64_encode(e.payload)},
                       {"payloadType", e.payload_type},
                       {"signatures", std::move(sigs)}};
  return json::dump_line(doc) + "\n";
}

Result<Envelope> parse(std::string_view text, const std::string& item) {
  if (text.size() > k_max_envelope_bytes) {
    return bad(item, "larger than " + std::to_string(k_max_envelope_bytes) + " bytes");
  }
  auto parsed = json::parse_strict(text);
  if (parsed.failure == json::ParseFailure::duplicate_key) {
    return bad(item, "repeats the key \"" + printable(parsed.detail) + "\"");
  }
  if (parsed.failure != json::ParseFailure::none || !parsed.value.is_object()) {
    return bad(item,
               parsed.failure != json::ParseFailure::none ? parsed.detail : "not a JSON object");
  }
  auto type = string_field(parsed.value, "payloadType", false);
  if (!type) {
    return bad(item, "payloadType is missing or not a string");
  }
  auto payload = string_field(parsed.value, "payload", true);
  if (!payload) {
    return bad(item, "payload is missing, not a string or not base64");
  }
  ECLUSE_TRY(sigs, parse_signatures(parsed.value, item));
  return Envelope{std::move(*type), std::move(*payload), std::move(sigs)};
}

// protocol.md "Protocol", to sign: Sign(PAE(UTF8(PAYLOAD_TYPE), SERIALIZED_BODY)).
Result<Envelope> sign(std::string payload_type,
                      std::string payload,
                      std::span<const SigningKey* const> keys) {
  if (keys.empty() || !is_valid_utf8(payload_type)) {
    return fail(reason::k_internal,
                keys.empty() ? "dsse::sign needs at least one key"
                             : "dsse::sign: payloadType is not valid UTF-8");
  }
  const std::string message = pae(payload_type, payload);
  Envelope e{std::move(payload_type), std::move(payload), {}};
  for (const SigningKey* k : keys) {
    ECLUSE_TRY(sig, k->sign(message));
    e.signatures.push_back(Signature{k->key_id(), std::move(sig)});
  }
  return e;
}

Result<Verified> verify(const Envelope& e,
                        std::span<const KnownKey> keys,
                        std::size_t threshold,
                        std::string_view expected_type) {
  if (e.payload_type != expected_type) {
    return fail(reason::k_attest_payload_type,
                "envelope: payloadType \"" + printable(e.payload_type) + "\", expected \""
                    + printable(expected_type) + "\"",
                printable(e.payload_type));
  }
  if (e.signatures.empty() || e.signatures.size() > k_max_signatures) {
    return fail(reason::k_attest_bad_envelope,
                "envelope: " + std::to_string(e.signatures.size()) + " signatures (1 to "
                    + std::to_string(k_max_signatures) + " allowed)");
  }
  ECLUSE_CHECK(check_keys(keys));
  // The bytes handed back are copied first and the PAE is built from that copy.
  Verified v{e.payload_type, e.payload, {}, {}, e.signatures.size()};
  const std::string message = pae(v.payload_type, v.payload);
  Tally t;
  for (const auto& s : e.signatures) {
    ECLUSE_CHECK(tally_signature(message, s, keys, t));
  }
  const std::size_t needed = std::max<std::size_t>(threshold, 1);
  if (t.signers.size() < needed) {
    return shortfall(t, needed, e);
  }
  v.signers = std::move(t.signers);
  v.revoked = std::move(t.revoked);
  return v;
}

}  // namespace ecluse::crypto::dsse
