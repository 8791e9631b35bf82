// The test PKI builder, checked with the OpenSSL API directly: keys, chains, CRLs, CMS and raw
// signatures it makes verify the way a real verifier would see them.
#include "support/pki.hpp"

#include <ecluse/core/c_handle.hpp>

#include <doctest/doctest.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

namespace pki = ecluse::test::pki;
using namespace std::chrono_literals;

namespace {

template <class T, auto F>
using Ptr = ecluse::CHandle<T, F>;

using BioPtr = Ptr<BIO, BIO_free_all>;
using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = Ptr<X509, X509_free>;
using CrlPtr = Ptr<X509_CRL, X509_CRL_free>;
using CmsPtr = Ptr<CMS_ContentInfo, CMS_ContentInfo_free>;
using StorePtr = Ptr<X509_STORE, X509_STORE_free>;

const ecluse::TimePoint k_now{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}};

pki::CertSpec spec(std::string cn, pki::KeyType key, bool ca) {
  pki::CertSpec s;
  s.cn = std::move(cn);
  s.key = key;
  s.ca = ca;
  s.not_before = k_now - std::chrono::days{30};
  s.not_after = k_now + std::chrono::days{365};
  return s;
}

std::time_t to_time_t(ecluse::TimePoint t) {
  return static_cast<std::time_t>(t.time_since_epoch().count());
}

void free_x509s(STACK_OF(X509) * s) {
  sk_X509_pop_free(s, X509_free);
}

void free_x509_stack(STACK_OF(X509) * s) {
  sk_X509_free(s);
}

BioPtr mem(std::string&&) = delete;  // the BIO reads s in place: no temporaries

BioPtr mem(const std::string& s) {
  return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

X509Ptr parse_cert(const pki::Cert& c) {
  const std::string der = c.der();
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(x != nullptr);
  return x;
}

PkeyPtr parse_public(const pki::Key& k) {
  const std::string pem = k.public_pem();
  const BioPtr b = mem(pem);
  PkeyPtr key(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
  REQUIRE(key != nullptr);
  return key;
}

CmsPtr parse_cms(const std::string& sig, bool pem) {
  std::string der = sig;
  if (pem) {  // by hand: PEM_read_bio_CMS needs pem.h included before cms.h
    const BioPtr b = mem(sig);
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    REQUIRE(PEM_read_bio(b.get(), &name, &header, &data, &len) == 1);
    const bool is_cms = std::string(name) == "CMS";
    der.assign(reinterpret_cast<const char*>(data), static_cast<std::size_t>(len));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    REQUIRE(is_cms);
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(cms != nullptr);
  return cms;
}

StorePtr store_with(const pki::Cert& root) {
  StorePtr store(X509_STORE_new());
  REQUIRE(store != nullptr);
  REQUIRE(X509_STORE_add_cert(store.get(), parse_cert(root).get()) == 1);
  REQUIRE(X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY) == 1);
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), to_time_t(k_now));
  return store;
}

// CMS_verify of sig against root; content is the detached content (or empty when attached).
bool cms_verifies(const std::string& sig,
                  bool pem,
                  const pki::Cert& root,
                  const std::string* content,
                  std::string* out_content = nullptr) {
  const CmsPtr cms = parse_cms(sig, pem);
  const StorePtr store = store_with(root);
  const BioPtr dcont = content != nullptr ? mem(*content) : nullptr;
  const BioPtr out(BIO_new(BIO_s_mem()));
  const int ok = CMS_verify(cms.get(), nullptr, store.get(), dcont.get(), out.get(), CMS_BINARY);
  if (out_content != nullptr) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(out.get(), &data);
    *out_content = n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
  }
  return ok == 1;
}

struct Chain {
  pki::Issued root, inter, leaf;
};

Chain ec_chain() {
  Chain c;
  c.root = pki::make_root(spec("Root", pki::KeyType::ec_p384, true));
  c.inter = pki::issue(c.root, spec("Intermediate", pki::KeyType::ec_p256, true));
  c.leaf = pki::issue(c.inter, spec("Signer", pki::KeyType::ec_p256, false));
  return c;
}

