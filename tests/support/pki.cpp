// Test-only PKI builder (see pki.hpp): the OpenSSL 3.0 calls that make keys, certificates,
// CRLs and CMS signatures at test time. Every failure throws std::runtime_error with the ERR
// queue text.
#include "pki.hpp"

#include <ecluse/core/c_handle.hpp>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <ctime>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace ecluse::test::pki {

namespace {

template <class T, auto F>
using Ptr = ecluse::CHandle<T, F>;

using BioPtr = Ptr<BIO, BIO_free_all>;
using PkeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using X509Ptr = Ptr<X509, X509_free>;
using TimePtr = Ptr<ASN1_TIME, ASN1_TIME_free>;

[[noreturn]] void fail(std::string_view what) {
  std::string msg = "pki: " + std::string(what) + " failed";
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    msg += "; ";
    msg += buf.data();
  }
  throw std::runtime_error(msg);
}

void check(bool ok, std::string_view what) {
  if (!ok) {
    fail(what);
  }
}

template <class T>
T* need(T* p, std::string_view what) {
  check(p != nullptr, what);
  return p;
}

int to_int(std::size_t n) {
  check(n <= static_cast<std::size_t>(INT_MAX), "size check");
  return static_cast<int>(n);
}

// Never null, even for an empty view.
const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.empty() ? "" : s.data());
}

BioPtr mem_bio() {
  return BioPtr(need(BIO_new(BIO_s_mem()), "BIO_new"));
}

// A read-only BIO over s (which must outlive it).
BioPtr mem_bio(std::string_view s) {
  const char* data = s.empty() ? "" : s.data();
  return BioPtr(need(BIO_new_mem_buf(data, to_int(s.size())), "BIO_new_mem_buf"));
}

std::string bio_string(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  check(n >= 0, "BIO_get_mem_data");
  return n == 0 ? std::string() : std::string(data, static_cast<std::size_t>(n));
}

std::time_t to_time_t(TimePoint t) {
  return static_cast<std::time_t>(t.time_since_epoch().count());
}

TimePtr asn1_time(TimePoint t) {
  return TimePtr(need(ASN1_TIME_set(nullptr, to_time_t(t)), "ASN1_TIME_set"));
}

void set_time(ASN1_TIME* dst, TimePoint t) {
  need(ASN1_TIME_set(dst, to_time_t(t)), "ASN1_TIME_set");
}

bool is_ed25519(EVP_PKEY* k) {
  return EVP_PKEY_is_a(k, "ED25519") == 1;
}

bool is_rsa(KeyType t) {
  return t == KeyType::rsa1024 || t == KeyType::rsa2048 || t == KeyType::rsa3072;
}

EVP_PKEY* keygen(KeyType t) {
  switch (t) {
    case KeyType::ec_p256:
      return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    case KeyType::ec_p384:
      return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
    case KeyType::ec_secp256k1:
      return EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1");
    case KeyType::ed25519:
      return EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    case KeyType::rsa1024:
      return EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{1024});
    case KeyType::rsa2048:
      return EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048});
    case KeyType::rsa3072:
      return EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{3072});
  }
  return nullptr;
}

// The digest an issuer signs a certificate or CRL with (none for Ed25519).
const EVP_MD* issuer_md(EVP_PKEY* issuer_key, const std::string& digest) {
  if (is_ed25519(issuer_key)) {
    return nullptr;
  }
  return need(EVP_get_digestbyname(digest.c_str()), "EVP_get_digestbyname(" + digest + ")");
}

}  // namespace

// ---- keys -------------------------------------------------------------------------------------

struct Key::Impl {
  PkeyPtr pkey;
  KeyType type;
};

namespace {

EVP_PKEY* pkey_of(const Key& k) {
  check(k.impl != nullptr, "use of an empty Key");
  return k.impl->pkey.get();
}

// The key a certificate gets when its spec names none: see CertSpec.
Key default_key(const CertSpec& spec, unsigned rsa_slot) {
  if (spec.use_key) {
    return *spec.use_key;
  }
  return is_rsa(spec.key) ? Key::shared(spec.key, rsa_slot) : Key::generate(spec.key);
}

}  // namespace

