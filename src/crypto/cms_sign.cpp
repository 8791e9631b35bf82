// The operator's certificates and detached CMS signatures. Invariant: nothing is signed unless
// the private key is the one the certificate names (the CA's key to issue, the leaf's key to
// sign), and every CMS signature is a detached SHA-256 SignedData over the content's exact
// bytes (binary: no MIME canonicalisation).
#include <ecluse/crypto/cms_sign.hpp>

#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <climits>
#include <span>

#include "openssl.hpp"
#include "signing_impl.hpp"

namespace ecluse::crypto {

namespace {

constexpr auto k_clock_skew = std::chrono::seconds(300);
constexpr int k_serial_bytes = 16;  // 128 random bits (RFC 5280 section 4.1.2.2: at most 20)
constexpr std::int64_t k_seconds_per_day = 86400;

using BnPtr = CHandle<BIGNUM, BN_free>;
using Asn1IntegerPtr = CHandle<ASN1_INTEGER, ASN1_INTEGER_free>;
using ExtensionPtr = CHandle<X509_EXTENSION, X509_EXTENSION_free>;

struct Extension {
  int nid;
  const char* value;  // OpenSSL's configuration syntax (x509v3_config(5))
};

// The authority key identifier is forced on the self-signed CA (OpenSSL 3.0 leaves it empty
// there otherwise); a leaf falls back to issuer and serial when its CA has no key identifier.
constexpr std::array<Extension, 4> k_ca_extensions{{
    {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
    {NID_key_usage, "critical,keyCertSign,cRLSign"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid:always"},
}};

constexpr std::array<Extension, 5> k_leaf_extensions{{
    {NID_basic_constraints, "critical,CA:FALSE"},
    {NID_key_usage, "critical,digitalSignature"},
    {NID_ext_key_usage, "codeSigning"},
    {NID_subject_key_identifier, "hash"},
    {NID_authority_key_identifier, "keyid,issuer"},
}};

// Does x's public key equal public_key? Both are decoded from their DER, so a key held in a
// token (an engine EVP_PKEY) is compared by the public half ecluse derived from it.
Result<bool> certifies(X509* x, const PublicKey& public_key) {
  auto pub = ossl::decode_der<ossl::PkeyPtr>(public_key.der(), d2i_PUBKEY);
  const EVP_PKEY* cert_key = X509_get0_pubkey(x);
  if (!pub || cert_key == nullptr) {
    return ossl::failure("cannot read a public key to compare with a certificate");
  }
  const bool same = EVP_PKEY_eq(cert_key, pub.get()) == 1;
  ERR_clear_error();
  return same;
}

Status require_certifies(X509* x, const SigningKey& key, std::string_view role) {
  ECLUSE_TRY(same, certifies(x, key.public_key()));
  if (!same) {
    const auto subject = ossl::name_text(X509_get_subject_name(x));
    return fail(reason::k_keys_certificate_mismatch,
                std::string(role) + " certificate '" + subject + "' does not certify key "
                    + key.key_id().substr(0, 16),
                subject);
  }
  return {};
}

Status set_serial(X509* x) {
  std::array<unsigned char, k_serial_bytes> bytes{};
  if (RAND_bytes(bytes.data(), k_serial_bytes) != 1) {
    return ossl::failure("cannot draw a random serial number");
  }
  BnPtr bn(BN_bin2bn(bytes.data(), k_serial_bytes, nullptr));  // unsigned: never negative
  if (!bn || BN_is_zero(bn.get()) == 1) {
    return ossl::failure("cannot make a positive serial number");
  }
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial || X509_set_serialNumber(x, serial.get()) != 1) {
    return ossl::failure("cannot set a certificate's serial number");
  }
  return {};
}

// C, O (each only when given) and CN, in that order. OpenSSL refuses an empty or over-long CN
// and a country that is not two characters.
Status set_subject(X509_NAME* name, const CertificateRequest& req) {
  const std::array<std::pair<const char*, const std::string*>, 3> fields{
      {{"C", &req.country}, {"O", &req.organisation}, {"CN", &req.common_name}}};
  for (const auto& [field, value] : fields) {
    if (value->empty() && std::string_view(field) != "CN") {
      continue;
    }
    const auto* bytes = reinterpret_cast<const unsigned char*>(value->c_str());
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, bytes, -1, -1, 0) != 1) {
      return ossl::failure(std::string("cannot set the certificate name's ") + field + " to '"
                           + *value + "'");
    }
  }
  return {};
}

Status set_validity(X509* x, const CertificateRequest& req) {
  const std::int64_t now = req.now.time_since_epoch().count();
  const auto not_before = static_cast<time_t>(now - k_clock_skew.count());
  const auto not_after = static_cast<time_t>(now + k_seconds_per_day * req.days);
  if (ASN1_TIME_set(X509_getm_notBefore(x), not_before) == nullptr
      || ASN1_TIME_set(X509_getm_notAfter(x), not_after) == nullptr) {
    return ossl::failure("cannot set a validity of " + std::to_string(req.days) + " days");
  }
  return {};
}

// A v3 certificate for subject_key with a fresh serial, the request's subject and validity;
// its issuer, extensions and signature come next.
Result<ossl::X509Ptr> new_certificate(const PublicKey& subject_key, const CertificateRequest& req) {
  auto pub = ossl::decode_der<ossl::PkeyPtr>(subject_key.der(), d2i_PUBKEY);
  ossl::X509Ptr x(X509_new());
  if (!pub || !x || X509_set_version(x.get(), X509_VERSION_3) != 1
      || X509_set_pubkey(x.get(), pub.get()) != 1) {
    return ossl::failure("cannot start a certificate for key "
                         + subject_key.key_id().substr(0, 16));
  }
  ECLUSE_CHECK(set_serial(x.get()));
  ECLUSE_CHECK(set_subject(X509_get_subject_name(x.get()), req));
  ECLUSE_CHECK(set_validity(x.get(), req));
  return x;
}

// Subject and authority key identifiers are computed from the certificates given here, so the
// extensions are added after the public key (and, for the CA, the subject key identifier).
Status add_extensions(X509* x, X509* issuer, std::span<const Extension> extensions) {
  X509V3_CTX ctx{};
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  for (const auto& e : extensions) {
    ExtensionPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, e.nid, e.value));
    if (!ext || X509_add_ext(x, ext.get(), -1) != 1) {
      return ossl::failure(std::string("cannot add the extension ") + OBJ_nid2sn(e.nid) + " = "
                           + e.value);
    }
  }
  return {};
}

