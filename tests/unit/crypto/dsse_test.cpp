// crypto::dsse: rejection cases for envelopes, keys and thresholds first, then PAE known
// answers, round trips for every key type and a check by an independent verifier
// (tests/tools/dsse_verify.py: Python and the openssl command line, no ecluse code).
#include <ecluse/crypto/dsse.hpp>

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "support/support.hpp"

namespace dsse = ecluse::crypto::dsse;
using ecluse::crypto::KeyType;
using ecluse::crypto::SigningKey;
using ecluse::test::TempDir;

namespace {

const std::string k_statement = R"({"_type":"https://in-toto.io/Statement/v1","subject":[]})";
const std::string k_type(dsse::k_in_toto_type);

// A signing key made at run time, loaded through a 0600 PEM file as operators' keys are;
// cached per (type, index) because RSA-3072 generation is slow.
const SigningKey& key(KeyType type = KeyType::ed25519, int index = 0) {
  static std::map<std::pair<KeyType, int>, SigningKey> k_keys;
  const auto slot = std::make_pair(type, index);
  if (const auto it = k_keys.find(slot); it != k_keys.end()) {
    return it->second;
  }
  auto generated = ecluse::crypto::generate_key(type);
  REQUIRE(generated.has_value());
  const TempDir dir;
  const auto file = dir / "key.pem";
  ecluse::test::write_file(file, std::string(generated->private_pem.view()));
  std::filesystem::permissions(
      file,
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
      std::filesystem::perm_options::replace);
  auto loaded = ecluse::crypto::load_pem_key(file, "");
  REQUIRE(loaded.has_value());
  return k_keys.emplace(slot, std::move(*loaded)).first->second;
}

dsse::KnownKey known(const SigningKey& k, bool revoked = false) {
  return dsse::KnownKey{k.public_key(), revoked};
}

dsse::Envelope signed_by(const std::vector<const SigningKey*>& keys,
                         const std::string& payload = k_statement,
                         const std::string& type = k_type) {
  auto e = dsse::sign(type, payload, keys);
  REQUIRE(e.has_value());
  return *e;
}

ecluse::Result<dsse::Verified> check(const dsse::Envelope& e,
                                     const std::vector<dsse::KnownKey>& keys,
                                     std::size_t threshold = 1,
                                     const std::string& expected = k_type) {
  return dsse::verify(e, keys, threshold, expected);
}

template <class T>
std::string reason_of(const ecluse::Result<T>& r) {
  return r ? std::string("accepted") : r.error().reason;
}

std::string prefix(const SigningKey& k) {
  return k.key_id().substr(0, 16);
}

// A valid envelope's JSON, to be damaged by each parse case.
ecluse::json::Json envelope_json() {
  return ecluse::json::parse_strict(dsse::serialise(signed_by({&key()}))).value;
}

std::string parse_reason(const std::string& text) {
  const auto r = dsse::parse(text, "env.json");
  if (!r) {
    CHECK(r.error().message.find("env.json") != std::string::npos);
  }
  return reason_of(r);
}

struct Run {
  int status = -1;
  std::string output;
};

// python3 tests/tools/dsse_verify.py ENVELOPE KEY, with its exit status and output.
Run independent_verify(const TempDir& dir, const std::string& envelope, const std::string& pem) {
  ecluse::test::write_file(dir / "env.json", envelope);
  ecluse::test::write_file(dir / "key.pem", pem);
  const std::string cmd = std::string("python3 '") + ECLUSE_SOURCE_DIR
                          + "/tests/tools/dsse_verify.py' '" + (dir / "env.json").string() + "' '"
                          + (dir / "key.pem").string() + "' > '" + (dir / "out.txt").string()
                          + "' 2>&1";
  // NOLINTNEXTLINE(cert-env33-c,concurrency-mt-unsafe): a fixed command, tests run on one thread
  const int raw = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(raw));
  return Run{WEXITSTATUS(raw), ecluse::test::read_file(dir / "out.txt")};
}

}  // namespace