Key Key::generate(KeyType t) {
  Key k;
  k.impl = std::make_shared<Impl>(Impl{PkeyPtr(need(keygen(t), "EVP_PKEY_Q_keygen")), t});
  return k;
}

Key Key::shared(KeyType t, unsigned slot) {
  static std::mutex mutex;
  static std::map<std::pair<KeyType, unsigned>, Key> cache;
  const std::lock_guard lock(mutex);
  auto [it, inserted] = cache.try_emplace({t, slot});
  if (inserted) {
    it->second = generate(t);
  }
  return it->second;
}

std::string Key::public_pem() const {
  const BioPtr out = mem_bio();
  check(PEM_write_bio_PUBKEY(out.get(), pkey_of(*this)) == 1, "PEM_write_bio_PUBKEY");
  return bio_string(out.get());
}

std::string Key::private_pem() const {
  const BioPtr out = mem_bio();
  check(PEM_write_bio_PKCS8PrivateKey(
            out.get(), pkey_of(*this), nullptr, nullptr, 0, nullptr, nullptr)
            == 1,
        "PEM_write_bio_PKCS8PrivateKey");
  return bio_string(out.get());
}

KeyType Key::type() const {
  check(impl != nullptr, "use of an empty Key");
  return impl->type;
}

// ---- certificates -----------------------------------------------------------------------------

struct Cert::Impl {
  X509Ptr x509;
};

namespace {

X509* x509_of(const Cert& c) {
  check(c.impl != nullptr, "use of an empty Cert");
  return c.impl->x509.get();
}

void set_serial(X509* x, long serial) {
  ASN1_INTEGER* sn = X509_get_serialNumber(x);
  if (serial != 0) {
    check(ASN1_INTEGER_set(sn, serial) == 1, "ASN1_INTEGER_set");
    return;
  }
  std::array<unsigned char, 8> b{};
  check(RAND_bytes(b.data(), static_cast<int>(b.size())) == 1, "RAND_bytes");
  b[0] = static_cast<unsigned char>((b[0] & 0x3fU) | 0x40U);  // positive, full 8 bytes
  const Ptr<BIGNUM, BN_free> bn(
      need(BN_bin2bn(b.data(), static_cast<int>(b.size()), nullptr), "BN_bin2bn"));
  need(BN_to_ASN1_INTEGER(bn.get(), sn), "BN_to_ASN1_INTEGER");
}

void add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) {
    return;
  }
  check(X509_NAME_add_entry_by_txt(
            name, field, MBSTRING_UTF8, bytes_of(value), to_int(value.size()), -1, 0)
            == 1,
        "X509_NAME_add_entry_by_txt");
}

// A certificate with everything but issuer, extensions and signature.
X509Ptr new_cert(const CertSpec& spec, EVP_PKEY* subject_key) {
  X509Ptr x(need(X509_new(), "X509_new"));
  check(X509_set_version(x.get(), X509_VERSION_3) == 1, "X509_set_version");
  set_serial(x.get(), spec.serial);
  add_name_entry(X509_get_subject_name(x.get()), "O", spec.org);
  add_name_entry(X509_get_subject_name(x.get()), "CN", spec.cn);
  check(X509_set_pubkey(x.get(), subject_key) == 1, "X509_set_pubkey");
  set_time(X509_getm_notBefore(x.get()), spec.not_before);
  set_time(X509_getm_notAfter(x.get()), spec.not_after);
  return x;
}

void add_ext(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  const Ptr<X509_EXTENSION, X509_EXTENSION_free> ext(
      need(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()), "X509V3_EXT_conf_nid"));
  check(X509_add_ext(x, ext.get(), -1) == 1, "X509_add_ext");
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += (out.empty() ? "" : ",") + p;
  }
  return out;
}