std::string unbase64(const std::string& b64) {
  std::string text = b64;
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  text.pop_back();
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  REQUIRE(n >= 0);
  const auto pad = static_cast<std::size_t>(std::count(text.end() - 2, text.end(), '='));
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace

TEST_CASE("pki::Key makes distinct keys as SPKI and PKCS#8 PEM; shared keys are cached") {
  for (auto type : {pki::KeyType::ec_p256,
                    pki::KeyType::ec_p384,
                    pki::KeyType::ec_secp256k1,
                    pki::KeyType::ed25519,
                    pki::KeyType::rsa1024}) {
    const pki::Key a = pki::Key::generate(type);
    const pki::Key b = pki::Key::generate(type);
    CHECK(a.type() == type);
    CHECK(a.public_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    CHECK(a.private_pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
    CHECK(a.public_pem() != b.public_pem());
    const std::string priv_pem = a.private_pem();
    const BioPtr priv_bio = mem(priv_pem);
    const PkeyPtr priv(PEM_read_bio_PrivateKey(priv_bio.get(), nullptr, nullptr, nullptr));
    REQUIRE(priv != nullptr);
    CHECK(EVP_PKEY_eq(priv.get(), parse_public(a).get()) == 1);
  }
  const auto rsa = pki::KeyType::rsa1024;
  CHECK(pki::Key::shared(rsa, 7).public_pem() == pki::Key::shared(rsa, 7).public_pem());
  CHECK(pki::Key::shared(rsa, 7).public_pem() != pki::Key::shared(rsa, 8).public_pem());
}

TEST_CASE("pki::make_root and pki::issue build a chain X509_verify_cert accepts") {
  const auto root = pki::make_root(spec("Root", pki::KeyType::rsa1024, true));
  auto inter_spec = spec("Intermediate", pki::KeyType::ec_p384, true);
  inter_spec.sig_digest = "sha384";
  const auto inter = pki::issue(root, inter_spec);
  auto leaf_spec = spec("Signer", pki::KeyType::rsa2048, false);
  leaf_spec.sig_digest = "sha1";
  leaf_spec.serial = 0x1234;
  const auto leaf = pki::issue(inter, leaf_spec);

  const X509Ptr r = parse_cert(root.cert);
  const X509Ptr i = parse_cert(inter.cert);
  const X509Ptr l = parse_cert(leaf.cert);
  CHECK(X509_verify(r.get(), parse_public(root.key).get()) == 1);
  CHECK(X509_verify(i.get(), parse_public(root.key).get()) == 1);
  CHECK(X509_verify(l.get(), parse_public(inter.key).get()) == 1);
  CHECK(X509_verify(l.get(), parse_public(root.key).get()) != 1);
  CHECK(X509_get_signature_nid(i.get()) == NID_sha384WithRSAEncryption);
  CHECK(X509_get_signature_nid(l.get()) == NID_ecdsa_with_SHA1);
  CHECK(leaf.cert.serial_hex() == "1234");
  CHECK(root.cert.serial_hex().size() == 16);
  CHECK(leaf.cert.pem().starts_with("-----BEGIN CERTIFICATE-----\n"));

  CHECK(X509_check_ca(r.get()) == 1);
  CHECK(X509_check_ca(i.get()) == 1);
  CHECK(X509_check_ca(l.get()) == 0);
  CHECK((X509_get_key_usage(l.get()) & KU_DIGITAL_SIGNATURE) != 0);
  CHECK((X509_get_extended_key_usage(l.get()) & XKU_CODE_SIGN) != 0);
  CHECK(X509_get_extended_key_usage(i.get()) == UINT32_MAX);  // no EKU on the CA
  CHECK(
      ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(l.get()), X509_get0_subject_key_id(i.get()))
      == 0);
  CHECK(
      ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(r.get()), X509_get0_subject_key_id(r.get()))
      == 0);

  const StorePtr store = store_with(root.cert);
  Ptr<STACK_OF(X509), free_x509_stack> untrusted(sk_X509_new_null());
  REQUIRE(sk_X509_push(untrusted.get(), i.get()) == 1);
  const Ptr<X509_STORE_CTX, X509_STORE_CTX_free> ctx(X509_STORE_CTX_new());
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), l.get(), untrusted.get()) == 1);
  CHECK(X509_verify_cert(ctx.get()) == 1);
}

