// crypto::verify_cms and crypto::verify_raw against PKIs built at test time: one case per
// reason code, and positive cases for every accepted algorithm and encoding.
#include <ecluse/crypto/signature.hpp>

#include <doctest/doctest.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

#include "support/support.hpp"

namespace pki = ecluse::test::pki;
using ecluse::TimePoint;
using ecluse::test::cert_spec;
using ecluse::test::test_now;
using std::chrono::days;

namespace {

const std::string k_content = R"({"schema":"ecluse.drop/v1","vendor":"acme"})";

ecluse::crypto::Certificate parsed(const pki::Cert& c) {
  auto certs = ecluse::crypto::parse_certificates(c.pem(), ecluse::reason::k_internal, "test");
  REQUIRE(certs.has_value());
  REQUIRE(certs->size() == 1);
  return certs->front();
}

// A vendor PKI: root, intermediate and code-signing leaf, all of `key` type.
struct Pki {
  pki::Issued root;
  pki::Issued inter;
  pki::Issued leaf;

  explicit Pki(pki::KeyType key = pki::KeyType::ec_p256, const std::string& name = "Acme")
      : root(pki::make_root(
          cert_spec(name + " Root", true, test_now() - days(3650), test_now() + days(3650), key))),
        inter(pki::issue(
            root,
            cert_spec(name + " CA", true, test_now() - days(365), test_now() + days(1825), key))),
        leaf(pki::issue(
            inter,
            cert_spec(
                name + " Signing", false, test_now() - days(30), test_now() + days(365), key))) {}

  [[nodiscard]] ecluse::crypto::Anchors anchors() const {
    ecluse::crypto::Anchors a;
    a.vendor = "acme";
    a.roots.push_back(parsed(root.cert));
    return a;
  }

  [[nodiscard]] std::string sign(const pki::CmsOptions& opt = {}) const {
    return pki::sign_cms(k_content, leaf, {inter.cert}, opt);
  }