void add_extensions(X509* x, X509* issuer, const CertSpec& spec) {
  add_ext(x, issuer, NID_subject_key_identifier, "hash");
  add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (spec.leaf_key_usage) {
    add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
  }
  const auto& eku = spec.ca ? spec.ca_eku : spec.eku;
  if (!eku.empty()) {
    add_ext(x, issuer, NID_ext_key_usage, join(eku));
  }
}

void sign_cert(X509* x, EVP_PKEY* issuer_key, const std::string& digest) {
  check(X509_sign(x, issuer_key, issuer_md(issuer_key, digest)) > 0, "X509_sign");
}

Cert wrap(X509Ptr x) {
  Cert c;
  c.impl = std::make_shared<Cert::Impl>(Cert::Impl{std::move(x)});
  return c;
}

}  // namespace

std::string Cert::der() const {
  const BioPtr out = mem_bio();
  check(i2d_X509_bio(out.get(), x509_of(*this)) == 1, "i2d_X509_bio");
  return bio_string(out.get());
}

std::string Cert::pem() const {
  const BioPtr out = mem_bio();
  check(PEM_write_bio_X509(out.get(), x509_of(*this)) == 1, "PEM_write_bio_X509");
  return bio_string(out.get());
}

std::string Cert::serial_hex() const {
  const Ptr<BIGNUM, BN_free> bn(need(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509_of(*this)), nullptr), "ASN1_INTEGER_to_BN"));
  char* hex = need(BN_bn2hex(bn.get()), "BN_bn2hex");
  std::string out(hex);
  OPENSSL_free(hex);
  return out;
}

Issued make_root(const CertSpec& spec) {
  Key key = default_key(spec, 0);
  X509Ptr x = new_cert(spec, pkey_of(key));
  check(X509_set_issuer_name(x.get(), X509_get_subject_name(x.get())) == 1, "X509_set_issuer_name");
  add_extensions(x.get(), x.get(), spec);
  sign_cert(x.get(), pkey_of(key), spec.sig_digest);
  return Issued{key, wrap(std::move(x))};
}

Issued issue(const Issued& issuer, const CertSpec& spec) {
  Key key = default_key(spec, spec.ca ? 1U : 2U);
  X509* issuer_x = x509_of(issuer.cert);
  X509Ptr x = new_cert(spec, pkey_of(key));
  check(X509_set_issuer_name(x.get(), X509_get_subject_name(issuer_x)) == 1,
        "X509_set_issuer_name");
  add_extensions(x.get(), issuer_x, spec);
  sign_cert(x.get(), pkey_of(issuer.key), spec.sig_digest);
  return Issued{key, wrap(std::move(x))};
}

// ---- CRLs -------------------------------------------------------------------------------------

namespace {

using CrlPtr = Ptr<X509_CRL, X509_CRL_free>;

void add_revoked(X509_CRL* crl, const Cert& cert, ASN1_TIME* when) {
  Ptr<X509_REVOKED, X509_REVOKED_free> rev(need(X509_REVOKED_new(), "X509_REVOKED_new"));
  check(X509_REVOKED_set_serialNumber(rev.get(), X509_get_serialNumber(x509_of(cert))) == 1,
        "X509_REVOKED_set_serialNumber");
  check(X509_REVOKED_set_revocationDate(rev.get(), when) == 1, "X509_REVOKED_set_revocationDate");
  check(X509_CRL_add0_revoked(crl, rev.get()) == 1, "X509_CRL_add0_revoked");
  static_cast<void>(rev.release());  // now owned by crl
}

void add_crl_extensions(X509_CRL* crl, X509* issuer) {
  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, issuer, nullptr, nullptr, crl, 0);
  const Ptr<X509_EXTENSION, X509_EXTENSION_free> akid(
      need(X509V3_EXT_conf_nid(nullptr, &ctx, NID_authority_key_identifier, "keyid:always"),
           "X509V3_EXT_conf_nid(authorityKeyIdentifier)"));
  check(X509_CRL_add_ext(crl, akid.get(), -1) == 1, "X509_CRL_add_ext");
  static std::atomic<long> crl_number{0};
  const Ptr<ASN1_INTEGER, ASN1_INTEGER_free> number(need(ASN1_INTEGER_new(), "ASN1_INTEGER_new"));
  check(ASN1_INTEGER_set(number.get(), ++crl_number) == 1, "ASN1_INTEGER_set");
  check(X509_CRL_add1_ext_i2d(crl, NID_crl_number, number.get(), 0, 0) == 1,
        "X509_CRL_add1_ext_i2d(crlNumber)");
}

