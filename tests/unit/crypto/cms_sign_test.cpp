// crypto::make_ca_certificate, issue_code_signing_certificate and sign_cms_detached: refusals
// first, then each key type as CA and as release key, checked by `openssl cms -verify` (the
// command the operator's customers run) and by ecluse's own verify_cms.
#include <ecluse/crypto/cms_sign.hpp>
#include <ecluse/crypto/sha256.hpp>
#include <ecluse/crypto/signature.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>

#include "support/support.hpp"

using ecluse::TimePoint;
using ecluse::crypto::Certificate;
using ecluse::crypto::CertificateRequest;
using ecluse::crypto::KeyType;
using ecluse::crypto::SigningKey;
using ecluse::test::read_file;
using ecluse::test::TempDir;
using ecluse::test::write_file;

namespace {

// A fresh key of that type, through the public path: generated, written 0600, loaded.
SigningKey load_new_key(KeyType type) {
  auto generated = ecluse::crypto::generate_key(type);
  REQUIRE(generated.has_value());
  const TempDir dir;
  const auto file = dir / "key.pem";
  write_file(file, std::string(generated->private_pem.view()));
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto key = ecluse::crypto::load_pem_key(file, {});
  REQUIRE(key.has_value());
  return std::move(*key);
}

// One key per (type, slot) for the whole run: RSA-3072 keys are slow to generate.
const SigningKey& key(KeyType type, int slot) {
  static std::map<std::pair<KeyType, int>, SigningKey> k_keys;
  auto it = k_keys.find({type, slot});
  if (it == k_keys.end()) {
    it = k_keys.emplace(std::pair{type, slot}, load_new_key(type)).first;
  }
  return it->second;
}

// The real clock: `openssl cms -verify` checks validity at the current time.
TimePoint wall_now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

CertificateRequest request(const std::string& cn, std::uint32_t days = 365) {
  return CertificateRequest{cn, "Operator", "FR", days, wall_now()};
}

Certificate make_ca(KeyType type, int slot = 0, const std::string& cn = "Operator Release CA") {
  auto ca = ecluse::crypto::make_ca_certificate(key(type, slot), request(cn, 3650));
  REQUIRE(ca.has_value());
  return *ca;
}

Certificate issue(KeyType ca_type, const Certificate& ca, const SigningKey& release) {
  auto leaf = ecluse::crypto::issue_code_signing_certificate(
      key(ca_type, 0), ca, release.public_key(), request("Operator Release Signing"));
  REQUIRE(leaf.has_value());
  return *leaf;
}

// Bytes that MIME canonicalisation would change: CRLF, lone LF and CR, NUL, every byte >= 0x80.
std::string binary_content() {
  std::string s = "line one\r\nline two\nlone cr\rend of text  \n";
  s.push_back('\0');
  for (int c = 0x80; c <= 0xFF; ++c) {
    s.push_back(static_cast<char>(c));
  }
  s += "\r\n.\r\n\n\n";
  return s;
}

struct Run {
  int status = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command inside dir, capturing its output.
Run run_in(const TempDir& dir, const std::string& command) {
  const std::string line = "cd '" + dir.path().string() + "' && " + command + " >run.log 2>&1";
  Run r;
  r.status = std::system(line.c_str());  // NOLINT(cert-env33-c,concurrency-mt-unsafe)
  r.output = read_file(dir / "run.log");
  return r;
}

const std::string k_verify_command =
    "openssl cms -verify -binary -inform DER -content ARTIFACT -in ARTIFACT.p7s -CAfile CA.pem "
    "-purpose any -out /dev/null";

std::string reason_of(const ecluse::Status& s) {
  return s ? std::string("accepted") : s.error().reason;
}

// The error of r, or "ok": safe inside a doctest message, which `-s` evaluates on success too.
template <class T>
std::string error_text(const ecluse::Result<T>& r) {
  return r ? std::string("ok") : r.error().to_string();
}

template <class T>
ecluse::Status status_of(const ecluse::Result<T>& r) {
  return r ? ecluse::Status{} : ecluse::Status(tl::unexpect, r.error());
}

// The release certificate's usage as `openssl x509` prints it.
std::string usage_text(const TempDir& dir, const Certificate& cert) {
  write_file(dir / "cert.pem", cert.pem());
  const auto r = run_in(
      dir, "openssl x509 -noout -ext extendedKeyUsage,keyUsage,basicConstraints -in cert.pem");
  REQUIRE(r.status == 0);
  return r.output;
}

// A CA and a release key of the given types, the release certificate, and a signature over
// binary_content() by the release key with the CA in its chain.
struct Signed {
  Certificate ca;
  Certificate leaf;
  std::string content;
  std::string sig;
};

Signed sign_under(KeyType ca_type, KeyType release_type) {
  auto ca = make_ca(ca_type);
  const auto& release = key(release_type, 1);
  auto leaf = issue(ca_type, ca, release);
  auto content = binary_content();
  auto sig = ecluse::crypto::sign_cms_detached(release, leaf, {ca}, content);
  REQUIRE_MESSAGE(sig.has_value(), error_text(sig));
  return Signed{std::move(ca), std::move(leaf), std::move(content), std::move(*sig)};
}

// `openssl cms -verify` accepts the signature, refuses it under a look-alike CA (same name,
// another key), and refuses a flipped content byte.
void check_openssl_cms(const Signed& s, KeyType ca_type) {
  const TempDir dir;
  write_file(dir / "ARTIFACT", s.content);
  write_file(dir / "ARTIFACT.p7s", s.sig);
  write_file(dir / "CA.pem", s.ca.pem());
  const auto good = run_in(dir, k_verify_command);
  INFO(good.output);
  CHECK(good.status == 0);

  write_file(dir / "CA.pem", make_ca(ca_type, 2).pem());
  const auto other_ca = run_in(dir, k_verify_command);
  CHECK(other_ca.status != 0);
  CHECK(other_ca.output.find("Verification failure") != std::string::npos);

  write_file(dir / "CA.pem", s.ca.pem());
  auto flipped = s.content;
  flipped[3] = static_cast<char>(flipped[3] ^ 0x01);
  write_file(dir / "ARTIFACT", flipped);
  const auto tampered = run_in(dir, k_verify_command);
  CHECK(tampered.status != 0);
  CHECK(tampered.output.find("Verification failure") != std::string::npos);
}

// ecluse's own verifier, with the operator CA as the only anchor and RSA keys of 3072 bits.
void check_verify_cms(const Signed& s) {
  ecluse::crypto::AlgorithmPolicy policy;
  policy.rsa_min_bits = 3072;
  const ecluse::crypto::Anchors anchors{"operator", {s.ca}, {}, {}};
  const auto at = wall_now() + std::chrono::hours(1);
  auto report = ecluse::crypto::verify_cms(s.sig, s.content, anchors, policy, at);
  REQUIRE_MESSAGE(report.has_value(), error_text(report));
  CHECK(report->signer.subject == s.leaf.info().subject);
  CHECK(report->digest == "sha256");
  CHECK(report->chain.size() == 2);

  auto flipped = s.content;
  flipped.back() = static_cast<char>(flipped.back() ^ 0x01);
  CHECK(reason_of(status_of(ecluse::crypto::verify_cms(s.sig, flipped, anchors, policy, at)))
        == "signature.content_mismatch");

  // By digest (reverify: the artifact was hashed while streamed): the signed messageDigest.
  const auto digest = ecluse::crypto::sha256(s.content).value().hex();
  auto by_digest = ecluse::crypto::verify_cms_digest(s.sig, digest, anchors, policy, at);
  REQUIRE_MESSAGE(by_digest.has_value(), error_text(by_digest));
  CHECK(by_digest->chain.size() == 2);
  const auto other = ecluse::crypto::sha256(flipped).value().hex();
  CHECK(reason_of(status_of(ecluse::crypto::verify_cms_digest(s.sig, other, anchors, policy, at)))
        == "signature.content_mismatch");
  // The certificate's lifetime still counts: long after it expired, the signature fails.
  const auto late = at + std::chrono::hours(24 * 365 * 50);
  CHECK_FALSE(ecluse::crypto::verify_cms_digest(s.sig, digest, anchors, policy, late).has_value());
  const ecluse::crypto::Anchors stranger{"operator", {make_ca(KeyType::ecdsa_p256, 2)}, {}, {}};
  CHECK_FALSE(ecluse::crypto::verify_cms_digest(s.sig, digest, stranger, policy, at).has_value());
}

void check_round_trip(KeyType ca_type, KeyType release_type) {
  const auto s = sign_under(ca_type, release_type);
  check_openssl_cms(s, ca_type);
  check_verify_cms(s);
  const TempDir dir;
  const auto usage = usage_text(dir, s.leaf);
  CHECK(usage.find("Code Signing") != std::string::npos);
  CHECK(usage.find("critical") != std::string::npos);
  CHECK(usage.find("Digital Signature") != std::string::npos);
  CHECK(usage.find("CA:FALSE") != std::string::npos);
}

}  // namespace

TEST_CASE("crypto::sign_cms_detached refuses a certificate that does not certify the key") {
  const auto ca = make_ca(KeyType::ecdsa_p256);
  const auto leaf = issue(KeyType::ecdsa_p256, ca, key(KeyType::ecdsa_p256, 1));

  SUBCASE("the release certificate of another key of the same type") {
    auto sig = ecluse::crypto::sign_cms_detached(key(KeyType::ecdsa_p256, 2), leaf, {ca}, "x");
    CHECK(reason_of(status_of(sig)) == "keys.certificate_mismatch");
  }
  SUBCASE("a key of another type") {
    auto sig = ecluse::crypto::sign_cms_detached(key(KeyType::rsa_3072, 1), leaf, {ca}, "x");
    CHECK(reason_of(status_of(sig)) == "keys.certificate_mismatch");
  }
  SUBCASE("the CA's certificate with the release key") {
    auto sig = ecluse::crypto::sign_cms_detached(key(KeyType::ecdsa_p256, 1), ca, {}, "x");
    CHECK(reason_of(status_of(sig)) == "keys.certificate_mismatch");
  }
}

TEST_CASE("crypto::issue_code_signing_certificate refuses a CA key that is not the CA's") {
  const auto ca = make_ca(KeyType::ecdsa_p256);
  const auto& release = key(KeyType::ecdsa_p256, 1);

  SUBCASE("another key of the same type") {
    auto leaf = ecluse::crypto::issue_code_signing_certificate(
        key(KeyType::ecdsa_p256, 2), ca, release.public_key(), request("Signing"));
    CHECK(reason_of(status_of(leaf)) == "keys.certificate_mismatch");
  }
  SUBCASE("the key a look-alike CA (same name) was made with") {
    const auto look_alike = make_ca(KeyType::ed25519, 2);
    auto leaf = ecluse::crypto::issue_code_signing_certificate(
        key(KeyType::ed25519, 2), ca, release.public_key(), request("Signing"));
    CHECK(reason_of(status_of(leaf)) == "keys.certificate_mismatch");
    CHECK(look_alike.info().subject == ca.info().subject);
  }
  SUBCASE("the release key itself") {
    auto leaf = ecluse::crypto::issue_code_signing_certificate(
        release, ca, release.public_key(), request("Signing"));
    CHECK(reason_of(status_of(leaf)) == "keys.certificate_mismatch");
  }
}

TEST_CASE("crypto::sign_cms_detached refuses Ed25519 signers (no RFC 8419 in OpenSSL 3.0)") {
  const auto ca = make_ca(KeyType::ecdsa_p256);
  const auto& release = key(KeyType::ed25519, 1);
  const auto leaf = issue(KeyType::ecdsa_p256, ca, release);
  auto sig = ecluse::crypto::sign_cms_detached(release, leaf, {ca}, binary_content());
  CHECK(reason_of(status_of(sig)) == "keys.unsupported_type");

  // The certificate itself is fine: an Ed25519 key can still be certified.
  const TempDir dir;
  const auto usage = usage_text(dir, leaf);
  CHECK(usage.find("Code Signing") != std::string::npos);
  CHECK(leaf.info().key.type == "Ed25519");
}

TEST_CASE("crypto::make_ca_certificate makes a self-signed CA limited to issuing leaves") {
  const auto now = wall_now();
  auto ca = ecluse::crypto::make_ca_certificate(key(KeyType::ecdsa_p256, 0),
                                                CertificateRequest{"Ops CA", "Ops", "FR", 30, now});
  REQUIRE(ca.has_value());
  const auto& info = ca->info();
  CHECK(info.subject == "CN=Ops CA,O=Ops,C=FR");
  CHECK(info.issuer == info.subject);
  CHECK(info.is_ca);
  CHECK(info.self_signed);
  CHECK(info.not_before == now - std::chrono::seconds(300));
  CHECK(info.not_after == now + std::chrono::days(30));
  CHECK(info.signature_algorithm == "ecdsa-with-SHA256");
  CHECK(info.serial.size() <= 32);
  CHECK(info.serial != make_ca(KeyType::ecdsa_p256).info().serial);

  const TempDir dir;
  const auto usage = usage_text(dir, *ca);
  CHECK(usage.find("CA:TRUE, pathlen:0") != std::string::npos);
  CHECK(usage.find("Certificate Sign, CRL Sign") != std::string::npos);

  SUBCASE("the leaf's authority key identifier is the CA's subject key identifier") {
    const auto leaf = issue(KeyType::ecdsa_p256, *ca, key(KeyType::ecdsa_p256, 1));
    CHECK(leaf.info().issuer == info.subject);
    CHECK_FALSE(leaf.info().is_ca);
    write_file(dir / "ca.pem", ca->pem());
    write_file(dir / "leaf.pem", leaf.pem());
    const auto ski = run_in(dir, "openssl x509 -noout -ext subjectKeyIdentifier -in ca.pem");
    const auto aki = run_in(dir, "openssl x509 -noout -ext authorityKeyIdentifier -in leaf.pem");
    REQUIRE(ski.status == 0);
    REQUIRE(aki.status == 0);
    const auto colon = ski.output.find(':');
    REQUIRE(colon != std::string::npos);
    const auto id = ski.output.substr(ski.output.find_first_not_of(" \n", colon + 1), 59);
    CHECK(aki.output.find(id) != std::string::npos);
  }
  SUBCASE("Ed25519 and RSA-3072 CAs sign purely and with SHA-256") {
    CHECK(make_ca(KeyType::ed25519).info().signature_algorithm == "ED25519");
    CHECK(make_ca(KeyType::rsa_3072).info().signature_algorithm == "sha256WithRSAEncryption");
  }
}

TEST_CASE("crypto::sign_cms_detached signatures verify with openssl cms and with verify_cms") {
  SUBCASE("ECDSA P-256 CA, ECDSA P-256 release key") {
    check_round_trip(KeyType::ecdsa_p256, KeyType::ecdsa_p256);
  }
  SUBCASE("ECDSA P-256 CA, RSA-3072 release key") {
    check_round_trip(KeyType::ecdsa_p256, KeyType::rsa_3072);
  }
  SUBCASE("Ed25519 CA, ECDSA P-256 release key") {
    check_round_trip(KeyType::ed25519, KeyType::ecdsa_p256);
  }
  SUBCASE("RSA-3072 CA, RSA-3072 release key") {
    check_round_trip(KeyType::rsa_3072, KeyType::rsa_3072);
  }
  SUBCASE("Ed25519 CA, RSA-3072 release key") {
    check_round_trip(KeyType::ed25519, KeyType::rsa_3072);
  }
}

TEST_CASE("crypto::sign_cms_detached_file signs a file's exact bytes, streamed") {
  const TempDir dir;
  const auto ca = make_ca(KeyType::ecdsa_p256);
  const auto& release = key(KeyType::ecdsa_p256, 1);
  const auto leaf = issue(KeyType::ecdsa_p256, ca, release);

  SUBCASE("the signature verifies with openssl cms and verify_cms") {
    write_file(dir / "artifact", binary_content());
    auto sig = ecluse::crypto::sign_cms_detached_file(release, leaf, {ca}, dir / "artifact");
    REQUIRE_MESSAGE(sig.has_value(), error_text(sig));
    const Signed s{ca, leaf, binary_content(), *sig};
    check_openssl_cms(s, KeyType::ecdsa_p256);
    check_verify_cms(s);
  }
  SUBCASE("the same refusals as for bytes in memory") {
    write_file(dir / "artifact", "x");
    auto other = ecluse::crypto::sign_cms_detached_file(
        key(KeyType::ecdsa_p256, 2), leaf, {ca}, dir / "artifact");
    CHECK(reason_of(status_of(other)) == "keys.certificate_mismatch");
    const auto& ed = key(KeyType::ed25519, 1);
    auto ed_sig = ecluse::crypto::sign_cms_detached_file(
        ed, issue(KeyType::ecdsa_p256, ca, ed), {ca}, dir / "artifact");
    CHECK(reason_of(status_of(ed_sig)) == "keys.unsupported_type");
  }
  SUBCASE("a missing file") {
    auto sig = ecluse::crypto::sign_cms_detached_file(release, leaf, {ca}, dir / "absent");
    CHECK(reason_of(status_of(sig)) == "store.object_missing");
  }
}