// Signs with SHA-256 (Ed25519: pure, no digest). RSA certificates use PKCS#1 v1.5, what every
// X.509 verifier expects; the PSS scheme of SigningKey::sign is for ecluse's own signatures.
Result<Certificate> sign_certificate(X509* x, const SigningKey& key) {
  const EVP_MD* md = key.type() == KeyType::ed25519 ? nullptr : EVP_sha256();
  if (X509_sign(x, key.impl().pkey.get(), md) <= 0) {  // the signature's size, 0 on failure
    return ossl::failure("cannot sign a certificate with key " + key.key_id().substr(0, 16));
  }
  const auto der = ossl::der_of(x);
  if (der.empty()) {
    return ossl::failure("cannot encode a certificate");
  }
  ECLUSE_TRY(certs, parse_certificates(der, reason::k_internal_crypto, "certificate"));
  return std::move(certs.front());
}

// The chain to ship with the signature, without the signer's certificate (CMS_add1_signer adds
// it, and OpenSSL refuses a certificate twice) and without repeats.
Result<ossl::X509Stack> extra_certificates(const Certificate& signer,
                                           const std::vector<Certificate>& chain) {
  ossl::X509Stack stack(sk_X509_new_null());
  if (!stack) {
    return ossl::failure("cannot create a certificate list");
  }
  std::vector<const std::string*> seen{&signer.der()};
  for (const auto& c : chain) {
    if (std::any_of(seen.begin(), seen.end(), [&](const auto* d) { return *d == c.der(); })) {
      continue;
    }
    seen.push_back(&c.der());
    ECLUSE_TRY(x, ossl::to_x509(c));
    if (sk_X509_push(stack.get(), x.get()) <= 0) {
      return ossl::failure("cannot add a chain certificate");
    }
    (void)x.release();
  }
  return stack;
}