std::string write_crl(X509_CRL* crl, bool pem) {
  const BioPtr out = mem_bio();
  if (pem) {
    check(PEM_write_bio_X509_CRL(out.get(), crl) == 1, "PEM_write_bio_X509_CRL");
  } else {
    check(i2d_X509_CRL_bio(out.get(), crl) == 1, "i2d_X509_CRL_bio");
  }
  return bio_string(out.get());
}

}  // namespace

std::string make_crl(const Issued& issuer,
                     const std::vector<Cert>& revoked,
                     TimePoint this_update,
                     TimePoint next_update,
                     bool pem) {
  X509* issuer_x = x509_of(issuer.cert);
  const CrlPtr crl(need(X509_CRL_new(), "X509_CRL_new"));
  check(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) == 1, "X509_CRL_set_version");
  check(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer_x)) == 1,
        "X509_CRL_set_issuer_name");
  const TimePtr last = asn1_time(this_update);
  const TimePtr next = asn1_time(next_update);
  check(X509_CRL_set1_lastUpdate(crl.get(), last.get()) == 1, "X509_CRL_set1_lastUpdate");
  check(X509_CRL_set1_nextUpdate(crl.get(), next.get()) == 1, "X509_CRL_set1_nextUpdate");
  for (const Cert& c : revoked) {
    add_revoked(crl.get(), c, last.get());
  }
  check(X509_CRL_sort(crl.get()) == 1, "X509_CRL_sort");
  add_crl_extensions(crl.get(), issuer_x);
  EVP_PKEY* key = pkey_of(issuer.key);
  check(X509_CRL_sign(crl.get(), key, issuer_md(key, "sha256")) > 0, "X509_CRL_sign");
  return write_crl(crl.get(), pem);
}

// ---- CMS --------------------------------------------------------------------------------------

namespace {

using CmsPtr = Ptr<CMS_ContentInfo, CMS_ContentInfo_free>;

unsigned cms_flags(const CmsOptions& opt) {
  unsigned flags = CMS_PARTIAL | CMS_BINARY;
  if (opt.detached) {
    flags |= CMS_DETACHED;
  }
  if (!opt.signed_attributes) {
    flags |= CMS_NOATTR;
  }
  if (!opt.include_signer_cert) {
    flags |= CMS_NOCERTS;
  }
  return flags;
}

void set_pss(CMS_SignerInfo* si, const EVP_MD* md) {
  EVP_PKEY_CTX* pctx = need(CMS_SignerInfo_get0_pkey_ctx(si), "CMS_SignerInfo_get0_pkey_ctx");
  check(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0,
        "EVP_PKEY_CTX_set_rsa_padding");
  check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0,
        "EVP_PKEY_CTX_set_rsa_pss_saltlen");
  check(EVP_PKEY_CTX_set_signature_md(pctx, md) > 0, "EVP_PKEY_CTX_set_signature_md");
}

void add_signing_time(CMS_SignerInfo* si, TimePoint when) {
  const TimePtr t = asn1_time(when);  // UTCTime up to 2049, GeneralizedTime after
  check(
      CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, ASN1_STRING_type(t.get()), t.get(), -1)
          == 1,
      "CMS_signed_add1_attr_by_NID(signingTime)");
}