TEST_CASE("dsse::verify rejects a tampered payload, payloadType or signature") {
  const auto& k = key();
  auto e = signed_by({&k});
  REQUIRE(reason_of(check(e, {known(k)})) == "accepted");
  SUBCASE("one payload byte changed") {
    e.payload[5] = static_cast<char>(e.payload[5] ^ 0x01);
    const auto r = check(e, {known(k)});
    CHECK(reason_of(r) == "attest.signature_invalid");
    CHECK(r.error().message.find("0 distinct valid signers of 1 needed") != std::string::npos);
    CHECK(r.error().message.find(prefix(k)) != std::string::npos);
  }
  SUBCASE("payloadType changed (and expected as changed: the type is signed)") {
    e.payload_type = "application/vnd.in-toto+jsoN";
    CHECK(reason_of(check(e, {known(k)}, 1, e.payload_type)) == "attest.signature_invalid");
  }
  SUBCASE("one signature byte changed") {
    e.signatures[0].sig[10] = static_cast<char>(e.signatures[0].sig[10] ^ 0x80);
    CHECK(reason_of(check(e, {known(k)})) == "attest.signature_invalid");
  }
  SUBCASE("signature truncated") {
    e.signatures[0].sig.pop_back();
    CHECK(reason_of(check(e, {known(k)})) == "attest.signature_invalid");
  }
}

TEST_CASE("dsse::verify rejects unknown and revoked signers") {
  const auto& signer = key(KeyType::ed25519, 0);
  const auto& other = key(KeyType::ed25519, 1);
  const auto e = signed_by({&signer});
  SUBCASE("signed by a key the list does not hold") {
    const auto r = check(e, {known(other)});
    CHECK(reason_of(r) == "attest.unknown_key");
    CHECK(r.error().message.find(prefix(signer)) != std::string::npos);
  }
  SUBCASE("no known keys at all") {
    CHECK(reason_of(check(e, {})) == "attest.unknown_key");
  }
  SUBCASE("signed by a revoked key only") {
    const auto r = check(e, {known(signer, true), known(other)});
    CHECK(reason_of(r) == "attest.revoked_key");
    CHECK(r.error().message.find(prefix(signer)) != std::string::npos);
  }
  SUBCASE("a key listed twice, once revoked, is revoked") {
    CHECK(reason_of(check(e, {known(signer), known(signer, true)})) == "attest.revoked_key");
  }
  SUBCASE("a revoked signer beside a trusted one is reported, never counted") {
    const auto both = signed_by({&signer, &other});
    const auto ok = check(both, {known(signer, true), known(other)});
    REQUIRE(ok.has_value());
    CHECK(ok->signers == std::vector<std::string>{other.key_id()});
    CHECK(ok->revoked == std::vector<std::string>{signer.key_id()});
    CHECK(reason_of(check(both, {known(signer, true), known(other)}, 2)) == "attest.threshold");
  }
  SUBCASE("a known key ecluse has no scheme for fails the verification, not the envelope") {
    const auto rsa2048 = ecluse::crypto::parse_public_key(
        ecluse::test::pki::Key::shared(ecluse::test::pki::KeyType::rsa2048).public_pem(),
        ecluse::reason::k_internal,
        "rsa2048");
    REQUIRE(rsa2048.has_value());
    CHECK(reason_of(check(e, {known(signer), dsse::KnownKey{*rsa2048, false}}))
          == "keys.unsupported_type");
  }
}

TEST_CASE("dsse::verify counts distinct trusted keys toward the threshold") {
  const auto& a = key(KeyType::ed25519, 0);
  const auto& b = key(KeyType::ed25519, 1);
  const std::vector<dsse::KnownKey> keys{known(a), known(b)};
  SUBCASE("threshold 2 with one valid signer") {
    const auto r = check(signed_by({&a}), keys, 2);
    CHECK(reason_of(r) == "attest.threshold");
    CHECK(r.error().message.find("1 distinct valid signer of 2 needed") != std::string::npos);
    CHECK(r.error().message.find(prefix(a)) != std::string::npos);
  }
  SUBCASE("one key's signature duplicated (same keyid) counts once") {
    auto e = signed_by({&a});
    e.signatures.push_back(e.signatures[0]);
    CHECK(reason_of(check(e, keys, 2)) == "attest.threshold");
  }
  SUBCASE("one key signing twice counts once") {
    CHECK(reason_of(check(signed_by({&a, &a}), keys, 2)) == "attest.threshold");
  }
  SUBCASE("a forged keyid naming another known key does not make it a signer") {
    auto e = signed_by({&a, &a});
    e.signatures[1].keyid = b.key_id();
    CHECK(reason_of(check(e, keys, 2)) == "attest.threshold");
    const auto one = check(e, keys, 1);
    REQUIRE(one.has_value());
    CHECK(one->signers == std::vector<std::string>{a.key_id()});
  }
  SUBCASE("keyid is only a hint: a wrong or empty keyid still verifies with the right key") {
    auto e = signed_by({&a});
    e.signatures[0].keyid = b.key_id();
    CHECK(reason_of(check(e, keys)) == "accepted");
    e.signatures[0].keyid.clear();
    CHECK(reason_of(check(e, keys)) == "accepted");
  }
  SUBCASE("threshold 0 means 1") {
    auto e = signed_by({&a});
    e.signatures[0].sig[3] = static_cast<char>(e.signatures[0].sig[3] ^ 0x01);
    CHECK(reason_of(check(e, keys, 0)) == "attest.signature_invalid");
  }
  SUBCASE("two distinct keys meet threshold 2, with an invalid signature beside them") {
    auto e = signed_by({&a, &b});
    e.signatures.push_back(dsse::Signature{a.key_id(), std::string(64, 'x')});
    const auto r = check(e, keys, 2);
    REQUIRE(r.has_value());
    CHECK(r->signers == std::vector<std::string>{a.key_id(), b.key_id()});
    CHECK(r->signatures == 3);
  }
}