TEST_CASE("pki::issue with Ed25519 keys and use_key gives look-alikes distinct keys") {
  const auto root = pki::make_root(spec("Root", pki::KeyType::ed25519, true));
  const auto leaf = pki::issue(root, spec("Signer", pki::KeyType::ed25519, false));
  CHECK(X509_verify(parse_cert(leaf.cert).get(), parse_public(root.key).get()) == 1);
  CHECK(X509_get_signature_nid(parse_cert(leaf.cert).get()) == NID_ED25519);

  auto fake_spec = spec("Root", pki::KeyType::rsa1024, true);
  const auto real = pki::make_root(fake_spec);
  fake_spec.use_key = pki::Key::generate(pki::KeyType::rsa1024);
  const auto fake = pki::make_root(fake_spec);
  CHECK(fake.key.public_pem() == fake_spec.use_key->public_pem());
  CHECK(fake.key.public_pem() != real.key.public_pem());
  CHECK(X509_verify(parse_cert(fake.cert).get(), parse_public(real.key).get()) != 1);
}

TEST_CASE("pki::make_crl lists the revoked serial and is signed by the issuer") {
  const auto root = pki::make_root(spec("Root", pki::KeyType::ec_p256, true));
  const auto bad = pki::issue(root, spec("Bad", pki::KeyType::ec_p256, false));
  const auto good = pki::issue(root, spec("Good", pki::KeyType::ec_p256, false));
  const std::string pem = pki::make_crl(root, {bad.cert}, k_now, k_now + std::chrono::days{7});
  const std::string der =
      pki::make_crl(root, {bad.cert}, k_now, k_now + std::chrono::days{7}, false);
  CHECK(pem.starts_with("-----BEGIN X509 CRL-----\n"));

  const BioPtr pem_bio = mem(pem);
  const CrlPtr crl(PEM_read_bio_X509_CRL(pem_bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(crl != nullptr);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const CrlPtr crl_der(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  REQUIRE(crl_der != nullptr);

  CHECK(X509_CRL_get_version(crl.get()) == X509_CRL_VERSION_2);
  CHECK(X509_CRL_verify(crl.get(), parse_public(root.key).get()) == 1);
  CHECK(X509_CRL_verify(crl_der.get(), parse_public(root.key).get()) == 1);
  X509_REVOKED* rev = nullptr;
  CHECK(X509_CRL_get0_by_serial(crl.get(), &rev, X509_get_serialNumber(parse_cert(bad.cert).get()))
        == 1);
  CHECK(X509_CRL_get0_by_serial(crl.get(), &rev, X509_get_serialNumber(parse_cert(good.cert).get()))
        == 0);
  CHECK(X509_CRL_get_ext_by_NID(crl.get(), NID_crl_number, -1) >= 0);
  CHECK(X509_CRL_get_ext_by_NID(crl.get(), NID_authority_key_identifier, -1) >= 0);
  CHECK(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl.get()),
                             to_time_t(k_now + std::chrono::days{7}))
        == 0);
}

TEST_CASE("pki::sign_cms makes detached and attached SignedData that CMS_verify accepts") {
  const Chain c = ec_chain();
  const std::string content = "vendor drop bytes\n";
  const std::string other = "vendor drop bytes!\n";

  const std::string detached = pki::sign_cms(content, c.leaf, {c.inter.cert});
  CHECK(cms_verifies(detached, false, c.root.cert, &content));
  CHECK_FALSE(cms_verifies(detached, false, c.root.cert, &other));
  CHECK_FALSE(cms_verifies(detached, false, c.inter.cert, &content));  // not the trust anchor

  pki::CmsOptions attached;
  attached.detached = false;
  attached.pem = true;
  const std::string embedded = pki::sign_cms(content, c.leaf, {c.inter.cert}, attached);
  CHECK(embedded.starts_with("-----BEGIN CMS-----\n"));
  std::string got;
  CHECK(cms_verifies(embedded, true, c.root.cert, nullptr, &got));
  CHECK(got == content);

  const std::string empty;
  const std::string twice = pki::sign_cms(empty, c.leaf, {c.inter.cert, c.leaf.cert, c.inter.cert});
  CHECK(cms_verifies(twice, false, c.root.cert, &empty));

  const std::string no_chain = pki::sign_cms(content, c.leaf, {});
  CHECK_FALSE(cms_verifies(no_chain, false, c.root.cert, &content));  // intermediate missing
}

TEST_CASE("pki::sign_cms honours digest, RSA-PSS, attributes, signing time and NOCERTS") {
  const auto root = pki::make_root(spec("Root", pki::KeyType::ec_p256, true));
  const auto signer = pki::issue(root, spec("Signer", pki::KeyType::rsa2048, false));
  const std::string content = "payload";
  auto signer_info = [](const std::string& sig) {
    const CmsPtr cms = parse_cms(sig, false);
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
    REQUIRE(si != nullptr);
    X509_ALGOR* dig = nullptr;
    X509_ALGOR* alg = nullptr;
    CMS_SignerInfo_get0_algs(si, nullptr, nullptr, &dig, &alg);
    return std::vector<int>{
        OBJ_obj2nid(dig->algorithm), OBJ_obj2nid(alg->algorithm), CMS_signed_get_attr_count(si)};
  };

  for (const char* digest : {"md5", "sha1", "sha384", "sha512"}) {
    pki::CmsOptions opt;
    opt.digest = digest;
    const std::string sig = pki::sign_cms(content, signer, {}, opt);
    CHECK(signer_info(sig)[0] == OBJ_ln2nid(digest));
    CHECK(cms_verifies(sig, false, root.cert, &content));
  }

  for (const bool attrs : {true, false}) {
    pki::CmsOptions pss;
    pss.rsa_pss = true;
    pss.signed_attributes = attrs;
    const std::string sig = pki::sign_cms(content, signer, {}, pss);
    CHECK(signer_info(sig)[1] == NID_rsassaPss);
    CHECK((signer_info(sig)[2] > 0) == attrs);
    CHECK(cms_verifies(sig, false, root.cert, &content));
  }

  pki::CmsOptions timed;
  timed.signing_time = k_now - 1h;
  const CmsPtr cms = parse_cms(pki::sign_cms(content, signer, {}, timed), false);
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms.get()), 0);
  const auto* when = static_cast<const ASN1_TIME*>(
      CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_signingTime), -3, V_ASN1_UTCTIME));
  REQUIRE(when != nullptr);
  CHECK(ASN1_TIME_cmp_time_t(when, to_time_t(k_now - 1h)) == 0);

  pki::CmsOptions nocerts;
  nocerts.include_signer_cert = false;
  const CmsPtr bare = parse_cms(pki::sign_cms(content, signer, {root.cert}, nocerts), false);
  Ptr<STACK_OF(X509), free_x509s> certs(CMS_get1_certs(bare.get()));
  REQUIRE(certs != nullptr);
  CHECK(sk_X509_num(certs.get()) == 1);  // only the extra certificate
}