void add_signer(CMS_ContentInfo* cms, const Issued& signer, const CmsOptions& opt, unsigned flags) {
  EVP_PKEY* key = pkey_of(signer.key);
  const bool pss = opt.rsa_pss;
  check(!pss || EVP_PKEY_is_a(key, "RSA") == 1, "CmsOptions::rsa_pss with a non-RSA signer");
  check(opt.signed_attributes || !opt.signing_time,
        "CmsOptions::signing_time without signed attributes");
  const EVP_MD* md =
      need(EVP_get_digestbyname(opt.digest.c_str()), "EVP_get_digestbyname(" + opt.digest + ")");
  CMS_SignerInfo* si =
      need(CMS_add1_signer(cms, x509_of(signer.cert), key, md, flags | (pss ? CMS_KEY_PARAM : 0U)),
           "CMS_add1_signer");
  if (pss) {
    set_pss(si, md);
  }
  if (opt.signing_time) {
    add_signing_time(si, *opt.signing_time);
  }
}

// Adds each certificate once: OpenSSL refuses one already in the set.
void add_extra_certs(CMS_ContentInfo* cms,
                     const Issued& signer,
                     const std::vector<Cert>& extra_certs,
                     bool signer_cert_present) {
  std::vector<X509*> present;
  if (signer_cert_present) {
    present.push_back(x509_of(signer.cert));
  }
  for (const Cert& c : extra_certs) {
    X509* x = x509_of(c);
    if (std::ranges::none_of(present, [x](X509* p) { return X509_cmp(p, x) == 0; })) {
      check(CMS_add1_cert(cms, x) == 1, "CMS_add1_cert");
      present.push_back(x);
    }
  }
}

std::string write_cms(CMS_ContentInfo* cms, bool pem) {
  const BioPtr out = mem_bio();
  if (pem) {
    // PEM_write_bio_CMS needs pem.h before cms.h; without CMS_STREAM this writes the same.
    check(PEM_write_bio_CMS_stream(out.get(), cms, nullptr, 0) == 1, "PEM_write_bio_CMS_stream");
  } else {
    check(i2d_CMS_bio(out.get(), cms) == 1, "i2d_CMS_bio");
  }
  return bio_string(out.get());
}

}  // namespace

std::string sign_cms(std::string_view content,
                     const Issued& signer,
                     const std::vector<Cert>& extra_certs,
                     const CmsOptions& opt) {
  const unsigned flags = cms_flags(opt);
  const CmsPtr cms(need(CMS_sign(nullptr, nullptr, nullptr, nullptr, flags), "CMS_sign"));
  add_signer(cms.get(), signer, opt, flags);
  add_extra_certs(cms.get(), signer, extra_certs, opt.include_signer_cert);
  const BioPtr in = mem_bio(content);
  check(CMS_final(cms.get(), in.get(), nullptr, flags) == 1, "CMS_final");
  return write_cms(cms.get(), opt.pem);
}

// ---- raw signatures ---------------------------------------------------------------------------

std::string sign_raw(std::string_view content, const Key& key) {
  EVP_PKEY* pkey = pkey_of(key);
  const Ptr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(need(EVP_MD_CTX_new(), "EVP_MD_CTX_new"));
  const EVP_MD* md = is_ed25519(pkey) ? nullptr : EVP_sha256();
  check(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, pkey) == 1, "EVP_DigestSignInit");
  std::size_t len = 0;
  check(EVP_DigestSign(ctx.get(), nullptr, &len, bytes_of(content), content.size()) == 1,
        "EVP_DigestSign(size)");
  std::string sig(len, '\0');
  check(EVP_DigestSign(ctx.get(),
                       reinterpret_cast<unsigned char*>(sig.data()),
                       &len,
                       bytes_of(content),
                       content.size())
            == 1,
        "EVP_DigestSign");
  sig.resize(len);
  return base64(sig) + "\n";
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(
      reinterpret_cast<unsigned char*>(out.data()), bytes_of(bytes), to_int(bytes.size()));
  check(n >= 0, "EVP_EncodeBlock");
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace ecluse::test::pki