TEST_CASE("dsse::verify checks the payloadType before any signature") {
  const auto& k = key();
  const auto e = signed_by({&k}, k_statement, "application/json");
  CHECK(reason_of(check(e, {known(k)})) == "attest.payload_type");
  CHECK(reason_of(check(e, {known(k)}, 1, "application/json")) == "accepted");
  auto none = e;
  none.signatures.clear();
  CHECK(reason_of(check(none, {known(k)}, 1, "application/json")) == "attest.bad_envelope");
}

TEST_CASE("dsse::parse rejects what is not a strict DSSE envelope") {
  using ecluse::json::dump_line;
  auto j = envelope_json();
  REQUIRE(parse_reason(dump_line(j)) == "accepted");
  const std::string bad = "attest.bad_envelope";
  SUBCASE("not JSON, not an object") {
    CHECK(parse_reason("not json") == bad);
    CHECK(parse_reason("") == bad);
    CHECK(parse_reason("[]") == bad);
    CHECK(parse_reason(dump_line(j) + "x") == bad);
  }
  SUBCASE("a duplicate key") {
    auto text = dump_line(j);
    text.insert(1, R"("payloadType":"text/plain",)");
    CHECK(parse_reason(text) == bad);
  }
  SUBCASE("payload, payloadType or signatures missing") {
    for (const char* field : {"payload", "payloadType", "signatures"}) {
      auto damaged = j;
      damaged.erase(field);
      CHECK(parse_reason(dump_line(damaged)) == bad);
    }
  }
  SUBCASE("fields of the wrong type") {
    for (const char* field : {"payload", "payloadType", "signatures"}) {
      auto damaged = j;
      damaged[field] = 7;
      CHECK(parse_reason(dump_line(damaged)) == bad);
    }
  }
  SUBCASE("signatures empty, or more than k_max_signatures") {
    j["signatures"] = ecluse::json::Json::array();
    CHECK(parse_reason(dump_line(j)) == bad);
    auto many = envelope_json();
    for (std::size_t i = 0; i < dsse::k_max_signatures; ++i) {
      many["signatures"].push_back(many["signatures"][0]);
    }
    CHECK(parse_reason(dump_line(many)) == bad);
  }
  SUBCASE("a signature that is not an object, or whose sig is missing, empty or not base64") {
    for (const auto& sig : {ecluse::json::Json("@@@@"),
                            ecluse::json::Json(""),
                            ecluse::json::Json("QUJD RA=="),
                            ecluse::json::Json(12)}) {
      auto damaged = j;
      damaged["signatures"][0]["sig"] = sig;
      CHECK(parse_reason(dump_line(damaged)) == bad);
    }
    j["signatures"][0].erase("sig");
    CHECK(parse_reason(dump_line(j)) == bad);
    j["signatures"][0] = "sig";
    CHECK(parse_reason(dump_line(j)) == bad);
  }
  SUBCASE("a keyid that is not a string") {
    for (const auto& id : {ecluse::json::Json(5), ecluse::json::Json(nullptr)}) {
      auto damaged = j;
      damaged["signatures"][0]["keyid"] = id;
      CHECK(parse_reason(dump_line(damaged)) == bad);
    }
  }
  SUBCASE("a payload with a character outside base64, whitespace or bad padding") {
    for (const char* p : {"aGVsbG8*", "aGVs bG8=", "aGVsbG8=\n", "aGVsbG8==", "aGVsbA=", "a"}) {
      j["payload"] = p;
      CHECK(parse_reason(dump_line(j)) == bad);
    }
  }
  SUBCASE("larger than k_max_envelope_bytes") {
    auto text = dump_line(j);
    text.append(dsse::k_max_envelope_bytes - text.size() + 1, ' ');
    CHECK(parse_reason(text) == bad);
  }
}

