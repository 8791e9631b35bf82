// Private to src/crypto: owning handles for OpenSSL objects and the conversions every
// adapter needs (errors, times, names, key and certificate descriptions).
#pragma once

#include <ecluse/core/c_handle.hpp>
#include <ecluse/core/error.hpp>
#include <ecluse/crypto/x509.hpp>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>

namespace ecluse::crypto::ossl {

using Bio = CHandle<BIO, BIO_free_all>;
using X509Ptr = CHandle<X509, X509_free>;
using CrlPtr = CHandle<X509_CRL, X509_CRL_free>;
using PkeyPtr = CHandle<EVP_PKEY, EVP_PKEY_free>;
using CmsPtr = CHandle<CMS_ContentInfo, CMS_ContentInfo_free>;
using StorePtr = CHandle<X509_STORE, X509_STORE_free>;
using StoreCtxPtr = CHandle<X509_STORE_CTX, X509_STORE_CTX_free>;
using MdCtxPtr = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;

inline void free_x509_stack(STACK_OF(X509) * s) {
  sk_X509_pop_free(s, X509_free);
}

using X509Stack = CHandle<STACK_OF(X509), free_x509_stack>;

// The OpenSSL error queue as one line (and cleared); "unknown" when empty.
std::string drain_errors();

// internal.crypto with what failed and the OpenSSL error queue.
tl::unexpected<Error> failure(std::string_view what);

// A read-only memory BIO over bytes (which must outlive it).
Bio mem_bio(std::string_view bytes);

// ASN1_TIME as seconds since the epoch (nullopt when it cannot be read).
std::optional<TimePoint> to_time_point(const ASN1_TIME* t);

// RFC 2253 form of a name, UTF-8.
std::string name_text(const X509_NAME* name);

KeyInfo key_info(const EVP_PKEY* key);
CertInfo cert_info(const X509* x, std::string_view der);

// DER of a certificate held by ecluse, decoded again for OpenSSL (it was parsed once before).
Result<X509Ptr> to_x509(const Certificate& c);
Result<CrlPtr> to_crl(const Crl& c);

// Does bytes look like PEM text (rather than DER)?
bool looks_pem(std::string_view bytes);

struct PemBlock {
  std::string label;  // "CERTIFICATE", "CMS", …
  std::string der;
};

// Every PEM block in bytes (text around blocks is ignored). Fails with on_error naming item
// when there is no block or one cannot be decoded.
Result<std::vector<PemBlock>> pem_blocks(std::string_view bytes,
                                         const Reason& on_error,
                                         const std::string& item);

// Decodes exactly one DER object with d2i, refusing trailing bytes; empty handle otherwise.
template <class Handle, class D2i>
Handle decode_der(std::string_view der, D2i d2i) {
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const auto* p = begin;
  Handle h(d2i(nullptr, &p, static_cast<long>(der.size())));
  if (h && p != begin + der.size()) {
    h.reset();
  }
  ERR_clear_error();
  return h;
}

// DER encoding of a certificate.
std::string der_of(X509* x);

// Digest short name in lowercase ("sha256", "sha1", "md5"), or the OID text when unknown.
std::string digest_name(int nid);

}  // namespace ecluse::crypto::ossl