Result<std::string> cms_der(CMS_ContentInfo* cms) {
  ossl::Bio out(BIO_new(BIO_s_mem()));
  if (!out || i2d_CMS_bio(out.get(), cms) != 1) {
    return ossl::failure("cannot encode a CMS signature");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

// OpenSSL 3.0 implements neither signing nor verifying EdDSA in CMS (RFC 8419: it finds no
// default digest for the key), and a memory BIO holds at most INT_MAX bytes.
Status check_cms_signable(const SigningKey& key, std::string_view content) {
  if (key.type() == KeyType::ed25519) {
    return fail(reason::k_keys_unsupported_type,
                "key " + key.key_id().substr(0, 16)
                    + " is Ed25519, which OpenSSL 3.0 cannot use in CMS signatures (RFC 8419): "
                      "use an ECDSA P-256 or RSA-3072 release key",
                key.key_id());
  }
  if (content.size() > static_cast<std::size_t>(INT_MAX)) {
    return fail(
        reason::k_internal_crypto,
        "content of " + std::to_string(content.size()) + " bytes is too large to sign in memory");
  }
  return {};
}

}  // namespace

Result<Certificate> make_ca_certificate(const SigningKey& ca_key, const CertificateRequest& req) {
  ECLUSE_TRY(x, new_certificate(ca_key.public_key(), req));
  if (X509_set_issuer_name(x.get(), X509_get_subject_name(x.get())) != 1) {
    return ossl::failure("cannot set a CA certificate's issuer");
  }
  ECLUSE_CHECK(add_extensions(x.get(), x.get(), k_ca_extensions));
  return sign_certificate(x.get(), ca_key);
}

Result<Certificate> issue_code_signing_certificate(const SigningKey& ca_key,
                                                   const Certificate& ca,
                                                   const PublicKey& subject_key,
                                                   const CertificateRequest& req) {
  ECLUSE_TRY(ca_x, ossl::to_x509(ca));
  ECLUSE_CHECK(require_certifies(ca_x.get(), ca_key, "CA"));
  ECLUSE_TRY(x, new_certificate(subject_key, req));
  if (X509_set_issuer_name(x.get(), X509_get_subject_name(ca_x.get())) != 1) {
    return ossl::failure("cannot set a release certificate's issuer");
  }
  ECLUSE_CHECK(add_extensions(x.get(), ca_x.get(), k_leaf_extensions));
  return sign_certificate(x.get(), ca_key);
}

namespace {

// Signs what `data` yields (read to its end) as detached CMS.
Result<std::string> sign_bio(const SigningKey& key,
                             const Certificate& cert,
                             const std::vector<Certificate>& chain,
                             BIO* data) {
  ECLUSE_TRY(signer, ossl::to_x509(cert));
  ECLUSE_CHECK(require_certifies(signer.get(), key, "release"));
  ECLUSE_TRY(extra, extra_certificates(cert, chain));
  // CMS_NOSMIMECAP matters to CMS_add1_signer (it adds the signed attributes); CMS_BINARY in
  // CMS_final copies the content unchanged into the digest.
  constexpr unsigned k_flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  ossl::CmsPtr cms(CMS_sign(nullptr, nullptr, extra.get(), nullptr, k_flags));
  if (!cms
      || CMS_add1_signer(cms.get(),
                         signer.get(),
                         key.impl().pkey.get(),
                         EVP_sha256(),
                         CMS_BINARY | CMS_NOSMIMECAP)
             == nullptr) {
    return ossl::failure("cannot add signer '" + cert.info().subject + "' to a CMS signature");
  }
  if (data == nullptr || CMS_final(cms.get(), data, nullptr, CMS_DETACHED | CMS_BINARY) != 1) {
    return ossl::failure("cannot sign content with key " + key.key_id().substr(0, 16));
  }
  return cms_der(cms.get());
}

}  // namespace

Result<std::string> sign_cms_detached(const SigningKey& key,
                                      const Certificate& cert,
                                      const std::vector<Certificate>& chain,
                                      std::string_view content) {
  ECLUSE_CHECK(check_cms_signable(key, content));
  auto data = ossl::mem_bio(content);
  return sign_bio(key, cert, chain, data.get());
}

Result<std::string> sign_cms_detached_file(const SigningKey& key,
                                           const Certificate& cert,
                                           const std::vector<Certificate>& chain,
                                           const std::filesystem::path& file) {
  ECLUSE_CHECK(check_cms_signable(key, {}));
  ossl::Bio data(BIO_new_file(file.c_str(), "rb"));
  if (!data) {
    ERR_clear_error();
    return fail(reason::k_store_object_missing,
                "cannot open " + file.string() + " to sign it",
                file.string());
  }
  return sign_bio(key, cert, chain, data.get());
}

}  // namespace ecluse::crypto