  // A leaf issued by the intermediate with a changed spec.
  [[nodiscard]] pki::Issued leaf_with(const std::function<void(pki::CertSpec&)>& change) const {
    auto spec =
        cert_spec("Acme Other Signing", false, test_now() - days(30), test_now() + days(365));
    change(spec);
    return pki::issue(inter, spec);
  }
};

const Pki& acme() {
  static const Pki k_pki;
  return k_pki;
}

ecluse::Result<ecluse::crypto::CmsReport> verify(const std::string& sig,
                                                 const ecluse::crypto::Anchors& anchors,
                                                 const ecluse::crypto::AlgorithmPolicy& policy = {},
                                                 TimePoint at = test_now()) {
  return ecluse::crypto::verify_cms(sig, k_content, anchors, policy, at);
}

std::string reason_of(const ecluse::Result<ecluse::crypto::CmsReport>& r) {
  return r ? std::string("accepted") : r.error().reason;
}

// A SignedData with several signers, or none (a certificates-only structure).
std::string multi_signed(const std::vector<const pki::Issued*>& signers) {
  BIO* content = BIO_new_mem_buf(k_content.data(), static_cast<int>(k_content.size()));
  const unsigned flags = CMS_PARTIAL | CMS_DETACHED | CMS_BINARY;
  CMS_ContentInfo* cms = CMS_sign(nullptr, nullptr, nullptr, nullptr, flags);
  REQUIRE(cms != nullptr);
  for (const auto* s : signers) {
    const auto cert_pem = s->cert.pem();
    const auto key_pem = s->key.private_pem();
    BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    X509* x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    EVP_PKEY* k = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    REQUIRE(CMS_add1_signer(cms, x, k, EVP_sha256(), flags) != nullptr);
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
  }
  if (!signers.empty()) {
    REQUIRE(CMS_final(cms, content, nullptr, flags) == 1);
  }
  unsigned char* der = nullptr;
  const int n = i2d_CMS_ContentInfo(cms, &der);
  REQUIRE(n > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  CMS_ContentInfo_free(cms);
  BIO_free(content);
  return out;
}

}  // namespace

TEST_CASE("crypto::verify_cms accepts every allowed algorithm, DER and PEM, with its evidence") {
  SUBCASE("ECDSA P-256, DER") {
    const auto r = verify(acme().sign(), acme().anchors());
    REQUIRE(r.has_value());
    CHECK(r->encoding == "der");
    CHECK(r->digest == "sha256");
    CHECK(r->signer.subject.find("CN=Acme Signing") != std::string::npos);
    CHECK(r->signer.key.curve == "P-256");
    REQUIRE(r->chain.size() == 3);
    CHECK(r->chain.back().sha256 == acme().anchors().roots.front().info().sha256);
    CHECK(r->validated_at == test_now());
    CHECK(r->to_json()["chain"].size() == 3);
  }
  SUBCASE("PEM") {
    pki::CmsOptions o;
    o.pem = true;
    const auto r = verify(acme().sign(o), acme().anchors());
    REQUIRE(r.has_value());
    CHECK(r->encoding == "pem");
  }
  SUBCASE("SHA-384 and SHA-512 digests") {
    for (const char* d : {"sha384", "sha512"}) {
      pki::CmsOptions o;
      o.digest = d;
      const auto r = verify(acme().sign(o), acme().anchors());
      REQUIRE(r.has_value());
      CHECK(r->digest == d);
    }
  }
  SUBCASE("without signed attributes") {
    pki::CmsOptions o;
    o.signed_attributes = false;
    CHECK(reason_of(verify(acme().sign(o), acme().anchors())) == "accepted");
  }
  SUBCASE("ECDSA P-384") {
    const Pki p(pki::KeyType::ec_p384);
    const auto r = verify(p.sign(), p.anchors());
    REQUIRE(r.has_value());
    CHECK(r->signer.key.curve == "P-384");
  }
  SUBCASE("RSA-2048 PKCS#1 v1.5 and PSS, RSA-3072") {
    const Pki p(pki::KeyType::rsa2048);
    const auto v15 = verify(p.sign(), p.anchors());
    REQUIRE(v15.has_value());
    CHECK(v15->padding == "pkcs1");
    pki::CmsOptions o;
    o.rsa_pss = true;
    const auto pss = verify(p.sign(o), p.anchors());
    REQUIRE(pss.has_value());
    CHECK(pss->padding == "pss");
    const Pki big(pki::KeyType::rsa3072);
    CHECK(reason_of(verify(big.sign(), big.anchors())) == "accepted");
  }
  SUBCASE("Ed25519 root and intermediate above an ECDSA leaf") {
    const auto root = pki::make_root(cert_spec(
        "Ed Root", true, test_now() - days(10), test_now() + days(10), pki::KeyType::ed25519));
    const auto inter = pki::issue(
        root,
        cert_spec(
            "Ed CA", true, test_now() - days(10), test_now() + days(10), pki::KeyType::ed25519));
    const auto leaf = pki::issue(
        inter, cert_spec("Ed Leaf", false, test_now() - days(10), test_now() + days(10)));
    ecluse::crypto::Anchors a;
    a.roots.push_back(parsed(root.cert));
    const auto r = verify(pki::sign_cms(k_content, leaf, {inter.cert}), a);
    REQUIRE(r.has_value());
    CHECK(r->chain.back().key.type == "Ed25519");
  }
  SUBCASE("an intermediate pinned in the trust store instead of shipped in the CMS") {
    auto a = acme().anchors();
    CHECK(reason_of(verify(pki::sign_cms(k_content, acme().leaf, {}), a))
          == "signature.untrusted_root");
    a.intermediates.push_back(parsed(acme().inter.cert));
    CHECK(reason_of(verify(pki::sign_cms(k_content, acme().leaf, {}), a)) == "accepted");
  }
  SUBCASE("SHA-1 when an operator's policy lists it (the policy is data)") {
    ecluse::crypto::AlgorithmPolicy lax;
    lax.digests.emplace_back("sha1");
    pki::CmsOptions o;
    o.digest = "sha1";
    CHECK(reason_of(verify(acme().sign(o), acme().anchors(), lax)) == "accepted");
  }
}

TEST_CASE("crypto::verify_cms refuses what is not one detached SignedData") {
  const auto a = acme().anchors();
  CHECK(reason_of(verify("", a)) == "signature.malformed");
  CHECK(reason_of(verify("garbage, not DER", a)) == "signature.malformed");
  const auto der = acme().sign();
  CHECK(reason_of(verify(der.substr(0, der.size() / 2), a)) == "signature.malformed");
  CHECK(reason_of(verify(der + "X", a)) == "signature.malformed");
  CHECK(reason_of(verify(acme().leaf.cert.pem(), a)) == "signature.malformed");
  CHECK(reason_of(verify(acme().leaf.cert.der(), a)) == "signature.malformed");
  pki::CmsOptions attached;
  attached.detached = false;
  CHECK(reason_of(verify(acme().sign(attached), a)) == "signature.attached");
  CHECK(reason_of(verify(multi_signed({}), a)) == "signature.signer_count");
  const auto second = acme().leaf_with([](pki::CertSpec& s) { s.cn = "Acme Second Signing"; });
  CHECK(reason_of(verify(multi_signed({&acme().leaf, &second}), a)) == "signature.signer_count");
  pki::CmsOptions no_certs;
  no_certs.include_signer_cert = false;
  CHECK(reason_of(verify(pki::sign_cms(k_content, acme().leaf, {}, no_certs), a))
        == "signature.signer_certificate_missing");
}

TEST_CASE("crypto::verify_cms binds the signature to the exact bytes and the signer's key") {
  const auto a = acme().anchors();
  const auto sig = acme().sign();
  CHECK(reason_of(ecluse::crypto::verify_cms(sig, k_content + " ", a, {}, test_now()))
        == "signature.content_mismatch");
  CHECK(reason_of(ecluse::crypto::verify_cms(sig, "", a, {}, test_now()))
        == "signature.content_mismatch");
  auto flipped = sig;
  flipped.back() = static_cast<char>(flipped.back() ^ 0x01);
  CHECK(reason_of(verify(flipped, a)) == "signature.invalid");
}

TEST_CASE("crypto::verify_cms builds the chain only to the vendor's pinned roots") {
  const auto a = acme().anchors();
  SUBCASE("another vendor's PKI, even with its root shipped in the CMS") {
    const Pki other(pki::KeyType::ec_p256, "Globex");
    CHECK(reason_of(verify(other.sign(), a)) == "signature.untrusted_root");
    CHECK(reason_of(
              verify(pki::sign_cms(k_content, other.leaf, {other.inter.cert, other.root.cert}), a))
          == "signature.untrusted_root");
  }
  SUBCASE("a look-alike PKI with identical names and other keys") {
    const Pki look;  // same names as acme(), fresh keys
    CHECK(reason_of(verify(look.sign(), a)) == "signature.untrusted_root");
    CHECK(
        reason_of(verify(pki::sign_cms(k_content, look.leaf, {look.inter.cert, look.root.cert}), a))
        == "signature.untrusted_root");
  }
  SUBCASE("a look-alike intermediate under the real name, signing a real-looking leaf") {
    const Pki look;
    CHECK(reason_of(
              verify(pki::sign_cms(k_content, look.leaf, {acme().inter.cert, look.inter.cert}), a))
          == "signature.untrusted_root");
  }
  SUBCASE("a leaf used as a CA (CVE-2015-1793 shape)") {
    const auto child = pki::issue(
        acme().leaf, cert_spec("Acme Child", false, test_now() - days(1), test_now() + days(10)));
    CHECK(
        reason_of(verify(pki::sign_cms(k_content, child, {acme().leaf.cert, acme().inter.cert}), a))
        == "signature.untrusted_root");
  }
  SUBCASE("no roots pinned at all") {
    CHECK(reason_of(verify(acme().sign(), ecluse::crypto::Anchors{}))
          == "signature.untrusted_root");
  }
}

TEST_CASE("crypto::verify_cms refuses an intermediate restricted to other usages") {
  auto spec = cert_spec("Acme TLS CA", true, test_now() - days(9), test_now() + days(9));
  spec.ca_eku = {"serverAuth"};
  const auto tls_ca = pki::issue(acme().root, spec);
  const auto leaf = pki::issue(
      tls_ca, cert_spec("Acme Via TLS CA", false, test_now() - days(9), test_now() + days(9)));
  const auto r = verify(pki::sign_cms(k_content, leaf, {tls_ca.cert}), acme().anchors());
  CHECK(reason_of(r) == "signature.not_code_signing");
  CHECK(r.error().item.find("Acme TLS CA") != std::string::npos);
  spec.cn = "Acme Code CA";
  spec.ca_eku = {"codeSigning"};
  const auto code_ca = pki::issue(acme().root, spec);
  const auto ok = pki::issue(
      code_ca, cert_spec("Acme Via Code CA", false, test_now() - days(9), test_now() + days(9)));
  CHECK(reason_of(verify(pki::sign_cms(k_content, ok, {code_ca.cert}), acme().anchors()))
        == "accepted");
}

TEST_CASE(
    "crypto::verify_cms: an expired pinned root is the operator's problem, not the vendor's") {
  const auto root =
      pki::make_root(cert_spec("Old Root", true, test_now() - days(900), test_now() - days(1)));
  const auto leaf = pki::issue(
      root, cert_spec("Old Signing", false, test_now() - days(90), test_now() + days(9)));
  ecluse::crypto::Anchors a;
  a.roots.push_back(parsed(root.cert));
  const auto r = verify(pki::sign_cms(k_content, leaf, {}), a);
  CHECK(reason_of(r) == "trust.root_expired");
  CHECK(r.error().code == ecluse::Errc::unavailable);
}

TEST_CASE("crypto::verify_cms requires the code-signing usage on the leaf") {
  const auto a = acme().anchors();
  const auto no_eku = acme().leaf_with([](pki::CertSpec& s) { s.eku.clear(); });
  CHECK(reason_of(verify(pki::sign_cms(k_content, no_eku, {acme().inter.cert}), a))
        == "signature.not_code_signing");
  const auto email = acme().leaf_with([](pki::CertSpec& s) { s.eku = {"emailProtection"}; });
  CHECK(reason_of(verify(pki::sign_cms(k_content, email, {acme().inter.cert}), a))
        == "signature.not_code_signing");
  const auto both = acme().leaf_with([](pki::CertSpec& s) {
    s.eku = {"emailProtection", "codeSigning"};
  });
  CHECK(reason_of(verify(pki::sign_cms(k_content, both, {acme().inter.cert}), a)) == "accepted");
}

TEST_CASE(
    "crypto::verify_cms checks validity at verification time, not at the claimed signing time") {
  const auto a = acme().anchors();
  const auto expired = acme().leaf_with([](pki::CertSpec& s) {
    s.not_before = test_now() - days(400);
    s.not_after = test_now() - days(1);
  });
  pki::CmsOptions backdated;
  backdated.signing_time = test_now() - days(200);
  const auto r = verify(pki::sign_cms(k_content, expired, {acme().inter.cert}, backdated), a);
  CHECK(reason_of(r) == "signature.certificate_expired");
  CHECK(r.error().item.find("Acme Other Signing") != std::string::npos);
  const auto future = acme().leaf_with([](pki::CertSpec& s) {
    s.not_before = test_now() + days(1);
    s.not_after = test_now() + days(400);
  });
  CHECK(reason_of(verify(pki::sign_cms(k_content, future, {acme().inter.cert}), a))
        == "signature.certificate_not_yet_valid");
  // The same good signature, verified at a time after the leaf expires.
  CHECK(reason_of(verify(acme().sign(), a, {}, test_now() + days(366)))
        == "signature.certificate_expired");
  // An expired intermediate.
  const auto old_ca = pki::issue(
      acme().root, cert_spec("Acme Old CA", true, test_now() - days(900), test_now() - days(2)));
  const auto leaf = pki::issue(
      old_ca, cert_spec("Acme Old Signing", false, test_now() - days(800), test_now() + days(30)));
  const auto r2 = verify(pki::sign_cms(k_content, leaf, {old_ca.cert}), a);
  CHECK(reason_of(r2) == "signature.certificate_expired");
  CHECK(r2.error().item.find("Acme Old CA") != std::string::npos);
}

TEST_CASE("crypto::verify_cms applies the algorithm policy to the signature and the whole chain") {
  const auto a = acme().anchors();
  pki::CmsOptions sha1;
  sha1.digest = "sha1";
  CHECK(reason_of(verify(acme().sign(sha1), a)) == "signature.weak_digest");
  const Pki rsa(pki::KeyType::rsa2048);
  pki::CmsOptions md5;
  md5.digest = "md5";
  CHECK(reason_of(verify(rsa.sign(md5), rsa.anchors())) == "signature.weak_digest");
  const auto sha1_cert = acme().leaf_with([](pki::CertSpec& s) { s.sig_digest = "sha1"; });
  CHECK(reason_of(verify(pki::sign_cms(k_content, sha1_cert, {acme().inter.cert}), a))
        == "signature.weak_digest");
  const auto rsa1024 = acme().leaf_with([](pki::CertSpec& s) { s.key = pki::KeyType::rsa1024; });
  CHECK(reason_of(verify(pki::sign_cms(k_content, rsa1024, {acme().inter.cert}), a))
        == "signature.weak_key");
  const auto k1 = acme().leaf_with([](pki::CertSpec& s) { s.key = pki::KeyType::ec_secp256k1; });
  CHECK(reason_of(verify(pki::sign_cms(k_content, k1, {acme().inter.cert}), a))
        == "signature.weak_key");
  const auto weak_ca = pki::issue(
      acme().root,
      cert_spec(
          "Acme Weak CA", true, test_now() - days(9), test_now() + days(9), pki::KeyType::rsa1024));
  const auto leaf = pki::issue(
      weak_ca, cert_spec("Acme Weak Signing", false, test_now() - days(9), test_now() + days(9)));
  CHECK(reason_of(verify(pki::sign_cms(k_content, leaf, {weak_ca.cert}), a))
        == "signature.weak_key");
  ecluse::crypto::AlgorithmPolicy strict;
  strict.rsa_min_bits = 3072;
  CHECK(reason_of(verify(rsa.sign(), rsa.anchors(), strict)) == "signature.weak_key");
  ecluse::crypto::AlgorithmPolicy no_pss;
  no_pss.rsa_padding = {"pkcs1"};
  pki::CmsOptions pss;
  pss.rsa_pss = true;
  CHECK(reason_of(verify(rsa.sign(pss), rsa.anchors(), no_pss))
        == "signature.algorithm_not_allowed");
}

TEST_CASE("crypto::verify_cms honours pinned CRLs offline") {
  const auto victim = acme().leaf_with([](pki::CertSpec& s) { s.cn = "Acme Revoked Signing"; });
  const auto crl_of = [](const pki::Issued& issuer,
                         const std::vector<pki::Cert>& revoked,
                         TimePoint next) {
    auto c = ecluse::crypto::parse_crl(pki::make_crl(issuer, revoked, test_now() - days(1), next),
                                       ecluse::reason::k_internal,
                                       "crl");
    REQUIRE(c.has_value());
    return *c;
  };
  auto a = acme().anchors();
  a.crls.push_back(crl_of(acme().inter, {victim.cert}, test_now() + days(7)));
  SUBCASE("a revoked leaf") {
    CHECK(reason_of(verify(pki::sign_cms(k_content, victim, {acme().inter.cert}), a))
          == "signature.revoked");
  }
  SUBCASE("a leaf the CRL does not list is accepted, and the CRL is named in the evidence") {
    const auto r = verify(acme().sign(), a);
    REQUIRE(r.has_value());
    REQUIRE(r->crls.size() == 1);
    CHECK(r->crls[0].covers.find("CN=Acme Signing") != std::string::npos);
    CHECK(r->crl_gaps.size() == 1);  // nothing pinned covers the intermediate itself
  }
  SUBCASE("a revoked intermediate") {
    a.crls.push_back(crl_of(acme().root, {acme().inter.cert}, test_now() + days(7)));
    const auto r = verify(acme().sign(), a);
    CHECK(reason_of(r) == "signature.revoked");
    CHECK(r.error().item.find("CN=Acme CA") != std::string::npos);
  }
  SUBCASE("a stale CRL is our fault, not the vendor's") {
    a.crls = {crl_of(acme().inter, {}, test_now() - days(1) + std::chrono::hours(1))};
    const auto r = verify(acme().sign(), a, {}, test_now());
    CHECK(reason_of(r) == "trust.crl_stale");
    CHECK(r.error().code == ecluse::Errc::unavailable);
  }
}

TEST_CASE("crypto::verify_raw checks a base64 signature with the pinned Ed25519 or P-256 key") {
  for (const auto type : {pki::KeyType::ed25519, pki::KeyType::ec_p256}) {
    const auto key = pki::Key::generate(type);
    auto pub = ecluse::crypto::parse_public_key(key.public_pem(), ecluse::reason::k_internal, "k");
    REQUIRE(pub.has_value());
    const auto ok = ecluse::crypto::verify_raw(pki::sign_raw(k_content, key), k_content, *pub, {});
    REQUIRE(ok.has_value());
    CHECK(ok->key_id == pub->key_id());
    CHECK(ok->key_id.size() == 64);
    const auto other = pki::Key::generate(type);
    CHECK(ecluse::crypto::verify_raw(pki::sign_raw(k_content, other), k_content, *pub, {})
              .error()
              .reason
          == "signature.content_mismatch");
    CHECK(ecluse::crypto::verify_raw(pki::sign_raw("other bytes", key), k_content, *pub, {})
              .error()
              .reason
          == "signature.content_mismatch");
    CHECK(ecluse::crypto::verify_raw("%%% not base64", k_content, *pub, {}).error().reason
          == "signature.malformed");
    CHECK(ecluse::crypto::verify_raw(acme().sign(), k_content, *pub, {}).error().reason
          == "signature.malformed");
  }
  const auto rsa = pki::Key::shared(pki::KeyType::rsa2048);
  auto pub = ecluse::crypto::parse_public_key(rsa.public_pem(), ecluse::reason::k_internal, "k");
  REQUIRE(pub.has_value());
  CHECK(
      ecluse::crypto::verify_raw(pki::sign_raw(k_content, rsa), k_content, *pub, {}).error().reason
      == "signature.algorithm_not_allowed");
}

TEST_CASE("crypto parsers refuse garbage, trailing bytes and the wrong PEM block") {
  using ecluse::reason::k_trust_bad_material;
  CHECK_FALSE(ecluse::crypto::parse_certificates("junk", k_trust_bad_material, "f"));
  CHECK_FALSE(
      ecluse::crypto::parse_certificates(acme().leaf.cert.der() + "x", k_trust_bad_material, "f"));
  CHECK_FALSE(
      ecluse::crypto::parse_certificates(acme().leaf.key.public_pem(), k_trust_bad_material, "f"));
  const auto bundle = acme().root.cert.pem() + acme().inter.cert.pem();
  CHECK(ecluse::crypto::parse_certificates(bundle, k_trust_bad_material, "f")->size() == 2);
  CHECK(
      ecluse::crypto::parse_certificates(acme().leaf.cert.der(), k_trust_bad_material, "f")->size()
      == 1);
  CHECK_FALSE(ecluse::crypto::parse_crl(acme().root.cert.pem(), k_trust_bad_material, "f"));
  CHECK_FALSE(ecluse::crypto::parse_public_key(acme().root.cert.pem(), k_trust_bad_material, "f"));
  const auto pem = acme().root.cert.pem();
  CHECK_FALSE(ecluse::crypto::parse_certificates(pem + "x", k_trust_bad_material, "f"));
  CHECK_FALSE(ecluse::crypto::parse_certificates("x" + pem, k_trust_bad_material, "f"));
  pki::CmsOptions as_pem;
  as_pem.pem = true;
  CHECK(reason_of(verify(acme().sign(as_pem) + "trailing", acme().anchors()))
        == "signature.malformed");
  const auto err = ecluse::crypto::parse_certificates("junk", k_trust_bad_material, "f").error();
  CHECK(err.reason == "trust.bad_material");
  CHECK(err.item == "f");
}