TEST_CASE("dsse::parse accepts URL-safe unpadded base64 and ignores unknown fields") {
  const auto& k = key();
  const std::string payload = "\xfb\xef\xbe\xff";  // "++++/w==" in standard base64
  const auto e = signed_by({&k}, payload);
  auto j = ecluse::json::parse_strict(dsse::serialise(e)).value;
  CHECK(j["payload"] == "++++/w==");
  j["payload"] = "----_w";
  std::string sig = j["signatures"][0]["sig"];
  for (char& c : sig) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  sig.erase(sig.find_last_not_of('=') + 1);
  j["signatures"][0]["sig"] = sig;
  j["signatures"][0]["comment"] = "ignored";
  j["extra"] = {{"future", true}};
  const auto parsed = dsse::parse(ecluse::json::dump_line(j), "env.json");
  REQUIRE(parsed.has_value());
  CHECK(parsed->payload == payload);
  const auto r = check(*parsed, {known(k)});
  REQUIRE(r.has_value());
  CHECK(r->payload == payload);
}

TEST_CASE("dsse::pae matches known answers") {
  // protocol.md "Test Vectors".
  CHECK(dsse::pae("http://example.com/HelloWorld", "hello world")
        == "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  CHECK(dsse::pae("", "") == "DSSEv1 0  0 ");
  // "é" and "→" are 2 and 3 bytes: 5 characters, 8 bytes.
  CHECK(dsse::pae("t\xc3\xa9st\xe2\x86\x92", "x") == "DSSEv1 8 t\xc3\xa9st\xe2\x86\x92 1 x");
  using namespace std::string_literals;
  CHECK(dsse::pae("bin", "a\0b\nc"s) == "DSSEv1 3 bin 5 a\0b\nc"s);
  CHECK(dsse::pae("bin", "a\0b\nc"s).size() == 20);
  CHECK(dsse::pae("t", std::string(1000, 'z')).starts_with("DSSEv1 1 t 1000 zz"));
}

TEST_CASE("dsse::sign and dsse::verify round-trip for every key type") {
  for (const auto type : {KeyType::ed25519, KeyType::ecdsa_p256, KeyType::rsa_3072}) {
    CAPTURE(ecluse::crypto::to_string(type));
    const auto& k = key(type);
    const auto text = dsse::serialise(signed_by({&k}));
    CHECK(text.starts_with(R"({"payload":")"));
    CHECK(text.find('\n') == text.size() - 1);
    const auto parsed = dsse::parse(text, "env.json");
    REQUIRE(parsed.has_value());
    CHECK(parsed->signatures.at(0).keyid == k.key_id());
    const auto r = check(*parsed, {known(k)});
    REQUIRE(r.has_value());
    CHECK(r->payload == k_statement);
    CHECK(r->payload_type == k_type);
    CHECK(r->signers == std::vector<std::string>{k.key_id()});
    CHECK(r->signatures == 1);
  }
  SUBCASE("two distinct keys of different types meet threshold 2") {
    const auto& a = key(KeyType::ecdsa_p256);
    const auto& b = key(KeyType::rsa_3072);
    const auto e = dsse::parse(dsse::serialise(signed_by({&a, &b})), "env.json");
    REQUIRE(e.has_value());
    CHECK(reason_of(check(*e, {known(b), known(a)}, 2)) == "accepted");
  }
  SUBCASE("sign refuses no keys and a payloadType that is not UTF-8") {
    CHECK(reason_of(dsse::sign(k_type, k_statement, {})) == "internal.error");
    const std::array<const SigningKey*, 1> one{&key()};
    CHECK(reason_of(dsse::sign("bad\xff", k_statement, one)) == "internal.error");
  }
}

TEST_CASE("dsse envelopes verify with an independent verifier (python3 and openssl pkeyutl)") {
  for (const auto type : {KeyType::ed25519, KeyType::ecdsa_p256, KeyType::rsa_3072}) {
    CAPTURE(ecluse::crypto::to_string(type));
    const auto& k = key(type);
    const TempDir dir;
    auto e = signed_by({&k}, k_statement + "\n\xc3\xa9", "application/vnd.ecluse.test+json");
    const auto ok = independent_verify(dir, dsse::serialise(e), k.public_key().pem());
    CHECK(ok.status == 0);
    CHECK(ok.output.find("OK 1 signatures") != std::string::npos);
    CHECK(ok.output.find(R"(payloadType "application/vnd.ecluse.test+json")") != std::string::npos);
    e.payload[0] = static_cast<char>(e.payload[0] ^ 0x01);
    const auto tampered = independent_verify(dir, dsse::serialise(e), k.public_key().pem());
    CHECK(tampered.status == 1);
    CHECK(tampered.output.find("FAIL") != std::string::npos);
  }
}