TEST_CASE("pki::sign_raw makes Ed25519, ECDSA and RSA signatures EVP_DigestVerify accepts") {
  CHECK(pki::base64("").empty());
  CHECK(pki::base64("f") == "Zg==");
  CHECK(pki::base64("foobar") == "Zm9vYmFy");
  const std::string content = "raw vendor manifest";
  for (const auto& key : {pki::Key::generate(pki::KeyType::ed25519),
                          pki::Key::generate(pki::KeyType::ec_p256),
                          pki::Key::generate(pki::KeyType::ec_secp256k1),
                          pki::Key::shared(pki::KeyType::rsa1024)}) {
    const std::string b64 = pki::sign_raw(content, key);
    CHECK(b64.find('\n') == b64.size() - 1);
    const std::string sig = unbase64(b64);
    const PkeyPtr pub = parse_public(key);
    const EVP_MD* md = key.type() == pki::KeyType::ed25519 ? nullptr : EVP_sha256();
    for (const std::string& msg : {content, content + "x"}) {
      const Ptr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
      REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pub.get()) == 1);
      const int ok = EVP_DigestVerify(ctx.get(),
                                      reinterpret_cast<const unsigned char*>(sig.data()),
                                      sig.size(),
                                      reinterpret_cast<const unsigned char*>(msg.data()),
                                      msg.size());
      CHECK((ok == 1) == (msg == content));
    }
  }
}
